fn main() {
    std::process::exit(coroner_cli::main())
}
