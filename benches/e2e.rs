//! End to end on a generated mixed bundle, coroner beside the floors on the same files in
//! the same run: wall time, throughput (uncompressed bytes per second) and peak RSS.
//!
//! ```text
//! cargo bench --bench e2e                       # 0.25 GB, a quick run
//! CORONER_BENCH_GB=50 cargo bench --bench e2e   # the headline (needs ~55 GB of disk)
//! ```
//!
//! The bundle (`coroner-gen bundle`: journald export, Traefik, cloudflared, nginx access and
//! error, Mastodon streaming, a PHP/Redis log, netstat captures; plain, .gz and .zst) is
//! generated once per size under `target/bench-bundles/` and reused. Every command runs as a
//! process under `/usr/bin/time` (GNU): peak RSS is the kernel's, not an estimate. The
//! coroner binary is the release build of this checkout (built first). The table is printed
//! and kept in `target/bench-bundles/<size>/RESULTS.md`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// What the rg/grep floors and `coroner share` look for: a frequent and a rare literal.
const GUESS: &str = "context canceled";
const TEN: [&str; 10] = [
    "context canceled",
    "connection reset by peer",
    "Cannot assign requested address",
    "\" 502 ",
    "\" 504 ",
    "Tried writing to closed socket",
    "upstream timed out",
    "ws close",
    "TIME_WAIT",
    "zzzz-never-there",
];

struct Row {
    what: String,
    secs: f64,
    rss_kb: Option<u64>,
}

fn main() {
    // `cargo bench -- <filter>` passes flags like `--bench`; nothing to filter here.
    let gb: f64 = std::env::var("CORONER_BENCH_GB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.25);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-bundles");
    let dir = root.join(format!("{gb}gb"));
    let bundle = dir.join("bundle");
    let marker = dir.join("generated");
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&bundle);
        let started = Instant::now();
        let spec = coroner_gen::bundle::BundleSpec {
            bytes: (gb * 1e9) as u64,
            seed: 1,
        };
        coroner_gen::bundle::write_bundle(&bundle, &spec).expect("generate the bundle");
        // The marker lives beside the logs' directory so the bundle holds logs only.
        std::fs::write(&marker, b"").unwrap();
        eprintln!(
            "generated {} in {:.1} s",
            bundle.display(),
            started.elapsed().as_secs_f64()
        );
    }
    let files = files(&bundle);
    let coroner = build_coroner();
    let total = uncompressed_bytes(&files);

    let cat = decompress_all(&files);
    let mut rows = Vec::new();
    let out = dir.join("out");
    let runs: Vec<(String, String)> = vec![
        (
            "read floor: cat/zcat/zstdcat > /dev/null".into(),
            format!("{cat} > /dev/null"),
        ),
        (
            "wc -l (decompressed)".into(),
            format!("{cat} | wc -l > /dev/null"),
        ),
        (
            format!("rg -z -F '{GUESS}' | wc --bytes"),
            format!(
                "rg -z -F '{GUESS}' {} | wc --bytes > /dev/null",
                bundle.display()
            ),
        ),
        (
            format!("grep -F '{GUESS}' | wc --bytes (decompressed)"),
            format!("{cat} | grep -F '{GUESS}' | wc --bytes > /dev/null"),
        ),
        (
            "coroner analyze (full default)".into(),
            format!(
                "{} analyze {} -o {} --quiet",
                coroner.display(),
                bundle.display(),
                out.display()
            ),
        ),
        (
            "coroner share, 10 literals".into(),
            format!(
                "{} share {} --quiet {}",
                coroner.display(),
                bundle.display(),
                TEN.iter()
                    .map(|p| format!("-p '{}'", p.replace('\'', "'\\''")))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        ),
        (
            "coroner detect (parse only)".into(),
            format!("{} detect {} --quiet", coroner.display(), bundle.display()),
        ),
    ];
    for (what, script) in runs {
        rows.push(timed(&what, &script));
    }
    let mut table = format!(
        "Bundle: {} files, {:.2} GB uncompressed, {:.2} GB on disk ({}).\n\n\
         | command | time | GB/s (uncompressed) | peak RSS | vs read floor |\n|---|---:|---:|---:|---:|\n",
        files.len(),
        total as f64 / 1e9,
        files.iter().map(|f| f.1).sum::<u64>() as f64 / 1e9,
        bundle.display()
    );
    let floor = rows[0].secs;
    for r in &rows {
        table += &format!(
            "| {} | {:.2} s | {:.2} | {} | {:.2}x |\n",
            r.what.replace('|', "\\|"),
            r.secs,
            total as f64 / r.secs / 1e9,
            r.rss_kb
                .map_or("-".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0)),
            r.secs / floor
        );
    }
    println!("{table}");
    std::fs::write(dir.join("RESULTS.md"), table).unwrap();
}

/// (path, bytes on disk, compression) of every file of the bundle.
fn files(dir: &Path) -> Vec<(PathBuf, u64, &'static str)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let head = std::fs::read(&p)
                    .map(|b| b.get(..4).map(<[u8]>::to_vec).unwrap_or_default())
                    .unwrap_or_default();
                let kind = match head.as_slice() {
                    [0x1f, 0x8b, ..] => "gzip",
                    [0x28, 0xb5, 0x2f, 0xfd] => "zstd",
                    _ => "none",
                };
                let len = std::fs::metadata(&p).unwrap().len();
                out.push((p, len, kind));
            }
        }
    }
    out.sort();
    out
}

/// One shell pipeline that writes every file's decompressed bytes to stdout.
fn decompress_all(files: &[(PathBuf, u64, &'static str)]) -> String {
    let parts: Vec<String> = files
        .iter()
        .map(|(p, _, kind)| {
            let tool = match *kind {
                "gzip" => "gzip -dc",
                "zstd" => "zstd -dcq",
                _ => "cat",
            };
            format!("{tool} '{}'", p.display())
        })
        .collect();
    format!("{{ {}; }}", parts.join("; "))
}

fn uncompressed_bytes(files: &[(PathBuf, u64, &'static str)]) -> u64 {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{} | wc -c", decompress_all(files)))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Run `script` under GNU time: wall seconds and peak RSS of the biggest process.
fn timed(what: &str, script: &str) -> Row {
    let report = std::env::temp_dir().join(format!("coroner-e2e-time-{}", std::process::id()));
    let started = Instant::now();
    let status = Command::new("/usr/bin/time")
        .args(["-f", "%e %M", "-o"])
        .arg(&report)
        .args(["sh", "-c", script])
        .status()
        .expect("run /usr/bin/time");
    let secs = started.elapsed().as_secs_f64();
    assert!(
        status.success() || status.code() == Some(2),
        "{what}: {status}"
    );
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let rss_kb = text
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse().ok());
    eprintln!("{what}: {secs:.2} s");
    Row {
        what: what.into(),
        secs,
        rss_kb,
    }
}

fn build_coroner() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let ok = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--bin", "coroner"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo build")
        .success();
    assert!(ok, "cargo build --release --bin coroner failed");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("release/coroner")
}
