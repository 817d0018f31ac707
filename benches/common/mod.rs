//! What the in-process benches share: the real apache log of `tests/fixtures` repeated to a
//! size (`CORONER_BENCH_MB`, else the bench's default), written once under the target's tmp
//! directory and reused between runs.

use std::path::PathBuf;

/// `<target tmp>/bench-<tag>-<mb>/access.log`, created if missing.
#[allow(dead_code)] // each bench includes this module; not all of them use all of it
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

/// CPU time, reported like wall time, from one of two clocks: the whole process (every
/// thread: the work a multi-threaded pass does) or the calling thread (criterion times the
/// routine on the thread that calls it: "one core" for the parsers). A shared machine's other
/// load disturbs either far less than it disturbs the wall clock.
#[allow(dead_code)] // each bench includes this module; not all of them use all of it
pub struct CpuTime {
    clock: fn() -> std::time::Duration,
    wall: criterion::measurement::WallTime,
}

#[allow(dead_code)]
impl CpuTime {
    /// `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`.
    pub fn process() -> CpuTime {
        CpuTime {
            clock: process_cpu,
            wall: criterion::measurement::WallTime,
        }
    }

    /// `/proc/thread-self/schedstat` (Linux, as is this project's benchmark machine).
    pub fn thread() -> CpuTime {
        CpuTime {
            clock: thread_cpu,
            wall: criterion::measurement::WallTime,
        }
    }
}

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

#[allow(dead_code)]
fn thread_cpu() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("/proc/thread-self/schedstat (Linux) for the CPU-time measurement");
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("schedstat starts with the nanoseconds on CPU");
    std::time::Duration::from_nanos(ns)
}

impl criterion::measurement::Measurement for CpuTime {
    type Intermediate = std::time::Duration;
    type Value = std::time::Duration;

    fn start(&self) -> Self::Intermediate {
        (self.clock)()
    }
    fn end(&self, start: Self::Intermediate) -> Self::Value {
        (self.clock)().saturating_sub(start)
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
        self.wall.formatter()
    }
}
