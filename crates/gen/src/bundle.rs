//! Large benchmark bundles: a deterministic generator of realistic mixed log bundles of
//! any size, for throughput benchmarks of `coroner analyze`.
//!
//! Unlike the samples (small, story-driven, with known answers), a benchmark bundle is
//! mostly ordinary traffic, written as fast as the disk takes it, with a few incidents
//! sprinkled in so the analyses have work (502/504 runs, `context canceled` bursts,
//! closed-socket floods, `Cannot assign requested address` floods, a TIME_WAIT-exhausted
//! netstat capture). [`write_bundle`] writes a directory holding only log files whose
//! uncompressed sizes add up to [`BundleSpec::bytes`] (within 1 % from a few MiB up;
//! each file overshoots its share by less than one record).
//!
//! # The mix (share of the uncompressed bytes, see [`MIX`])
//! | file | format | share | stored |
//! |---|---|---|---|
//! | `nginx/access.log` | nginx `combined` + ` rt=… uct="…" uht="…" urt="…"` | 30 % | plain |
//! | `traefik/access.log.gz` | Traefik CLF (`common`) | 15 % | gzip |
//! | `journal/system.export` | `journalctl -o export`: a Go WebSocket proxy (`ws close dur_ms=N cause=C user=U`), kernel, systemd, sshd, cron | 15 % | plain |
//! | `cloudflared/cloudflared.log.zst` | cloudflared console, `--loglevel debug` | 10 % | zstd |
//! | `nginx/error.log` | nginx error log | 5 % | plain |
//! | `mastodon/streaming.journal.gz` | npmlog lines of `mastodon-streaming` in `journalctl -o short-iso` | 10 % | gzip |
//! | `php/error.log.zst` | PHP `error_log` with `Redis::connect()` floods | 10 % | zstd |
//! | `netstat/netstat-nat-<time>.txt` | `netstat -nat` captures (3 to 12 files) | 5 % | plain |
//!
//! # Time
//! Every file starts at the same base (a seed-dependent instant on 2026-07-01) and its
//! clock advances with the bytes it writes, at a rate that makes 1 GiB of bundle span
//! about one day (so 2 MiB spans under three minutes and 10 GiB ten days); timestamps are
//! monotonic within each file. Incidents are one schedule shared by all files (about one
//! every three hours of log time, at least one per bundle), so they line up across
//! sources; inside an incident a source writes denser (the clock slows), and the base
//! rate is corrected so every file still ends near the same instant.
//!
//! # Determinism and speed
//! A bundle is a pure function of the spec: integer arithmetic only (SplitMix64 streams,
//! one forked per file), gzip headers without time or name, zstd single-threaded. Files
//! are generated in parallel (one thread per core), each into a reusable 4 MiB buffer
//! that is written (or streamed through the encoder: gzip level 1, zstd level 1) whenever
//! it fills, so memory stays bounded whatever the size. Lines are built with hand-rolled
//! integer and timestamp writers (the time text is recomputed once per second) from
//! precomputed tables of addresses, user agents and ids.
//!
//! ```
//! use coroner_gen::bundle::{write_bundle, BundleSpec};
//! let dir = std::env::temp_dir().join(format!("coroner-gen-bundle-doc-{}", std::process::id()));
//! let files = write_bundle(&dir, &BundleSpec { bytes: 1 << 20, seed: 7 })?;
//! let total: u64 = files.iter().map(|f| f.uncompressed).sum();
//! assert!(total.abs_diff(1 << 20) < (1 << 20) / 100);
//! assert!(files.iter().any(|f| f.path.ends_with("traefik/access.log.gz")));
//! std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};

use crate::out::Written;
use crate::rng::SplitMix64;
use crate::time::{self, Civil, MIN, MS, SEC};

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BundleSpec {
    /// Target total uncompressed bytes of all files.
    pub bytes: u64,
    pub seed: u64,
}

/// The log format of a bundle file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    NginxAccess,
    Traefik,
    Journal,
    Cloudflared,
    NginxError,
    Streaming,
    Php,
    Netstat,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::NginxAccess => "nginx-access",
            Kind::Traefik => "traefik-clf",
            Kind::Journal => "journald-export",
            Kind::Cloudflared => "cloudflared",
            Kind::NginxError => "nginx-error",
            Kind::Streaming => "mastodon-streaming-journal",
            Kind::Php => "php-error-log",
            Kind::Netstat => "netstat",
        }
    }
}

/// How a bundle file is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    None,
    Gzip,
    Zstd,
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
        }
    }
}

/// The files of a bundle: kind, storage, share of the bytes in per mille, and the path
/// (netstat captures are several files named after their capture time).
pub const MIX: &[(Kind, Codec, u64, &str)] = &[
    (Kind::NginxAccess, Codec::None, 300, "nginx/access.log"),
    (Kind::Traefik, Codec::Gzip, 150, "traefik/access.log.gz"),
    (Kind::Journal, Codec::None, 150, "journal/system.export"),
    (
        Kind::Cloudflared,
        Codec::Zstd,
        100,
        "cloudflared/cloudflared.log.zst",
    ),
    (Kind::NginxError, Codec::None, 50, "nginx/error.log"),
    (
        Kind::Streaming,
        Codec::Gzip,
        100,
        "mastodon/streaming.journal.gz",
    ),
    (Kind::Php, Codec::Zstd, 100, "php/error.log.zst"),
    (Kind::Netstat, Codec::None, 50, "netstat/netstat-nat-"),
];

/// One file of a written bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleFile {
    pub path: PathBuf,
    /// Size on disk (compressed size for `.gz`/`.zst`).
    pub bytes: u64,
    /// Size of the log text (after decompression).
    pub uncompressed: u64,
    /// Records written: lines, journal entries (a multi-line PHP fatal or an npmlog
    /// error block counts once).
    pub records: u64,
    pub kind: Kind,
    pub codec: Codec,
}

impl BundleFile {
    /// The path and size on disk, as the sample writers report them.
    pub fn written(&self) -> Written {
        Written {
            path: self.path.clone(),
            bytes: self.bytes,
        }
    }
}

/// Writes a bundle of about `spec.bytes` uncompressed bytes into `dir` (created; files
/// of the same names are replaced, others are left alone) and lists its files in
/// [`MIX`] order.
pub fn write_bundle(dir: &Path, spec: &BundleSpec) -> io::Result<Vec<BundleFile>> {
    let mut master = SplitMix64::new(spec.seed ^ 0xB0_4D1E_0000_0000);
    let base = time::at(2026, 7, 1, 0, 0, 0) + master.below(12 * 3_600) as i64 * SEC;
    let span = span_of(spec.bytes);
    let incidents = schedule(&mut master.fork(), base, span);
    let tables = Tables::new(&mut master.fork());
    let jobs = plan(spec.bytes, base, span, &incidents, &mut master);
    let shared = Shared {
        tables: &tables,
        incidents: &incidents,
        span,
    };

    // Largest first, so the threads finish together.
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].target));
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<io::Result<BundleFile>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(k) else { break };
                    let r = run_job(dir, &jobs[i], &shared);
                    let failed = r.is_err();
                    results.lock().expect("no panics while holding the lock")[i] = Some(r);
                    if failed {
                        // Let the other workers stop at their next job.
                        next.store(order.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let results = results.into_inner().expect("workers joined");
    let mut files = Vec::with_capacity(results.len());
    let mut first_err = None;
    for r in results {
        match r {
            Some(Ok(f)) => files.push(f),
            Some(Err(e)) => {
                first_err.get_or_insert(e);
            }
            None => {}
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(files),
    }
}

/// Parses a size: a whole number with an optional binary suffix `K`, `M`, `G` or `T`
/// (powers of 1024, case-insensitive, optionally followed by `iB` or `B`).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u64 = s[..digits].parse().ok()?;
    let shift = match s[digits..].to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}

// =====================================================================================
// Plan: time span, incidents, jobs.

/// Log time a bundle of `bytes` spans: one day per GiB (at least 10 s).
fn span_of(bytes: u64) -> i64 {
    let us = u128::from(bytes) * 86_400 * SEC as u128 / (1u128 << 30);
    (us as i64).max(10 * SEC)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IncidentKind {
    /// The backends stall: 504s, `upstream timed out`, `context canceled` bursts,
    /// closed-socket floods.
    Stall,
    /// The backends are down: 502s, `connection refused`, `no live upstreams`, restarts.
    Down,
}

#[derive(Clone, Copy, Debug)]
struct Incident {
    start: i64,
    end: i64,
    kind: IncidentKind,
}

/// About one incident per three hours of log time, at least one, each in its own slot.
fn schedule(r: &mut SplitMix64, base: i64, span: i64) -> Vec<Incident> {
    let n = (span / (180 * MIN)).max(1);
    let slot = span / n;
    (0..n)
        .map(|i| {
            let len = (slot / 12).clamp(20 * SEC, 6 * MIN);
            let len = len / 2 + r.range_i64(0, len);
            let lo = slot / 5;
            let hi = (slot * 4 / 5 - len).max(lo + 1);
            let start = base + slot * i + r.range_i64(lo, hi);
            let kind = if i == 0 || r.below(3) != 0 {
                IncidentKind::Stall
            } else {
                IncidentKind::Down
            };
            Incident {
                start,
                end: start + len,
                kind,
            }
        })
        .collect()
}

struct Job {
    rel: String,
    kind: Kind,
    codec: Codec,
    target: u64,
    permille: u64,
    seed: u64,
    t0: i64,
    /// Netstat: the capture shows Redis TIME_WAIT exhaustion.
    exhausted: bool,
}

fn plan(bytes: u64, base: i64, span: i64, incidents: &[Incident], r: &mut SplitMix64) -> Vec<Job> {
    let mut jobs = Vec::new();
    let mut assigned = 0;
    for (i, &(kind, codec, permille, path)) in MIX.iter().enumerate() {
        let share = if i + 1 == MIX.len() {
            bytes - assigned
        } else {
            bytes * permille / 1000
        };
        assigned += share;
        if kind != Kind::Netstat {
            jobs.push(Job {
                rel: path.to_owned(),
                kind,
                codec,
                target: share,
                permille,
                seed: r.next_u64(),
                t0: base,
                exhausted: false,
            });
            continue;
        }
        // A few captures, spread over the span; one during the first incident.
        let n = (share / (32 << 20)).clamp(3, 12);
        let mut times: Vec<(i64, bool)> = (0..n as i64)
            .map(|k| (base + span * (2 * k + 1) / (2 * n as i64), false))
            .collect();
        let inc = incidents[0];
        times[1] = ((inc.start + inc.end) / 2 / SEC * SEC, true);
        times.sort_unstable();
        for k in 1..times.len() {
            // Distinct names, even if the incident falls on a regular capture's second.
            times[k].0 = times[k].0.max(times[k - 1].0 + SEC);
        }
        for (k, (t, exhausted)) in times.into_iter().enumerate() {
            let c = Civil::of(t);
            let mut name = path.as_bytes().to_vec();
            name.z(c.year as u64, 4)
                .z(c.month.into(), 2)
                .z(c.day.into(), 2)
                .c(b'T')
                .z(c.hour.into(), 2)
                .z(c.min.into(), 2)
                .z(c.sec.into(), 2)
                .s("Z.txt");
            let part = share / n + u64::from(k as u64 == n - 1) * (share % n);
            jobs.push(Job {
                rel: String::from_utf8(name).expect("ascii"),
                kind,
                codec,
                target: part,
                permille,
                seed: r.next_u64(),
                t0: t,
                exhausted,
            });
        }
    }
    jobs
}

struct Shared<'a> {
    tables: &'a Tables,
    incidents: &'a [Incident],
    span: i64,
}

/// The buffer is handed to the file (or encoder) whenever it holds this much.
const CHUNK: usize = 4 << 20;

enum Sink {
    Plain(File),
    Gzip(GzEncoder<BufWriter<File>>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<File>>),
}

impl Sink {
    fn open(path: &Path, codec: Codec) -> io::Result<Self> {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let f = File::create(path)?;
        Ok(match codec {
            Codec::None => Sink::Plain(f),
            Codec::Gzip => Sink::Gzip(
                GzBuilder::new()
                    .mtime(0)
                    .write(BufWriter::with_capacity(1 << 20, f), Compression::fast()),
            ),
            Codec::Zstd => Sink::Zstd(zstd::stream::write::Encoder::new(
                BufWriter::with_capacity(1 << 20, f),
                1,
            )?),
        })
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Sink::Plain(f) => f.write_all(data),
            Sink::Gzip(e) => e.write_all(data),
            Sink::Zstd(e) => e.write_all(data),
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Sink::Plain(mut f) => f.flush(),
            Sink::Gzip(e) => e.finish()?.flush(),
            Sink::Zstd(e) => e.finish()?.flush(),
        }
    }
}

