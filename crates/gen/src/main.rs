//! `coroner-gen`: writes coroner's sample bundles.
//!
//! ```text
//! coroner-gen samples [DIR]    regenerate every sample under DIR (default: samples)
//! coroner-gen list             list the samples
//! coroner-gen bundle --bytes SIZE [--seed N] OUT_DIR
//!                              write a benchmark bundle of about SIZE uncompressed bytes
//! ```
//!
//! New generators become new subcommands here, each a thin wrapper over a library
//! module.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: coroner-gen <command>

commands:
  samples [DIR]   regenerate every sample bundle under DIR (default: samples)
  list            list the samples
  bundle --bytes SIZE [--seed N] OUT_DIR
                  write a benchmark bundle of about SIZE uncompressed bytes
                  (SIZE: bytes, or with a K/M/G/T suffix, powers of 1024;
                  N: seed, default 1) into OUT_DIR
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
        ["bundle", rest @ ..] => match bundle_args(rest) {
            Some((spec, dir)) => bundle(&spec, &dir),
            None => {
                eprintln!("{USAGE}");
                ExitCode::from(2)
            }
        },
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

/// `--bytes SIZE [--seed N] OUT_DIR`, options in any order before or after the directory.
fn bundle_args(args: &[&str]) -> Option<(coroner_gen::bundle::BundleSpec, PathBuf)> {
    let (mut bytes, mut seed, mut dir) = (None, 1u64, None);
    let mut it = args.iter();
    while let Some(&a) = it.next() {
        match a {
            "--bytes" => bytes = Some(coroner_gen::bundle::parse_size(it.next()?)?),
            "--seed" => seed = it.next()?.parse().ok()?,
            _ if a.starts_with('-') || dir.is_some() => return None,
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let spec = coroner_gen::bundle::BundleSpec {
        bytes: bytes?,
        seed,
    };
    Some((spec, dir?))
}

fn bundle(spec: &coroner_gen::bundle::BundleSpec, dir: &Path) -> ExitCode {
    let started = std::time::Instant::now();
    let files = match coroner_gen::bundle::write_bundle(dir, spec) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("coroner-gen: writing bundle into {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{:>14} {:>14} {:>11}  {:<6} file",
        "uncompressed", "on disk", "records", "codec"
    );
    let (mut raw, mut disk, mut records) = (0, 0, 0);
    for f in &files {
        println!(
            "{:>14} {:>14} {:>11}  {:<6} {}",
            f.uncompressed,
            f.bytes,
            f.records,
            f.codec.name(),
            f.path.display()
        );
        raw += f.uncompressed;
        disk += f.bytes;
        records += f.records;
    }
    println!(
        "{raw:>14} {disk:>14} {records:>11}  total: {} files, {:.1} s, {:.0} MiB/s",
        files.len(),
        secs,
        raw as f64 / (1u64 << 20) as f64 / secs.max(1e-9)
    );
    ExitCode::SUCCESS
}
