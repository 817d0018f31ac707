//! What every sample shares: the built-in burst signatures and the burst finder,
//! the silence rule, JSON helpers, and the in-memory [`Bundle`] a sample builds.
//!
//! The rules mirror coroner's report contract (`docs/reports.md`): a burst is a
//! maximal run of consecutive seconds (of each record's own timestamp) with at least
//! [`BURST_THRESHOLD`] matches of one signature, per source and across all sources
//! (`*`); a silence is a source with steady traffic whose last record is followed by
//! more than [`SILENCE_FACTOR`] times its median gap until the end of the bundle.

use std::collections::BTreeMap;

use crate::out::json_str;
use crate::time::{self, SEC};

/// coroner's default `--burst-threshold`: matches per second that make a burst.
pub const BURST_THRESHOLD: u64 = 5;

/// Built-in burst signatures of coroner matched as text (reports.md, bursts).
pub const TEXT_SIGNATURES: [&str; 7] = [
    "context canceled",
    "connection reset by peer",
    "connection refused",
    "Tried writing to closed socket",
    "upstream timed out",
    "no live upstreams",
    "i/o timeout",
];

/// Access-log status signatures, named as in expected.json.
pub const STATUS_SIGNATURES: [(u16, &str); 2] = [(502, "http 502"), (504, "http 504")];

/// A source is silent when its trailing quiet time exceeds this many median gaps.
pub const SILENCE_FACTOR: i64 = 5;

/// A sample built in memory: the bundle's files (paths relative to the sample
/// directory), the story (`<name>.md`) and the numbers (`<name>.expected.json`).
#[derive(Clone, Debug)]
pub struct Bundle {
    pub files: Vec<(&'static str, Vec<u8>)>,
    pub story: String,
    pub expected: String,
}

impl Bundle {
    /// The bytes of one file of the bundle.
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, d)| d.as_slice())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Burst {
    pub source: &'static str,
    pub signature: &'static str,
    /// First second of the run, µs.
    pub start: i64,
    pub seconds: u64,
    pub events: u64,
    pub peak: u64,
}

/// Maximal runs of consecutive seconds with at least [`BURST_THRESHOLD`] matches.
pub fn find_bursts(
    source: &'static str,
    signature: &'static str,
    per_sec: &BTreeMap<i64, u64>,
) -> Vec<Burst> {
    let mut out: Vec<Burst> = Vec::new();
    let mut open = false;
    for (&sec, &n) in per_sec {
        if n < BURST_THRESHOLD {
            open = false;
            continue;
        }
        match out.last_mut() {
            Some(b) if open && b.start / SEC + b.seconds as i64 == sec => {
                b.seconds += 1;
                b.events += n;
                b.peak = b.peak.max(n);
            }
            _ => out.push(Burst {
                source,
                signature,
                start: sec * SEC,
                seconds: 1,
                events: n,
                peak: n,
            }),
        }
        open = true;
    }
    out
}

/// Whether `hay` contains `needle` (bytes).
pub fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Per-second signature counts of rendered records, per source.
#[derive(Debug, Default)]
pub struct Bursts {
    per_sec: BTreeMap<(&'static str, &'static str), BTreeMap<i64, u64>>,
}

impl Bursts {
    /// One match of `signature` in `source` at `t` (µs).
    pub fn add(&mut self, source: &'static str, signature: &'static str, t: i64) {
        *self
            .per_sec
            .entry((source, signature))
            .or_default()
            .entry(t.div_euclid(SEC))
            .or_default() += 1;
    }

    /// Counts every built-in text signature the record contains.
    pub fn text(&mut self, source: &'static str, t: i64, record: &[u8]) {
        for sig in TEXT_SIGNATURES {
            if contains(record, sig) {
                self.add(source, sig, t);
            }
        }
    }

    /// Counts an access-log status (502/504 are signatures).
    pub fn status(&mut self, source: &'static str, t: i64, status: u16) {
        for (s, sig) in STATUS_SIGNATURES {
            if s == status {
                self.add(source, sig, t);
            }
        }
    }

    /// Bursts per source, then across all sources (`*`), sorted by (source,
    /// signature, start).
    pub fn finish(&self) -> Vec<Burst> {
        let mut bursts = Vec::new();
        let mut all: BTreeMap<&'static str, BTreeMap<i64, u64>> = BTreeMap::new();
        for (&(source, sig), secs) in &self.per_sec {
            bursts.extend(find_bursts(source, sig, secs));
            for (&s, &n) in secs {
                *all.entry(sig).or_default().entry(s).or_default() += n;
            }
        }
        for (sig, secs) in &all {
            bursts.extend(find_bursts("*", sig, secs));
        }
        bursts.sort_by(|a, b| {
            (a.source, a.signature, a.start).cmp(&(b.source, b.signature, b.start))
        });
        bursts
    }
}