fn run_job(dir: &Path, job: &Job, sh: &Shared) -> io::Result<BundleFile> {
    let path = dir.join(&job.rel);
    write_file(&path, job, sh)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

fn write_file(path: &Path, job: &Job, sh: &Shared) -> io::Result<BundleFile> {
    let path = path.to_owned();
    let mut sink = Sink::open(&path, job.codec)?;
    let mut src = source(job, sh);
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + (64 << 10));
    let (mut total, mut records) = (0u64, 0u64);
    while total < job.target {
        let before = buf.len();
        src.record(&mut buf);
        total += (buf.len() - before) as u64;
        records += 1;
        if buf.len() >= CHUNK {
            sink.write_all(&buf)?;
            buf.clear();
        }
    }
    sink.write_all(&buf)?;
    sink.finish()?;
    Ok(BundleFile {
        bytes: fs::metadata(&path)?.len(),
        path,
        uncompressed: total,
        records,
        kind: job.kind,
        codec: job.codec,
    })
}

/// A generator of one file's records.
trait Source {
    /// Appends one record (whole lines, or one export entry) to `out`.
    fn record(&mut self, out: &mut Vec<u8>);
}

fn source<'a>(job: &Job, sh: &Shared<'a>) -> Box<dyn Source + 'a> {
    let mut rng = SplitMix64::new(job.seed);
    let t = sh.tables;
    // How much denser a source writes inside an incident.
    let density = match job.kind {
        Kind::NginxAccess | Kind::Traefik => 2,
        Kind::Cloudflared => 3,
        Kind::Journal => 5,
        Kind::NginxError | Kind::Streaming => 6,
        Kind::Php => 10,
        Kind::Netstat => 1,
    };
    let env = Env {
        clock: Clock::new(job.t0, job.permille, density, sh),
        inc: Cursor {
            all: sh.incidents,
            i: 0,
        },
        r: rng.fork(),
    };
    match job.kind {
        Kind::NginxAccess => Box::new(NginxAccess {
            env,
            t,
            stamp: Stamp::new(StampKind::Clf),
        }),
        Kind::Traefik => Box::new(Traefik {
            env,
            t,
            stamp: Stamp::new(StampKind::Clf),
            count: 1_204_233 + rng.below(100_000),
        }),
        Kind::Journal => Box::new(Journal::new(env, t, &mut rng)),
        Kind::Cloudflared => Box::new(Cloudflared {
            env,
            t,
            stamp: Stamp::new(StampKind::Rfc3339),
            started: false,
            edge_gen: 0,
        }),
        Kind::NginxError => Box::new(NginxError {
            env,
            t,
            stamp: Stamp::new(StampKind::GoLog),
            conn: 1_000 + rng.below(100_000),
        }),
        Kind::Streaming => Box::new(Streaming::new(env, t, &mut rng)),
        Kind::Php => Box::new(Php {
            env,
            stamp: Stamp::new(StampKind::Php),
        }),
        Kind::Netstat => Box::new(Netstat::new(env.r, t, job.exhausted)),
    }
}

// =====================================================================================
// Clock and incidents.

/// A file's clock: advances with the bytes written.
struct Clock {
    t: i64,
    /// Picoseconds of log time per byte, outside and inside incidents.
    ps_normal: u64,
    ps_incident: u64,
    carry: u64,
}

impl Clock {
    fn new(t0: i64, permille: u64, density: u64, sh: &Shared) -> Self {
        // 1 GiB of bundle spans a day: this file's bytes per day are permille/1000 GiB.
        let nominal = 86_400u128 * 1_000_000_000_000 * 1000 / (u128::from(permille) << 30);
        // Incidents take `f` of the time at `density` times the byte rate: slow the
        // rest so the file still spans the whole bundle.
        let inside: i64 = sh.incidents.iter().map(|i| i.end - i.start).sum();
        let f = (inside as u128 * 1_000_000 / sh.span.max(1) as u128).min(1_000_000);
        let k = u128::from(density);
        let normal = nominal * (1_000_000 - f + k * f) / 1_000_000;
        Self {
            t: t0,
            ps_normal: normal as u64,
            ps_incident: (normal / k) as u64,
            carry: 0,
        }
    }

    /// Moves on after a record of `n` bytes (uniform jitter, mean 1).
    fn advance(&mut self, n: usize, incident: bool, r: &mut SplitMix64) {
        let ps = if incident {
            self.ps_incident
        } else {
            self.ps_normal
        };
        let total =
            u128::from(ps) * n as u128 * u128::from(r.below(2048)) / 1024 + u128::from(self.carry);
        self.t += (total / 1_000_000) as i64;
        self.carry = (total % 1_000_000) as u64;
    }
}

/// Walks the incident schedule along a monotonic clock.
struct Cursor<'a> {
    all: &'a [Incident],
    i: usize,
}

impl Cursor<'_> {
    fn at(&mut self, t: i64) -> Option<(usize, IncidentKind)> {
        while self.i < self.all.len() && self.all[self.i].end <= t {
            self.i += 1;
        }
        let inc = self.all.get(self.i)?;
        (inc.start <= t).then_some((self.i, inc.kind))
    }
}

/// What every time-driven source carries.
struct Env<'a> {
    clock: Clock,
    inc: Cursor<'a>,
    r: SplitMix64,
}

impl Env<'_> {
    fn now(&mut self) -> (i64, Option<(usize, IncidentKind)>) {
        let t = self.clock.t;
        (t, self.inc.at(t))
    }

    fn done(&mut self, n: usize, incident: bool) {
        self.clock.advance(n, incident, &mut self.r);
    }
}

// =====================================================================================
// Fast text building.

const DIGITS2: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Chainable appends to a line buffer.
trait Put {
    fn s(&mut self, s: &str) -> &mut Self;
    fn c(&mut self, c: u8) -> &mut Self;
    /// Decimal.
    fn u(&mut self, n: u64) -> &mut Self;
    /// Decimal, zero-padded to `w` digits.
    fn z(&mut self, n: u64, w: usize) -> &mut Self;
    /// Lowercase hex, no padding.
    fn x(&mut self, n: u64) -> &mut Self;
    /// Lowercase hex, `w` digits (the low ones).
    fn xz(&mut self, n: u64, w: usize) -> &mut Self;
    /// Milliseconds as seconds with three decimals (`0.123`).
    fn ms(&mut self, ms: u64) -> &mut Self;
    /// Spaces up to column `w` counted from `start`.
    fn pad(&mut self, start: usize, w: usize) -> &mut Self;
}

impl Put for Vec<u8> {
    #[inline]
    fn s(&mut self, s: &str) -> &mut Self {
        self.extend_from_slice(s.as_bytes());
        self
    }

    #[inline]
    fn c(&mut self, c: u8) -> &mut Self {
        self.push(c);
        self
    }

    #[inline]
    fn u(&mut self, mut n: u64) -> &mut Self {
        let mut tmp = [0u8; 20];
        let mut i = 20;
        while n >= 100 {
            let d = (n % 100) as usize * 2;
            n /= 100;
            i -= 2;
            tmp[i..i + 2].copy_from_slice(&DIGITS2[d..d + 2]);
        }
        if n >= 10 {
            let d = n as usize * 2;
            i -= 2;
            tmp[i..i + 2].copy_from_slice(&DIGITS2[d..d + 2]);
        } else {
            i -= 1;
            tmp[i] = b'0' + n as u8;
        }
        self.extend_from_slice(&tmp[i..]);
        self
    }

    #[inline]
    fn z(&mut self, mut n: u64, w: usize) -> &mut Self {
        let start = self.len();
        self.resize(start + w, b'0');
        let mut i = start + w;
        while i > start && n > 0 {
            i -= 1;
            self[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        self
    }

    #[inline]
    fn x(&mut self, n: u64) -> &mut Self {
        let digits = ((64 - n.leading_zeros() as usize).div_ceil(4)).max(1);
        self.xz(n, digits)
    }

    #[inline]
    fn xz(&mut self, n: u64, w: usize) -> &mut Self {
        for k in (0..w).rev() {
            self.push(HEX[((n >> (4 * k)) & 15) as usize]);
        }
        self
    }

    #[inline]
    fn ms(&mut self, ms: u64) -> &mut Self {
        self.u(ms / 1000).c(b'.').z(ms % 1000, 3)
    }

    #[inline]
    fn pad(&mut self, start: usize, w: usize) -> &mut Self {
        while self.len() < start + w {
            self.push(b' ');
        }
        self
    }
}

/// Appends a random RFC 4122 version 4 UUID.
fn put_uuid(o: &mut Vec<u8>, r: &mut SplitMix64) {
    let (hi, lo) = (r.next_u64(), r.next_u64());
    let hi = (hi & !0xF000) | 0x4000;
    let lo = (lo & !(0b11 << 62)) | (0b10 << 62);
    o.xz(hi >> 32, 8)
        .c(b'-')
        .xz(hi >> 16, 4)
        .c(b'-')
        .xz(hi, 4)
        .c(b'-')
        .xz(lo >> 48, 4)
        .c(b'-')
        .xz(lo, 12);
}

/// `lo + something in [0, hi - lo)`, skewed towards `lo` (latencies, sizes).
fn skew(r: &mut SplitMix64, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        return lo;
    }
    let a = r.below(hi - lo);
    lo + r.below(a + 1)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

#[derive(Clone, Copy)]
enum StampKind {
    /// `02/Jul/2026:15:42:01 +0000`
    Clf,
    /// `2026/07/02 15:42:01` (Go `log`, nginx error log)
    GoLog,
    /// `2026-07-02T15:42:01Z`
    Rfc3339,
    /// `2026-07-02T15:42:01+0000`
    ShortIso,
    /// `02-Jul-2026 15:42:01 UTC`
    Php,
}

/// A timestamp text, recomputed only when the second changes.
struct Stamp {
    kind: StampKind,
    sec: i64,
    text: Vec<u8>,
}

impl Stamp {
    fn new(kind: StampKind) -> Self {
        Self {
            kind,
            sec: i64::MIN,
            text: Vec::with_capacity(32),
        }
    }

    #[inline]
    fn put(&mut self, o: &mut Vec<u8>, t: i64) {
        let sec = t.div_euclid(SEC);
        if sec != self.sec {
            self.sec = sec;
            self.render(Civil::of(sec * SEC));
        }
        o.extend_from_slice(&self.text);
    }

    fn render(&mut self, c: Civil) {
        let b = &mut self.text;
        b.clear();
        let (y, mo, d) = (c.year as u64, u64::from(c.month), u64::from(c.day));
        let (h, mi, s) = (u64::from(c.hour), u64::from(c.min), u64::from(c.sec));
        let mon = MONTHS[(c.month - 1) as usize];
        match self.kind {
            StampKind::Clf => {
                b.z(d, 2).c(b'/').s(mon).c(b'/').z(y, 4).c(b':');
                b.z(h, 2).c(b':').z(mi, 2).c(b':').z(s, 2).s(" +0000");
            }
            StampKind::GoLog => {
                b.z(y, 4).c(b'/').z(mo, 2).c(b'/').z(d, 2).c(b' ');
                b.z(h, 2).c(b':').z(mi, 2).c(b':').z(s, 2);
            }
            StampKind::Rfc3339 | StampKind::ShortIso => {
                b.z(y, 4).c(b'-').z(mo, 2).c(b'-').z(d, 2).c(b'T');
                b.z(h, 2).c(b':').z(mi, 2).c(b':').z(s, 2);
                b.s(if matches!(self.kind, StampKind::Rfc3339) {
                    "Z"
                } else {
                    "+0000"
                });
            }
            StampKind::Php => {
                b.z(d, 2).c(b'-').s(mon).c(b'-').z(y, 4).c(b' ');
                b.z(h, 2).c(b':').z(mi, 2).c(b':').z(s, 2).s(" UTC");
            }
        }
    }
}

// =====================================================================================
// Shared tables.

const UAS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
    "Ivory/2.1 (iPhone; iOS 17.5)",
    "Tusky/25.2 Android/14",
    "Elk/0.14.0",
    "http.rb/5.2.0 (Mastodon/4.2.10; +https://social.example.org/)",
    "http.rb/5.2.0 (Mastodon/4.2.9; +https://mastodon.example.com/)",
    "http.rb/5.1.1 (Mastodon/4.1.18; +https://toot.example.net/)",
    "Misskey/2024.5.0 (https://misskey.example.org)",
    "Akkoma 3.13.2; https://akkoma.example.com <admin@akkoma.example.com>",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "-",
];

const USERS: &[&str] = &[
    "wizard", "ana", "bram", "chloe", "dmitri", "eve", "farid", "greta", "hiro", "ines", "jonas",
    "kai", "lena", "malte", "nora", "oskar", "priya", "quentin", "rosa", "sami", "tomas", "uma",
    "vera", "wen",
];

const COUNTRIES: &[&str] = &["GB", "DE", "NL", "FR", "US", "JP"];
const CRON_CMDS: &[&str] = &[
    "command -v debian-sa1 > /dev/null && debian-sa1 1 1",
    "/usr/local/bin/backup-db --incremental",
    "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.hourly; }",
    "/usr/bin/certbot -q renew",
];

const FRITZ: &str = "fritz";
const DEVVM: &str = "devvm";
const MASTODON_HOST: &str = "mastodon.example.net";
const T3_HOST: &str = "t3.example.net";
const ORIGIN_SERVICE: &str = "http://traefik.kube-system.svc:80";
const EDGES: &[(&str, &str)] = &[
    ("198.41.200.63", "lhr10"),
    ("198.41.192.147", "man01"),
    ("198.41.200.193", "lhr17"),
    ("198.41.192.27", "man04"),
    ("198.41.200.113", "lhr13"),
    ("198.41.192.67", "man02"),
];

/// Precomputed, seed-dependent tables every file draws from.
struct Tables {
    /// Client addresses (documentation IPv4 ranges, then 2001:db8::/32), shuffled so
    /// the heavy hitters of [`Tables::client`] are scattered.
    clients: Vec<String>,
    /// The IPv4 addresses alone (sshd, ufw, netstat), shuffled.
    v4: Vec<String>,
    /// Mastodon account ids (18 digits).
    accounts: Vec<u64>,
    /// Weighted route pick: index into [`ROUTES`].
    route_pick: Vec<u8>,
    t3_pick: Vec<u8>,
}

impl Tables {
    fn new(r: &mut SplitMix64) -> Self {
        let mut v4 = Vec::new();
        for net in ["192.0.2", "198.51.100", "203.0.113"] {
            for h in 1..255u32 {
                v4.push(format!("{net}.{h}"));
            }
        }
        shuffle(&mut v4, r);
        let mut clients = v4.clone();
        for i in 0..3_300u64 {
            clients.push(format!(
                "2001:db8:{:x}:{:x}::{:x}",
                0x100 + i,
                r.below(0x10000),
                1 + r.below(0xfffe)
            ));
        }
        shuffle(&mut clients, r);
        let accounts = (0..4_096)
            .map(|_| 109_310_000_000_000_000 + r.below(1_000_000_000_000))
            .collect();
        Self {
            clients,
            v4,
            accounts,
            route_pick: weights(ROUTES.iter().map(|x| x.w)),
            t3_pick: weights(T3_ROUTES.iter().map(|x| x.w)),
        }
    }

