//! `findings.parquet`: the notable single events a post-mortem timeline needs, each with
//! the record that showed it (source and byte offset).
//!
//! Per record (see `docs/reports.md` for the exact rules):
//! - `oom_kill`: the kernel's `Killed process N (name)` (global or memory cgroup); subject
//!   the killed process.
//! - `restart`: systemd `Main process exited`, `Failed with result`, `Scheduled restart job`;
//!   subject the unit.
//! - `disk_full`: `No space left on device`, `ENOSPC`, Redis `unable to persist to disk`,
//!   a kernel "device full" line.
//! - `worker_timeout`: gunicorn `WORKER TIMEOUT (pid:N)` and a worker killed by a signal.
//! - `tls_expired`: `certificate has expired`, `certificate expired`.
//! - `port_exhaustion`: `Cannot assign requested address`, `EADDRNOTAVAIL` (and, from the
//!   socket captures, a TIME_WAIT utilization >= 0.9: added by the report).
//!
//! After the pass, per source:
//! - `restart_loop`: >= 3 restarts of one unit within 10 minutes (restarts counted by
//!   `Scheduled restart job`, or by `Main process exited` for a unit that never logs the
//!   former), one row per loop with `count` = restarts in it.
//! - `silence`: a source with steady traffic (>= 20 distinct seconds with records before
//!   the gap) that goes quiet for more than 5x its median gap between active seconds, and
//!   at least 60 s; the quiet stretch that runs to the end of the bundle counts. The 3
//!   longest per source.
//!
//! Identical findings (same second, source, kind, subject, detail) are folded into one row
//! with `count` > 1 as they arrive. A source keeps at most [`MAX_ROWS`] rows; the rest are
//! counted in [`Findings::dropped`] (a flood is one story, not a million rows).

use coroner_parse::formats::{gunicorn, kernel, systemd};
use coroner_parse::payload::Parsed;
use coroner_parse::timestamp::Micros;

use crate::event::Event;
use crate::needles::Hits;
use crate::second_set::SecondSet;
use crate::table::{self, Column, Layout};

/// Rows kept per source before further findings are only counted.
pub const MAX_ROWS: usize = 100_000;
/// Longest `detail` kept, in bytes of the (lossy UTF-8) message.
pub const DETAIL_MAX: usize = 300;
const SEC: i64 = 1_000_000;

/// What a finding is about (the `kind` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    OomKill,
    Restart,
    RestartLoop,
    DiskFull,
    WorkerTimeout,
    TlsExpired,
    Silence,
    PortExhaustion,
}

impl Kind {
    pub fn id(self) -> &'static str {
        match self {
            Kind::OomKill => "oom_kill",
            Kind::Restart => "restart",
            Kind::RestartLoop => "restart_loop",
            Kind::DiskFull => "disk_full",
            Kind::WorkerTimeout => "worker_timeout",
            Kind::TlsExpired => "tls_expired",
            Kind::Silence => "silence",
            Kind::PortExhaustion => "port_exhaustion",
        }
    }
}

/// The phrases behind the text rules, in the order they join the run's needle set.
pub const PHRASES: [(&str, Kind); 7] = [
    ("No space left on device", Kind::DiskFull),
    ("ENOSPC", Kind::DiskFull),
    ("unable to persist to disk", Kind::DiskFull),
    ("certificate has expired", Kind::TlsExpired),
    ("certificate expired", Kind::TlsExpired),
    ("Cannot assign requested address", Kind::PortExhaustion),
    ("EADDRNOTAVAIL", Kind::PortExhaustion),
];

/// One finding (a row of `findings.parquet` without its source).
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub ts: Option<Micros>,
    pub kind: Kind,
    pub subject: Option<String>,
    pub detail: String,
    pub count: u64,
    /// Byte offset of the (first) record that showed it; None for derived findings.
    pub offset: Option<u64>,
    /// For a `silence`: how long and whether it lasted to the end of the bundle (what
    /// `detail` says in words, kept as numbers for the headline).
    pub quiet: Option<Quiet>,
}