/// The `"bursts"` array body of expected.json (one object per line; end exclusive).
pub fn bursts_json(bursts: &[Burst]) -> String {
    bursts
        .iter()
        .map(|b| {
            format!(
                "    {{\"source\": {}, \"signature\": {}, \"start\": {}, \"end\": {}, \"seconds\": {}, \"events\": {}, \"peak\": {}}}",
                json_str(b.source),
                json_str(b.signature),
                json_str(&time::rfc3339(b.start)),
                json_str(&time::rfc3339(b.start + b.seconds as i64 * SEC)),
                b.seconds,
                b.events,
                b.peak
            )
        })
        .collect::<Vec<_>>()
        .join(",\n")
}

/// Markdown bullet list of bursts (`- source, signature: hh:mm:ss (N events)`).
pub fn bursts_md(bursts: &[Burst]) -> String {
    if bursts.is_empty() {
        return "- none\n".to_owned();
    }
    let mut s = String::new();
    for b in bursts {
        let when = if b.seconds == 1 {
            time::hms(b.start)
        } else {
            format!(
                "{}–{}",
                time::hms(b.start),
                time::hms(b.start + (b.seconds as i64 - 1) * SEC)
            )
        };
        s.push_str(&format!(
            "- `{}`, `{}`: {when} ({} s, {} events, peak {})\n",
            b.source, b.signature, b.seconds, b.events, b.peak
        ));
    }
    s
}

/// `{"k": v, ...}` of a count map.
pub fn json_counts<K: std::fmt::Display>(m: &BTreeMap<K, u64>) -> String {
    let parts: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{}: {v}", json_str(&k.to_string())))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// A JSON list of strings.
pub fn json_list(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| json_str(s)).collect();
    format!("[{}]", parts.join(", "))
}

/// A silence: the source's last record, its median gap, and how long it then
/// stayed quiet until the end of the bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Silence {
    /// Time of the last record (µs, whole seconds as logged).
    pub last: i64,
    /// Median gap between consecutive records (the lower median), µs.
    pub median_gap: i64,
    /// End of the bundle (latest record of any source), µs.
    pub until: i64,
}

/// The silence of a source whose record times (as logged) are `times`, against the
/// bundle's end; `None` when it kept talking.
pub fn silence(times: &[i64], bundle_end: i64) -> Option<Silence> {
    let mut t = times.to_vec();
    t.sort_unstable();
    if t.len() < 10 {
        return None;
    }
    let mut gaps: Vec<i64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    let median_gap = gaps[(gaps.len() - 1) / 2].max(SEC);
    let last = *t.last().expect("non-empty");
    (bundle_end - last > SILENCE_FACTOR * median_gap).then_some(Silence {
        last,
        median_gap,
        until: bundle_end,
    })
}

/// A log file under construction: `(time, line)` pairs, rendered in time order
/// (a stable sort keeps same-time lines in the order they were pushed).
#[derive(Debug, Default)]
pub struct Lines {
    pub lines: Vec<(i64, String)>,
}

impl Lines {
    pub fn push(&mut self, t: i64, line: impl Into<String>) {
        self.lines.push((t, line.into()));
    }

    /// Sorts by time and returns the file bytes; `self.lines` keeps the rendered
    /// lines, in file order, for counting.
    pub fn render(&mut self) -> Vec<u8> {
        self.lines.sort_by_key(|(t, _)| *t);
        let mut data = Vec::new();
        for (_, l) in &self.lines {
            data.extend_from_slice(l.as_bytes());
            data.push(b'\n');
        }
        data
    }
}

/// One `journalctl -o short-iso` line: `2018-08-11T01:52:03+0000 host ident[pid]: msg`
/// (`ident: msg` when there is no pid, as for the kernel).
pub fn journal_line(t: i64, host: &str, ident: &str, pid: Option<u32>, msg: &str) -> String {
    match pid {
        Some(p) => format!("{} {host} {ident}[{p}]: {msg}", time::short_iso(t)),
        None => format!("{} {host} {ident}: {msg}", time::short_iso(t)),
    }
}

/// `(first, last)` of a non-empty list of times, as RFC 3339 JSON strings.
pub fn first_last(times: &[i64]) -> (String, String) {
    let first = times.iter().min().copied().unwrap_or(0);
    let last = times.iter().max().copied().unwrap_or(0);
    (
        json_str(&time::rfc3339(first)),
        json_str(&time::rfc3339(last)),
    )
}