    /// A client address, a few of them far more often than the rest.
    fn client(&self, r: &mut SplitMix64) -> &str {
        &self.clients[skew(r, 0, self.clients.len() as u64) as usize]
    }

    fn client_v4(&self, r: &mut SplitMix64) -> &str {
        &self.v4[skew(r, 0, self.v4.len() as u64) as usize]
    }

    fn route(&self, r: &mut SplitMix64) -> &'static Route {
        &ROUTES[self.route_pick[r.below(self.route_pick.len() as u64) as usize] as usize]
    }

    fn t3_route(&self, r: &mut SplitMix64) -> &'static Route {
        &T3_ROUTES[self.t3_pick[r.below(self.t3_pick.len() as u64) as usize] as usize]
    }

    fn account(&self, r: &mut SplitMix64) -> u64 {
        self.accounts[skew(r, 0, self.accounts.len() as u64) as usize]
    }
}

fn shuffle<T>(v: &mut [T], r: &mut SplitMix64) {
    for i in (1..v.len()).rev() {
        let j = r.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// A table where index `i` appears `w[i]` times: a uniform pick is a weighted one.
fn weights(w: impl Iterator<Item = u32>) -> Vec<u8> {
    let mut t = Vec::new();
    for (i, n) in w.enumerate() {
        t.extend(std::iter::repeat_n(i as u8, n as usize));
    }
    t
}

/// One of `items`, uniformly.
fn one_of(r: &mut SplitMix64, items: &[&'static str]) -> &'static str {
    items[r.below(items.len() as u64) as usize]
}

/// A weighted pick from `(weight, value)` pairs (small tables).
fn wpick<T: Copy>(r: &mut SplitMix64, items: &[(u32, T)]) -> T {
    let total: u32 = items.iter().map(|x| x.0).sum();
    let mut k = r.below(u64::from(total)) as u32;
    for &(w, v) in items {
        if k < w {
            return v;
        }
        k -= w;
    }
    items[items.len() - 1].1
}

/// What follows a route's fixed path.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tail {
    None,
    /// `?since_id=<id>` half of the time.
    SinceId,
    /// `<status id>`
    Id,
    /// `<status id>/favourite`
    Favourite,
    /// `<account id>/statuses?limit=20`
    AcctStatuses,
    /// `<d>/<ddd>/.../original/<hex>.png`
    Media,
    /// `<name>@<host>`
    Webfinger,
    /// `?stream=user` etc.
    Stream,
    /// `<name>-<hex>.js`
    Pack,
    /// `<hex8>`
    Thread,
    /// `<hex8>/messages`
    ThreadMessages,
}

struct Route {
    w: u32,
    method: &'static str,
    path: &'static str,
    tail: Tail,
    status: u16,
    /// Response body bytes.
    size: (u64, u64),
    /// Upstream time in ms; `(0, 0)`: served from disk, no upstream.
    up: (u64, u64),
}

const fn route(
    w: u32,
    method: &'static str,
    path: &'static str,
    tail: Tail,
    status: u16,
    size: (u64, u64),
    up: (u64, u64),
) -> Route {
    Route {
        w,
        method,
        path,
        tail,
        status,
        size,
        up,
    }
}

/// A Mastodon instance's traffic as its edge nginx sees it.
#[rustfmt::skip]
const ROUTES: &[Route] = &[
    //    weight method  path                                       tail               status size (bytes)      upstream (ms)
    route(200, "GET",  "/api/v1/timelines/home",                    Tail::SinceId,      200, (2_000, 48_000),   (20, 700)),
    route(110, "GET",  "/api/v1/notifications",                     Tail::None,         200, (800, 24_000),     (15, 400)),
    route(160, "POST", "/inbox",                                    Tail::None,         202, (0, 1),            (10, 300)),
    route(80,  "GET",  "/api/v1/statuses/",                         Tail::Id,           200, (900, 6_000),      (8, 150)),
    route(30,  "POST", "/api/v1/statuses",                          Tail::None,         200, (1_200, 3_000),    (60, 900)),
    route(40,  "POST", "/api/v1/statuses/",                         Tail::Favourite,    200, (1_000, 3_000),    (20, 200)),
    route(50,  "GET",  "/api/v1/accounts/",                         Tail::AcctStatuses, 200, (3_000, 40_000),   (30, 600)),
    route(90,  "GET",  "/system/media_attachments/files/",          Tail::Media,        200, (4_000, 900_000),  (0, 0)),
    route(60,  "GET",  "/packs/js/",                                Tail::Pack,         200, (1_000, 300_000),  (0, 0)),
    route(40,  "GET",  "/.well-known/webfinger?resource=acct:",     Tail::Webfinger,    200, (400, 900),        (4, 40)),
    route(30,  "GET",  "/api/v1/streaming",                         Tail::Stream,       101, (200, 400_000),    (1, 3)),
    route(20,  "GET",  "/api/v1/instance",                          Tail::None,         200, (2_000, 4_000),    (3, 30)),
    route(10,  "GET",  "/nodeinfo/2.0",                             Tail::None,         200, (500, 700),        (3, 20)),
    route(15,  "GET",  "/api/v1/streaming/health",                  Tail::None,         200, (2, 3),            (0, 2)),
    route(10,  "GET",  "/favicon.ico",                              Tail::None,         200, (5_430, 5_431),    (0, 0)),
    route(5,   "GET",  "/wp-login.php",                             Tail::None,         404, (0, 1),            (3, 15)),
    route(4,   "GET",  "/.env",                                     Tail::None,         404, (0, 1),            (3, 15)),
];

/// A small self-hosted app (t3) behind Traefik.
#[rustfmt::skip]
const T3_ROUTES: &[Route] = &[
    route(30, "GET",  "/",                          Tail::None,           200, (1_841, 1_842),     (1, 8)),
    route(25, "GET",  "/assets/app-4c1f9e27.js",    Tail::None,           200, (248_113, 248_114), (2, 30)),
    route(15, "GET",  "/assets/index-b83d0a56.css", Tail::None,           200, (31_877, 31_878),   (1, 12)),
    route(80, "GET",  "/api/threads/",              Tail::Thread,         200, (400, 9_000),       (5, 240)),
    route(30, "POST", "/api/threads/",              Tail::ThreadMessages, 201, (200, 700),         (20, 900)),
    route(40, "GET",  "/api/settings",              Tail::None,           304, (0, 1),             (2, 12)),
    route(45, "GET",  "/ws",                        Tail::None,           101, (0, 1),             (2_000, 3_600_000)),
];

const PACKS: &[&str] = &[
    "common",
    "application",
    "public",
    "share",
    "admin",
    "features/compose",
    "features/home_timeline",
    "locale_en",
    "locale_de",
    "emoji_picker",
];

/// Writes a route's path and tail.
fn put_path(o: &mut Vec<u8>, route: &Route, r: &mut SplitMix64, t: &Tables) {
    o.s(route.path);
    match route.tail {
        Tail::None => {}
        Tail::SinceId => {
            if r.below(2) == 0 {
                o.s("?since_id=").u(t.account(r) + 197_000_000_000_000);
            }
        }
        Tail::Id => {
            o.u(t.account(r) + 196_000_000_000_000 + r.below(1 << 30));
        }
        Tail::Favourite => {
            o.u(t.account(r) + 196_000_000_000_000 + r.below(1 << 30))
                .s("/favourite");
        }
        Tail::AcctStatuses => {
            o.u(t.account(r)).s("/statuses?limit=20");
            if r.below(3) == 0 {
                o.s("&exclude_replies=true");
            }
        }
        Tail::Media => {
            let id = t.account(r) + 196_000_000_000_000 + r.below(1 << 30);
            // 18 digits in 3-digit groups: 109/506/231/004/115/523
            let mut digits = Vec::with_capacity(18);
            digits.z(id, 18);
            for (k, ch) in digits.chunks(3).enumerate() {
                if k > 0 {
                    o.c(b'/');
                }
                o.extend_from_slice(ch);
            }
            o.s(if r.below(3) == 0 {
                "/original/"
            } else {
                "/small/"
            })
            .xz(r.next_u64(), 16)
            .s(if r.below(4) == 0 { ".mp4" } else { ".png" });
        }
        Tail::Webfinger => {
            o.s(USERS[r.below(USERS.len() as u64) as usize])
                .c(b'@')
                .s(MASTODON_HOST);
        }
        Tail::Stream => {
            o.s(match r.below(4) {
                0 => "?stream=public:local",
                1 => "?stream=hashtag&tag=fediverse",
                _ => "?stream=user",
            });
        }
        Tail::Pack => {
            o.s(PACKS[r.below(PACKS.len() as u64) as usize])
                .c(b'-')
                .xz(r.below(1 << 40), 10)
                .s(".chunk.js");
        }
        Tail::Thread => {
            o.xz(r.below(1 << 20) * 0x9E37 + 0x1000_0000, 8);
        }
        Tail::ThreadMessages => {
            o.xz(r.below(1 << 20) * 0x9E37 + 0x1000_0000, 8)
                .s("/messages");
        }
    }
}

// =====================================================================================
// nginx access log (combined + timings).

struct NginxAccess<'a> {
    env: Env<'a>,
    t: &'a Tables,
    stamp: Stamp,
}

/// How nginx logged a request: status, body bytes, `$request_time` and the upstream
/// connect/header/response times in ms (`None` prints `-`).
struct Outcome {
    status: u16,
    size: u64,
    rt: u64,
    uct: Option<u64>,
    uht: Option<u64>,
    urt: Option<u64>,
}

fn outcome(route: &Route, inc: Option<IncidentKind>, r: &mut SplitMix64) -> Outcome {
    let proxied = route.up.1 > 0;
    match inc {
        // The upstream stalls: proxy_read_timeout (60 s) expires.
        Some(IncidentKind::Stall) if proxied && r.below(10) < 6 => {
            let urt = 60_000 + r.below(5);
            return Outcome {
                status: 504,
                size: 562,
                rt: urt,
                uct: Some(r.below(2)),
                uht: None,
                urt: Some(urt),
            };
        }
        // The upstream is down: connect() refused at once.
        Some(IncidentKind::Down) if proxied && r.below(20) < 17 => {
            let urt = r.below(3);
            return Outcome {
                status: 502,
                size: 552,
                rt: urt,
                uct: None,
                uht: None,
                urt: Some(urt),
            };
        }
        _ => {}
    }
    if !proxied {
        let (status, size) = if r.below(4) == 0 {
            (304, 0)
        } else {
            (route.status, r.range(route.size.0, route.size.1))
        };
        return Outcome {
            status,
            size,
            rt: r.below(4),
            uct: None,
            uht: None,
            urt: None,
        };
    }
    let urt = if route.status == 101 {
        // A streaming WebSocket: the line is written when it closes.
        skew(r, 2_000, 7_200_000)
    } else {
        skew(r, route.up.0, route.up.1)
    };
    let uht = if route.status == 101 {
        r.below(3)
    } else {
        urt - urt.min(r.below(4))
    };
    let gave_up = if inc.is_some() { 55 } else { 5 };
    let roll = r.below(1000);
    if roll < gave_up {
        // The client went away before the upstream answered.
        return Outcome {
            status: 499,
            size: 0,
            rt: urt,
            uct: Some(0),
            uht: None,
            urt: Some(urt),
        };
    }
    let (status, size) = match roll - gave_up {
        0..10 if route.status == 200 => (404, 32),
        10..13 if route.status == 200 => (401, 36),
        _ => (route.status, skew(r, route.size.0, route.size.1)),
    };
    Outcome {
        status,
        size,
        rt: urt + r.below(3),
        uct: Some(r.below(2)),
        uht: Some(uht),
        urt: Some(urt),
    }
}

impl Source for NginxAccess<'_> {
    fn record(&mut self, o: &mut Vec<u8>) {
        let (now, inc) = self.env.now();
        let start = o.len();
        let r = &mut self.env.r;
        let t = self.t;
        let route = t.route(r);
        o.s(t.client(r)).s(" - - [");
        self.stamp.put(o, now);
        o.s("] \"").s(route.method).c(b' ');
        put_path(o, route, r, t);
        o.s(if r.below(10) < 3 {
            " HTTP/2.0\" "
        } else {
            " HTTP/1.1\" "
        });
        let Outcome {
            status,
            size,
            rt,
            uct,
            uht,
            urt,
        } = outcome(route, inc.map(|x| x.1), r);
        o.u(u64::from(status)).c(b' ').u(size);
        if r.below(20) == 0 {
            o.s(" \"https://").s(MASTODON_HOST).s("/home\" \"");
        } else {
            o.s(" \"-\" \"");
        }
        o.s(UAS[r.below(UAS.len() as u64) as usize])
            .s("\" rt=")
            .ms(rt);
        for (name, v) in [(" uct=\"", uct), ("\" uht=\"", uht), ("\" urt=\"", urt)] {
            o.s(name);
            match v {
                Some(ms) => o.ms(ms),
                None => o.c(b'-'),
            };
        }
        o.s("\"\n");
        self.env.done(o.len() - start, inc.is_some());
    }
}

// =====================================================================================
// nginx error log.

struct NginxError<'a> {
    env: Env<'a>,
    t: &'a Tables,
    stamp: Stamp,
    conn: u64,
}

