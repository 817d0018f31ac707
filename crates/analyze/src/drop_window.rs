//! `drops.parquet` in bounded memory: the attribution of [`crate::drops`] run over the ends
//! in time order, holding only a window of them.
//!
//! The reference ([`crate::drops::drops`]) takes every end at once: all `dispatch` anchors
//! first (each claiming the closest Traefik/nginx end and cloudflared failure), then the
//! Traefik/nginx anchors left (claiming a cloudflared failure), then streaming anchors, then
//! the cloudflared failures nobody claimed. At 50 GB that is tens of millions of ends in
//! memory. But no claim reaches further than the skew plus a second (whole-second stamps
//! are read as the middle of their second, with half a second of slack), so each pass can
//! run a fixed time behind the one before it, and an end can be let go a fixed time after
//! the last pass went by:
//!
//! ```text
//!  time ──────────────────────────────────────────────────────────────────────> frontier F
//!  evicted │  edge-only pass  │  Traefik/nginx + streaming pass  │ dispatch pass │ read
//!        F-4M               F-3M                                F-2M            F-M
//! ```
//!
//! With `M = 2 x skew + 2 s`, an anchor is taken only once every end it may claim has been
//! read and every earlier pass that may claim the same ends is done with them; a claim it
//! makes cannot take an end from a pass behind it. So each pass sees exactly the state the
//! reference's pass sees, and the rows are the same (tested on random ends against the
//! reference). Memory: the ends of 4M of time (16 s at the default skew), the drops of
//! the last 3M waiting to be written in order, and the run's rows in a [`Spill`].

use std::collections::{BTreeSet, VecDeque};

use coroner_parse::timestamp::Micros;

use crate::drops::{
    BurstSeconds, DropContext, DropRow, EndKey, MarkerSeconds, VERDICT_NAMES, proxy_score, refused,
    verdict,
};
use crate::sockets::Layer;
use crate::spill::{Reader, Record, Spill};

/// An [`EndKey`] ordered as the reference orders ends: by time, then by place in the run.
#[derive(Clone, Copy, Debug)]
pub struct ByTime(pub EndKey);

impl PartialEq for ByTime {
    fn eq(&self, other: &ByTime) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for ByTime {}

impl PartialOrd for ByTime {
    fn partial_cmp(&self, other: &ByTime) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ByTime {
    fn cmp(&self, other: &ByTime) -> std::cmp::Ordering {
        (self.0.ts, self.0.ord).cmp(&(other.0.ts, other.0.ord))
    }
}

impl Record for ByTime {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }

    fn decode(r: &mut Reader<'_>) -> Option<ByTime> {
        EndKey::decode(r).map(ByTime)
    }
}

/// One end in the window, and whether a drop row took it.
struct Slot {
    key: EndKey,
    used: bool,
}

/// The ends of some layers in time order, and the next one its pass takes as an anchor.
#[derive(Default)]
struct Pool {
    slots: VecDeque<Slot>,
    next: usize,
}

impl Pool {
    /// The slots with `lo <= ts <= hi`, as a range of indices.
    fn between(&self, lo: Micros, hi: Micros) -> std::ops::Range<usize> {
        let start = self.slots.partition_point(|s| s.key.ts < lo);
        let end = self.slots.partition_point(|s| s.key.ts <= hi);
        start..end.max(start)
    }

    /// The unused end close to `at` with the lowest `score` (then the earliest in the
    /// run): the reference's `closest`.
    fn closest(&self, at: Micros, skew: i64, score: impl Fn(&EndKey) -> f64) -> Option<usize> {
        let range = self.between(
            at.saturating_sub(skew).saturating_sub(1_000_000),
            at.saturating_add(skew),
        );
        let mut best: Option<(f64, u64, usize)> = None;
        for i in range {
            let s = &self.slots[i];
            if s.used || !s.key.near(at, skew) {
                continue;
            }
            let sc = score(&s.key);
            let better = match best {
                None => true,
                Some((b, ord, _)) => sc.total_cmp(&b).then(s.key.ord.cmp(&ord)).is_lt(),
            };
            if better {
                best = Some((sc, s.key.ord, i));
            }
        }
        best.map(|(_, _, i)| i)
    }

    /// The next anchor, if its time is before `limit` (None: no limit, the input ended).
    fn take(&mut self, limit: Option<Micros>) -> Option<usize> {
        let s = self.slots.get(self.next)?;
        if limit.is_some_and(|l| s.key.ts >= l) {
            return None;
        }
        self.next += 1;
        Some(self.next - 1)
    }