/// systemd and kernel findings counted from rendered syslog-style lines.
#[derive(Debug, Default)]
pub struct UnitFindings {
    /// OOM victims (`Out of memory: Kill process N (comm) score S or sacrifice child`
    /// or `Out of memory: Killed process N (comm) ...`): comm → times.
    pub oom_kill: BTreeMap<String, Vec<i64>>,
    /// `Killed process N (comm) total-vm:` lines (the pre-5.0 second line): comm → n.
    pub killed_process: BTreeMap<String, u64>,
    /// unit → times of `Main process exited, ...`.
    pub main_exited: BTreeMap<String, Vec<i64>>,
    /// unit → times of `Failed with result '...'.`.
    pub failed: BTreeMap<String, Vec<i64>>,
    /// unit → times of `Scheduled restart job, restart counter is at N.`.
    pub scheduled_restart: BTreeMap<String, Vec<i64>>,
}

/// The comm between the first `(` after `prefix`+pid and the `)` before `end`.
fn comm_after<'a>(msg: &'a str, prefix: &str, end: &str) -> Option<&'a str> {
    let rest = msg.split_once(prefix)?.1;
    let open = rest.find(" (")?;
    let close = rest.find(end)?;
    (close > open + 2).then(|| &rest[open + 2..close])
}

impl UnitFindings {
    pub fn scan(lines: &[(i64, String)]) -> Self {
        let mut f = Self::default();
        for (t, line) in lines {
            if let Some(c) = comm_after(line, "Out of memory: Kill process ", ") score ")
                .or_else(|| comm_after(line, "Out of memory: Killed process ", ") total-vm:"))
            {
                f.oom_kill.entry(c.to_owned()).or_default().push(*t);
            } else if let Some(c) = line
                .split_once(" kernel: Killed process ")
                .and_then(|_| comm_after(line, "kernel: Killed process ", ") total-vm:"))
            {
                *f.killed_process.entry(c.to_owned()).or_default() += 1;
            }
            let Some((_, msg)) = line.split_once(" systemd[1]: ") else {
                continue;
            };
            let Some((unit, what)) = msg.split_once(": ") else {
                continue;
            };
            let map = if what.starts_with("Main process exited, code=") {
                &mut f.main_exited
            } else if what.starts_with("Failed with result '") {
                &mut f.failed
            } else if what.starts_with("Scheduled restart job, restart counter is at ") {
                &mut f.scheduled_restart
            } else {
                continue;
            };
            map.entry(unit.to_owned()).or_default().push(*t);
        }
        f
    }
}

/// A restart loop: at least `RESTART_LOOP_MIN` scheduled restarts of one unit within
/// `RESTART_LOOP_WINDOW`. Returns `(max restarts in any window, time of the restart
/// that first completed a loop)`, or `None`.
pub fn restart_loop(times: &[i64]) -> Option<(u64, i64)> {
    let mut t = times.to_vec();
    t.sort_unstable();
    let mut best = 0u64;
    let mut first = None;
    for (i, &end) in t.iter().enumerate() {
        let n = t[..=i]
            .iter()
            .filter(|&&s| end - s < RESTART_LOOP_WINDOW)
            .count() as u64;
        best = best.max(n);
        if n >= RESTART_LOOP_MIN && first.is_none() {
            first = Some(end);
        }
    }
    first.map(|f| (best, f))
}

/// Scheduled restarts of one unit that make a restart loop...
pub const RESTART_LOOP_MIN: u64 = 3;
/// ...within this window (10 min), µs.
pub const RESTART_LOOP_WINDOW: i64 = 600 * SEC;

/// The second (µs) a rendered record's time falls in.
pub fn whole_second(t: i64) -> i64 {
    t.div_euclid(SEC) * SEC
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_join_consecutive_seconds() {
        let mut b = Bursts::default();
        for (sec, n) in [(10, 5), (11, 7), (12, 4), (13, 6)] {
            for _ in 0..n {
                b.text("a.log", sec * SEC + 1, b"read: connection reset by peer");
            }
        }
        let got = b.finish();
        assert_eq!(got.len(), 4, "{got:?}"); // two per source, two for "*"
        assert_eq!((got[0].source, got[0].seconds, got[0].events), ("*", 2, 12));
        assert_eq!((got[1].start, got[1].peak), (13 * SEC, 6));
    }

    #[test]
    fn silence_needs_five_median_gaps() {
        let times: Vec<i64> = (0..100).map(|i| i * 3 * SEC).collect();
        let last = 99 * 3 * SEC;
        assert!(silence(&times, last + 15 * SEC).is_none());
        let s = silence(&times, last + 16 * SEC).unwrap();
        assert_eq!((s.last, s.median_gap), (last, 3 * SEC));
    }

    #[test]
    fn journal_line_shape() {
        let t = time::at(2018, 8, 11, 1, 52, 3);
        assert_eq!(
            journal_line(t, "chitter", "kernel", None, "x"),
            "2018-08-11T01:52:03+0000 chitter kernel: x"
        );
        assert_eq!(
            journal_line(t, "h", "bundle", Some(7), "y"),
            "2018-08-11T01:52:03+0000 h bundle[7]: y"
        );
    }
}
