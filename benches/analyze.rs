//! The cost of the incident analyses: the full default `analyze` pass (templates, bursts,
//! sockets, findings, timeline) against the parsing-only pass (`coroner detect`'s work:
//! read, frame, detect and parse every record), over the same generated access log, in
//! bytes per second. Issue #5 asks the full pass to stay within 1.5x of parsing only.
//!
//! Run: `cargo bench --bench analyze` (CORONER_BENCH_MB sets the size, default 256).

mod common;

use coroner_analyze::config::RunConfig;
use coroner_analyze::pipeline::run;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn data() -> std::path::PathBuf {
    common::apache_log("analyze", 256)
}

fn bench(c: &mut Criterion) {
    let path = data();
    let size = std::fs::metadata(&path).unwrap().len();
    let mut g = c.benchmark_group("analyze");
    g.throughput(Throughput::Bytes(size));
    g.sample_size(10);
    let parse_only = RunConfig {
        threads: 2,
        templates: false,
        analyses: false,
        ..RunConfig::default()
    };
    let analyses_only = RunConfig {
        templates: false,
        ..parse_only.clone()
    };
    let analyses_only = RunConfig {
        analyses: true,
        ..analyses_only
    };
    let full = RunConfig {
        threads: 2,
        ..RunConfig::default()
    };
    for (name, config) in [
        ("parse-only", &parse_only),
        ("incident-analyses", &analyses_only),
        ("full-default", &full),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| run(std::slice::from_ref(&path), config, &|_| {}))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
