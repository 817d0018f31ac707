//! `drops.parquet`: each short connection, lined up across the layers that saw it end,
//! and the verdict of the t3 drop-attribution runbook: which segment dropped it.
//!
//! Lining up (within `--skew`, default 1 s, of the anchor's end):
//! 1. Every short (`< --short-ms`) `dispatch` end is an anchor. It takes the Traefik/nginx
//!    end closest in (end time + duration), and the closest cloudflared failure.
//! 2. Short Traefik/nginx ends left over are anchors of their own (with a cloudflared
//!    failure if one is close), then short streaming ends.
//! 3. A cloudflared failure left over, with no other layer's end (of any length) within the
//!    skew, is a drop seen only at the edge.
//!
//! Verdicts, first rule that applies:
//! - `serve_stall`: `upstream_closed` at dispatch, or a serve-side marker (`connection reset
//!   by peer`, `connection refused`, `upstream timed out`, `no live upstreams`) in any
//!   source within the skew, or a WebSocket handshake answered 5xx with such a marker.
//! - `traefik_or_dispatch`: Traefik (or nginx) and dispatch ended it together while
//!   cloudflared, present in the bundle, logged no failure for it; or a handshake answered
//!   5xx with no serve-side marker.
//! - `last_mile`: `downstream_closed` at dispatch (or a proxy-only end that cloudflared saw
//!   end abruptly) with no serve-side sign: the client's network went away.
//! - `cloudflare_edge`: only cloudflared saw it fail while the other layers are in the
//!   bundle.
//! - `unknown`: anything else (e.g. a bundle with one layer only).
//!
//! A burst (`*` row of bursts.parquet) covering the drop's second appends `+burst`: many
//! connections died in that second, a shared cause rather than one user's network.
//! A short `graceful` close is a user closing a tab, not a drop: it gets no row.

use coroner_parse::timestamp::Micros;

use crate::bursts::{BurstCounts, BurstRow};
use crate::digits::push_decimal_str;
use crate::sockets::{EndView, Layer, SocketRow};
use crate::spill::{self, Reader, Record};
use crate::table::{self, Column, Layout};

/// Indices (into the run's burst signatures) of the serve-side markers.
pub const SERVE_MARKERS: [&str; 4] = [
    "connection reset by peer",
    "connection refused",
    "upstream timed out",
    "no live upstreams",
];

/// Every verdict, each followed by the same with `+burst` (a drop row holds one of these,
/// not a copy).
pub const VERDICT_NAMES: [&str; 10] = [
    "serve_stall",
    "serve_stall+burst",
    "traefik_or_dispatch",
    "traefik_or_dispatch+burst",
    "last_mile",
    "last_mile+burst",
    "cloudflare_edge",
    "cloudflare_edge+burst",
    "unknown",
    "unknown+burst",
];

/// One row of `drops.parquet` as written: evidence spelled out.
#[derive(Clone, Debug, PartialEq)]
pub struct Drop {
    pub ts: Option<Micros>,
    pub duration_ms: Option<f64>,
    pub verdict: &'static str,
    /// Layers that saw it (bit `1 << layer as u8`); [`Drop::layers`] spells them out.
    pub layer_set: u8,
    /// `source@offset` of each line, `; `-separated.
    pub evidence: Box<str>,
}

impl Drop {
    /// Layers that saw it, comma-separated in path order (edge first).
    pub fn layers(&self) -> String {
        layer_list(self.layer_set)
    }
}

/// The layers of a set (bit `Layer as u8`), comma-separated in path order (edge first).
fn layer_list(set: u8) -> String {
    Layer::ALL
        .iter()
        .filter(|&&l| set & (1 << l as u8) != 0)
        .map(|l| l.id())
        .collect::<Vec<_>>()
        .join(",")
}

/// A drop as attribution finds it: the lines that saw it as (source index, offset), so a
/// run with millions of drops keeps a few bytes each (spilled, see `spill.rs`) and spells
/// the evidence out only when the table is written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropRow {
    pub ts: Micros,
    pub duration_ms: Option<f64>,
    /// Index into [`VERDICT_NAMES`].
    verdict: u8,
    pub layer_set: u8,
    /// The anchor's line first; `members` of them are set.
    lines: [(u32, u64); 3],
    members: u8,
}