    /// Let go of the ends before `before` that this pool's pass has taken.
    fn evict(&mut self, before: Micros) {
        while self.next > 0 && self.slots.front().is_some_and(|s| s.key.ts < before) {
            self.slots.pop_front();
            self.next -= 1;
        }
    }
}

/// Where a drop waits until every drop before it exists, in the table's order
/// ([`DropRow::table_order`]).
type Pending = BTreeSet<Waiting>;

/// A drop row ordered as the table is, then by the reference's order of creation (pass,
/// anchor): two ends on one line would otherwise make two rows one key. (The evidence had
/// been the key, spelled out as a string for every drop: an allocation, and a string
/// comparison per step of the map.)
struct Waiting {
    row: DropRow,
    pass: u8,
    anchor: u64,
}

impl Ord for Waiting {
    fn cmp(&self, other: &Waiting) -> std::cmp::Ordering {
        self.row
            .table_order(&other.row)
            .then(self.pass.cmp(&other.pass))
            .then(self.anchor.cmp(&other.anchor))
    }
}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Waiting) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Waiting) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Waiting {}

/// The drop attribution of a run, fed its ends in time order ([`ByTime`]).
pub struct Attribution<'a> {
    cx: &'a DropContext<'a>,
    bursts: BurstSeconds,
    markers: MarkerSeconds,
    /// The bundle has dispatch or Traefik/nginx ends with a time (see `verdict`).
    others: bool,
    /// The window's unit, `2 x skew + 2 s`.
    margin: i64,
    dispatch: Pool,
    proxies: Pool,
    edge: Pool,
    streaming: Pool,
    /// The time of the last end read.
    frontier: Option<Micros>,
    pending: Pending,
    rows: DropSink,
    verdicts: [u64; VERDICT_NAMES.len()],
}

/// Where the attribution's rows go, in the table's order, as each becomes final.
pub enum DropSink {
    /// Kept for the caller to read after [`Attribution::finish`] (in memory, past a few
    /// thousand in a temporary file).
    Spill(Spill<DropRow>),
    /// Handed in batches to a writer on another thread: `drops.parquet` is written while
    /// the attribution runs, not after it (where it had been the run's last few seconds,
    /// on one core). A batch the writer no longer takes (it failed) is counted lost.
    Channel {
        tx: crossbeam_channel::Sender<Vec<DropRow>>,
        batch: Vec<DropRow>,
        lost: u64,
    },
}

impl DropSink {
    /// Rows per batch sent: small enough (64 KiB) to come from the allocator's free
    /// lists; at 8,192 rows each batch was a fresh mapping, its pages faulted in and
    /// given back, a sixth of the writer's time.
    pub const BATCH: usize = 1024;

    /// A sink sending to `tx`.
    pub fn channel(tx: crossbeam_channel::Sender<Vec<DropRow>>) -> DropSink {
        DropSink::Channel {
            tx,
            batch: Vec::with_capacity(DropSink::BATCH),
            lost: 0,
        }
    }

    fn push(&mut self, row: DropRow) {
        match self {
            DropSink::Spill(spill) => spill.push(row),
            DropSink::Channel { batch, .. } => {
                batch.push(row);
                if batch.len() >= DropSink::BATCH {
                    self.send();
                }
            }
        }
    }

    fn send(&mut self) {
        if let DropSink::Channel { tx, batch, lost } = self
            && !batch.is_empty()
        {
            let full = std::mem::replace(batch, Vec::with_capacity(DropSink::BATCH));
            let n = full.len() as u64;
            if tx.send(full).is_err() {
                *lost += n;
            }
        }
    }

    /// The rows kept (none when sent), with the count of rows sent but not taken.
    fn finish(mut self) -> Spill<DropRow> {
        self.send();
        match self {
            DropSink::Spill(spill) => spill,
            DropSink::Channel { lost, .. } => {
                let mut spill = Spill::default();
                if lost > 0 {
                    spill.note_lost(lost, "the drops.parquet writer stopped".to_string());
                }
                spill
            }
        }
    }
}

