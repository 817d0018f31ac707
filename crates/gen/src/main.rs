//! `coroner-gen`: writes coroner's sample bundles.
//!
//! ```text
//! coroner-gen samples [DIR]    regenerate every sample under DIR (default: samples)
//! coroner-gen list             list the samples
//! ```
//!
//! New generators become new subcommands here (e.g. a benchmark bundle:
//! `coroner-gen bundle --gb N OUT`), each a thin wrapper over a library module.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: coroner-gen <command>

commands:
  samples [DIR]   regenerate every sample bundle under DIR (default: samples)
  list            list the samples
  help            this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["samples"] => samples(Path::new("samples")),
        ["samples", dir] if !dir.starts_with('-') => samples(&PathBuf::from(dir)),
        ["list"] => {
            for s in coroner_gen::SAMPLES {
                println!("{:<16} {}", s.name, s.summary);
            }
            ExitCode::SUCCESS
        }
        ["help" | "-h" | "--help"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn samples(root: &Path) -> ExitCode {
    for s in coroner_gen::SAMPLES {
        match s.write_into(root) {
            Ok(written) => {
                for w in written {
                    println!("{:>9}  {}", w.bytes, w.path.display());
                }
            }
            Err(e) => {
                eprintln!(
                    "coroner-gen: writing sample {} under {}: {e}",
                    s.name,
                    root.display()
                );
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
