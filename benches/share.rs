//! Pattern share throughput: 10 literal patterns counted in one pass (`coroner share`'s
//! work: read, frame, match every pattern, per-source sums) over a generated access log,
//! in bytes per second. `benches/compare.sh` puts the same file next to
//! `rg -F X FILE | wc --bytes` for one pattern.
//!
//! Run: `cargo bench --bench share` (CORONER_BENCH_MB sets the size, default 1024).

mod common;

use coroner_analyze::config::RunConfig;
use coroner_analyze::pattern_share::PatternMode;
use coroner_analyze::pipeline::run;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Ten guesses an SRE would try first on an access log: some frequent, some rare, one that
/// never matches.
pub const PATTERNS: [&str; 10] = [
    "GET /",
    "POST ",
    "\" 404 ",
    "\" 500 ",
    "Googlebot",
    ".png",
    "/blog/",
    "Mozilla/5.0 (Windows",
    "wp-login.php",
    "zzzz-never-there",
];

fn data() -> std::path::PathBuf {
    common::apache_log("share", 1024)
}

fn bench(c: &mut Criterion) {
    let path = data();
    let size = std::fs::metadata(&path).unwrap().len();
    let mut g = c.benchmark_group("share");
    g.throughput(Throughput::Bytes(size));
    g.sample_size(10);
    for (name, patterns) in [
        ("1-literal", &PATTERNS[..1]),
        ("10-literals", &PATTERNS[..]),
    ] {
        let config = RunConfig {
            threads: 2,
            templates: false,
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            pattern_mode: PatternMode::Literal,
            ..RunConfig::default()
        };
        g.bench_function(name, |b| {
            b.iter(|| run(std::slice::from_ref(&path), &config, &|_| {}))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
