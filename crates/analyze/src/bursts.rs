//! `bursts.parquet`: same-second mass events per signature.
//!
//! The runbook's `grep SIG | awk '{print $1" "$2}' | sort | uniq -c | awk '$1>=5'`, done on
//! each record's own timestamp (not the line's text) and for every signature at once. The
//! accumulator counts matching records per (signature, second); counts add, so chunks merge
//! exactly and 1 and N threads agree. After the pass, a burst is a maximal run of
//! consecutive seconds each with at least `threshold` matches, per source and for all
//! sources together (`*`, where the per-second counts of every source are summed first).

use std::collections::{BTreeMap, HashMap};

use coroner_parse::timestamp::Micros;

use crate::table::{self, Column};

/// The built-in text signatures (contract): matched as case-sensitive substrings of the
/// message.
pub const BUILTIN: [&str; 7] = [
    "context canceled",
    "connection reset by peer",
    "connection refused",
    "Tried writing to closed socket",
    "upstream timed out",
    "no live upstreams",
    "i/o timeout",
];

/// Access-log statuses that are burst signatures, and their names in the table.
pub const STATUSES: [(u16, &str); 2] = [(502, "HTTP 502"), (504, "HTTP 504")];

/// `--burst` patterns beyond this many are refused by the CLI (one bit each in a record's
/// needle set).
pub const MAX_EXTRA: usize = 64;

/// Every signature of a run: the built-in text ones, the `--burst` ones, then the statuses.
/// A `--burst` equal to a built-in signature (or given twice) is counted once.
pub fn signature_names(extra: &[String]) -> Vec<String> {
    let mut names: Vec<String> = BUILTIN.iter().map(|s| s.to_string()).collect();
    for e in extra.iter().take(MAX_EXTRA) {
        if !names.contains(e) {
            names.push(e.clone());
        }
    }
    names.extend(STATUSES.iter().map(|(_, n)| n.to_string()));
    names
}

const SEC: i64 = 1_000_000;

/// Matches per (signature index, Unix second) of one source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BurstCounts {
    seconds: HashMap<(u32, i64), u64, foldhash::fast::FixedState>,
}

impl BurstCounts {
    #[inline]
    pub fn add(&mut self, signature: usize, ts: Micros) {
        *self
            .seconds
            .entry((signature as u32, ts.div_euclid(SEC)))
            .or_insert(0) += 1;
    }

    pub fn merge(&mut self, other: &BurstCounts) {
        for (k, n) in &other.seconds {
            *self.seconds.entry(*k).or_insert(0) += n;
        }
    }

    /// The seconds (Unix, ascending, each once) in which any of `signatures` matched.
    pub fn seconds_of(&self, signatures: &[usize]) -> Vec<i64> {
        let mut seconds: Vec<i64> = self
            .seconds
            .iter()
            .filter(|&(&(g, _), &n)| n > 0 && signatures.contains(&(g as usize)))
            .map(|(&(_, s), _)| s)
            .collect();
        seconds.sort_unstable();
        seconds.dedup();
        seconds
    }

    /// Matches of any of `signatures` in the second that holds `ts`.
    pub fn count_at(&self, signatures: &[usize], ts: Micros) -> u64 {
        let s = ts.div_euclid(SEC);
        signatures
            .iter()
            .map(|&g| self.seconds.get(&(g as u32, s)).copied().unwrap_or(0))
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.seconds.is_empty()
    }
}

/// One row of `bursts.parquet`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BurstRow {
    pub source: String,
    pub signature: String,
    /// Start of the first second of the run.
    pub start: Micros,
    /// Start of the second after the last one (exclusive end).
    pub end: Micros,
    pub seconds: u64,
    pub events: u64,
    pub peak: u64,
    pub threshold: u64,
}

impl BurstRow {
    /// Whether the burst covers the second of `ts`.
    pub fn covers(&self, ts: Micros) -> bool {
        self.start <= ts && ts < self.end
    }
}

/// The bursts of every source and of all sources together, ordered by source (`*` first),
/// signature, start.
pub fn burst_rows(
    sources: &[(&str, &BurstCounts)],
    names: &[String],
    threshold: u64,
) -> Vec<BurstRow> {
    let threshold = threshold.max(1);
    let mut all: BTreeMap<(u32, i64), u64> = BTreeMap::new();
    let mut rows = Vec::new();
    for (name, counts) in sources {
        let sorted: BTreeMap<(u32, i64), u64> =
            counts.seconds.iter().map(|(k, v)| (*k, *v)).collect();
        for (k, n) in &sorted {
            *all.entry(*k).or_insert(0) += n;
        }
        rows.extend(runs(name, &sorted, names, threshold));
    }
    let mut star = runs("*", &all, names, threshold);
    star.extend(rows);
    star.sort_by(|a, b| {
        (a.source != "*")
            .cmp(&(b.source != "*"))
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.signature.cmp(&b.signature))
            .then(a.start.cmp(&b.start))
    });
    star
}

