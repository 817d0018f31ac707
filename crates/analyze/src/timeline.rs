//! `timeline.parquet`: volume, errors, HTTP status classes and latency percentiles per source
//! and time bucket.
//!
//! A record with time `ts` counts in the bucket starting at `floor(ts / bucket) * bucket`
//! (`div_euclid`: times before 1970 are valid and fall in the bucket that starts at or before
//! them). Per bucket: records and bytes, error records ([`Event::is_error`]), status classes
//! ([`Event::status`] 200-299, 300-399, 400-499, 500-599; 1xx and anything else count in none)
//! and the latency ([`Event::latency_ms`]) in a [`QuantileSketch`]. Every part is a count or
//! a sketch whose bins are counts, so chunks merge exactly and 1 and N threads give identical
//! rows; the percentiles are within the sketch's relative error ([`crate::sketch::ALPHA`]) of
//! the exact nearest-rank percentiles.
//!
//! **Memory.** A source's timeline holds at most [`HELD_BUCKETS`] settled buckets in memory
//! (about 600 bytes each with a latency sketch): past that, the older half goes to a
//! temporary file as one sorted run (see [`crate::spill::SortedSpill`]), and the runs are
//! merged back when the rows are read, the parts of a bucket written out at different
//! times added up. So the pass holds a few MB per source whatever the bundle's span. A log
//! in time order writes each bucket out once, and its runs carry on from one another, so
//! they are read back as one; runs out of order take a read buffer each (8 MiB in all up
//! to 512 runs, 16 KiB a run beyond).
//!
//! Additions to the contract (documented in `docs/reports.md` when the table is wired in):
//! - Records without a time count in one *untimed* row per source, with `bucket_start` null,
//!   written after the source's timed buckets, so a source's rows add up to its `records`
//!   and its record bytes.
//! - `latency_count` (last column): how many records of the bucket had a latency, the `n`
//!   behind the percentiles.
//! - Null conventions: the status columns are null in every row of a source none of whose
//!   records had an HTTP status (the format has none), 0 otherwise; `p50_ms`/`p90_ms`/`p99_ms`
//!   are null in a bucket without any latency.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use coroner_parse::timestamp::Micros;

use crate::event::Event;
use crate::sketch::{BinCache, QuantileSketch};
use crate::spill::{self, KeyStream, Reader, Record, Sorted, SortedSpill};
use crate::table::{self, Column, Layout};

const SEC: i64 = 1_000_000;

/// Settled buckets a source's timeline keeps in memory; beyond it the older half is written
/// out (see the module docs). 8,192 minute buckets are 5.7 days; about 5 MB.
pub const HELD_BUCKETS: usize = 1 << 13;

/// The counts of one bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BucketStats {
    pub records: u64,
    /// Record bytes (terminators included), as everywhere bytes are counted.
    pub bytes: u64,
    pub errors: u64,
    /// Records per status class: 2xx, 3xx, 4xx, 5xx.
    pub status: [u64; 4],
    /// Latencies (ms) of the bucket's records that had one.
    pub latency: QuantileSketch,
}

impl BucketStats {
    #[inline]
    fn observe(&mut self, ev: &Event, status: Option<u16>, cache: &mut BinCache) {
        self.records += 1;
        self.bytes += ev.len;
        if ev.is_error_given(status) {
            self.errors += 1;
        }
        if let Some(s) = status
            && (200..600).contains(&s)
        {
            self.status[(s / 100 - 2) as usize] += 1;
        }
        if let Some(ms) = ev.latency_ms() {
            self.latency.add_cached(ms, cache);
        }
    }

    /// Saturating: counts read back from a damaged temporary file can be anything.
    pub fn merge(&mut self, other: &BucketStats) {
        self.records = self.records.saturating_add(other.records);
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.errors = self.errors.saturating_add(other.errors);
        for (a, b) in self.status.iter_mut().zip(other.status) {
            *a = a.saturating_add(b);
        }
        self.latency.merge(&other.latency);
    }
}