const NGINX_PIDS: [u64; 4] = [1_046, 1_047, 1_048, 1_049];

impl Source for NginxError<'_> {
    fn record(&mut self, o: &mut Vec<u8>) {
        let (now, inc) = self.env.now();
        let start = o.len();
        let r = &mut self.env.r;
        let t = self.t;
        self.conn += 1 + r.below(40);
        let pid = NGINX_PIDS[r.below(4) as usize];
        self.stamp.put(o, now);
        let mut route = t.route(r);
        while route.up.1 == 0 {
            route = t.route(r);
        }
        let mut missing = None;
        #[derive(Clone, Copy)]
        enum E {
            NotFound,
            Buffered,
            Limit,
            Ssl,
            Reset,
            Timeout,
            Refused,
            NoLive,
            Disabled,
            Exited,
        }
        let e = match inc {
            Some((_, IncidentKind::Stall)) => {
                wpick(r, &[(85, E::Timeout), (10, E::Reset), (5, E::Limit)])
            }
            Some((_, IncidentKind::Down)) => {
                wpick(r, &[(50, E::Refused), (35, E::NoLive), (15, E::Disabled)])
            }
            None => wpick(
                r,
                &[
                    (40, E::NotFound),
                    (22, E::Buffered),
                    (14, E::Limit),
                    (12, E::Ssl),
                    (6, E::Reset),
                    (4, E::Timeout),
                    (1, E::Refused),
                    (1, E::Exited),
                ],
            ),
        };
        let level = match e {
            E::Buffered | E::Disabled => "warn",
            E::Ssl => "crit",
            E::Exited => "alert",
            _ => "error",
        };
        o.s(" [").s(level).s("] ").u(pid).c(b'#').u(pid).s(": ");
        if matches!(e, E::Exited) {
            o.s("worker process ")
                .u(pid + 4 + r.below(100))
                .s(" exited on signal 9\n");
            self.env.done(o.len() - start, inc.is_some());
            return;
        }
        o.c(b'*').u(self.conn).c(b' ');
        let mut upstream = true;
        match e {
            E::NotFound => {
                upstream = false;
                let file = *r.pick(&[
                    "/favicon-32x32.png",
                    "/apple-touch-icon.png",
                    "/apple-touch-icon-precomposed.png",
                    "/wp-login.php",
                    "/.env",
                    "/sitemap.xml",
                ]);
                missing = Some(file);
                o.s("open() \"/var/www/mastodon/public")
                    .s(file)
                    .s("\" failed (2: No such file or directory)");
            }
            E::Buffered => {
                o.s("an upstream response is buffered to a temporary file /var/cache/nginx/proxy_temp/")
                    .u(r.below(10))
                    .c(b'/')
                    .z(r.below(100), 2)
                    .c(b'/')
                    .z(r.below(10_000_000_000), 10)
                    .s(" while reading upstream");
            }
            E::Limit => {
                upstream = false;
                o.s("limiting requests, excess: ")
                    .u(10 + r.below(40))
                    .c(b'.')
                    .z(r.below(1000), 3)
                    .s(" by zone \"api\"");
            }
            E::Ssl => {
                o.s("SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking, client: ")
                    .s(t.client(r))
                    .s(", server: 0.0.0.0:443\n");
                self.env.done(o.len() - start, inc.is_some());
                return;
            }
            E::Reset => {
                o.s("recv() failed (104: Connection reset by peer) while reading response header from upstream");
            }
            E::Timeout => {
                o.s("upstream timed out (110: Connection timed out) while reading response header from upstream");
            }
            E::Refused => {
                o.s("connect() failed (111: Connection refused) while connecting to upstream");
            }
            E::NoLive => {
                o.s("no live upstreams while connecting to upstream");
            }
            E::Disabled => {
                o.s("upstream server temporarily disabled while connecting to upstream");
            }
            E::Exited => unreachable!(),
        }
        o.s(", client: ")
            .s(t.client(r))
            .s(", server: ")
            .s(MASTODON_HOST);
        let path_start;
        if let Some(file) = missing {
            o.s(", request: \"GET ");
            path_start = o.len();
            o.s(file);
        } else {
            o.s(", request: \"").s(route.method).c(b' ');
            path_start = o.len();
            put_path(o, route, r, t);
        }
        let path_end = o.len();
        o.s(" HTTP/1.1\"");
        if upstream {
            o.s(", upstream: \"http://");
            o.s(if matches!(e, E::NoLive) {
                "mastodon_web"
            } else {
                "127.0.0.1:3000"
            });
            o.extend_from_within(path_start..path_end);
            o.c(b'"');
        }
        o.s(", host: \"").s(MASTODON_HOST).c(b'"');
        if r.below(8) == 0 {
            o.s(", referrer: \"https://").s(MASTODON_HOST).s("/home\"");
        }
        o.c(b'\n');
        self.env.done(o.len() - start, inc.is_some());
    }
}

// =====================================================================================
// Traefik CLF.

struct Traefik<'a> {
    env: Env<'a>,
    t: &'a Tables,
    stamp: Stamp,
    count: u64,
}

const CLOUDFLARED_PODS: [&str; 2] = ["10.42.3.17", "10.42.3.18"];

impl Source for Traefik<'_> {
    fn record(&mut self, o: &mut Vec<u8>) {
        let (now, inc) = self.env.now();
        let start = o.len();
        let r = &mut self.env.r;
        let t = self.t;
        self.count += 1 + r.below(4);
        let t3 = r.below(100) < 45;
        let route = if t3 { t.t3_route(r) } else { t.route(r) };
        let (router, service) = if t3 {
            ("t3code-t3@kubernetescrd", "http://10.0.20.31:8080")
        } else if route.path.starts_with("/api/v1/streaming") {
            ("mastodon-streaming@kubernetescrd", "http://10.42.1.16:4000")
        } else {
            ("mastodon-web@kubernetescrd", "http://10.42.1.15:3000")
        };
        if r.below(10) < 7 {
            o.s(CLOUDFLARED_PODS[r.below(2) as usize]);
        } else {
            o.s(t.client(r));
        }
        o.s(" - - [");
        self.stamp.put(o, now);
        o.s("] \"").s(route.method).c(b' ');
        put_path(o, route, r, t);
        o.s(" HTTP/1.1\" ");
        let dynamic = route.up.1 > 0 && route.status != 101;
        let (status, size, ms) = match inc {
            Some((_, IncidentKind::Stall)) if dynamic && r.below(10) < 6 => {
                if r.below(3) == 0 {
                    (504, 15, 30_000 + r.below(20))
                } else {
                    (499, 0, skew(r, 1_000, 30_000))
                }
            }
            Some((_, IncidentKind::Down)) if route.up.1 > 0 && r.below(10) < 8 => {
                (502, 11, r.below(3))
            }
            _ => {
                let ms = skew(r, route.up.0, route.up.1.max(1));
                if route.status == 101 {
                    (101, 0, ms)
                } else if route.up.1 <= 30 && route.method == "GET" && r.below(3) == 0 {
                    (304, 0, ms)
                } else if r.below(400) == 0 {
                    (499, 0, ms)
                } else {
                    (route.status, skew(r, route.size.0, route.size.1), ms)
                }
            }
        };
        o.u(u64::from(status)).c(b' ').u(size).s(" \"-\" \"-\" ");
        o.u(self.count)
            .s(" \"")
            .s(router)
            .s("\" \"")
            .s(service)
            .s("\" ");
        o.u(ms).s("ms\n");
        self.env.done(o.len() - start, inc.is_some());
    }
}

// =====================================================================================
// journald export: a Go WebSocket proxy, kernel, systemd, sshd, cron.

/// The writers of the journal.
#[derive(Clone, Copy)]
enum U {
    /// t3-dispatch, a Go WebSocket proxy logging through `log` to stdout.
    Dispatch,
    Kernel,
    Systemd,
    Sshd,
    Cron,
}

struct Journal<'a> {
    env: Env<'a>,
    t: &'a Tables,
    go_stamp: Stamp,
    seqnum_id: u64,
    seqnum_id2: u64,
    boot: (u64, u64),
    boot_at: i64,
    seqnum: u64,
    /// Each unit's constant fields (after PRIORITY), rendered once.
    dispatch: Vec<u8>,
    kernel: Vec<u8>,
    systemd: Vec<u8>,
    sshd: Vec<u8>,
    cron: Vec<u8>,
    /// t3-serve restart counter and the Down incident it counts for.
    restarts: u64,
    restart_incident: usize,
    session: u64,
    sshd_pid: u64,
    msg: Vec<u8>,
}

fn text_field(o: &mut Vec<u8>, name: &str, value: &str) {
    o.s(name).c(b'=').s(value).c(b'\n');
}

fn hex_field(o: &mut Vec<u8>, name: &str, (a, b): (u64, u64)) {
    o.s(name).c(b'=').xz(a, 16).xz(b, 16).c(b'\n');
}

