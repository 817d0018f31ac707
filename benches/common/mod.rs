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

/// CPU time of the whole process (every thread), reported like wall time: the work a pass
/// does, which a shared machine's other load does not change the way it changes the wall
/// clock. `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`.
#[allow(dead_code)] // each bench includes this module; not all of them use this
pub struct ProcessCpu(pub criterion::measurement::WallTime);

#[allow(dead_code)]
fn process_cpu() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant libc defines.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl criterion::measurement::Measurement for ProcessCpu {
    type Intermediate = std::time::Duration;
    type Value = std::time::Duration;

    fn start(&self) -> Self::Intermediate {
        process_cpu()
    }
    fn end(&self, start: Self::Intermediate) -> Self::Value {
        process_cpu().saturating_sub(start)
    }
    fn add(&self, a: &Self::Value, b: &Self::Value) -> Self::Value {
        *a + *b
    }
    fn zero(&self) -> Self::Value {
        std::time::Duration::ZERO
    }
    fn to_f64(&self, v: &Self::Value) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn criterion::measurement::ValueFormatter {
        self.0.formatter()
    }
}