/// The timeline of one source (or of one chunk of it, before merging). Every
/// [`Timeline::observe`] of a run must pass the same `bucket_secs`.
#[derive(Debug)]
pub struct Timeline {
    /// Keyed by bucket start, UTC µs; at most `held` of them.
    buckets: BTreeMap<Micros, BucketStats>,
    /// The two buckets the last records fell in, not yet in `buckets`: a log is mostly in
    /// time order, so nearly every record lands here and the map is touched once per
    /// bucket, not once per record (measured: the map lookup was the timeline's main cost).
    /// Two, because a log stamped when a request began and written when it ended steps
    /// back across a bucket edge every few lines (the real apache log of the tests does so
    /// on every other line at minute buckets).
    recent: [Option<(Micros, BucketStats)>; 2],
    /// Which of `recent` the last record fell in: stepping back and forth flips this index
    /// instead of swapping the two buckets (about 100 bytes each).
    last: bool,
    /// Records without a time (`records == 0`: none).
    untimed: BucketStats,
    /// Records with any HTTP status (1xx and odd ones included): whether the source's format
    /// has statuses at all.
    with_status: u64,
    /// The latency bins of recent values (a cache: no part of the counts).
    latency_bins: BinCache,
    /// Settled buckets written out of `buckets`, oldest first; a bucket may be here in
    /// several parts (records that came after its first part was written), and in
    /// `buckets` too. `None` until the map first outgrows `held`.
    spilled: Option<Box<SortedSpill<SpilledBucket>>>,
    /// Buckets that could not be read back from another timeline's spill when merging it,
    /// and the first reason (a damaged temporary file).
    lost: u64,
    error: Option<String>,
    /// How many settled buckets `buckets` may hold ([`HELD_BUCKETS`]; less in tests).
    held: usize,
    /// The first and last start of a settled bucket (written out or not).
    settled_span: Option<(Micros, Micros)>,
}

impl Default for Timeline {
    fn default() -> Timeline {
        Timeline::with_held(HELD_BUCKETS)
    }
}

/// A settled bucket in a spill file. Ordered (and equal) by start alone: the merge of the
/// runs brings the parts of one bucket together, and [`Timeline::buckets`] adds them up.
#[derive(Clone, Debug)]
struct SpilledBucket {
    start: Micros,
    stats: BucketStats,
}

impl PartialEq for SpilledBucket {
    fn eq(&self, other: &SpilledBucket) -> bool {
        self.start == other.start
    }
}

impl Eq for SpilledBucket {}

impl PartialOrd for SpilledBucket {
    fn partial_cmp(&self, other: &SpilledBucket) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SpilledBucket {
    fn cmp(&self, other: &SpilledBucket) -> std::cmp::Ordering {
        self.start.cmp(&other.start)
    }
}

impl Record for SpilledBucket {
    fn encode(&self, out: &mut Vec<u8>) {
        let b = &self.stats;
        spill::put_u64(out, self.start as u64);
        for n in [b.records, b.bytes, b.errors] {
            spill::put_u64(out, n);
        }
        for n in b.status {
            spill::put_u64(out, n);
        }
        b.latency.encode(out);
    }

    fn decode(input: &mut Reader<'_>) -> Option<SpilledBucket> {
        let start = input.i64()?;
        let (records, bytes, errors) = (input.u64()?, input.u64()?, input.u64()?);
        let status = [input.u64()?, input.u64()?, input.u64()?, input.u64()?];
        let latency = QuantileSketch::decode(input)?;
        let stats = BucketStats {
            records,
            bytes,
            errors,
            status,
            latency,
        };
        Some(SpilledBucket { start, stats })
    }
}

/// Equal when they hold the same counts, whether or not the last bucket is settled.
impl PartialEq for Timeline {
    fn eq(&self, other: &Timeline) -> bool {
        self.untimed == other.untimed
            && self.with_status == other.with_status
            && self.lost() == other.lost()
            && self.buckets().eq(other.buckets())
    }
}

impl Eq for Timeline {}

/// The bucket width in µs (at least 1 s).
fn bucket_micros(bucket_secs: u64) -> i64 {
    i64::try_from(bucket_secs.max(1))
        .unwrap_or(i64::MAX)
        .saturating_mul(SEC)
}

/// Start of the bucket holding `ts`: `floor(ts / bucket) * bucket`, saturating at the ends of
/// the `i64` range (times no parser produces).
pub fn bucket_start(ts: Micros, bucket_secs: u64) -> Micros {
    ts.saturating_sub(ts.rem_euclid(bucket_micros(bucket_secs)))
}

impl Timeline {
    /// A timeline that keeps `held` settled buckets in memory (at least 2).
    pub fn with_held(held: usize) -> Timeline {
        Timeline {
            buckets: BTreeMap::new(),
            recent: [None, None],
            last: false,
            untimed: BucketStats::default(),
            with_status: 0,
            latency_bins: BinCache::default(),
            spilled: None,
            lost: 0,
            error: None,
            held: held.max(2),
            settled_span: None,
        }
    }