impl<'a> Journal<'a> {
    fn new(env: Env<'a>, t: &'a Tables, r: &mut SplitMix64) -> Self {
        let machine = (r.next_u64(), r.next_u64());
        let boot = (r.next_u64(), r.next_u64());
        let host_fields = |o: &mut Vec<u8>| {
            text_field(o, "_HOSTNAME", DEVVM);
            hex_field(o, "_MACHINE_ID", machine);
        };
        let mut dispatch = Vec::new();
        text_field(&mut dispatch, "SYSLOG_FACILITY", "3");
        text_field(&mut dispatch, "_UID", "997");
        text_field(&mut dispatch, "_GID", "997");
        text_field(&mut dispatch, "_PID", "1187");
        text_field(&mut dispatch, "_COMM", "t3-dispatch");
        text_field(&mut dispatch, "_EXE", "/usr/local/bin/t3-dispatch");
        text_field(
            &mut dispatch,
            "_CMDLINE",
            "/usr/local/bin/t3-dispatch -listen :8080",
        );
        text_field(
            &mut dispatch,
            "_SYSTEMD_CGROUP",
            "/system.slice/t3-dispatch.service",
        );
        text_field(&mut dispatch, "_SYSTEMD_UNIT", "t3-dispatch.service");
        text_field(&mut dispatch, "_SYSTEMD_SLICE", "system.slice");
        hex_field(
            &mut dispatch,
            "_SYSTEMD_INVOCATION_ID",
            (r.next_u64(), r.next_u64()),
        );
        text_field(&mut dispatch, "_TRANSPORT", "stdout");
        hex_field(&mut dispatch, "_STREAM_ID", (r.next_u64(), r.next_u64()));
        text_field(&mut dispatch, "SYSLOG_IDENTIFIER", "t3-dispatch");
        host_fields(&mut dispatch);

        let mut kernel = Vec::new();
        text_field(&mut kernel, "SYSLOG_FACILITY", "0");
        text_field(&mut kernel, "SYSLOG_IDENTIFIER", "kernel");
        text_field(&mut kernel, "_TRANSPORT", "kernel");
        host_fields(&mut kernel);

        let mut systemd = Vec::new();
        text_field(&mut systemd, "SYSLOG_FACILITY", "3");
        text_field(&mut systemd, "SYSLOG_IDENTIFIER", "systemd");
        text_field(&mut systemd, "_UID", "0");
        text_field(&mut systemd, "_GID", "0");
        text_field(&mut systemd, "_PID", "1");
        text_field(&mut systemd, "_COMM", "systemd");
        text_field(&mut systemd, "_EXE", "/usr/lib/systemd/systemd");
        text_field(&mut systemd, "_CMDLINE", "/sbin/init");
        text_field(&mut systemd, "_SYSTEMD_CGROUP", "/init.scope");
        text_field(&mut systemd, "_SYSTEMD_UNIT", "init.scope");
        text_field(&mut systemd, "_SYSTEMD_SLICE", "-.slice");
        text_field(&mut systemd, "_TRANSPORT", "journal");
        host_fields(&mut systemd);

        let mut sshd = Vec::new();
        text_field(&mut sshd, "SYSLOG_FACILITY", "4");
        text_field(&mut sshd, "SYSLOG_IDENTIFIER", "sshd");
        text_field(&mut sshd, "_UID", "0");
        text_field(&mut sshd, "_GID", "0");
        text_field(&mut sshd, "_COMM", "sshd");
        text_field(&mut sshd, "_EXE", "/usr/sbin/sshd");
        text_field(&mut sshd, "_SYSTEMD_CGROUP", "/system.slice/ssh.service");
        text_field(&mut sshd, "_SYSTEMD_UNIT", "ssh.service");
        text_field(&mut sshd, "_SYSTEMD_SLICE", "system.slice");
        text_field(&mut sshd, "_TRANSPORT", "syslog");
        host_fields(&mut sshd);

        let mut cron = Vec::new();
        text_field(&mut cron, "SYSLOG_FACILITY", "10");
        text_field(&mut cron, "SYSLOG_IDENTIFIER", "CRON");
        text_field(&mut cron, "_UID", "0");
        text_field(&mut cron, "_GID", "0");
        text_field(&mut cron, "_COMM", "cron");
        text_field(&mut cron, "_EXE", "/usr/sbin/cron");
        text_field(&mut cron, "_SYSTEMD_CGROUP", "/system.slice/cron.service");
        text_field(&mut cron, "_SYSTEMD_UNIT", "cron.service");
        text_field(&mut cron, "_SYSTEMD_SLICE", "system.slice");
        text_field(&mut cron, "_TRANSPORT", "syslog");
        host_fields(&mut cron);

        let boot_at = env.clock.t - (3 * 86_400 + r.below(20 * 86_400) as i64) * SEC;
        Self {
            env,
            t,
            go_stamp: Stamp::new(StampKind::GoLog),
            seqnum_id: r.next_u64(),
            seqnum_id2: r.next_u64(),
            boot,
            boot_at,
            seqnum: 0x2_41c3 + r.below(0x10_0000),
            dispatch,
            kernel,
            systemd,
            sshd,
            cron,
            restarts: 0,
            restart_incident: usize::MAX,
            session: 1_000 + r.below(5_000),
            sshd_pid: 200_000 + r.below(100_000),
            msg: Vec::with_capacity(512),
        }
    }

    /// Builds MESSAGE into `self.msg`; returns (unit, priority, extra text fields).
    fn message(
        &mut self,
        now: i64,
        inc: Option<(usize, IncidentKind)>,
    ) -> (U, u8, Option<&'static str>) {
        let r = &mut self.env.r;
        let m = &mut self.msg;
        m.clear();
        let u = match inc {
            Some(_) => wpick(
                r,
                &[
                    (85, U::Dispatch),
                    (5, U::Kernel),
                    (6, U::Systemd),
                    (2, U::Sshd),
                    (2, U::Cron),
                ],
            ),
            None => wpick(
                r,
                &[
                    (48, U::Dispatch),
                    (12, U::Kernel),
                    (14, U::Systemd),
                    (14, U::Sshd),
                    (12, U::Cron),
                ],
            ),
        };
        match u {
            U::Dispatch => {
                self.go_stamp.put(m, now);
                m.c(b' ');
                let port = 3773 + r.below(USERS.len() as u64);
                let user = USERS[(port - 3773) as usize];
                let roll = r.below(1000);
                #[derive(Clone, Copy)]
                enum D {
                    Canceled,
                    Reset,
                    Refused,
                    Non101,
                    Close(Option<&'static str>),
                }
                let kind = match (inc.map(|x| x.1), roll) {
                    (Some(IncidentKind::Stall), 0..700) => D::Canceled,
                    (Some(IncidentKind::Stall), 700..950) => D::Close(Some("downstream_closed")),
                    (Some(IncidentKind::Stall), _) => D::Reset,
                    (Some(IncidentKind::Down), 0..500) => D::Refused,
                    (Some(IncidentKind::Down), 500..650) => D::Non101,
                    (Some(IncidentKind::Down), _) => D::Close(Some("upstream_closed")),
                    (None, 0..40) => D::Canceled,
                    (None, 40..60) => D::Reset,
                    (None, 60..63) => D::Refused,
                    (None, 63..65) => D::Non101,
                    (None, _) => D::Close(None),
                };
                let prio = if matches!(kind, D::Close(_)) { 6 } else { 3 };
                match kind {
                    D::Canceled => {
                        m.s("http: proxy error: context canceled");
                    }
                    D::Reset => {
                        m.s("http: proxy error: read tcp 127.0.0.1:")
                            .u(32_768 + r.below(28_232))
                            .s("->127.0.0.1:")
                            .u(port)
                            .s(": read: connection reset by peer");
                    }
                    D::Refused => {
                        m.s("http: proxy error: dial tcp 127.0.0.1:")
                            .u(port)
                            .s(": connect: connection refused");
                    }
                    D::Non101 => {
                        // bufio.ReadString('\n') keeps the '\r': a binary MESSAGE.
                        m.s("ws upgrade: upstream 127.0.0.1:")
                            .u(port)
                            .s(" sent non-101 status: HTTP/1.1 503 Service Unavailable\r");
                    }
                    D::Close(cause) => {
                        let cause = match cause {
                            Some(c) => c,
                            None => wpick(
                                r,
                                &[
                                    (55, "downstream_closed"),
                                    (35, "graceful"),
                                    (10, "upstream_closed"),
                                ],
                            ),
                        };
                        m.s("ws close dur_ms=")
                            .u(skew(r, 150, 10_800_000))
                            .s(" cause=")
                            .s(cause)
                            .s(" user=")
                            .s(user);
                    }
                }
                (U::Dispatch, prio, None)
            }
            U::Kernel => {
                let prio = match r.below(20) {
                    0 => {
                        m.s("TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.  Check SNMP counters.");
                        6
                    }
                    1 => {
                        m.s("audit: type=1400 audit(")
                            .u((now / SEC) as u64)
                            .c(b'.')
                            .z((now % SEC / MS) as u64, 3)
                            .c(b':')
                            .u(100 + r.below(9_000))
                            .s("): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"/usr/sbin/chronyd\" name=\"/etc/ssl/openssl.cnf\" pid=")
                            .u(700 + r.below(200))
                            .s(" comm=\"chronyd\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0");
                        5
                    }
                    _ => {
                        let src = self.t.client_v4(r);
                        m.s("[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:4f:1a:c2:fe:54:00:3b:9d:01:08:00 SRC=")
                            .s(src)
                            .s(" DST=10.0.20.31 LEN=")
                            .u(40 + 4 * r.below(6))
                            .s(" TOS=0x00 PREC=0x00 TTL=")
                            .u(40 + r.below(20))
                            .s(" ID=")
                            .u(r.below(65_536))
                            .s(" PROTO=TCP SPT=")
                            .u(1_024 + r.below(64_511))
                            .s(" DPT=")
                            .u(*r.pick(&[22u64, 23, 25, 445, 3389, 5900, 6379, 8080, 8443, 9200]))
                            .s(" WINDOW=")
                            .u(*r.pick(&[1024u64, 29_200, 64_240, 65_535]))
                            .s(" RES=0x00 SYN URGP=0");
                        4
                    }
                };
                (U::Kernel, prio, None)
            }
            U::Systemd => {
                if let Some((i, IncidentKind::Down)) = inc {
                    if self.restart_incident != i {
                        self.restart_incident = i;
                        self.restarts = 0;
                    }
                    let step = r.below(3);
                    let unit = "t3-serve@bram.service";
                    match step {
                        0 => {
                            m.s(unit)
                                .s(": Main process exited, code=exited, status=1/FAILURE");
                        }
                        1 => {
                            m.s(unit).s(": Failed with result 'exit-code'.");
                        }
                        _ => {
                            self.restarts += 1;
                            m.s(unit)
                                .s(": Scheduled restart job, restart counter is at ")
                                .u(self.restarts)
                                .c(b'.');
                        }
                    }
                    return (U::Systemd, if step == 2 { 6 } else { 4 }, Some(unit));
                }
                let (text, unit): (&str, &'static str) = match r.below(12) {
                    0 => {
                        self.session += 1;
                        m.s("Started session-")
                            .u(self.session)
                            .s(".scope - Session ")
                            .u(self.session)
                            .s(" of User deploy.");
                        ("", "session.scope")
                    }
                    1 => {
                        m.s("session-")
                            .u(self.session)
                            .s(".scope: Deactivated successfully.");
                        ("", "session.scope")
                    }
                    2 => (
                        "Starting sysstat-collect.service - system activity accounting tool...",
                        "sysstat-collect.service",
                    ),
                    3 => (
                        "sysstat-collect.service: Deactivated successfully.",
                        "sysstat-collect.service",
                    ),
                    4 => (
                        "Finished sysstat-collect.service - system activity accounting tool.",
                        "sysstat-collect.service",
                    ),
                    5 => (
                        "Starting logrotate.service - Rotate log files...",
                        "logrotate.service",
                    ),
                    6 => (
                        "logrotate.service: Deactivated successfully.",
                        "logrotate.service",
                    ),
                    7 => (
                        "Finished logrotate.service - Rotate log files.",
                        "logrotate.service",
                    ),
                    8 => (
                        "Starting apt-daily.service - Daily apt download activities...",
                        "apt-daily.service",
                    ),
                    9 => (
                        "Finished apt-daily.service - Daily apt download activities.",
                        "apt-daily.service",
                    ),
                    10 => (
                        "certbot.service: Deactivated successfully.",
                        "certbot.service",
                    ),
                    _ => {
                        m.s("t3-serve@")
                            .s(USERS[r.below(USERS.len() as u64) as usize])
                            .s(".service: Consumed ")
                            .u(r.below(59))
                            .s("min ")
                            .u(r.below(60))
                            .c(b'.')
                            .z(r.below(1000), 3)
                            .s("s CPU time.");
                        ("", "t3-serve.service")
                    }
                };
                m.s(text);
                (U::Systemd, 6, Some(unit))
            }
            U::Sshd => {
                if r.below(8) == 0 {
                    self.sshd_pid += 1 + r.below(50);
                }
                let ip = self.t.client_v4(r);
                let port = 1_024 + r.below(64_511);
                let name = *r.pick(&[
                    "admin", "ubuntu", "test", "oracle", "postgres", "git", "user", "ftpuser",
                ]);
                match r.below(20) {
                    0..8 => {
                        m.s("Invalid user ")
                            .s(name)
                            .s(" from ")
                            .s(ip)
                            .s(" port ")
                            .u(port);
                    }
                    8..14 => {
                        m.s("Connection closed by invalid user ")
                            .s(name)
                            .c(b' ')
                            .s(ip)
                            .s(" port ")
                            .u(port)
                            .s(" [preauth]");
                    }
                    14..16 => {
                        m.s("Received disconnect from ")
                            .s(ip)
                            .s(" port ")
                            .u(port)
                            .s(":11: Bye Bye [preauth]");
                    }
                    16 => {
                        m.s("Accepted publickey for deploy from 192.0.2.10 port ")
                            .u(port)
                            .s(" ssh2: ED25519 SHA256:Zq3V0b1mTqkN8cF2Yd7hP4sW9xL6aJ0eR5uG1iK3oMs");
                    }
                    17 => {
                        m.s("pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)");
                    }
                    18 => {
                        m.s("pam_unix(sshd:session): session closed for user deploy");
                    }
                    _ => {
                        m.s("Disconnected from user deploy 192.0.2.10 port ")
                            .u(port);
                    }
                }
                (U::Sshd, 6, None)
            }
            U::Cron => {
                match r.below(3) {
                    0 => {
                        m.s("pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)");
                    }
                    1 => {
                        m.s("(root) CMD (").s(one_of(r, CRON_CMDS)).c(b')');
                    }
                    _ => {
                        m.s("pam_unix(cron:session): session closed for user root");
                    }
                }
                (U::Cron, 6, None)
            }
        }
    }
}

impl Source for Journal<'_> {
    fn record(&mut self, o: &mut Vec<u8>) {
        let (now, inc) = self.env.now();
        let start = o.len();
        let (unit, prio, unit_field) = self.message(now, inc);
        let r = &mut self.env.r;
        // Other writers share the journal: the sequence number skips.
        self.seqnum += 1 + r.below(4);
        let mono = (now - self.boot_at) as u64;
        let rt = now as u64;
        o.s("__CURSOR=s=")
            .xz(self.seqnum_id, 16)
            .xz(self.seqnum_id2, 16);
        o.s(";i=")
            .x(self.seqnum)
            .s(";b=")
            .xz(self.boot.0, 16)
            .xz(self.boot.1, 16);
        o.s(";m=")
            .x(mono)
            .s(";t=")
            .x(rt)
            .s(";x=")
            .xz(r.next_u64(), 16)
            .c(b'\n');
        o.s("__REALTIME_TIMESTAMP=").u(rt).c(b'\n');
        o.s("__MONOTONIC_TIMESTAMP=").u(mono).c(b'\n');
        o.s("_BOOT_ID=")
            .xz(self.boot.0, 16)
            .xz(self.boot.1, 16)
            .c(b'\n');
        o.s("PRIORITY=").u(u64::from(prio)).c(b'\n');
        let fixed = match unit {
            U::Dispatch => &self.dispatch,
            U::Kernel => &self.kernel,
            U::Systemd => &self.systemd,
            U::Sshd => &self.sshd,
            U::Cron => &self.cron,
        };
        o.extend_from_slice(fixed);
        match unit {
            U::Kernel => {
                o.s("_SOURCE_MONOTONIC_TIMESTAMP=")
                    .u(mono - mono.min(r.below(2_000)))
                    .c(b'\n');
            }
            U::Systemd => {
                if let Some(name) = unit_field {
                    o.s("UNIT=").s(name).c(b'\n');
                }
                o.s("CODE_FILE=src/core/unit.c\nCODE_LINE=")
                    .u(5_000 + r.below(900))
                    .s("\nCODE_FUNC=unit_log_success\n");
            }
            U::Sshd => {
                let pid = self.sshd_pid;
                o.s("SYSLOG_PID=")
                    .u(pid)
                    .s("\n_PID=")
                    .u(pid)
                    .s("\n_CMDLINE=sshd: [accepted]\n");
            }
            U::Cron => {
                let pid = 400_000 + r.below(100_000);
                o.s("SYSLOG_PID=")
                    .u(pid)
                    .s("\n_PID=")
                    .u(pid)
                    .s("\n_CMDLINE=/usr/sbin/CRON -f -P\n");
            }
            U::Dispatch => {}
        }
        if self.msg.contains(&b'\r') {
            o.s("MESSAGE\n")
                .extend_from_slice(&(self.msg.len() as u64).to_le_bytes());
            o.extend_from_slice(&self.msg);
            o.c(b'\n');
        } else {
            o.s("MESSAGE=").extend_from_slice(&self.msg);
            o.c(b'\n');
        }
        o.c(b'\n');
        self.env.done(o.len() - start, inc.is_some());
    }
}