impl DropRow {
    pub fn verdict(&self) -> &'static str {
        VERDICT_NAMES[self.verdict_index()]
    }

    /// The verdict's index in [`VERDICT_NAMES`].
    pub fn verdict_index(&self) -> usize {
        usize::from(self.verdict)
    }

    /// The lines that saw it, anchor first: (source index, offset).
    pub fn lines(&self) -> &[(u32, u64)] {
        &self.lines[..usize::from(self.members)]
    }

    /// The table's order: by time, then by the lines (anchor first), each by source (in
    /// `sources.parquet` order) and offset. No two rows have the same lines (an end is in
    /// one row at most), so the order is total without spelling the evidence out.
    pub fn table_order(&self, other: &DropRow) -> std::cmp::Ordering {
        self.ts
            .cmp(&other.ts)
            .then_with(|| self.lines().cmp(other.lines()))
    }

    /// `source@offset` of each line, `; `-separated; `names[i]` is source `i`'s name.
    pub fn evidence(&self, names: &[&str]) -> String {
        let mut out = String::new();
        self.evidence_into(names, &mut out);
        out
    }

    /// [`DropRow::evidence`], appended to `out`.
    pub fn evidence_into(&self, names: &[&str], out: &mut String) {
        for (n, &(source, offset)) in self.lines().iter().enumerate() {
            if n > 0 {
                out.push_str("; ");
            }
            out.push_str(names.get(source as usize).copied().unwrap_or("?"));
            out.push('@');
            push_decimal_str(offset, out);
        }
    }

    pub fn render(&self, names: &[&str]) -> Drop {
        Drop {
            ts: Some(self.ts),
            duration_ms: self.duration_ms,
            verdict: self.verdict(),
            layer_set: self.layer_set,
            evidence: self.evidence(names).into_boxed_str(),
        }
    }
}

impl Record for DropRow {
    fn encode(&self, out: &mut Vec<u8>) {
        spill::put_u64(out, self.ts as u64);
        spill::put_opt_f64(out, self.duration_ms);
        out.extend_from_slice(&[self.verdict, self.layer_set, self.members]);
        for &(source, offset) in &self.lines[..usize::from(self.members)] {
            out.extend_from_slice(&source.to_le_bytes());
            spill::put_u64(out, offset);
        }
    }

    fn decode(r: &mut Reader<'_>) -> Option<DropRow> {
        let ts = r.i64()?;
        let duration_ms = spill::opt_f64(r)?;
        let (verdict, layer_set, members) = (r.u8()?, r.u8()?, r.u8()?);
        if usize::from(verdict) >= VERDICT_NAMES.len() || members > 3 {
            return None;
        }
        let mut lines = [(0, 0); 3];
        for line in &mut lines[..usize::from(members)] {
            *line = (r.u32()?, r.u64()?);
        }
        Some(DropRow {
            ts,
            duration_ms,
            verdict,
            layer_set,
            lines,
            members,
        })
    }
}

/// How a `dispatch` end was closed, the one part of its cause the verdicts read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Close {
    Graceful,
    UpstreamClosed,
    DownstreamClosed,
    Other,
}

impl Close {
    fn of(cause: &str) -> Close {
        match cause {
            "graceful" => Close::Graceful,
            "upstream_closed" => Close::UpstreamClosed,
            "downstream_closed" => Close::DownstreamClosed,
            _ => Close::Other,
        }
    }
}

/// What attribution reads of one socket end with a time: the reference ([`drops`]) and
/// the window ([`crate::drop_window`]) both line these up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EndKey {
    pub ts: Micros,
    /// The end's place among the run's ends (sources in order, each in arrival order):
    /// what orders equal times, and breaks ties between equally close candidates.
    pub ord: u64,
    pub layer: Layer,
    pub duration_ms: Option<f64>,
    pub close: Close,
    pub status: Option<u16>,
    /// The end's source (index in the run's list of sources) and its record's offset.
    pub source: u32,
    pub offset: u64,
}

impl EndKey {
    /// The key of `end` (None without a time: such an end cannot be lined up).
    pub fn of(end: &EndView, ord: u64, source: u32) -> Option<EndKey> {
        Some(EndKey {
            ts: end.ts?,
            ord,
            layer: end.layer,
            duration_ms: end.duration_ms,
            close: Close::of(end.cause),
            status: end.status,
            source,
            offset: end.offset,
        })
    }