    /// Count one record.
    #[inline]
    pub fn observe(&mut self, ev: &Event, bucket_secs: u64) {
        let status = ev.status();
        if status.is_some() {
            self.with_status += 1;
        }
        let bucket = match ev.ts {
            Some(ts) => {
                let width = bucket_micros(bucket_secs);
                // In a recent bucket: no division, no map.
                let within = |b: &Option<(Micros, BucketStats)>| {
                    b.as_ref().is_some_and(|(s, _)| ts >= *s && ts - *s < width)
                };
                if !within(&self.recent[usize::from(self.last)]) {
                    self.last = !self.last;
                    if !within(&self.recent[usize::from(self.last)]) {
                        // The older of the two goes to the map; this record's bucket
                        // takes its place.
                        let start = bucket_start(ts, bucket_secs);
                        if let Some((old, b)) = self.recent[usize::from(self.last)].take() {
                            self.settle_one(old, b);
                        }
                        let b = self.buckets.remove(&start).unwrap_or_default();
                        self.recent[usize::from(self.last)] = Some((start, b));
                    }
                }
                &mut self.recent[usize::from(self.last)]
                    .as_mut()
                    .expect("set above")
                    .1
            }
            None => &mut self.untimed,
        };
        bucket.observe(ev, status, &mut self.latency_bins);
    }

    /// Add a bucket that is no longer filled (or a part of one) to the map, its latency
    /// bins packed ([`QuantileSketch::compact`]: the map holds many buckets), and write the
    /// older half out when the map outgrows `held`.
    fn settle_one(&mut self, start: Micros, mut b: BucketStats) {
        self.settled_span = Some(match self.settled_span {
            Some((first, last)) => (first.min(start), last.max(start)),
            None => (start, start),
        });
        match self.buckets.entry(start) {
            Entry::Occupied(mut held) => held.get_mut().merge(&b),
            Entry::Vacant(room) => {
                b.latency.compact();
                room.insert(b);
            }
        }
        self.bound();
    }

    /// Past `held` settled buckets, write the older half out.
    fn bound(&mut self) {
        if self.buckets.len() <= self.held {
            return;
        }
        let keep = self.held / 2;
        let first_kept = *self
            .buckets
            .keys()
            .nth(self.buckets.len() - keep)
            .expect("more buckets than kept");
        let newer = self.buckets.split_off(&first_kept);
        let older = std::mem::replace(&mut self.buckets, newer);
        let held = self.held;
        let out = self
            .spilled
            .get_or_insert_with(|| Box::new(SortedSpill::with_run(held)));
        for (start, stats) in older {
            out.push(SpilledBucket { start, stats });
        }
        // Each batch is one sorted run, none of it left in memory.
        out.flush();
    }

    /// Put the buckets held outside the map into it. Readers and merges see settled
    /// timelines: the pipeline settles each chunk's timeline before folding it.
    pub fn settle(&mut self) {
        for (start, b) in std::mem::take(&mut self.recent).into_iter().flatten() {
            self.settle_one(start, b);
        }
    }

    /// Fold another part of the same source into this one. Commutative and associative.
    pub fn merge(&mut self, mut other: Timeline) {
        self.settle();
        other.settle();
        if let Some(spilled) = other.spilled.take() {
            // What the other part could not write out is lost here too; and if its file
            // cannot be read back, so is every part from there on.
            if let Some(e) = spilled.error() {
                self.error.get_or_insert_with(|| e.to_string());
            }
            let mut unread = spilled.len() - spilled.lost();
            self.lost += spilled.lost();
            for part in spilled.into_sorted() {
                match part {
                    Ok(SpilledBucket { start, stats }) => {
                        unread = unread.saturating_sub(1);
                        self.settle_one(start, stats);
                    }
                    Err(e) => {
                        self.error.get_or_insert(e);
                    }
                }
            }
            self.lost += unread;
        }
        for (start, b) in std::mem::take(&mut other.buckets) {
            self.settle_one(start, b);
        }
        self.untimed.merge(&other.untimed);
        self.with_status += other.with_status;
        self.lost += other.lost;
        if let Some(e) = other.error.take() {
            self.error.get_or_insert(e);
        }
    }

    pub fn is_empty(&self) -> bool {
        !self.has_timed() && self.untimed.records == 0
    }

    /// Whether any record had a time.
    pub fn has_timed(&self) -> bool {
        self.span().is_some()
    }