/// A quiet stretch of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quiet {
    pub secs: i64,
    pub to_end: bool,
}

/// The findings of one source.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Findings {
    pub rows: Vec<Found>,
    pub dropped: u64,
    /// (time, unit, scheduled?) of every restart line, for `restart_loop`.
    restarts: Vec<(Micros, String, bool)>,
    /// Distinct seconds with records (a bitmap; when it is full, no silence is inferred:
    /// a silence "until the end" would be an artefact of the cap).
    seconds: SecondSet,
}

impl Findings {
    /// Look at one record. `hits` are the run's needle hits for its message; `first` is the
    /// needle id of [`PHRASES`]`[0]`.
    #[inline]
    pub fn observe(&mut self, ev: &Event, hits: Hits, first: usize) {
        if let Some(ts) = ev.ts {
            self.see_second(ts.div_euclid(SEC));
        }
        // An access line (nginx, apache, Traefik) is never a finding: its payload is none of
        // the kinds matched below, and its text is not scanned for phrases (`hits` is
        // empty). Most lines of a bundle are access lines: noting the second, inline, is
        // their whole cost here.
        if ev.request.is_none() {
            self.observe_record(ev, hits, first);
        }
    }

    #[inline(never)]
    fn observe_record(&mut self, ev: &Event, hits: Hits, first: usize) {
        let mut text_kind = None;
        if hits.any() {
            text_kind = PHRASES
                .iter()
                .enumerate()
                .find(|(i, _)| hits.has(first + i))
                .map(|(_, (_, k))| *k);
        }
        // Built only for a record that becomes a finding: journald and syslog lines all
        // carry an identifier, and this ran on each of them.
        let ident = || (!ev.ident.is_empty()).then(|| lossy(ev.ident, 64));
        match ev.parsed {
            Parsed::Kernel(k) => match &k.kind {
                kernel::KernelKind::OomKill(kill) => {
                    return self.push(ev, Kind::OomKill, Some(lossy(kill.name, 64)));
                }
                kernel::KernelKind::NoSpace(_) => {
                    return self.push(ev, Kind::DiskFull, ident());
                }
                _ => {}
            },
            Parsed::Systemd(s) => {
                let scheduled = matches!(s.event, systemd::SystemdEvent::ScheduledRestart { .. });
                let restart = scheduled
                    || matches!(
                        s.event,
                        systemd::SystemdEvent::MainProcessExited { .. }
                            | systemd::SystemdEvent::FailedWithResult { .. }
                    );
                if restart {
                    let unit = s.unit.map(|u| lossy(u, 128));
                    if let (Some(ts), Some(u)) = (ev.ts, &unit)
                        && !matches!(s.event, systemd::SystemdEvent::FailedWithResult { .. })
                    {
                        self.restarts.push((ts, u.clone(), scheduled));
                    }
                    return self.push(ev, Kind::Restart, unit);
                }
            }
            Parsed::Gunicorn(g) => match g.kind() {
                gunicorn::Kind::WorkerTimeout { pid }
                | gunicorn::Kind::WorkerTerminatedBySignal { pid, .. } => {
                    return self.push(ev, Kind::WorkerTimeout, Some(format!("pid:{pid}")));
                }
                _ => {}
            },
            _ => {}
        }
        if let Some(kind) = text_kind {
            self.push(ev, kind, ident());
        }
    }

    #[inline]
    fn see_second(&mut self, s: i64) {
        self.seconds.push(s);
    }

    /// Put the chunk's last page of seconds with the others: the pipeline calls this at
    /// the end of each chunk, in the worker.
    pub fn settle(&mut self) {
        self.seconds.settle();
    }