impl<'a> Attribution<'a> {
    /// `others`: the run has dispatch or Traefik/nginx ends with a time.
    pub fn new(cx: &'a DropContext<'a>, others: bool) -> Attribution<'a> {
        Attribution {
            cx,
            bursts: BurstSeconds::new(cx.bursts),
            markers: MarkerSeconds::new(cx),
            others,
            margin: cx
                .skew_us
                .max(0)
                .saturating_mul(2)
                .saturating_add(2_000_000),
            dispatch: Pool::default(),
            proxies: Pool::default(),
            edge: Pool::default(),
            streaming: Pool::default(),
            frontier: None,
            pending: Pending::new(),
            rows: DropSink::Spill(Spill::default()),
            verdicts: [0; VERDICT_NAMES.len()],
        }
    }

    /// Send the rows to `sink` rather than keep them.
    pub fn with_sink(mut self, sink: DropSink) -> Attribution<'a> {
        self.rows = sink;
        self
    }

    /// The next end; ends come in [`ByTime`] order.
    pub fn push(&mut self, key: EndKey) {
        debug_assert!(
            self.frontier.is_none_or(|f| f <= key.ts),
            "ends out of order"
        );
        if self.frontier.is_none_or(|f| f < key.ts) {
            self.frontier = Some(key.ts);
            self.advance(Some(key.ts));
        }
        let pool = match key.layer {
            Layer::Dispatch => &mut self.dispatch,
            Layer::Traefik | Layer::Nginx => &mut self.proxies,
            Layer::Cloudflared => &mut self.edge,
            Layer::MastodonStreaming => &mut self.streaming,
        };
        pool.slots.push_back(Slot { key, used: false });
    }

    /// Every drop row kept, in the table's order (none with a channel sink: they were
    /// sent), and the rows per verdict ([`VERDICT_NAMES`]).
    pub fn finish(mut self) -> (Spill<DropRow>, [u64; VERDICT_NAMES.len()]) {
        self.advance(None);
        (self.rows.finish(), self.verdicts)
    }

    /// Run each pass as far as the frontier allows (all the way without one).
    fn advance(&mut self, frontier: Option<Micros>) {
        let margin = self.margin;
        let behind = |n: i64| frontier.map(|f| f.saturating_sub(margin.saturating_mul(n)));
        let (limit1, limit2, limit3) = (behind(1), behind(2), behind(3));
        while let Some(d) = self.dispatch.take(limit1) {
            self.dispatch_anchor(d);
        }
        while let Some(p) = self.proxies.take(limit2) {
            self.proxy_anchor(p);
        }
        while let Some(s) = self.streaming.take(limit2) {
            let key = self.streaming.slots[s].key;
            if key.short(self.cx.short_ms) && !refused(&key) {
                self.streaming.slots[s].used = true;
                self.emit(&[key], 2);
            }
        }
        while let Some(c) = self.edge.take(limit3) {
            self.edge_only(c);
        }
        // Every drop before the slowest pass exists: write those in order.
        while self
            .pending
            .first()
            .is_some_and(|first| limit3.is_none_or(|l| first.row.ts < l))
        {
            let row = self.pending.pop_first().expect("a first one was seen").row;
            self.verdicts[row.verdict_index()] += 1;
            self.rows.push(row);
        }
        if let Some(before) = behind(4) {
            for pool in [
                &mut self.dispatch,
                &mut self.proxies,
                &mut self.edge,
                &mut self.streaming,
            ] {
                pool.evict(before);
            }
        }
    }

    /// A short dispatch end: claims the closest Traefik/nginx end (by end time and
    /// duration) and the closest cloudflared failure.
    fn dispatch_anchor(&mut self, d: usize) {
        let key = self.dispatch.slots[d].key;
        if !key.short(self.cx.short_ms) || self.dispatch.slots[d].used {
            return;
        }
        self.dispatch.slots[d].used = true;
        let mut group = vec![key];
        let dur = key.duration_ms.unwrap_or(0.0);
        let skew = self.cx.skew_us;
        if let Some(p) = self
            .proxies
            .closest(key.ts, skew, |k| proxy_score(k, key.ts, dur))
        {
            self.proxies.slots[p].used = true;
            group.push(self.proxies.slots[p].key);
        }
        if let Some(c) = self
            .edge
            .closest(key.ts, skew, |k| (k.mid() - key.ts).abs() as f64)
        {
            self.edge.slots[c].used = true;
            group.push(self.edge.slots[c].key);
        }
        self.emit(&group, 0);
    }

    /// A short Traefik/nginx end no dispatch end took: claims a cloudflared failure.
    fn proxy_anchor(&mut self, p: usize) {
        let key = self.proxies.slots[p].key;
        if !key.short(self.cx.short_ms) || self.proxies.slots[p].used || refused(&key) {
            return;
        }
        self.proxies.slots[p].used = true;
        let mut group = vec![key];
        let at = key.mid();
        if let Some(c) = self
            .edge
            .closest(at, self.cx.skew_us, |k| (k.mid() - at).abs() as f64)
        {
            self.edge.slots[c].used = true;
            group.push(self.edge.slots[c].key);
        }
        self.emit(&group, 1);
    }

    /// A cloudflared failure nobody took: a drop seen only at the edge, unless another
    /// layer's end (of any length) is close.
    fn edge_only(&mut self, c: usize) {
        let key = self.edge.slots[c].key;
        if self.edge.slots[c].used {
            return;
        }
        let skew = self.cx.skew_us;
        let at = key.mid();
        let (lo, hi) = (
            at.saturating_sub(skew).saturating_sub(1_000_000),
            at.saturating_add(skew).saturating_add(1_000_000),
        );
        let seen_elsewhere = [&self.dispatch, &self.proxies, &self.streaming]
            .iter()
            .any(|pool| {
                pool.between(lo, hi).any(|i| {
                    let k = &pool.slots[i].key;
                    (k.mid() - at).abs() <= skew + k.slack() + key.slack()
                })
            });
        if !seen_elsewhere {
            self.edge.slots[c].used = true;
            self.emit(&[key], 3);
        }
    }

    fn emit(&mut self, group: &[EndKey], pass: u8) {
        let Some(first) = group.first() else { return };
        let marker = self.markers.near(self.cx, first.ts);
        if let Some(row) = verdict(group, self.cx, &self.bursts, marker, self.others) {
            let anchor = first.ord;
            self.pending.insert(Waiting { row, pass, anchor });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bursts::{BurstCounts, BurstRow};
    use crate::drops::{Drop, drops};
    use crate::sockets::{SocketEnd, SocketRow};
    use proptest::prelude::*;

    const S: i64 = 1_000_000;

    /// The window's rows for `ends` (sources by `source`, in the order given).
    fn windowed(ends: &[(&str, SocketEnd)], cx: &DropContext) -> Vec<Drop> {
        let mut names: Vec<&str> = Vec::new();
        let mut keys = Vec::new();
        for (ord, (source, end)) in ends.iter().enumerate() {
            if names.last() != Some(source) {
                names.push(source);
            }
            if let Some(k) = EndKey::of(&end.view(), ord as u64, names.len() as u32 - 1) {
                keys.push(ByTime(k));
            }
        }
        let others = keys
            .iter()
            .any(|k| matches!(k.0.layer, Layer::Dispatch | Layer::Traefik | Layer::Nginx));
        keys.sort();
        let mut a = Attribution::new(cx, others);
        // The same attribution handing its rows to a channel, as the report's writer
        // takes them: the same rows, in the same order.
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut sent = Attribution::new(cx, others).with_sink(DropSink::channel(tx));
        for k in keys {
            a.push(k.0);
            sent.push(k.0);
        }
        let (rows, verdicts) = a.finish();
        let rows: Vec<Drop> = rows.iter().map(|r| r.unwrap().render(&names)).collect();
        assert_eq!(verdicts.iter().sum::<u64>(), rows.len() as u64);
        let (kept, sent_verdicts) = sent.finish();
        assert!(kept.is_empty() && kept.lost() == 0);
        assert_eq!(sent_verdicts, verdicts);
        let sent: Vec<Drop> = rx.into_iter().flatten().map(|r| r.render(&names)).collect();
        assert_eq!(sent, rows);
        rows
    }

    fn reference(ends: &[(&str, SocketEnd)], cx: &DropContext) -> Vec<Drop> {
        let rows: Vec<SocketRow> = ends
            .iter()
            .map(|(source, end)| SocketRow { source, end })
            .collect();
        drops(&rows, cx)
    }

    fn end(layer: u8, ts: i64, dur: Option<u32>, cause: u8, status: Option<u16>) -> SocketEnd {
        let layer = Layer::from_u8(layer % 5).unwrap();
        SocketEnd {
            ts: Some(ts),
            layer,
            duration_ms: dur.map(f64::from),
            cause: ["downstream_closed", "upstream_closed", "graceful", "closed"]
                [usize::from(cause % 4)]
            .into(),
            client: None,
            path: None,
            status,
            offset: ts as u64,
        }
    }

    /// Ends crowded into a few seconds (so claims compete), with whole-second and odd
    /// stamps, every layer, short and long, and gaps long enough to evict.
    fn ends() -> impl Strategy<Value = Vec<(&'static str, SocketEnd)>> {
        proptest::collection::vec(
            (
                0u8..5,
                prop_oneof![0i64..8, 20i64..24, 100i64..102],
                prop_oneof![Just(0i64), 0i64..S, Just(S / 2)],
                proptest::option::of(prop_oneof![0u32..3000, 100_000u32..200_000]),
                0u8..4,
                proptest::option::of(prop_oneof![Just(101u16), Just(200), Just(502)]),
                proptest::bool::ANY,
            )
                .prop_map(|(layer, sec, us, dur, cause, status, second_source)| {
                    (
                        if second_source { "b" } else { "a" },
                        end(layer, sec * S + us, dur, cause, status),
                    )
                }),
            0..60,
        )
        .prop_map(|mut v| {
            // Sources in order, each in arrival order, as a run gives them.
            v.sort_by_key(|(s, _)| *s);
            v
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
        /// The window gives exactly the reference's rows, in the same order.
        #[test]
        fn the_window_equals_the_reference(
            ends in ends(),
            skew_ms in prop_oneof![Just(1000i64), 0i64..3000],
            cloudflared_present in proptest::bool::ANY,
            marker_at in proptest::option::of(0i64..10),
            burst_at in proptest::option::of(0i64..10),
        ) {
            let mut counts = BurstCounts::default();
            if let Some(s) = marker_at {
                counts.add(1, s * S);
            }
            let bursts: Vec<BurstRow> = burst_at
                .map(|s| BurstRow {
                    source: "*".into(),
                    signature: "x".into(),
                    start: s * S,
                    end: (s + 1) * S,
                    seconds: 1,
                    events: 5,
                    peak: 5,
                    threshold: 5,
                })
                .into_iter()
                .collect();
            let cx = DropContext {
                short_ms: 120_000.0,
                skew_us: skew_ms * 1000,
                bursts: &bursts,
                counts: &counts,
                markers: &[1],
                cloudflared_present,
            };
            prop_assert_eq!(windowed(&ends, &cx), reference(&ends, &cx));
        }
    }

    /// No bursts or markers, `--short-ms` and `--skew` at their defaults.
    fn plain_cx(counts: &BurstCounts, cloudflared_present: bool) -> DropContext<'_> {
        DropContext {
            short_ms: 120_000.0,
            skew_us: S,
            bursts: &[],
            counts,
            markers: &[],
            cloudflared_present,
        }
    }

    /// Rows at the same time come by source (in `sources.parquet` order), then by offset as
    /// a number: `a@99` before `a@100` (text order would have it the other way round).
    #[test]
    fn rows_at_one_time_are_in_source_then_offset_order() {
        let counts = BurstCounts::default();
        let cx = plain_cx(&counts, false);
        let at = |offset: u64| SocketEnd {
            offset,
            ..end(4, 5 * S, Some(500), 0, None)
        };
        let ends = [("a", at(100)), ("a", at(99)), ("b", at(7))];
        let want = ["a@99", "a@100", "b@7"];
        for rows in [windowed(&ends, &cx), reference(&ends, &cx)] {
            let got: Vec<&str> = rows.iter().map(|d| &*d.evidence).collect();
            assert_eq!(got, want);
        }
    }

    /// Ends hours apart go through the window one at a time: what is let go is never
    /// needed again, and a long run holds a few ends, not all of them.
    #[test]
    fn the_window_lets_old_ends_go() {
        let counts = BurstCounts::default();
        let cx = plain_cx(&counts, true);
        let mut a = Attribution::new(&cx, true);
        let mut most = 0;
        for i in 0..10_000i64 {
            let k =
                EndKey::of(&end(3, i * 60 * S, Some(500), 0, None).view(), i as u64, 0).unwrap();
            a.push(k);
            most = most.max(a.dispatch.slots.len());
        }
        assert!(most <= 2, "{most} ends held");
        let (rows, verdicts) = a.finish();
        assert_eq!(rows.len(), 10_000);
        // Sent in batches (more than one), to a writer that stops after the first: the
        // rest are counted lost, not waited on.
        let (tx, rx) = crossbeam_channel::bounded(1);
        let mut sent = Attribution::new(&cx, true).with_sink(DropSink::channel(tx));
        let taker = std::thread::spawn(move || rx.recv().map(|b: Vec<DropRow>| b.len()));
        for i in 0..10_000i64 {
            let k =
                EndKey::of(&end(3, i * 60 * S, Some(500), 0, None).view(), i as u64, 0).unwrap();
            sent.push(k);
        }
        let first = taker.join().unwrap().unwrap();
        let (kept, _) = sent.finish();
        assert_eq!(first as u64 + kept.lost(), 10_000);
        assert!(kept.error().is_some_and(|e| e.contains("drops.parquet")));
        assert_eq!(verdicts[4], 10_000, "all last_mile: {verdicts:?}");
    }
}
