//! Reader throughput: the whole pass (`coroner detect`'s work: decode, frame, envelope view,
//! payload detection, accounting) over the real apache log repeated to 64 MiB, plain and
//! gzip, in bytes per second. The README puts these next to `wc -l` on the same file.
//!
//! Run: `cargo bench --bench read` (set CORONER_BENCH_MB to change the size).

mod common;

use std::io::Write;

use coroner_analyze::config::RunConfig;
use coroner_analyze::pipeline::run;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The apache log at 64 MiB (benches/common) and, beside it, its gzip rendering.
fn data_dir() -> std::path::PathBuf {
    let plain = common::apache_log("read", 64);
    let dir = plain.parent().unwrap().to_path_buf();
    let gz_path = dir.join("access.log.gz");
    if !gz_path.exists() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&std::fs::read(&plain).unwrap()).unwrap();
        std::fs::write(gz_path, gz.finish().unwrap()).unwrap();
    }
    dir
}

fn bench(c: &mut Criterion) {
    let dir = data_dir();
    let plain = dir.join("access.log");
    let size = std::fs::metadata(&plain).unwrap().len();
    let mut g = c.benchmark_group("read");
    g.throughput(Throughput::Bytes(size));
    g.sample_size(10);
    for threads in [1, 2] {
        let config = RunConfig {
            threads,
            ..RunConfig::default()
        };
        g.bench_function(format!("plain/{threads}-threads"), |b| {
            b.iter(|| run(std::slice::from_ref(&plain), &config, &|_| {}))
        });
    }
    let gz = dir.join("access.log.gz");
    let config = RunConfig {
        threads: 2,
        ..RunConfig::default()
    };
    g.bench_function("gzip/2-threads", |b| {
        b.iter(|| run(std::slice::from_ref(&gz), &config, &|_| {}))
    });
    g.finish();
    eprintln!("bench data: {}", dir.display());
}

criterion_group!(benches, bench);
criterion_main!(benches);