    /// Shorter than the run's `--short-ms`.
    pub fn short(&self, short_ms: f64) -> bool {
        self.duration_ms.is_some_and(|d| d < short_ms)
    }

    /// Many logs stamp whole seconds (cloudflared's console, CLF): such a time means
    /// "somewhere in [s, s+1)", so it is compared by the middle of its second ...
    pub fn mid(&self) -> Micros {
        self.ts + self.slack()
    }

    /// ... with half a second more slack.
    pub fn slack(&self) -> Micros {
        if self.ts.rem_euclid(1_000_000) == 0 {
            500_000
        } else {
            0
        }
    }

    /// Within the skew of `at`.
    pub fn near(&self, at: Micros, skew_us: i64) -> bool {
        (self.mid() - at).abs() <= skew_us + self.slack()
    }
}

impl Record for EndKey {
    fn encode(&self, out: &mut Vec<u8>) {
        spill::put_u64(out, self.ts as u64);
        spill::put_u64(out, self.ord);
        out.extend_from_slice(&[self.layer as u8, self.close as u8]);
        spill::put_opt_f64(out, self.duration_ms);
        spill::put_opt_i64(out, self.status.map(i64::from));
        out.extend_from_slice(&self.source.to_le_bytes());
        spill::put_u64(out, self.offset);
    }

    fn decode(r: &mut Reader<'_>) -> Option<EndKey> {
        Some(EndKey {
            ts: r.i64()?,
            ord: r.u64()?,
            layer: Layer::from_u8(r.u8()?)?,
            close: match r.u8()? {
                0 => Close::Graceful,
                1 => Close::UpstreamClosed,
                2 => Close::DownstreamClosed,
                3 => Close::Other,
                _ => return None,
            },
            duration_ms: spill::opt_f64(r)?,
            status: match spill::opt_i64(r)? {
                Some(s) => Some(u16::try_from(s).ok()?),
                None => None,
            },
            source: r.u32()?,
            offset: r.u64()?,
        })
    }
}

/// What the attribution needs besides the socket ends.
pub struct DropContext<'a> {
    pub short_ms: f64,
    pub skew_us: i64,
    /// `*` rows and per-source rows of bursts.parquet (only `*` rows are used).
    pub bursts: &'a [BurstRow],
    /// Per-second counts of all sources together, and the signature indices of
    /// [`SERVE_MARKERS`] in them.
    pub counts: &'a BurstCounts,
    pub markers: &'a [usize],
    /// A cloudflared log is in the bundle (so its silence about a drop means something).
    pub cloudflared_present: bool,
}

