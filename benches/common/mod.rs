//! What the in-process benches share: the real apache log of `tests/fixtures` repeated to a
//! size (`CORONER_BENCH_MB`, else the bench's default), written once under the target's tmp
//! directory and reused between runs.

use std::path::PathBuf;

/// `<target tmp>/bench-<tag>-<mb>/access.log`, created if missing.
pub fn apache_log(tag: &str, default_mb: usize) -> PathBuf {
    let mb: usize = std::env::var("CORONER_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_mb);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-{tag}-{mb}"));
    let path = dir.join("access.log");
    if !path.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let seed = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/elastic-examples/apache_logs"
        ))
        .unwrap();
        let mut out = Vec::with_capacity((mb << 20) + seed.len());
        while out.len() < mb << 20 {
            out.extend_from_slice(&seed);
        }
        std::fs::write(&path, &out).unwrap();
    }
    path
}