// =====================================================================================
// cloudflared console (--loglevel debug).

struct Cloudflared<'a> {
    env: Env<'a>,
    t: &'a Tables,
    stamp: Stamp,
    started: bool,
    edge_gen: usize,
}

const ABRUPT: &str = "error=\"Incoming request ended abruptly: context canceled\"";
const UNREACHABLE: &str = "error=\"Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: dial tcp 10.43.0.10:80: connect: connection refused\"";

impl Cloudflared<'_> {
    fn startup(&mut self, o: &mut Vec<u8>, now: i64) {
        let r = &mut self.env.r;
        let mut line = |o: &mut Vec<u8>, text: &str| {
            self.stamp.put(o, now);
            o.c(b' ').s(text);
        };
        line(o, "INF Starting tunnel tunnelID=");
        put_uuid(o, r);
        o.c(b'\n');
        line(o, "INF Version 2025.6.1 (Checksum ");
        for _ in 0..4 {
            o.xz(r.next_u64(), 16);
        }
        o.s(")\n");
        line(o, "INF GOOS: linux, GOVersion: go1.24.2, GoArch: amd64\n");
        line(
            o,
            "INF Settings: map[loglevel:debug metrics:0.0.0.0:2000 no-autoupdate:true]\n",
        );
        line(o, "INF Generated Connector ID: ");
        put_uuid(o, r);
        o.c(b'\n');
        line(o, "INF Initial protocol quic\n");
        line(o, "INF ICMP proxy will use 10.42.3.17 as source for IPv4\n");
        line(o, "INF Starting metrics server on [::]:2000/metrics\n");
        for conn in 0..4 {
            self.stamp.put(o, now);
            registered(o, r, conn, conn);
        }
    }
}

fn registered(o: &mut Vec<u8>, r: &mut SplitMix64, conn: usize, edge: usize) {
    let (ip, loc) = EDGES[edge % EDGES.len()];
    o.s(" INF Registered tunnel connection connIndex=")
        .u(conn as u64)
        .s(" connection=");
    put_uuid(o, r);
    o.s(" event=0 ip=")
        .s(ip)
        .s(" location=")
        .s(loc)
        .s(" protocol=quic\n");
}

impl Source for Cloudflared<'_> {
    fn record(&mut self, o: &mut Vec<u8>) {
        let (now, inc) = self.env.now();
        let start = o.len();
        if !self.started {
            self.started = true;
            self.startup(o, now);
            self.env.done(o.len() - start, false);
            return;
        }
        let r = &mut self.env.r;
        let t = self.t;
        let conn = r.below(4);
        let roll = r.below(10_000);
        if inc.is_none() && roll < 15 {
            // QUIC idle timeout on one connection; the others stay up (WRN).
            self.edge_gen += 1;
            let (ip, _) = EDGES[(conn as usize + self.edge_gen) % EDGES.len()];
            let err = "error=\"timeout: no recent network activity\"";
            let c = conn;
            for (lvl, msg, tail) in [
                ("WRN", "Connection terminated ", false),
                ("INF", "Unregistered tunnel connection", true),
                ("WRN", "Failed to serve quic connection ", true),
                ("WRN", "Serve tunnel error ", true),
                ("INF", "Retrying connection in up to 1s", true),
            ] {
                self.stamp.put(o, now);
                o.c(b' ').s(lvl).c(b' ').s(msg);
                if msg.ends_with(' ') {
                    o.s(err);
                }
                o.s(" connIndex=").u(c);
                if tail {
                    o.s(" event=0 ip=").s(ip);
                }
                o.c(b'\n');
            }
            self.stamp.put(o, now + SEC);
            registered(o, r, conn as usize, conn as usize + self.edge_gen + 1);
            self.env.clock.t = self.env.clock.t.max(now + SEC);
            self.env.done(o.len() - start, false);
            return;
        }
        let t3 = r.below(100) < 45;
        let (route, host) = if t3 {
            (t.t3_route(r), T3_HOST)
        } else {
            (t.route(r), MASTODON_HOST)
        };
        let rule = u64::from(!t3);
        let ray = r.next_u64();
        let colo = *r.pick(&["LHR", "MAN", "AMS", "FRA", "CDG"]);
        let failure = match inc {
            Some((_, IncidentKind::Stall)) if r.below(10) < 6 => Some(ABRUPT),
            Some((_, IncidentKind::Down)) if r.below(10) < 7 => Some(UNREACHABLE),
            None if roll < 40 => Some(ABRUPT),
            _ => None,
        };
        // The request line: `DBG GET https://host/path HTTP/1.1 <fields>`.
        self.stamp.put(o, now);
        o.s(" DBG ").s(route.method).s(" https://").s(host);
        let url_start = o.len();
        put_path(o, route, r, t);
        let url_end = o.len();
        o.s(" HTTP/1.1 cfRay=").xz(ray, 16).c(b'-').s(colo);
        o.s(" connIndex=").u(conn).s(" content-length=");
        if route.method == "POST" {
            o.u(skew(r, 300, 20_000));
        } else {
            o.c(b'0');
        }
        let ip = t.client(r);
        o.s(" event=1 headers={\"Accept\":[\"*/*\"],\"Accept-Encoding\":[\"gzip, br\"],\"Cdn-Loop\":[\"cloudflare; loops=1\"],\"Cf-Connecting-Ip\":[\"")
            .s(ip)
            .s("\"],\"Cf-Ipcountry\":[\"")
            .s(one_of(r, COUNTRIES))
            .s("\"],\"Cf-Ray\":[\"")
            .xz(ray, 16)
            .c(b'-')
            .s(colo)
            .s("\"],\"Cf-Visitor\":[\"{\\\"scheme\\\":\\\"https\\\"}\"],\"User-Agent\":[\"")
            .s(UAS[r.below(UAS.len() as u64 - 1) as usize])
            .s("\"],\"X-Forwarded-For\":[\"")
            .s(ip)
            .s("\"],\"X-Forwarded-Proto\":[\"https\"]} host=")
            .s(host)
            .s(" ingressRule=")
            .u(rule)
            .s(" originService=")
            .s(ORIGIN_SERVICE)
            .s(" path=");
        let path_only_end = o[url_start..url_end]
            .iter()
            .position(|&b| b == b'?')
            .map_or(url_end, |p| url_start + p);
        o.extend_from_within(url_start..path_only_end);
        o.c(b'\n');
        match failure {
            Some(err) => {
                // The proxy logger (empty message, two spaces) and the connection logger.
                self.stamp.put(o, now);
                o.s(" ERR  ")
                    .s(err)
                    .s(" cfRay=")
                    .xz(ray, 16)
                    .c(b'-')
                    .s(colo);
                o.s(" connIndex=")
                    .u(conn)
                    .s(" event=1 ingressRule=")
                    .u(rule);
                o.s(" originService=").s(ORIGIN_SERVICE).c(b'\n');
                self.stamp.put(o, now);
                o.s(" ERR Request failed ").s(err).s(" connIndex=").u(conn);
                o.s(" dest=https://").s(host);
                o.extend_from_within(url_start..url_end);
                o.s(" event=0 ip=").s(EDGES[conn as usize].0).s(" type=");
                o.s(if route.status == 101 {
                    "ws\n"
                } else {
                    "http\n"
                });
            }
            None => {
                let (status, text, size): (u64, &str, i64) = match route.status {
                    101 => (101, "Switching Protocols", 0),
                    200 if route.up.1 <= 30 && r.below(3) == 0 => (304, "Not Modified", 0),
                    200 => (
                        200,
                        "OK",
                        if r.below(4) == 0 {
                            -1
                        } else {
                            skew(r, route.size.0, route.size.1) as i64
                        },
                    ),
                    201 => (201, "Created", skew(r, route.size.0, route.size.1) as i64),
                    202 => (202, "Accepted", 0),
                    304 => (304, "Not Modified", 0),
                    _ => (404, "Not Found", 32),
                };
                self.stamp.put(o, now);
                o.s(" DBG ")
                    .u(status)
                    .c(b' ')
                    .s(text)
                    .s(" cfRay=")
                    .xz(ray, 16)
                    .c(b'-')
                    .s(colo);
                o.s(" connIndex=").u(conn).s(" content-length=");
                if size < 0 {
                    o.s("-1");
                } else {
                    o.u(size as u64);
                }
                o.s(" event=1 ingressRule=").u(rule);
                o.s(" originService=").s(ORIGIN_SERVICE).c(b'\n');
            }
        }
        self.env.done(o.len() - start, inc.is_some());
    }
}

// =====================================================================================
// Mastodon streaming (npmlog) in `journalctl -o short-iso`.

struct Streaming<'a> {
    env: Env<'a>,
    t: &'a Tables,
    stamp: Stamp,
    pid: u64,
    started: bool,
    /// Open streams: (request id, account); empty slots have account 0.
    streams: Vec<([u8; 36], u64)>,
    restarted_for: usize,
    restarts: u64,
}