    fn push(&mut self, ev: &Event, kind: Kind, subject: Option<String>) {
        // The detail is made only for a new row: a log that repeats a finding every line
        // (an application retrying a refused connection) folds into the last row, or is
        // past the row cap, without a string per line.
        let raw = &ev.message[..ev.message.len().min(DETAIL_MAX)];
        if let Some(last) = self.rows.last_mut()
            && last.kind == kind
            && last.ts.map(|t| t.div_euclid(SEC)) == ev.ts.map(|t| t.div_euclid(SEC))
            && last.subject == subject
            && same_detail(&last.detail, raw)
        {
            last.count += 1;
            return;
        }
        if self.rows.len() >= MAX_ROWS {
            self.dropped += 1;
            return;
        }
        self.rows.push(Found {
            ts: ev.ts,
            kind,
            subject,
            detail: lossy(raw, DETAIL_MAX),
            count: 1,
            offset: Some(ev.offset),
            quiet: None,
        });
    }

    /// Append a later part of the same source (chunks arrive in order).
    pub fn merge(&mut self, other: Findings) {
        let mut rest = other.rows.into_iter().peekable();
        if let (Some(last), Some(first)) = (self.rows.last_mut(), rest.peek())
            && last.kind == first.kind
            && last.ts.map(|t| t.div_euclid(SEC)) == first.ts.map(|t| t.div_euclid(SEC))
            && last.subject == first.subject
            && last.detail == first.detail
        {
            last.count += first.count;
            rest.next();
        }
        let room = MAX_ROWS.saturating_sub(self.rows.len());
        self.rows.extend(rest.by_ref().take(room));
        self.dropped += other.dropped + rest.map(|f| f.count).sum::<u64>();
        self.restarts.extend(other.restarts);
        self.seconds.merge(other.seconds);
    }

    /// Close the books: add `restart_loop` and `silence` rows. `bundle_end` is the last
    /// record time of the whole run.
    pub fn finish(&mut self, source: &str, bundle_end: Option<Micros>) {
        self.rows.extend(restart_loops(&self.restarts));
        let seconds = std::mem::take(&mut self.seconds);
        // A capped set ends early: a silence "until the end" would be the cap's artefact.
        if !seconds.is_full() {
            self.rows.extend(silences(
                source,
                seconds.iter(),
                bundle_end.map(|t| t.div_euclid(SEC)),
            ));
        }
        self.rows.sort_by(|a, b| {
            a.ts.cmp(&b.ts)
                .then(a.offset.cmp(&b.offset))
                .then(a.kind.cmp(&b.kind))
        });
    }
}

/// Loops of >= 3 restarts of one unit, each within 10 minutes of the first of its window.
fn restart_loops(restarts: &[(Micros, String, bool)]) -> Vec<Found> {
    const WINDOW: i64 = 600 * SEC;
    let mut units: std::collections::BTreeMap<&str, (Vec<Micros>, Vec<Micros>)> =
        Default::default();
    for (ts, unit, scheduled) in restarts {
        let e = units.entry(unit.as_str()).or_default();
        if *scheduled { &mut e.0 } else { &mut e.1 }.push(*ts);
    }
    let mut out = Vec::new();
    for (unit, (scheduled, exited)) in units {
        let mut times = if scheduled.is_empty() {
            exited
        } else {
            scheduled
        };
        times.sort_unstable();
        // Greedy maximal loops: extend while the next restart is within the window of the
        // restart two before it (so any 10 minutes inside the loop hold >= 3 restarts).
        let mut i = 0;
        while i + 2 < times.len() {
            if times[i + 2] - times[i] > WINDOW {
                i += 1;
                continue;
            }
            let mut j = i + 2;
            while j + 1 < times.len() && times[j + 1] - times[j - 1] <= WINDOW {
                j += 1;
            }
            let n = (j - i + 1) as u64;
            out.push(Found {
                ts: Some(times[i]),
                kind: Kind::RestartLoop,
                subject: Some(unit.to_string()),
                detail: format!(
                    "{n} restarts of {unit} in {} (from {} to {})",
                    human_secs((times[j] - times[i]) / SEC),
                    crate::report::iso_micros(times[i]),
                    crate::report::iso_micros(times[j]),
                ),
                count: n,
                offset: None,
                quiet: None,
            });
            i = j + 1;
        }
    }
    out
}