    /// The first and the last bucket start, if any record had a time: without reading
    /// the buckets back.
    pub fn span(&self) -> Option<(Micros, Micros)> {
        self.recent
            .iter()
            .flatten()
            .map(|(start, _)| (*start, *start))
            .chain(self.settled_span)
            .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
    }

    /// Settled buckets in memory (at most [`HELD_BUCKETS`]).
    pub fn held(&self) -> usize {
        self.buckets.len()
    }

    /// Buckets (or parts of one) that could not be written out or read back: their records
    /// are in no row. Counted in `summary.json`'s `capped.timeline_buckets`.
    pub fn lost(&self) -> u64 {
        self.lost + self.spilled.as_ref().map_or(0, |s| s.lost())
    }

    /// The first reason buckets were lost, if any were.
    pub fn error(&self) -> Option<&str> {
        self.error
            .as_deref()
            .or_else(|| self.spilled.as_ref().and_then(|s| s.error()))
    }

    /// Timed buckets, ascending by start, each once: the parts of a bucket (written out at
    /// different times, in memory, recent) added up. An error (a temporary file that cannot
    /// be read back) ends the iteration.
    pub fn buckets(&self) -> impl Iterator<Item = Result<(Micros, BucketStats), String>> + '_ {
        // The map and the recent buckets, each a stream in order, merged with the spill's
        // runs; parts with the same start come out next to each other.
        let held: KeyStream<'_, SpilledBucket> =
            Box::new(self.buckets.iter().map(|(&start, stats)| {
                Ok(SpilledBucket {
                    start,
                    stats: stats.clone(),
                })
            }));
        let mut recent: Vec<SpilledBucket> = self
            .recent
            .iter()
            .flatten()
            .map(|(start, stats)| SpilledBucket {
                start: *start,
                stats: stats.clone(),
            })
            .collect();
        recent.sort();
        let streams = vec![
            held,
            Box::new(recent.into_iter().map(Ok)) as KeyStream<'_, _>,
        ];
        let parts = match &self.spilled {
            Some(spilled) => spilled.sorted_with(streams),
            None => Sorted::of(streams),
        };
        let mut parts = parts.peekable();
        let mut failed = false;
        std::iter::from_fn(move || {
            if failed {
                return None;
            }
            let mut bucket = match parts.next()? {
                Ok(b) => b,
                Err(e) => {
                    failed = true;
                    return Some(Err(e));
                }
            };
            while let Some(Ok(next)) = parts.next_if(|p| p.as_ref().is_ok_and(|p| *p == bucket)) {
                bucket.stats.merge(&next.stats);
            }
            Some(Ok((bucket.start, bucket.stats)))
        })
    }

    /// The records without a time, if any.
    pub fn untimed(&self) -> Option<&BucketStats> {
        (self.untimed.records > 0).then_some(&self.untimed)
    }

    /// `(bucket_start, records, errors)` of the timed buckets, ascending: the error-rate strip
    /// of the HTML report. Only buckets with records appear.
    /// Stops at a bucket that cannot be read back (`timeline.parquet`'s writing reports it).
    pub fn errors_per_bucket(&self) -> impl Iterator<Item = (Micros, u64, u64)> + '_ {
        self.buckets()
            .map_while(Result::ok)
            .map(|(s, b)| (s, b.records, b.errors))
    }

    /// Whether any record of the source had an HTTP status.
    pub fn has_status(&self) -> bool {
        self.with_status > 0
    }
}

/// One row of `timeline.parquet`.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineRow {
    pub source: String,
    /// Null: the source's records without a time.
    pub bucket_start: Option<Micros>,
    pub bucket_seconds: u64,
    pub records: u64,
    pub bytes: u64,
    pub errors: u64,
    /// 2xx, 3xx, 4xx, 5xx; `None` when the source has no HTTP statuses.
    pub status: Option<[u64; 4]>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub latency_count: u64,
}

impl TimelineRow {
    fn new(
        source: &str,
        bucket_start: Option<Micros>,
        bucket_secs: u64,
        b: &BucketStats,
        has_status: bool,
    ) -> TimelineRow {
        TimelineRow {
            source: source.to_string(),
            bucket_start,
            bucket_seconds: bucket_secs,
            records: b.records,
            bytes: b.bytes,
            errors: b.errors,
            status: has_status.then_some(b.status),
            p50_ms: b.latency.quantile(0.5),
            p90_ms: b.latency.quantile(0.9),
            p99_ms: b.latency.quantile(0.99),
            latency_count: b.latency.count(),
        }
    }
}