/// The reference attribution, on every end at once in memory: the rules above as plainly
/// as they read. The run uses [`crate::drop_window`], which holds only a window of ends
/// and is tested to give exactly these rows.
pub fn drops(rows: &[SocketRow], cx: &DropContext) -> Vec<Drop> {
    let mut names: Vec<&str> = Vec::new();
    let keys: Vec<EndKey> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            if names.last() != Some(&r.source) {
                names.push(r.source);
            }
            EndKey::of(&r.end.view(), i as u64, names.len() as u32 - 1)
        })
        .collect();
    // Ends in time order (stable: source order, then arrival).
    let mut idx: Vec<usize> = (0..keys.len()).collect();
    idx.sort_by_key(|&i| keys[i].ts);
    let ts = |i: usize| keys[i].ts;
    let of = |layer: &[Layer]| -> Vec<usize> {
        idx.iter()
            .copied()
            .filter(|&i| layer.contains(&keys[i].layer))
            .collect()
    };
    let dispatch = of(&[Layer::Dispatch]);
    let proxies = of(&[Layer::Traefik, Layer::Nginx]);
    let edge = of(&[Layer::Cloudflared]);
    let streaming = of(&[Layer::MastodonStreaming]);
    let mut used = vec![false; keys.len()];
    let short = |i: usize| keys[i].short(cx.short_ms);
    let mid = |i: usize| keys[i].mid();
    let slack = |i: usize| keys[i].slack();
    let near = |i: usize, at: Micros| keys[i].near(at, cx.skew_us);
    // The unused row of `pool` close to `at` with the lowest `score`.
    let closest = |pool: &[usize], used: &[bool], at: Micros, score: &dyn Fn(usize) -> f64| {
        let lo = pool.partition_point(|&i| ts(i) < at - cx.skew_us - 1_000_000);
        pool[lo..]
            .iter()
            .copied()
            .take_while(|&i| ts(i) <= at + cx.skew_us)
            .filter(|&i| !used[i] && near(i, at))
            .min_by(|&a, &b| score(a).total_cmp(&score(b)).then(a.cmp(&b)))
    };

    let mut groups: Vec<Vec<usize>> = Vec::new();
    let bursts = BurstSeconds::new(cx.bursts);
    for &d in &dispatch {
        if !short(d) || used[d] {
            continue;
        }
        used[d] = true;
        let mut group = vec![d];
        let dur = keys[d].duration_ms.unwrap_or(0.0);
        let score = |i: usize| proxy_score(&keys[i], keys[d].ts, dur);
        if let Some(p) = closest(&proxies, &used, ts(d), &score) {
            used[p] = true;
            group.push(p);
        }
        let gap = |i: usize| (mid(i) - ts(d)).abs() as f64;
        if let Some(c) = closest(&edge, &used, ts(d), &gap) {
            used[c] = true;
            group.push(c);
        }
        groups.push(group);
    }
    for pool in [&proxies, &streaming] {
        for &p in pool.iter() {
            if !short(p) || used[p] || refused(&keys[p]) {
                continue;
            }
            used[p] = true;
            let mut group = vec![p];
            let at = mid(p);
            let gap = |i: usize| (mid(i) - at).abs() as f64;
            if keys[p].layer != Layer::MastodonStreaming
                && let Some(c) = closest(&edge, &used, at, &gap)
            {
                used[c] = true;
                group.push(c);
            }
            groups.push(group);
        }
    }
    for &c in &edge {
        if used[c] {
            continue;
        }
        // Any other layer's end (long ones too) close by: the failure belongs to it.
        let at = mid(c);
        let from = idx.partition_point(|&i| ts(i) < at - cx.skew_us - 1_000_000);
        let seen_elsewhere = idx[from..]
            .iter()
            .take_while(|&&i| ts(i) <= at + cx.skew_us + 1_000_000)
            .any(|&i| {
                keys[i].layer != Layer::Cloudflared
                    && (mid(i) - at).abs() <= cx.skew_us + slack(i) + slack(c)
            });
        if !seen_elsewhere {
            used[c] = true;
            groups.push(vec![c]);
        }
    }
    let others = !dispatch.is_empty() || !proxies.is_empty();
    let mut out: Vec<DropRow> = groups
        .iter()
        .filter_map(|group| {
            let members: Vec<EndKey> = group.iter().map(|&i| keys[i]).collect();
            let marker = marker_near(cx, members.first()?.ts);
            verdict(&members, cx, &bursts, marker, others)
        })
        .collect();
    out.sort_by(DropRow::table_order);
    out.iter().map(|d| d.render(&names)).collect()
}

/// How well a Traefik/nginx end matches a dispatch anchor ending at `at` after `dur` ms:
/// ms apart in end time plus ms apart in duration (lower is closer).
pub fn proxy_score(candidate: &EndKey, at: Micros, dur: f64) -> f64 {
    (candidate.mid() - at).abs() as f64 / 1000.0
        + (candidate.duration_ms.unwrap_or(dur) - dur).abs()
}

/// A WebSocket path answered 2xx-4xx was refused, not dropped: no row.
pub fn refused(end: &EndKey) -> bool {
    end.status.is_some_and(|s| s != 101 && s < 500)
}

/// The time covered by any `*` burst, as sorted disjoint `[start, end)` runs: a bundle can
/// hold thousands of bursts and hundreds of thousands of drops, so each drop asks with a
/// binary search instead of a pass over every burst row.
pub struct BurstSeconds {
    runs: Vec<(Micros, Micros)>,
}