/// Maximal runs of consecutive seconds at or above the threshold, per signature.
fn runs(
    source: &str,
    seconds: &BTreeMap<(u32, i64), u64>,
    names: &[String],
    threshold: u64,
) -> Vec<BurstRow> {
    let mut rows: Vec<BurstRow> = Vec::new();
    let mut open: Option<(u32, i64, i64, u64, u64)> = None; // sig, first, last, events, peak
    let close = |o: (u32, i64, i64, u64, u64), rows: &mut Vec<BurstRow>| {
        let (sig, first, last, events, peak) = o;
        rows.push(BurstRow {
            source: source.to_string(),
            signature: names
                .get(sig as usize)
                .cloned()
                .unwrap_or_else(|| format!("#{sig}")),
            start: first * SEC,
            end: (last + 1) * SEC,
            seconds: (last - first + 1) as u64,
            events,
            peak,
            threshold,
        });
    };
    for (&(sig, sec), &n) in seconds {
        if n < threshold {
            continue;
        }
        open = match open {
            Some((s, first, last, events, peak)) if s == sig && last + 1 == sec => {
                Some((s, first, sec, events + n, peak.max(n)))
            }
            prev => {
                if let Some(o) = prev {
                    close(o, &mut rows);
                }
                Some((sig, sec, sec, n, n))
            }
        };
    }
    if let Some(o) = open {
        close(o, &mut rows);
    }
    rows
}

pub fn bursts_batch(rows: &[BurstRow]) -> Result<arrow_array::RecordBatch, String> {
    table::batch(vec![
        Column::utf8("source", rows.iter().map(|r| Some(r.source.as_str()))),
        Column::utf8("signature", rows.iter().map(|r| Some(r.signature.as_str()))),
        Column::timestamp("start", rows.iter().map(|r| Some(r.start))),
        Column::timestamp("end", rows.iter().map(|r| Some(r.end))),
        Column::u64("seconds", rows.iter().map(|r| Some(r.seconds))),
        Column::u64("events", rows.iter().map(|r| Some(r.events))),
        Column::u64("peak", rows.iter().map(|r| Some(r.peak))),
        Column::u64("threshold", rows.iter().map(|r| Some(r.threshold))),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(events: &[(usize, i64)]) -> BurstCounts {
        let mut c = BurstCounts::default();
        for &(sig, sec) in events {
            c.add(sig, sec * SEC + 123);
        }
        c
    }

    #[test]
    fn consecutive_seconds_merge_and_gaps_split() {
        let names = signature_names(&[]);
        let mut ev = Vec::new();
        // Seconds 10, 11 (>= 5), 12 (4: breaks the run), 13 (6).
        for (sec, n) in [(10, 5), (11, 7), (12, 4), (13, 6)] {
            ev.extend(std::iter::repeat_n((0usize, sec), n));
        }
        let c = counts(&ev);
        let rows = burst_rows(&[("a.log", &c)], &names, 5);
        let a: Vec<_> = rows.iter().filter(|r| r.source == "a.log").collect();
        assert_eq!(a.len(), 2);
        assert_eq!(
            (a[0].start, a[0].end, a[0].seconds, a[0].events, a[0].peak),
            (10 * SEC, 12 * SEC, 2, 12, 7)
        );
        assert_eq!((a[1].seconds, a[1].events), (1, 6));
        assert_eq!(a[0].signature, "context canceled");
        // `*` equals the single source here.
        assert_eq!(rows.iter().filter(|r| r.source == "*").count(), 2);
    }

    #[test]
    fn star_sums_sources_before_thresholding() {
        let names = signature_names(&[]);
        let a = counts(&[(1, 100); 3]);
        let b = counts(&[(1, 100); 3]);
        let rows = burst_rows(&[("a", &a), ("b", &b)], &names, 5);
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].source.as_str(), rows[0].events), ("*", 6));
    }

    #[test]
    fn extra_signatures_are_counted_once() {
        let names = signature_names(&["context canceled".into(), "EOF".into(), "EOF".into()]);
        assert_eq!(names.len(), BUILTIN.len() + 1 + STATUSES.len());
        assert_eq!(names[BUILTIN.len()], "EOF");
    }

    #[test]
    fn merge_is_order_free() {
        let a = counts(&[(0, 1), (0, 1), (2, 5)]);
        let b = counts(&[(0, 1), (3, 9)]);
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.count_at(&[0], SEC), 3);
        assert_eq!(ab.count_at(&[0, 2, 3], 5 * SEC), 1);
    }
}