impl<'a> Streaming<'a> {
    fn new(env: Env<'a>, t: &'a Tables, r: &mut SplitMix64) -> Self {
        Self {
            env,
            t,
            stamp: Stamp::new(StampKind::ShortIso),
            pid: 588_000 + r.below(10_000),
            started: false,
            streams: vec![([b'0'; 36], 0); 512],
            restarted_for: usize::MAX,
            restarts: 0,
        }
    }

    fn prefix(&mut self, o: &mut Vec<u8>, now: i64, ident: &str, pid: u64) {
        self.stamp.put(o, now);
        o.c(b' ').s(FRITZ).c(b' ').s(ident).c(b'[').u(pid).s("]: ");
    }

    /// A stream id of an open stream (or a fresh one).
    fn some_id(&mut self) -> [u8; 36] {
        let k = self.env.r.below(self.streams.len() as u64) as usize;
        if self.streams[k].1 != 0 {
            return self.streams[k].0;
        }
        let mut id = Vec::with_capacity(36);
        put_uuid(&mut id, &mut self.env.r);
        id.try_into().expect("36 bytes")
    }
}

impl Source for Streaming<'_> {
    fn record(&mut self, o: &mut Vec<u8>) {
        let (now, inc) = self.env.now();
        let start = o.len();
        let pid = self.pid;
        if !self.started {
            self.started = true;
            self.prefix(o, now, "systemd", 1);
            o.s("Started mastodon-streaming.service - mastodon-streaming.\n");
            self.prefix(o, now, "node", pid);
            o.s("WARN Streaming API now listening on 127.0.0.1:4000 \n");
            self.env.done(o.len() - start, false);
            return;
        }
        let roll = self.env.r.below(1000);
        match inc {
            Some((i, IncidentKind::Down)) if self.restarted_for != i && roll < 30 => {
                // Redis went away: the streaming server dies and systemd restarts it.
                self.restarted_for = i;
                self.restarts += 1;
                for line in [
                    "ERR! Redis Client Error! Error: connect ECONNREFUSED 127.0.0.1:6379",
                    "ERR! Redis Client Error!     at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)",
                    "ERR! Redis Client Error!   errno: -111,",
                    "ERR! Redis Client Error!   code: 'ECONNREFUSED',",
                    "ERR! Redis Client Error! }",
                ] {
                    self.prefix(o, now, "node", pid);
                    o.s(line).c(b'\n');
                }
                let unit = "mastodon-streaming.service: ";
                self.prefix(o, now, "systemd", 1);
                o.s(unit)
                    .s("Main process exited, code=exited, status=1/FAILURE\n");
                self.prefix(o, now, "systemd", 1);
                o.s(unit).s("Failed with result 'exit-code'.\n");
                let later = now + 5 * SEC;
                self.prefix(o, later, "systemd", 1);
                o.s(unit)
                    .s("Scheduled restart job, restart counter is at ")
                    .u(self.restarts)
                    .s(".\n");
                self.prefix(o, later, "systemd", 1);
                o.s("Started mastodon-streaming.service - mastodon-streaming.\n");
                self.pid += 1 + self.env.r.below(400);
                let pid = self.pid;
                self.prefix(o, later, "node", pid);
                o.s("WARN Streaming API now listening on 127.0.0.1:4000 \n");
                for s in &mut self.streams {
                    s.1 = 0;
                }
                self.env.clock.t = self.env.clock.t.max(later);
            }
            Some((_, IncidentKind::Down)) if roll < 300 => {
                self.prefix(o, now, "node", pid);
                o.s("ERR! Redis Client Error! Error: connect ECONNREFUSED 127.0.0.1:6379\n");
            }
            Some((_, IncidentKind::Stall)) if roll < 800 => {
                let id = self.some_id();
                self.prefix(o, now, "node", pid);
                o.s("ERR! ").extend_from_slice(&id);
                o.s(" Tried writing to closed socket\n");
            }
            _ if roll < 20 => {
                let id = self.some_id();
                self.prefix(o, now, "node", pid);
                o.s("ERR! ").extend_from_slice(&id);
                o.s(" Tried writing to closed socket\n");
            }
            _ if roll < 30 => {
                self.prefix(o, now, "node", pid);
                o.s("ERR! ");
                put_uuid(o, &mut self.env.r);
                o.s(" Error: Invalid access token\n");
            }
            _ if roll < 150 => {
                let acct = self.t.account(&mut self.env.r);
                self.prefix(o, now, "node", pid);
                o.s(if roll < 90 {
                    "verb Subscribe timeline:"
                } else {
                    "verb Unsubscribe timeline:"
                })
                .u(acct)
                .c(b'\n');
            }
            _ => {
                let k = self.env.r.below(self.streams.len() as u64) as usize;
                let (id, acct) = self.streams[k];
                self.prefix(o, now, "node", pid);
                if acct != 0 {
                    o.s("verb ").extend_from_slice(&id);
                    o.s(" Ending stream from timeline:")
                        .u(acct)
                        .s(", timeline:")
                        .u(acct);
                    o.s(":notifications for ").u(acct).c(b'\n');
                    self.streams[k].1 = 0;
                } else {
                    let acct = self.t.account(&mut self.env.r);
                    let id_start = o.len() + 5;
                    o.s("verb ");
                    put_uuid(o, &mut self.env.r);
                    let id: [u8; 36] = o[id_start..id_start + 36].try_into().expect("36 bytes");
                    o.s(" Starting stream from timeline:")
                        .u(acct)
                        .s(", timeline:")
                        .u(acct);
                    o.s(":notifications for ").u(acct).c(b'\n');
                    self.streams[k] = (id, acct);
                }
            }
        }
        self.env.done(o.len() - start, inc.is_some());
    }
}

// =====================================================================================
// PHP error_log with Redis::connect() floods.

struct Php<'a> {
    env: Env<'a>,
    stamp: Stamp,
}

const REDIS_WARNING: &str = "PHP Warning:  Redis::connect(): connect() failed: Cannot assign requested address in /var/www/app/vendor/prometheus/src/Storage/Redis.php on line 112";

impl Source for Php<'_> {
    fn record(&mut self, o: &mut Vec<u8>) {
        let (now, inc) = self.env.now();
        let start = o.len();
        let r = &mut self.env.r;
        o.c(b'[');
        self.stamp.put(o, now);
        o.s("] ");
        let roll = r.below(1000);
        let flood = inc.is_some();
        if (flood && roll < 950) || (!flood && roll < 60) {
            o.s(REDIS_WARNING);
        } else {
            match r.below(100) {
                0..40 => {
                    o.s("checkout: order ")
                        .u(48_000 + r.below(900_000))
                        .s(" placed (")
                        .u(r.range(1, 6))
                        .s(" items, ")
                        .u(r.range(5, 400))
                        .c(b'.')
                        .z(r.below(100), 2)
                        .s(" EUR)");
                }
                40..60 => {
                    o.s("session: user ")
                        .u(10_000 + r.below(90_000))
                        .s(" logged in from 198.51.100.")
                        .u(r.range(2, 250));
                }
                60..75 => {
                    o.s("PHP Notice:  Undefined index: utm_source in /var/www/app/src/Controller/LandingController.php on line 57");
                }
                75..85 => {
                    o.s("PHP Deprecated:  Function create_function() is deprecated in /var/www/app/vendor/legacy/smarty/libs/sysplugins/smarty_internal_compilebase.php on line 86");
                }
                85..94 => {
                    o.s("PHP Warning:  file_get_contents(https://rates.example.net/v1/latest?base=EUR): Failed to open stream: HTTP request failed! HTTP/1.1 503 Service Unavailable in /var/www/app/src/Service/ExchangeRates.php on line 41");
                }
                94..97 => {
                    o.s("PHP Warning:  Redis::connect(): connect() failed: Connection timed out in /var/www/app/vendor/prometheus/src/Storage/Redis.php on line 112");
                }
                _ => {
                    // error_log writes the uncaught exception with its trace: one record,
                    // continuation lines without a stamp.
                    o.s("PHP Fatal error:  Uncaught RedisException: Connection refused in /var/www/app/vendor/prometheus/src/Storage/Redis.php:112\nStack trace:\n#0 /var/www/app/vendor/prometheus/src/Storage/Redis.php(112): Redis->connect('10.0.4.30', 6379, 0.1)\n#1 /var/www/app/vendor/prometheus/src/Storage/Redis.php(201): Prometheus\\Storage\\Redis->ensureOpenConnection()\n#2 /var/www/app/vendor/prometheus/src/Counter.php(62): Prometheus\\Storage\\Redis->updateCounter(Array)\n#3 /var/www/app/src/Middleware/Metrics.php(")
                        .u(30 + r.below(20))
                        .s("): Prometheus\\Counter->inc(Array)\n#4 {main}\n  thrown in /var/www/app/vendor/prometheus/src/Storage/Redis.php on line 112");
                }
            }
        }
        o.c(b'\n');
        self.env.done(o.len() - start, flood);
    }
}

// =====================================================================================
// netstat -nat captures.

/// A 4-tuple space: rows `(local, remote)` of which one side is an ephemeral port.
struct Group {
    /// Fixed local port (inbound) or 0 (outbound: the local port is ephemeral).
    local_port: u64,
    remotes: Vec<String>,
    /// Fixed remote port (outbound) or 0 (inbound: the remote port is ephemeral).
    remote_port: u64,
    /// States by weight; Recv-Q is 1 on CLOSE_WAIT (the FIN counts).
    states: &'static [(u32, &'static str)],
    used: u64,
    /// Rows this group may have in this capture (at most its distinct 4-tuples).
    limit: u64,
    off: u64,
}

const OUT_TW: &[(u32, &str)] = &[(97, "TIME_WAIT"), (3, "ESTABLISHED")];
const ONLY_TW: &[(u32, &str)] = &[(1, "TIME_WAIT")];
const INBOUND: &[(u32, &str)] = &[
    (55, "ESTABLISHED"),
    (35, "TIME_WAIT"),
    (5, "FIN_WAIT2"),
    (3, "CLOSE_WAIT"),
    (2, "SYN_RECV"),
];

impl Group {
    fn new(
        local_port: u64,
        remotes: Vec<String>,
        remote_port: u64,
        states: &'static [(u32, &'static str)],
        r: &mut SplitMix64,
    ) -> Self {
        let mut g = Self {
            local_port,
            remotes,
            remote_port,
            states,
            used: 0,
            limit: 0,
            off: 0,
        };
        g.limit = g.range().1 * g.remotes.len() as u64;
        g.off = r.below(g.range().1);
        g
    }

    /// First port and number of ports of the ephemeral side.
    fn range(&self) -> (u64, u64) {
        if self.local_port == 0 {
            (32_768, 28_232) // ip_local_port_range 32768 60999
        } else {
            (1_024, 64_512)
        }
    }

    /// The next row of this group (a distinct 4-tuple every time).
    fn row(&mut self, o: &mut Vec<u8>, r: &mut SplitMix64) {
        let (lo, n) = self.range();
        let i = self.used;
        self.used += 1;
        let k = self.remotes.len() as u64;
        let remote = &self.remotes[(i % k) as usize];
        // 7919 is prime and divides neither range: a permutation of the ports.
        let port = lo + ((i / k) * 7_919 + self.off) % n;
        let state = wpick(r, self.states);
        let start = o.len();
        // `%-4s  %6ld %6ld %-23s %-23s %-11s`
        o.s("tcp        ")
            .c(if state == "CLOSE_WAIT" { b'1' } else { b'0' })
            .s("      0 ");
        let a = o.len();
        o.s(LOCAL).c(b':').u(if self.local_port == 0 {
            port
        } else {
            self.local_port
        });
        o.pad(a, 23).c(b' ');
        let b = o.len();
        o.s(remote).c(b':').u(if self.remote_port == 0 {
            port
        } else {
            self.remote_port
        });
        o.pad(b, 23).c(b' ');
        let c = o.len();
        o.s(state).pad(c, 11);
        debug_assert_eq!(o.len() - start, 79);
        o.c(b'\n');
    }
}

/// One `netstat -nat` capture of the app server: inbound HTTP from the load balancers
/// and straight from clients, outbound to Redis shards and MySQL. Rows come in no
/// particular order (netstat walks the kernel's hash table).
struct Netstat {
    r: SplitMix64,
    header: bool,
    groups: Vec<Group>,
    /// Weighted pick of a group index.
    pick: Vec<u8>,
    /// Group 0 (Redis shard 10.0.4.30) fills its whole port range first.
    exhausted: bool,
}

const LOCAL: &str = "10.0.4.21";
const LISTEN: &[&str] = &[
    "0.0.0.0:80",
    "0.0.0.0:443",
    "0.0.0.0:22",
    "127.0.0.1:9000",
    "127.0.0.1:9253",
    "10.0.4.21:9100",
    "127.0.0.53:53",
];