impl BurstSeconds {
    pub fn new(rows: &[BurstRow]) -> BurstSeconds {
        let mut all: Vec<(Micros, Micros)> = rows
            .iter()
            .filter(|b| b.source == "*" && b.start < b.end)
            .map(|b| (b.start, b.end))
            .collect();
        all.sort_unstable();
        let mut runs: Vec<(Micros, Micros)> = Vec::with_capacity(all.len());
        for (start, end) in all {
            match runs.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => runs.push((start, end)),
            }
        }
        BurstSeconds { runs }
    }

    /// Whether some `*` burst covers `ts` (what [`BurstRow::covers`] says of any of them).
    pub fn covers(&self, ts: Micros) -> bool {
        let after = self.runs.partition_point(|&(start, _)| start <= ts);
        after > 0 && ts < self.runs[after - 1].1
    }
}

/// Whether a serve marker ([`SERVE_MARKERS`]) was logged in a second within the skew of
/// `ts`: the plain reading, a look-up per second and marker. The run asks [`MarkerSeconds`].
pub fn marker_near(cx: &DropContext, ts: Micros) -> bool {
    skew_seconds(cx, ts).any(|s| cx.counts.count_at(cx.markers, s * 1_000_000) > 0)
}

/// The Unix seconds within the skew of `ts`, the ones a serve marker near it is logged in.
fn skew_seconds(cx: &DropContext, ts: Micros) -> std::ops::RangeInclusive<i64> {
    (ts - cx.skew_us).div_euclid(1_000_000)..=(ts + cx.skew_us).div_euclid(1_000_000)
}

/// The seconds in which a serve marker was logged, sorted, for [`marker_near`]'s question
/// asked with one binary search: the look-ups in the bundle-wide map of counts, a few per
/// drop, each a cache miss, had been a fifth of the 50 GB run's drop attribution.
pub struct MarkerSeconds {
    seconds: Vec<i64>,
}

impl MarkerSeconds {
    pub fn new(cx: &DropContext) -> MarkerSeconds {
        MarkerSeconds {
            seconds: cx.counts.seconds_of(cx.markers),
        }
    }

    /// What [`marker_near`] says of `ts` under `cx`'s skew.
    pub fn near(&self, cx: &DropContext, ts: Micros) -> bool {
        let window = skew_seconds(cx, ts);
        let at = self.seconds.partition_point(|s| s < window.start());
        self.seconds.get(at).is_some_and(|s| s <= window.end())
    }
}

/// The verdict of a lined-up group (the anchor first), or None for a group that is not a
/// drop (a short graceful close). `marker`: a serve marker near the anchor's time
/// ([`marker_near`]); `others`: the bundle has dispatch or Traefik/nginx ends.
pub fn verdict(
    group: &[EndKey],
    cx: &DropContext,
    bursts: &BurstSeconds,
    marker: bool,
    others: bool,
) -> Option<DropRow> {
    let anchor = group.first()?;
    let ts = anchor.ts;
    let find = |layers: &[Layer]| group.iter().find(|e| layers.contains(&e.layer));
    let dispatch = find(&[Layer::Dispatch]);
    let proxy = find(&[Layer::Traefik, Layer::Nginx]);
    let edge = find(&[Layer::Cloudflared]);
    if dispatch.is_some_and(|d| d.close == Close::Graceful) {
        return None;
    }
    let handshake_5xx = proxy.is_some_and(|p| p.status.is_some_and(|s| s >= 500));
    let base = if dispatch.is_some_and(|d| d.close == Close::UpstreamClosed) || marker {
        0 // serve_stall
    } else if handshake_5xx {
        1 // traefik_or_dispatch
    } else if let Some(d) = dispatch {
        if d.close == Close::DownstreamClosed {
            if proxy.is_some() && cx.cloudflared_present && edge.is_none() {
                1
            } else {
                2 // last_mile
            }
        } else {
            4 // unknown
        }
    } else if proxy.is_some() {
        match (edge.is_some(), cx.cloudflared_present) {
            (true, _) => 2,
            (false, true) => 1,
            (false, false) => 4,
        }
    } else if anchor.layer == Layer::Cloudflared && others {
        3 // cloudflare_edge
    } else {
        4
    };
    let burst = bursts.covers(ts);
    let mut lines = [(0, 0); 3];
    for (line, e) in lines.iter_mut().zip(group) {
        *line = (e.source, e.offset);
    }
    Some(DropRow {
        ts,
        duration_ms: anchor.duration_ms,
        verdict: base * 2 + u8::from(burst),
        layer_set: group.iter().fold(0, |set, e| set | 1 << e.layer as u8),
        lines,
        members: group.len().min(3) as u8,
    })
}

