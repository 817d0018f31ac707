//! Reader throughput: the whole pass (`coroner detect`'s work: decode, frame, envelope view,
//! payload detection, accounting) over the real apache log repeated to 64 MiB, plain and
//! gzip, in bytes per second. The README puts these next to `wc -l` on the same file.
//!
//! Run: `cargo bench --bench read` (set CORONER_BENCH_MB to change the size).

use std::io::Write;

use coroner_analyze::config::RunConfig;
use coroner_analyze::pipeline::run;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn data_dir() -> std::path::PathBuf {
    let mb: usize = std::env::var("CORONER_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-read-{mb}"));
    let plain = dir.join("access.log");
    if !plain.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let seed = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/elastic-examples/apache_logs"
        ))
        .unwrap();
        let mut out = Vec::with_capacity(mb << 20);
        while out.len() < mb << 20 {
            out.extend_from_slice(&seed);
        }
        std::fs::write(&plain, &out).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&out).unwrap();
        std::fs::write(dir.join("access.log.gz"), gz.finish().unwrap()).unwrap();
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