/// A quiet stretch: the last active second before it, its length, whether it runs to the
/// end of the bundle.
type Stretch = (i64, i64, bool);

/// The 3 longest quiet stretches and the median gap, or
/// `None` for a source too sparse to call steady. `seconds` are the source's distinct
/// active seconds, ascending; read twice (the median gap, then the gaps over the
/// threshold), never collected: a source may have tens of millions.
fn quiet_stretches(
    seconds: impl Iterator<Item = i64> + Clone,
    bundle_end: Option<i64>,
) -> Option<(Vec<Stretch>, i64)> {
    const STEADY: usize = 20;
    let gaps = || {
        seconds
            .clone()
            .scan(None, |prev: &mut Option<i64>, s| Some((prev.replace(s), s)))
            .filter_map(|(prev, s)| prev.map(|p| (p, s - p)))
    };
    // The median gap from a histogram: distinct gap lengths are few (they sum to the span).
    let mut histogram: std::collections::BTreeMap<i64, u64> = Default::default();
    let mut n = 0u64;
    let mut last = None;
    for (from, gap) in gaps() {
        *histogram.entry(gap).or_default() += 1;
        n += 1;
        last = Some(from + gap);
    }
    // No gap (at most one second): too few to call steady in any case.
    let last = last?;
    if (n as usize) + 1 < STEADY {
        return None;
    }
    let mut below = 0;
    let median = histogram
        .iter()
        .find(|&(_, &c)| {
            below += c;
            below > n / 2
        })
        .map_or(1, |(&g, _)| g)
        .max(1);
    let threshold = (5 * median).max(60);
    let mut quiet: Vec<Stretch> = Vec::new();
    // Steady traffic *before* the gap: a log that starts with a few lines and resumes
    // hours later (a capture window) did not go quiet, it had not begun.
    for (i, (from, gap)) in gaps().enumerate() {
        if gap > threshold && i + 1 >= STEADY {
            quiet.push((from, gap, false));
        }
    }
    if let Some(end) = bundle_end
        && end - last > threshold
    {
        quiet.push((last, end - last, true));
    }
    quiet.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    quiet.truncate(3);
    Some((quiet, median))
}

/// Quiet stretches of a steady source (see the module docs), as rows.
fn silences(
    source: &str,
    seconds: impl Iterator<Item = i64> + Clone,
    bundle_end: Option<i64>,
) -> Vec<Found> {
    let Some((quiet, median)) = quiet_stretches(seconds, bundle_end) else {
        return Vec::new();
    };
    quiet
        .into_iter()
        .map(|(from, gap, to_end)| Found {
            ts: Some(from * SEC),
            kind: Kind::Silence,
            subject: Some(source.to_string()),
            detail: format!(
                "no records for {} after {} ({}; median gap {})",
                human_secs(gap),
                crate::report::iso_micros(from * SEC),
                if to_end {
                    "silent until the bundle ends".to_string()
                } else {
                    format!("resumed {}", crate::report::iso_micros((from + gap) * SEC))
                },
                human_secs(median),
            ),
            count: 1,
            offset: None,
            quiet: Some(Quiet { secs: gap, to_end }),
        })
        .collect()
}

/// `2h 21m 40s`, `45s`.
pub fn human_secs(s: i64) -> String {
    let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{sec}s"),
        (0, _) => format!("{m}m {sec}s"),
        _ => format!("{h}h {m}m {sec}s"),
    }
}

/// The first `max` bytes from a log as a lossy UTF-8 string: invalid bytes, and a
/// character the cut splits in two, become U+FFFD.
/// Whether `lossy(raw, ..)` of the first `DETAIL_MAX` bytes is `detail`, without making it
/// when the bytes are the detail's own (valid UTF-8 is its own lossy form).
fn same_detail(detail: &str, raw: &[u8]) -> bool {
    detail.as_bytes() == raw
        || (std::str::from_utf8(raw).is_err() && String::from_utf8_lossy(raw) == detail)
}