pub fn drops_batch(rows: &[DropRow], names: &[&str]) -> Result<arrow_array::RecordBatch, String> {
    // Every row's evidence in one string, and the layer lists of the 32 possible sets made
    // once: a batch makes two strings, not two per row.
    let mut evidence = String::new();
    let mut spans = Vec::with_capacity(rows.len());
    for r in rows {
        let at = evidence.len();
        r.evidence_into(names, &mut evidence);
        spans.push(at..evidence.len());
    }
    let layers: Vec<String> = (0..32u8).map(layer_list).collect();
    table::batch(vec![
        Column::timestamp("ts", rows.iter().map(|r| Some(r.ts))).layout(Layout::Rising),
        Column::f64("duration_ms", rows.iter().map(|r| r.duration_ms)),
        Column::utf8("verdict", rows.iter().map(|r| Some(r.verdict()))),
        Column::utf8(
            "layers",
            rows.iter()
                .map(|r| layers.get(usize::from(r.layer_set)).map(String::as_str)),
        ),
        Column::utf8(
            "evidence",
            spans.iter().map(|at| Some(&evidence[at.clone()])),
        )
        .layout(Layout::Distinct),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sockets::SocketEnd;

    const S: i64 = 1_000_000;

    fn end(layer: Layer, ts: i64, dur: Option<f64>, cause: &'static str) -> SocketEnd {
        SocketEnd {
            ts: Some(ts),
            layer,
            duration_ms: dur,
            cause: cause.into(),
            client: None,
            path: None,
            status: (layer == Layer::Traefik).then_some(101),
            offset: ts as u64,
        }
    }

    fn run(ends: &[SocketEnd], counts: &BurstCounts, bursts: &[BurstRow]) -> Vec<Drop> {
        let rows: Vec<SocketRow> = ends
            .iter()
            .map(|e| SocketRow {
                source: "s",
                end: e,
            })
            .collect();
        drops(
            &rows,
            &DropContext {
                short_ms: 120_000.0,
                skew_us: S,
                bursts,
                counts,
                markers: &[1],
                cloudflared_present: true,
            },
        )
    }

    #[test]
    fn the_runbook_table() {
        let none = BurstCounts::default();
        // A phone drop: dispatch downstream_closed + Traefik + cloudflared ended abruptly.
        let phone = [
            end(
                Layer::Dispatch,
                100 * S,
                Some(30_000.0),
                "downstream_closed",
            ),
            end(Layer::Traefik, 100 * S + 200_000, Some(30_100.0), "closed"),
            end(
                Layer::Cloudflared,
                100 * S + 300_000,
                None,
                "ended_abruptly",
            ),
        ];
        let d = run(&phone, &none, &[]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].verdict, "last_mile");
        assert_eq!(d[0].layers(), "cloudflared,traefik,dispatch");
        // The serve went away: upstream_closed.
        let stall = [end(
            Layer::Dispatch,
            200 * S,
            Some(5_000.0),
            "upstream_closed",
        )];
        assert_eq!(run(&stall, &none, &[])[0].verdict, "serve_stall");
        // Traefik and dispatch together, cloudflared clean.
        let proxy = [
            end(Layer::Dispatch, 300 * S, Some(5_000.0), "downstream_closed"),
            end(Layer::Traefik, 300 * S, Some(5_000.0), "closed"),
        ];
        assert_eq!(run(&proxy, &none, &[])[0].verdict, "traefik_or_dispatch");
        // Only the edge saw it.
        let edge = [
            end(Layer::Cloudflared, 400 * S, None, "ended_abruptly"),
            end(Layer::Dispatch, 900 * S, Some(600_000.0), "graceful"),
        ];
        let d = run(&edge, &none, &[]);
        assert_eq!((d.len(), d[0].verdict), (1, "cloudflare_edge"));
        // Long connections are not drops; a short graceful close is not a drop.
        let fine = [
            end(
                Layer::Dispatch,
                500 * S,
                Some(3_600_000.0),
                "downstream_closed",
            ),
            end(Layer::Dispatch, 600 * S, Some(2_000.0), "graceful"),
        ];
        assert!(run(&fine, &none, &[]).is_empty());
    }

    #[test]
    fn markers_and_bursts() {
        let mut counts = BurstCounts::default();
        counts.add(1, 100 * S + 900_000); // a reset in the next second
        let phone = [end(
            Layer::Dispatch,
            99 * S + 500_000,
            Some(3_000.0),
            "downstream_closed",
        )];
        assert_eq!(run(&phone, &counts, &[])[0].verdict, "serve_stall");
        let burst = BurstRow {
            source: "*".into(),
            signature: "context canceled".into(),
            start: 50 * S,
            end: 51 * S,
            seconds: 1,
            events: 9,
            peak: 9,
            threshold: 5,
        };
        let at_burst = [end(
            Layer::Dispatch,
            50 * S + 1,
            Some(3_000.0),
            "downstream_closed",
        )];
        let d = run(
            &at_burst,
            &BurstCounts::default(),
            std::slice::from_ref(&burst),
        );
        assert_eq!(d[0].verdict, "last_mile+burst");
    }

    #[test]
    fn each_end_is_used_once() {
        // Two drops in the same second, two Traefik lines: one each, by duration.
        let ends = [
            end(Layer::Dispatch, 10 * S, Some(1_000.0), "downstream_closed"),
            end(
                Layer::Dispatch,
                10 * S + 1,
                Some(50_000.0),
                "downstream_closed",
            ),
            end(Layer::Traefik, 10 * S + 2, Some(50_010.0), "closed"),
            end(Layer::Traefik, 10 * S + 3, Some(1_005.0), "closed"),
        ];
        let d = run(&ends, &BurstCounts::default(), &[]);
        assert_eq!(d.len(), 2);
        assert!(d.iter().all(|d| d.layers() == "traefik,dispatch"), "{d:?}");
        assert!(
            d[0].evidence.contains(&format!("s@{}", 10 * S + 3)),
            "{d:?}"
        );
    }

    proptest::proptest! {
        /// The merged runs answer what a pass over every `*` row answers, per-source rows
        /// (which must not count) and overlapping, nested and empty bursts included.
        #[test]
        fn burst_seconds_equal_a_scan_of_the_rows(
            bursts in proptest::collection::vec((0i64..40, 0i64..6, proptest::bool::ANY), 0..30),
            probes in proptest::collection::vec(-2i64..50, 1..60),
        ) {
            let rows: Vec<BurstRow> = bursts
                .iter()
                .map(|&(start, len, star)| BurstRow {
                    source: if star { "*".into() } else { "s".into() },
                    signature: "x".into(),
                    start: start * S,
                    end: (start + len) * S,
                    seconds: len as u64,
                    events: 5,
                    peak: 5,
                    threshold: 5,
                })
                .collect();
            let fast = BurstSeconds::new(&rows);
            for p in probes {
                for ts in [p * S - 1, p * S, p * S + S / 2] {
                    let naive = rows.iter().any(|b| b.source == "*" && b.covers(ts));
                    proptest::prop_assert_eq!(fast.covers(ts), naive, "at {}", ts);
                }
            }
        }

        /// The sorted marker seconds answer what the per-second look-ups answer: markers
        /// and other signatures, negative times, skews from none to several seconds.
        #[test]
        fn marker_seconds_equal_the_lookups(
            matches in proptest::collection::vec((0usize..4, -5i64..40), 0..40),
            skew_ms in proptest::prop_oneof![proptest::strategy::Just(1000i64), 0i64..4000],
            probes in proptest::collection::vec(-8i64..48, 1..40),
        ) {
            let mut counts = BurstCounts::default();
            for &(signature, second) in &matches {
                counts.add(signature, second * S + S / 3);
            }
            let cx = DropContext {
                short_ms: 120_000.0,
                skew_us: skew_ms * 1000,
                bursts: &[],
                counts: &counts,
                markers: &[1, 3],
                cloudflared_present: false,
            };
            let fast = MarkerSeconds::new(&cx);
            for p in probes {
                for ts in [p * S - 1, p * S, p * S + S / 2] {
                    proptest::prop_assert_eq!(fast.near(&cx, ts), marker_near(&cx, ts), "at {}", ts);
                }
            }
        }
    }
}