impl Netstat {
    fn new(mut r: SplitMix64, t: &Tables, exhausted: bool) -> Self {
        let r = &mut r;
        let one = |s: &str| vec![s.to_owned()];
        let redis0 = if exhausted { ONLY_TW } else { OUT_TW };
        let mut groups = vec![
            Group::new(0, one("10.0.4.30"), 6_379, redis0, r),
            Group::new(0, one("10.0.4.31"), 6_379, OUT_TW, r),
            Group::new(0, one("10.0.4.32"), 6_379, OUT_TW, r),
            Group::new(
                0,
                one("10.0.4.40"),
                3_306,
                &[(90, "TIME_WAIT"), (10, "ESTABLISHED")],
                r,
            ),
            Group::new(
                80,
                (10..18).map(|h| format!("10.0.1.{h}")).collect(),
                0,
                INBOUND,
                r,
            ),
            Group::new(
                9_100,
                one("10.0.9.5"),
                0,
                &[(95, "TIME_WAIT"), (5, "ESTABLISHED")],
                r,
            ),
            // The catch-all: clients straight to :443 (49 M distinct 4-tuples).
            Group::new(443, t.v4.clone(), 0, INBOUND, r),
        ];
        // Outside the incident the outbound groups keep well below their port range.
        for (i, g) in groups.iter_mut().enumerate().take(4) {
            if !(exhausted && i == 0) {
                g.limit = g.limit * (20 + r.below(25)) / 100;
            }
        }
        Self {
            pick: weights([12u32, 6, 6, 10, 45, 1, 20].into_iter()),
            r: r.clone(),
            header: false,
            groups,
            exhausted,
        }
    }
}

impl Source for Netstat {
    fn record(&mut self, o: &mut Vec<u8>) {
        if !self.header {
            self.header = true;
            o.s("Active Internet connections (servers and established)\n");
            o.s(
                "Proto Recv-Q Send-Q Local Address           Foreign Address         State      \n",
            );
            for l in LISTEN {
                let a = o.len() + 20;
                o.s("tcp        0      0 ").s(l).pad(a, 23);
                let b = o.len() + 1;
                o.s(" 0.0.0.0:*").pad(b, 23).s(" LISTEN     \n");
            }
            return;
        }
        let r = &mut self.r;
        let g0 = &self.groups[0];
        let mut g = if self.exhausted && g0.used < g0.limit && r.below(3) != 0 {
            0
        } else {
            self.pick[r.below(self.pick.len() as u64) as usize] as usize
        };
        if self.groups[g].used >= self.groups[g].limit {
            g = self.groups.len() - 1;
        }
        self.groups[g].row(o, r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "coroner-gen-bundle-test-{}-{tag}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn decode(f: &BundleFile) -> Vec<u8> {
        let raw = fs::read(&f.path).unwrap();
        assert_eq!(raw.len() as u64, f.bytes, "{}", f.path.display());
        match f.codec {
            Codec::None => raw,
            Codec::Gzip => {
                let mut out = Vec::new();
                flate2::read::MultiGzDecoder::new(&raw[..])
                    .read_to_end(&mut out)
                    .unwrap();
                out
            }
            Codec::Zstd => zstd::stream::decode_all(&raw[..]).unwrap(),
        }
    }

    #[test]
    fn same_spec_same_bytes() {
        let (a, b) = (scratch("det-a"), scratch("det-b"));
        let spec = BundleSpec {
            bytes: 2 << 20,
            seed: 42,
        };
        let fa = write_bundle(&a, &spec).unwrap();
        let fb = write_bundle(&b, &spec).unwrap();
        assert_eq!(fa.len(), fb.len());
        for (x, y) in fa.iter().zip(&fb) {
            assert_eq!(
                x.path.strip_prefix(&a).unwrap(),
                y.path.strip_prefix(&b).unwrap()
            );
            assert!(
                fs::read(&x.path).unwrap() == fs::read(&y.path).unwrap(),
                "{} differs between runs",
                x.path.display()
            );
            assert_eq!((x.uncompressed, x.records), (y.uncompressed, y.records));
        }
        // Another seed gives another bundle.
        let c = scratch("det-c");
        let fc = write_bundle(
            &c,
            &BundleSpec {
                bytes: 2 << 20,
                seed: 43,
            },
        )
        .unwrap();
        assert_ne!(
            fs::read(&fa[0].path).unwrap(),
            fs::read(&fc[0].path).unwrap()
        );
        for d in [a, b, c] {
            fs::remove_dir_all(d).unwrap();
        }
    }

    #[test]
    fn sizes_formats_and_compression() {
        for (bytes, seed) in [(2u64 << 20, 1u64), (8 << 20, 2)] {
            let dir = scratch(&format!("fmt-{bytes}"));
            let files = write_bundle(&dir, &BundleSpec { bytes, seed }).unwrap();
            let total: u64 = files.iter().map(|f| f.uncompressed).sum();
            assert!(
                total >= bytes && total - bytes < bytes / 100,
                "{total} vs {bytes}"
            );
            // Only the listed files, all logs.
            let mut on_disk = 0;
            for d in fs::read_dir(&dir).unwrap() {
                on_disk += fs::read_dir(d.unwrap().path()).unwrap().count();
            }
            assert_eq!(on_disk, files.len());
            let netstat = files.iter().filter(|f| f.kind == Kind::Netstat).count();
            assert!((3..=12).contains(&netstat));
            let mut found = [false; NEEDLES.len()];
            for f in &files {
                let data = decode(f);
                assert_eq!(data.len() as u64, f.uncompressed, "{}", f.path.display());
                if f.codec != Codec::None {
                    assert!(
                        f.bytes * 3 < f.uncompressed,
                        "{} compresses",
                        f.path.display()
                    );
                }
                check_format(f.kind, &data, &f.path);
                for (k, needle) in NEEDLES.iter().enumerate() {
                    found[k] |= crate::common::contains(&data, needle);
                }
            }
            // Incidents happened.
            for (needle, found) in NEEDLES.iter().zip(found) {
                assert!(found, "{needle}");
            }
            fs::remove_dir_all(&dir).unwrap();
        }
    }

    const NEEDLES: [&str; 6] = [
        "\" 504 562 ",
        "http: proxy error: context canceled",
        "Tried writing to closed socket",
        "upstream timed out (110: Connection timed out)",
        "Cannot assign requested address",
        "10.0.4.30:6379          TIME_WAIT",
    ];

    fn lines(data: &[u8]) -> impl Iterator<Item = &str> {
        assert!(data.ends_with(b"\n"));
        std::str::from_utf8(&data[..data.len() - 1])
            .unwrap()
            .split('\n')
    }

    /// Times as text sort like times (ISO-ordered layouts): non-decreasing.
    fn monotonic<'a>(stamps: impl Iterator<Item = &'a str>, what: &Path) {
        let mut prev = "";
        for s in stamps {
            assert!(s >= prev, "{}: {s} after {prev}", what.display());
            prev = s;
        }
    }

    fn check_format(kind: Kind, data: &[u8], path: &Path) {
        let p = path.display();
        match kind {
            Kind::NginxAccess => {
                for l in lines(data) {
                    assert!(l.contains(" - - [") && l.contains(" +0000] \""), "{p}: {l}");
                    assert!(l.contains("\" rt=") && l.ends_with('"'), "{p}: {l}");
                    assert!(l.contains(" uct=\"") && l.contains("\" urt=\""), "{p}: {l}");
                }
            }
            Kind::Traefik => {
                for l in lines(data) {
                    assert!(l.contains(" - - [") && l.ends_with("ms"), "{p}: {l}");
                    assert!(
                        l.contains(" \"-\" \"-\" ") && l.contains("@kubernetescrd\" \"http://"),
                        "{p}: {l}"
                    );
                }
            }
            Kind::NginxError => {
                monotonic(lines(data).map(|l| &l[..19]), path);
                for l in lines(data) {
                    let b = l.as_bytes();
                    assert!(
                        b[4] == b'/' && b[10] == b' ' && &l[19..21] == " [",
                        "{p}: {l}"
                    );
                    assert!(l.contains("#") && l.contains(": "), "{p}: {l}");
                }
            }
            Kind::Cloudflared => {
                monotonic(lines(data).map(|l| &l[..20]), path);
                for l in lines(data) {
                    assert_eq!(&l[19..21], "Z ", "{p}: {l}");
                    assert!(
                        matches!(&l[21..25], "DBG " | "INF " | "WRN " | "ERR "),
                        "{p}: {l}"
                    );
                }
            }
            Kind::Streaming => {
                monotonic(lines(data).map(|l| &l[..24]), path);
                for l in lines(data) {
                    assert_eq!(&l[19..31], "+0000 fritz ", "{p}: {l}");
                    assert!(
                        l[31..].starts_with("node[") || l[31..].starts_with("systemd[1]: "),
                        "{p}: {l}"
                    );
                }
            }
            Kind::Php => {
                for l in lines(data) {
                    let stamped = l.starts_with('[') && &l[21..27] == " UTC] ";
                    let continued =
                        l == "Stack trace:" || l.starts_with('#') || l.starts_with("  thrown in ");
                    assert!(stamped || continued, "{p}: {l}");
                }
            }
            Kind::Netstat => {
                let mut it = lines(data);
                assert_eq!(
                    it.next(),
                    Some("Active Internet connections (servers and established)")
                );
                assert!(
                    it.next()
                        .unwrap()
                        .starts_with("Proto Recv-Q Send-Q Local Address")
                );
                let mut seen = std::collections::HashSet::new();
                for l in it {
                    assert_eq!(l.len(), 79, "{p}: {l:?}");
                    let f: Vec<&str> = l.split_whitespace().collect();
                    assert_eq!((f.len(), f[0]), (6, "tcp"), "{p}: {l}");
                    assert!(seen.insert((f[3], f[4])), "{p}: duplicate 4-tuple {l}");
                }
            }
            Kind::Journal => {
                let entries = crate::journald::reference::parse(data).unwrap();
                assert!(!entries.is_empty());
                let mut prev = 0u64;
                for e in &entries {
                    let rt: u64 = std::str::from_utf8(e.get("__REALTIME_TIMESTAMP").unwrap())
                        .unwrap()
                        .parse()
                        .unwrap();
                    assert!(rt >= prev, "{p}: {rt} after {prev}");
                    prev = rt;
                    let cursor = std::str::from_utf8(e.get("__CURSOR").unwrap()).unwrap();
                    assert!(cursor.contains(&format!(";t={rt:x};")), "{cursor}");
                    assert!(e.get("MESSAGE").is_some() && e.get("_HOSTNAME").is_some());
                }
                assert!(entries.iter().any(|e| {
                    let m = e.get("MESSAGE").unwrap();
                    crate::common::contains(m, " ws close dur_ms=")
                        && crate::common::contains(m, " user=")
                }));
            }
        }
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("4K"), Some(4096));
        assert_eq!(parse_size("2m"), Some(2 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("10GiB"), Some(10 << 30));
        assert_eq!(parse_size("3MB"), Some(3 << 20));
        assert_eq!(parse_size("1T"), Some(1 << 40));
        assert_eq!(parse_size("7B"), Some(7));
        for bad in ["", "G", "1X", "1.5G", "-1", "1iB", "99999999999999999999"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn writers() {
        let mut b = Vec::new();
        b.u(0)
            .c(b' ')
            .u(9)
            .c(b' ')
            .u(10)
            .c(b' ')
            .u(1234567890123)
            .c(b' ')
            .u(u64::MAX);
        assert_eq!(b, b"0 9 10 1234567890123 18446744073709551615");
        b.clear();
        b.z(7, 3)
            .c(b' ')
            .x(0)
            .c(b' ')
            .x(0x4ece7)
            .c(b' ')
            .xz(0xab, 4)
            .c(b' ')
            .ms(60_001)
            .c(b' ')
            .ms(47);
        assert_eq!(b, b"007 0 4ece7 00ab 60.001 0.047");
        let t = time::at(2026, 7, 2, 15, 42, 1) + SEC / 2;
        for (kind, want) in [
            (StampKind::Clf, time::clf(t)),
            (StampKind::GoLog, time::go_log(t)),
            (StampKind::Rfc3339, time::rfc3339(t)),
            (StampKind::ShortIso, time::short_iso(t)),
            (StampKind::Php, time::php(t)),
        ] {
            let mut s = Stamp::new(kind);
            let mut o = Vec::new();
            s.put(&mut o, t);
            assert_eq!(String::from_utf8(o).unwrap(), want);
        }
        let mut u = Vec::new();
        put_uuid(&mut u, &mut SplitMix64::new(1));
        assert_eq!(u.len(), 36);
        assert_eq!((u[14], u[8], u[23]), (b'4', b'-', b'-'));
    }
}