pub fn lossy(bytes: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]);
    s.into_owned()
}

/// One row of `findings.parquet`.
#[derive(Clone, Debug, PartialEq)]
pub struct FindingRow {
    pub source: String,
    pub found: Found,
}

pub fn findings_batch(rows: &[FindingRow]) -> Result<arrow_array::RecordBatch, String> {
    table::batch(vec![
        Column::timestamp("ts", rows.iter().map(|r| r.found.ts)).layout(Layout::Rising),
        Column::utf8("source", rows.iter().map(|r| Some(r.source.as_str()))),
        Column::utf8("kind", rows.iter().map(|r| Some(r.found.kind.id()))),
        Column::utf8("subject", rows.iter().map(|r| r.found.subject.as_deref())),
        Column::utf8("detail", rows.iter().map(|r| Some(r.found.detail.as_str()))),
        Column::u64("count", rows.iter().map(|r| Some(r.found.count))),
        Column::u64("offset", rows.iter().map(|r| r.found.offset)).layout(Layout::Rising),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use coroner_parse::payload::PayloadParser;

    fn observe(f: &mut Findings, ts: Micros, offset: u64, line: &[u8], hits: Hits) {
        let mut p = PayloadParser::new(0, None);
        let (_, parsed) = p.parse(line);
        let ev = Event {
            ts: Some(ts),
            offset,
            len: line.len() as u64 + 1,
            message: line,
            parsed: &parsed,
            request: parsed.request(),
            priority: None,
            ident: b"",
        };
        f.observe(&ev, hits, 0);
    }

    #[test]
    fn parsed_and_text_rules() {
        let mut f = Findings::default();
        observe(&mut f, 10 * SEC, 0, b"Out of memory: Killed process 2345 (netdata) total-vm:100kB, anon-rss:50kB, file-rss:0kB, shmem-rss:0kB", Hits(0));
        observe(
            &mut f,
            11 * SEC,
            100,
            b"netdata.service: Scheduled restart job, restart counter is at 3.",
            Hits(0),
        );
        observe(
            &mut f,
            12 * SEC,
            200,
            b"[2023-11-30 14:02:11 +0000] [8] [CRITICAL] WORKER TIMEOUT (pid:23)",
            Hits(0),
        );
        observe(
            &mut f,
            13 * SEC,
            300,
            b"write failed: No space left on device",
            Hits(1),
        );
        let kinds: Vec<_> = f.rows.iter().map(|r| (r.kind, r.subject.clone())).collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::OomKill, Some("netdata".into())),
                (Kind::Restart, Some("netdata.service".into())),
                (Kind::WorkerTimeout, Some("pid:23".into())),
                (Kind::DiskFull, None),
            ]
        );
        assert_eq!(f.rows[3].offset, Some(300));
    }

    #[test]
    fn identical_findings_in_one_second_fold_also_across_chunks() {
        let line = b"connect() failed: Cannot assign requested address";
        let hits = Hits(1 << 5);
        let mut whole = Findings::default();
        for i in 0..4 {
            observe(&mut whole, 5 * SEC + i, i as u64, line, hits);
        }
        assert_eq!((whole.rows.len(), whole.rows[0].count), (1, 4));
        let (mut a, mut b) = (Findings::default(), Findings::default());
        for i in 0..2 {
            observe(&mut a, 5 * SEC + i, i as u64, line, hits);
        }
        for i in 2..4 {
            observe(&mut b, 5 * SEC + i, i as u64, line, hits);
        }
        a.merge(b);
        assert_eq!(a.rows, whole.rows);
        assert_eq!(whole.rows[0].kind, Kind::PortExhaustion);
    }

    #[test]
    fn restart_loops_need_three_within_ten_minutes() {
        let min = 60 * SEC;
        let r = |t: i64| (t, "web.service".to_string(), true);
        // 0, 4, 8 min: a loop; then 30, 45, 60: each 15 min apart, no loop.
        let loops = restart_loops(&[
            r(0),
            r(4 * min),
            r(8 * min),
            r(30 * min),
            r(45 * min),
            r(60 * min),
        ]);
        assert_eq!(loops.len(), 1);
        assert_eq!((loops[0].count, loops[0].ts), (3, Some(0)));
        // Only `Main process exited` lines: they count when nothing was scheduled.
        let e = |t: i64| (t, "x.service".to_string(), false);
        assert_eq!(restart_loops(&[e(0), e(min), e(2 * min)]).len(), 1);
        assert!(restart_loops(&[r(0), r(min)]).is_empty());
    }

    /// The silence rule as first written: the seconds in a list, the gaps sorted for the
    /// median. The streaming version must find the same stretches and median.
    fn quiet_naive(seconds: &[i64], bundle_end: Option<i64>) -> Option<(Vec<Stretch>, i64)> {
        const STEADY: usize = 20;
        if seconds.len() < STEADY {
            return None;
        }
        let gaps: Vec<i64> = seconds.windows(2).map(|w| w[1] - w[0]).collect();
        let mut sorted = gaps.clone();
        sorted.sort_unstable();
        let median = sorted[sorted.len() / 2].max(1);
        let threshold = (5 * median).max(60);
        let last = *seconds.last().expect("non-empty");
        let mut quiet = Vec::new();
        for (i, (w, &gap)) in seconds.windows(2).zip(&gaps).enumerate() {
            if gap > threshold && i + 1 >= STEADY {
                quiet.push((w[0], gap, false));
            }
        }
        if let Some(end) = bundle_end
            && end - last > threshold
        {
            quiet.push((last, end - last, true));
        }
        quiet.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        quiet.truncate(3);
        Some((quiet, median))
    }

    proptest::proptest! {
        #[test]
        fn streaming_silences_equal_the_list_version(
            gaps in proptest::collection::vec(
                proptest::prop_oneof![8 => 1i64..5, 1 => 50i64..5000], 0..120),
            start in -10_000i64..10_000,
            tail in proptest::option::of(0i64..20_000),
        ) {
            let seconds: Vec<i64> = gaps
                .iter()
                .scan(start, |t, g| { *t += g; Some(*t) })
                .collect();
            let end = tail.and_then(|t| seconds.last().map(|l| l + t));
            proptest::prop_assert_eq!(
                quiet_stretches(seconds.iter().copied(), end),
                quiet_naive(&seconds, end)
            );
        }
    }

    #[test]
    fn silence_of_a_steady_source_until_the_end() {
        // A record every 2 s for 10 minutes, then nothing; the bundle goes on 1 hour.
        let seconds: Vec<i64> = (0..300).map(|i| 1000 + 2 * i).collect();
        let s = silences(
            "caddy/access.log",
            seconds.iter().copied(),
            Some(1000 + 600 + 3600),
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].ts, Some((1000 + 598) * SEC));
        assert!(
            s[0].detail.contains("silent until the bundle ends"),
            "{}",
            s[0].detail
        );
        // A gap in the middle, resumed.
        let mut gapped = seconds.clone();
        gapped.extend((0..100).map(|i| 5000 + 2 * i));
        let s = silences("x", gapped.iter().copied(), Some(5200));
        assert_eq!(s.len(), 1);
        assert!(s[0].detail.contains("resumed"));
        // Too few records to call anything steady.
        assert!(silences("x", seconds[..10].iter().copied(), Some(1_000_000)).is_empty());
        // A few startup lines, then the real traffic hours later: not a silence.
        let mut late = vec![0, 1, 2];
        late.extend((0..100).map(|i| 40_000 + 2 * i));
        assert!(silences("x", late.iter().copied(), Some(40_200)).is_empty());
        assert_eq!(human_secs(8500), "2h 21m 40s");
    }
}