/// The rows of every source: in the given source order, then by bucket start, the source's
/// untimed row (if any) last. Made one at a time: a long bundle has hundreds of thousands
/// of buckets, and the table is written a slice of rows at a time. An error: a source's
/// written-out buckets could not be read back.
pub fn timeline_rows<'a>(
    sources: &'a [(&'a str, &'a Timeline)],
    bucket_secs: u64,
) -> impl Iterator<Item = Result<TimelineRow, String>> + 'a {
    sources.iter().flat_map(move |&(name, t)| {
        let has_status = t.has_status();
        t.buckets()
            .map(move |bucket| {
                let (s, b) = bucket.map_err(|e| format!("timeline of {name}: {e}"))?;
                Ok(TimelineRow::new(name, Some(s), bucket_secs, &b, has_status))
            })
            .chain(
                t.untimed()
                    .map(|u| Ok(TimelineRow::new(name, None, bucket_secs, u, has_status))),
            )
    })
}

pub fn timeline_batch(rows: &[TimelineRow]) -> Result<arrow_array::RecordBatch, String> {
    let class = |i: usize| rows.iter().map(move |r| r.status.map(|s| s[i]));
    table::batch(vec![
        Column::utf8("source", rows.iter().map(|r| Some(r.source.as_str()))),
        Column::timestamp("bucket_start", rows.iter().map(|r| r.bucket_start))
            .layout(Layout::Rising),
        Column::u64(
            "bucket_seconds",
            rows.iter().map(|r| Some(r.bucket_seconds)),
        ),
        Column::u64("records", rows.iter().map(|r| Some(r.records))),
        Column::u64("bytes", rows.iter().map(|r| Some(r.bytes))),
        Column::u64("errors", rows.iter().map(|r| Some(r.errors))),
        Column::u64("status_2xx", class(0)),
        Column::u64("status_3xx", class(1)),
        Column::u64("status_4xx", class(2)),
        Column::u64("status_5xx", class(3)),
        Column::f64("p50_ms", rows.iter().map(|r| r.p50_ms)),
        Column::f64("p90_ms", rows.iter().map(|r| r.p90_ms)),
        Column::f64("p99_ms", rows.iter().map(|r| r.p99_ms)),
        Column::u64("latency_count", rows.iter().map(|r| Some(r.latency_count))),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::ALPHA;
    use arrow_array::Array;
    use coroner_parse::payload::{Parsed, PayloadParser};
    use std::collections::HashMap;

    const MIN: i64 = 60 * SEC;

    /// A record: its time, its line, journald priority.
    struct Rec {
        ts: Option<Micros>,
        line: Vec<u8>,
        priority: Option<u8>,
    }

    fn access(status: u16, rt: Option<f64>) -> Vec<u8> {
        let mut l = format!(
            "192.0.2.7 - - [13/Dec/2022:18:59:01 +0000] \"GET /x HTTP/1.1\" {status} 12 \"-\" \"curl/8\""
        );
        if let Some(rt) = rt {
            l.push_str(&format!(" rt={rt:.3}"));
        }
        l.into_bytes()
    }

    fn text(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    /// Parse every record once; `Parsed` borrows the lines.
    fn parse(recs: &[Rec]) -> Vec<Parsed<'_>> {
        let mut p = PayloadParser::new(0, None);
        recs.iter()
            .map(|r| {
                if r.line.starts_with(b"192.") {
                    p.parse(&r.line).1
                } else {
                    Parsed::Text
                }
            })
            .collect()
    }

    fn events<'a, 'p>(recs: &'a [Rec], parsed: &'p [Parsed<'a>]) -> Vec<Event<'a, 'p>> {
        let mut offset = 0;
        recs.iter()
            .zip(parsed)
            .map(|(r, p)| {
                let e = Event {
                    ts: r.ts,
                    offset,
                    len: r.line.len() as u64 + 1,
                    message: &r.line,
                    parsed: p,
                    request: p.request(),
                    priority: r.priority,
                    ident: b"",
                };
                offset += e.len;
                e
            })
            .collect()
    }

    fn rows(sources: &[(&str, &Timeline)], bucket_secs: u64) -> Vec<TimelineRow> {
        timeline_rows(sources, bucket_secs)
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn fold(events: &[Event], bucket_secs: u64) -> Timeline {
        let mut t = Timeline::default();
        for e in events {
            t.observe(e, bucket_secs);
        }
        t
    }

    /// Deterministic mixed records over ~10 minutes around 2022-12-13T18:59, some untimed.
    fn synthetic(n: usize) -> Vec<Rec> {
        let base = 1_670_957_941 * SEC;
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..n)
            .map(|i| {
                let r = next();
                let ts = (r % 11 != 0).then(|| base + (r % (600 * SEC as u64)) as i64);
                let (line, priority) = match r % 5 {
                    0 => (
                        text(&format!("worker {i} said hello")),
                        Some((r >> 8) as u8 % 8),
                    ),
                    1 => (text("no priority here"), None),
                    _ => {
                        let status = [101, 200, 200, 204, 301, 304, 404, 499, 500, 502, 504]
                            [(r >> 20) as usize % 11];
                        let rt = (r >> 30) % 3 != 0;
                        (
                            access(status, rt.then(|| ((r >> 40) % 5000) as f64 / 1000.0)),
                            None,
                        )
                    }
                };
                Rec { ts, line, priority }
            })
            .collect()
    }

    #[test]
    fn counts_equal_a_direct_count() {
        let recs = synthetic(3000);
        let parsed = parse(&recs);
        let evs = events(&recs, &parsed);
        let t = fold(&evs, 60);
        let rows = rows(&[("a.log", &t)], 60);

        // Direct count, keyed like the rows (None = untimed).
        #[derive(Default)]
        struct Direct {
            records: u64,
            bytes: u64,
            errors: u64,
            status: [u64; 4],
            lat: Vec<f64>,
        }
        let mut direct: HashMap<Option<i64>, Direct> = HashMap::new();
        for (r, e) in recs.iter().zip(&evs) {
            let key = r.ts.map(|ts| ts.div_euclid(MIN) * MIN);
            let d = direct.entry(key).or_default();
            d.records += 1;
            d.bytes += r.line.len() as u64 + 1;
            let line = std::str::from_utf8(&r.line).unwrap();
            let is_access = line.starts_with("192.");
            let status: Option<u16> = is_access.then(|| line[61..64].parse().unwrap());
            if r.priority.is_some_and(|p| p <= 3) || status.is_some_and(|s| s >= 500) {
                d.errors += 1;
            }
            if let Some(s @ 200..=599) = status {
                d.status[s as usize / 100 - 2] += 1;
            }
            if let Some(i) = line.find(" rt=") {
                d.lat.push(line[i + 4..].parse::<f64>().unwrap() * 1000.0);
            }
            // The parser agrees with the hand count (guards the test itself).
            assert_eq!(e.status(), status, "{line}");
        }
        assert_eq!(rows.len(), direct.len());
        assert!(direct.contains_key(&None) && direct.len() > 5);
        let mut prev = None;
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row.source, "a.log");
            assert_eq!(row.bucket_seconds, 60);
            if row.bucket_start.is_none() {
                assert_eq!(i, rows.len() - 1, "untimed row last");
            } else {
                assert!(row.bucket_start > prev, "ascending");
                prev = row.bucket_start;
            }
            let d = &direct[&row.bucket_start];
            assert_eq!(
                (row.records, row.bytes, row.errors, row.status),
                (d.records, d.bytes, d.errors, Some(d.status)),
                "bucket {:?}",
                row.bucket_start
            );
            assert_eq!(row.latency_count, d.lat.len() as u64);
            let mut lat = d.lat.clone();
            lat.sort_by(f64::total_cmp);
            for (q, got) in [(0.5, row.p50_ms), (0.9, row.p90_ms), (0.99, row.p99_ms)] {
                if lat.is_empty() {
                    assert_eq!(got, None);
                    continue;
                }
                let rank = ((q * lat.len() as f64).ceil() as usize).max(1);
                let x = lat[rank - 1];
                let got = got.unwrap();
                if x <= crate::sketch::ZERO_MAX {
                    assert_eq!(got, 0.0);
                } else {
                    assert!(
                        (got - x).abs() <= ALPHA * x * (1.0 + 1e-9),
                        "q={q}: {got} vs {x}"
                    );
                }
            }
        }
        // Rows add up to the source's totals.
        let total_bytes: u64 = recs.iter().map(|r| r.line.len() as u64 + 1).sum();
        assert_eq!(
            rows.iter().map(|r| r.records).sum::<u64>(),
            recs.len() as u64
        );
        assert_eq!(rows.iter().map(|r| r.bytes).sum::<u64>(), total_bytes);
        // The report accessor agrees with the rows.
        let strip: Vec<_> = t.errors_per_bucket().collect();
        let timed: Vec<_> = rows
            .iter()
            .filter_map(|r| Some((r.bucket_start?, r.records, r.errors)))
            .collect();
        assert_eq!(strip, timed);
    }

    #[test]
    fn merge_of_chunks_equals_single_pass() {
        let recs = synthetic(2000);
        let parsed = parse(&recs);
        let evs = events(&recs, &parsed);
        let whole = fold(&evs, 30);
        for chunks in [1, 2, 3, 7, 64] {
            let size = evs.len().div_ceil(chunks);
            let parts = || evs.chunks(size).map(|c| fold(c, 30));
            let mut fwd = Timeline::default();
            for p in parts() {
                fwd.merge(p);
            }
            let mut rev = Timeline::default();
            for p in parts().rev() {
                rev.merge(p);
            }
            assert_eq!(fwd, whole, "{chunks} chunks");
            assert_eq!(rev, whole, "{chunks} chunks, reversed");
            assert_eq!(rows(&[("s", &rev)], 30), rows(&[("s", &whole)], 30));
        }
    }

    /// A timeline that keeps few buckets in memory writes the rest out and reads them back:
    /// its rows are those of one that keeps them all, for records in any order (the
    /// synthetic ones are shuffled in time), split in chunks merged either way round. The
    /// map never holds more than its bound.
    #[test]
    fn buckets_written_out_read_back_as_kept() {
        let recs = synthetic(3000);
        let parsed = parse(&recs);
        let evs = events(&recs, &parsed);
        for bucket_secs in [1, 7, 30] {
            let whole = fold(&evs, bucket_secs);
            assert!(whole.spilled.is_none());
            let expected = rows(&[("s", &whole)], bucket_secs);
            for held in [2, 3, 16, 100] {
                let mut t = Timeline::with_held(held);
                for e in &evs {
                    t.observe(e, bucket_secs);
                    assert!(t.held() <= held);
                }
                let buckets = expected.len() - 1;
                assert_eq!(t.spilled.is_some(), buckets > held, "{held} of {buckets}");
                assert_eq!(rows(&[("s", &t)], bucket_secs), expected, "held {held}");
                assert_eq!(t, whole);
                assert_eq!(t.lost(), 0);
                let starts: Vec<Micros> = expected.iter().filter_map(|r| r.bucket_start).collect();
                let span = (starts[0], starts[starts.len() - 1]);
                assert_eq!(t.span(), Some(span));
                assert_eq!(whole.span(), Some(span));
                for chunks in [2, 9] {
                    let size = evs.len().div_ceil(chunks);
                    let part = |c: &[Event]| {
                        let mut p = Timeline::with_held(held);
                        for e in c {
                            p.observe(e, bucket_secs);
                        }
                        p.settle();
                        p
                    };
                    let mut fwd = Timeline::with_held(held);
                    let mut rev = Timeline::with_held(held);
                    for p in evs.chunks(size).map(part) {
                        fwd.merge(p);
                        assert!(fwd.held() <= held);
                    }
                    for p in evs.chunks(size).rev().map(part) {
                        rev.merge(p);
                    }
                    assert_eq!(rows(&[("s", &fwd)], bucket_secs), expected);
                    assert_eq!(rows(&[("s", &rev)], bucket_secs), expected);
                    assert_eq!((fwd.span(), rev.span()), (Some(span), Some(span)));
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Records in a random order of time over a random span, a random bound: the rows of
        /// the bounded timeline are those of the unbounded one, and it holds no more
        /// buckets than its bound.
        #[test]
        fn any_order_any_bound_gives_the_same_rows(
            times in proptest::collection::vec(0i64..5_000, 1..400),
            held in 2usize..24,
            bucket_secs in 1u64..20,
        ) {
            let recs: Vec<Rec> = times
                .iter()
                .enumerate()
                .map(|(i, &t)| Rec {
                    ts: Some(1_670_957_941 * SEC + t * SEC),
                    line: access([200, 404, 502][i % 3], Some((t % 977) as f64)),
                    priority: None,
                })
                .collect();
            let parsed = parse(&recs);
            let evs = events(&recs, &parsed);
            let whole = fold(&evs, bucket_secs);
            let mut t = Timeline::with_held(held);
            for e in &evs {
                t.observe(e, bucket_secs);
                proptest::prop_assert!(t.held() <= held);
            }
            proptest::prop_assert_eq!(rows(&[("s", &t)], bucket_secs), rows(&[("s", &whole)], bucket_secs));
        }
    }

    #[test]
    fn bucket_boundaries_and_times_before_1970() {
        let recs: Vec<Rec> = [
            0,
            MIN - 1,
            MIN,
            -1,
            -MIN,
            -MIN - 1,
            1_670_957_940 * SEC, // 18:59:00.000000, exactly a minute start
            1_670_957_999 * SEC + 999_999,
        ]
        .into_iter()
        .map(|ts| Rec {
            ts: Some(ts),
            line: text("x"),
            priority: None,
        })
        .collect();
        let parsed = parse(&recs);
        let t = fold(&events(&recs, &parsed), 60);
        let starts: Vec<(Micros, u64)> = t
            .buckets()
            .map(|b| b.map(|(s, b)| (s, b.records)))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            starts,
            vec![
                (-2 * MIN, 1),
                (-MIN, 2),
                (0, 2),
                (MIN, 1),
                (1_670_957_940 * SEC, 2)
            ]
        );
        assert_eq!(bucket_start(-1, 1), -SEC);
        assert_eq!(bucket_start(i64::MIN, 60), i64::MIN);
        assert_eq!(bucket_start(i64::MAX, 60) % MIN, 0);
        // A zero bucket width is taken as 1 s rather than dividing by zero.
        assert_eq!(bucket_start(1_500_000, 0), SEC);
    }

    #[test]
    fn untimed_row_and_batch_columns() {
        let recs = vec![
            Rec {
                ts: None,
                line: text("no time at all"),
                priority: Some(2),
            },
            Rec {
                ts: Some(5 * SEC),
                line: text("timed"),
                priority: None,
            },
            Rec {
                ts: None,
                line: text("also untimed"),
                priority: None,
            },
        ];
        let parsed = parse(&recs);
        let plain = fold(&events(&recs, &parsed), 60);
        assert!(!plain.has_status());
        assert_eq!(plain.untimed().map(|u| (u.records, u.errors)), Some((2, 1)));

        let web_recs = vec![
            Rec {
                ts: Some(61 * SEC),
                line: access(101, None),
                priority: None,
            },
            Rec {
                ts: Some(62 * SEC),
                line: access(503, Some(0.25)),
                priority: None,
            },
            Rec {
                ts: Some(63 * SEC),
                line: access(302, Some(0.0)),
                priority: None,
            },
        ];
        let web_parsed = parse(&web_recs);
        let web = fold(&events(&web_recs, &web_parsed), 60);
        assert!(web.untimed().is_none());

        let rows = rows(&[("web", &web), ("plain", &plain)], 60);
        assert_eq!(
            rows.iter()
                .map(|r| (r.source.as_str(), r.bucket_start, r.records))
                .collect::<Vec<_>>(),
            vec![
                ("web", Some(MIN), 3),
                ("plain", Some(0), 1),
                ("plain", None, 2)
            ]
        );
        // 101 counts in no class; 302 and 503 do.
        assert_eq!(rows[0].status, Some([0, 1, 0, 1]));
        assert_eq!((rows[0].errors, rows[0].latency_count), (1, 2));
        assert_eq!(rows[0].p50_ms, Some(0.0)); // rank 1 of [0, 250]
        let p99 = rows[0].p99_ms.unwrap();
        assert!((p99 - 250.0).abs() <= 2.5, "{p99}");
        assert_eq!(rows[2].bytes, 15 + 13);

        let b = timeline_batch(&rows).unwrap();
        let names: Vec<String> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            [
                "source",
                "bucket_start",
                "bucket_seconds",
                "records",
                "bytes",
                "errors",
                "status_2xx",
                "status_3xx",
                "status_4xx",
                "status_5xx",
                "p50_ms",
                "p90_ms",
                "p99_ms",
                "latency_count"
            ]
        );
        assert_eq!(b.num_rows(), 3);
        // Untimed row: null start. Plain source: null statuses and percentiles.
        assert!(!b.column(1).is_null(1) && b.column(1).is_null(2));
        for col in [6, 7, 8, 9, 10, 11, 12] {
            assert!(b.column(col).is_valid(0), "column {col} of web");
            assert!(
                b.column(col).is_null(1) && b.column(col).is_null(2),
                "column {col}"
            );
        }
        assert_eq!(
            b.schema().field(1).data_type(),
            &arrow_schema::DataType::Timestamp(
                arrow_schema::TimeUnit::Microsecond,
                Some("UTC".into())
            )
        );
    }
}
