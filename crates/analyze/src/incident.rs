//! After the pass: the incident tables of the whole run (bursts, sockets, histogram, drops,
//! findings), built from every source's merged [`Analyses`](crate::analyses::Analyses), and
//! the ranked headline a person reads first.

use coroner_parse::format::{Envelope, Payload};

use crate::bursts::{BurstCounts, BurstRow, burst_rows, signature_names};
use crate::captures::{StateRow, TimewaitRow, state_rows, timewait_rows};
use crate::config::RunConfig;
use crate::drop_window::{Attribution, ByTime, DropSink};
use crate::drops::{DropContext, DropRow, EndKey, SERVE_MARKERS, VERDICT_NAMES};
use crate::findings::{FindingRow, Kind, human_secs};
use crate::pipeline::RunResult;
use crate::sockets::{EndView, Histogram, HistogramRow, Layer, SocketEnds};
use crate::spill::{KeyStream, SortedSpill, Spill};
use crate::templates::TemplateRow;

/// Every incident table of a run. The tables that grow with the bundle (socket ends,
/// drops) are not held as rows: the ends stay in their sources' spills, the drops in one
/// of their own, and are read back a slice at a time when written.
pub struct Incident<'r> {
    pub bursts: Vec<BurstRow>,
    /// The sources (not archives), in `sources.parquet` order: what `source` indices in
    /// drop rows point to.
    pub names: Vec<&'r str>,
    pub histogram: Vec<HistogramRow>,
    /// Short ends (below `--short-ms`) per layer.
    pub short: Vec<(Layer, u64)>,
    /// The drop rows, unless they were sent to a writer ([`Incident::with_drops`]); then
    /// only the count of rows it did not take.
    pub drops: Spill<DropRow>,
    /// Drop rows per verdict, as [`VERDICT_NAMES`].
    pub verdicts: [u64; VERDICT_NAMES.len()],
    /// Ends left out of the drop attribution: the temporary file for sorting them failed.
    pub unsorted: u64,
    /// Why (the first error).
    pub spill_error: Option<String>,
    pub findings: Vec<FindingRow>,
    pub states: Vec<StateRow>,
    pub timewait: Vec<TimewaitRow>,
    /// The ports allowed by the bundle's `ip_local_port_range`, if it has one.
    pub port_range: Option<u64>,
}

/// A source's ends that come in time order: each key no earlier than the last one taken.
/// Applied to the same ends in the same order, it takes the same ones (the incident reads
/// them twice).
struct InOrder {
    /// The `ord` of the source's first end.
    first_ord: u64,
    last: Option<i64>,
    taken: u64,
}

impl InOrder {
    fn new(first_ord: u64) -> InOrder {
        InOrder {
            first_ord,
            last: None,
            taken: 0,
        }
    }

    /// Whether `key` is in order (and then it is the last one).
    fn takes(&mut self, key: &EndKey) -> bool {
        let takes = self.last.is_none_or(|last| key.ts >= last);
        if takes {
            self.last = Some(key.ts);
            self.taken += 1;
        }
        takes
    }
}

/// What the incident counts of every end: the duration histogram and the short ends per
/// layer.
#[derive(Default)]
struct Tally {
    histogram: Histogram,
    short: std::collections::BTreeMap<Layer, u64>,
}

impl Tally {
    fn add(&mut self, end: &EndView, short_ms: f64) {
        self.histogram.add(end);
        if end.duration_ms.is_some_and(|d| d < short_ms) {
            *self.short.entry(end.layer).or_default() += 1;
        }
    }

    fn merge(&mut self, other: Tally) {
        self.histogram.merge(other.histogram);
        for (layer, n) in other.short {
            *self.short.entry(layer).or_default() += n;
        }
    }
}

/// TIME_WAIT utilization from which a capture's group is a `port_exhaustion` finding.
pub const EXHAUSTION_UTILIZATION: f64 = 0.9;

impl<'r> Incident<'r> {
    /// The incident tables of `result`. Fails only when rows spilled to a temporary file
    /// cannot be read back.
    pub fn of(result: &'r RunResult, config: &RunConfig) -> Result<Incident<'r>, String> {
        Incident::with_drops(result, config, None)
    }

    /// [`Incident::of`], the drop rows sent to `drop_rows` in batches as they are final
    /// rather than kept in [`Incident::drops`] (see [`DropSink::Channel`]).
    pub fn with_drops(
        result: &'r RunResult,
        config: &RunConfig,
        drop_rows: Option<crossbeam_channel::Sender<Vec<DropRow>>>,
    ) -> Result<Incident<'r>, String> {
        // The names the pass counted under (its Analyzer built them the same way).
        let signatures = signature_names(&config.analysis.bursts);
        let sources: Vec<_> = result.streams().collect();
        let counts: Vec<(&str, &BurstCounts)> = sources
            .iter()
            .map(|s| (s.name.as_str(), &s.analyses.bursts))
            .collect();
        let bursts = burst_rows(&counts, &signatures, config.analysis.burst_threshold);
        let mut all = BurstCounts::default();
        for (_, c) in &counts {
            all.merge(c);
        }
        let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
        let sockets: Vec<&SocketEnds> = sources.iter().map(|s| &s.analyses.sockets).collect();
        // The ends are read for the histogram, the short counts, and the keys drop
        // attribution lines up, in time order. Most of a source's ends come in time order
        // already (every layer but Traefik stamps a connection's end when it logs it):
        // those (each end no earlier than the last such one, `InOrder`) are read again
        // from the source's ends when the keys are merged; only the others are sorted
        // (in memory for an ordinary run, by sorted runs in a temporary file for tens of
        // millions). At 50 GB, writing and sorting every key had been a fifth of the
        // incident's time.
        //
        // A source whose ends the pass saw come in time order (all but the bench's Traefik
        // log) is not read here at all: the rule would take every end, so the merge's read
        // of them is the only one, and counts them for the histogram too.
        let short_ms = config.analysis.short_ms as f64;
        let mut tally = Tally::default();
        let mut keys: SortedSpill<ByTime> = SortedSpill::default();
        // Each source read again at the merge, its rule, and whether that read counts its
        // ends (they were not read here).
        let mut in_order: Vec<(usize, InOrder, bool)> = Vec::new();
        let mut others = false;
        let mut ord = 0u64;
        let proxies_or_dispatch = [Layer::Dispatch, Layer::Traefik, Layer::Nginx];
        for (source, ends) in sockets.iter().enumerate() {
            if ends.in_time_order() {
                others |= ends.has_timed(&proxies_or_dispatch);
                if !ends.is_empty() {
                    in_order.push((source, InOrder::new(ord), true));
                }
                ord += ends.len();
                continue;
            }
            let mut run = InOrder::new(ord);
            ends.visit(|bytes| {
                let end = EndView::read_without_text(bytes)
                    .ok_or("a socket end that does not read back")?;
                tally.add(&end, short_ms);
                if let Some(key) = EndKey::of(&end, ord, source as u32) {
                    others |= proxies_or_dispatch.contains(&key.layer);
                    if !run.takes(&key) {
                        keys.push(ByTime(key));
                    }
                }
                ord += 1;
                Ok(())
            })
            .map_err(|e| format!("{}: {e}", names[source]))?;
            if run.taken > 0 {
                in_order.push((source, run, false));
            }
        }
        let unsorted = keys.lost();
        let spill_error = keys.error().map(str::to_string);
        let cloudflared_present = sources.iter().any(|s| {
            s.stats.payload_records[Payload::Cloudflared as usize]
                + s.stats.payload_records[Payload::CloudflaredJson as usize]
                > 0
        });
        let markers: Vec<usize> = SERVE_MARKERS
            .iter()
            .filter_map(|m| signatures.iter().position(|n| n == m))
            .collect();
        let mut findings: Vec<FindingRow> = sources
            .iter()
            .flat_map(|s| {
                s.analyses.findings.rows.iter().map(|f| FindingRow {
                    source: s.name.clone(),
                    found: f.clone(),
                })
            })
            .collect();
        let captures: Vec<_> = sources
            .iter()
            .filter(|s| {
                matches!(
                    s.envelope,
                    Some(Envelope::Netstat | Envelope::Ss | Envelope::ProcNetTcp)
                )
            })
            .map(|s| {
                (
                    s.name.as_str(),
                    s.mtime.map(|t| t * 1_000_000),
                    &s.analyses.captures,
                )
            })
            .collect();
        let port_range = sources.iter().find_map(|s| s.analyses.port_range);
        let states = state_rows(&captures);
        // What the merge's reads count, one tally per source read again.
        let mut tallies: Vec<Tally> = in_order.iter().map(|_| Tally::default()).collect();
        // The two costly derivations are independent: on the caller's thread pool they run
        // side by side (rayon::join runs them one after the other outside a pool).
        let (drops, timewait) = rayon::join(
            || -> Result<_, String> {
                let cx = DropContext {
                    short_ms,
                    skew_us: (config.analysis.skew_ms as i64).saturating_mul(1000),
                    bursts: &bursts,
                    counts: &all,
                    markers: &markers,
                    cloudflared_present,
                };
                let mut attribution = Attribution::new(&cx, others);
                if let Some(tx) = drop_rows {
                    attribution = attribution.with_sink(DropSink::channel(tx));
                }
                // Each source's ends in time order, read again in step with the sorted
                // rest: the same rule picks the same ends.
                let streams: Vec<KeyStream<'_, ByTime>> = in_order
                    .iter()
                    .zip(tallies.iter_mut())
                    .map(|(&(source, ref run, counts), tally)| {
                        let mut again = InOrder::new(run.first_ord);
                        let mut ord = run.first_ord;
                        let name = names[source];
                        let keys = sockets[source].rows_with(move |bytes| {
                            let end = EndView::read_without_text(bytes).ok_or_else(|| {
                                format!("{name}: a socket end that does not read back")
                            })?;
                            if counts {
                                tally.add(&end, short_ms);
                            }
                            let key = EndKey::of(&end, ord, source as u32);
                            ord += 1;
                            Ok(key.filter(|k| again.takes(k)).map(ByTime))
                        });
                        Box::new(keys) as KeyStream<'_, ByTime>
                    })
                    .collect();
                for key in keys.into_sorted_with(streams) {
                    attribution.push(key?.0);
                }
                Ok(attribution.finish())
            },
            || timewait_rows(&captures, port_range),
        );
        let (drops, verdicts) = drops?;
        for t in tallies {
            tally.merge(t);
        }
        for t in &timewait {
            if let Some(u) = t.utilization.filter(|u| *u >= EXHAUSTION_UTILIZATION) {
                findings.push(FindingRow {
                    source: t.capture.clone(),
                    found: crate::findings::Found {
                        ts: captures
                            .iter()
                            .find(|c| c.0 == t.capture)
                            .and_then(|c| c.1),
                        kind: Kind::PortExhaustion,
                        subject: Some(format!("{} -> {}", t.local_addr, t.remote)),
                        detail: format!(
                            "{} TIME_WAIT sockets from {} to {} hold {:.0}% of the {} ephemeral ports{}",
                            t.time_wait,
                            t.local_addr,
                            t.remote,
                            u * 100.0,
                            t.ports_available,
                            if port_range.is_some() {
                                " (ip_local_port_range of the bundle)"
                            } else {
                                " (default range 32768-60999)"
                            }
                        ),
                        count: 1,
                        offset: None,
                        quiet: None,
                    },
                });
            }
        }
        findings.sort_by(|a, b| {
            a.found
                .ts
                .cmp(&b.found.ts)
                .then_with(|| a.source.cmp(&b.source))
                .then(a.found.offset.cmp(&b.found.offset))
        });
        Ok(Incident {
            bursts,
            names,
            histogram: tally.histogram.rows(),
            short: tally.short.into_iter().collect(),
            drops,
            verdicts,
            unsorted,
            spill_error,
            findings,
            states,
            timewait,
            port_range,
        })
    }

    /// Drops per verdict, most first (ties by name); verdicts with no row left out.
    pub fn drops_by_verdict(&self) -> Vec<(&'static str, u64)> {
        let mut v: Vec<(&'static str, u64)> = VERDICT_NAMES
            .iter()
            .copied()
            .zip(self.verdicts)
            .filter(|&(_, n)| n > 0)
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }
}

/// One line of the headline: what, and which table has the detail.
#[derive(Clone, Debug, PartialEq)]
pub struct Headline {
    pub text: String,
    pub table: &'static str,
    /// Higher first; fixed per kind of line, then by size, so the order is stable.
    pub rank: u64,
}

/// The ranked headline: findings that end outages first (OOM kills, full disks, port
/// exhaustion, restart loops, worker timeouts, expired certificates, silences), then bursts,
/// short sockets and their dominant verdict, then the biggest template by bytes.
/// `captures`: sources that are socket captures (their template share means nothing).
pub fn headline(
    inc: &Incident,
    templates: &[TemplateRow],
    captures: &[&str],
    short_ms: f64,
) -> Vec<Headline> {
    let mut out = Vec::new();
    let by_kind = |k: Kind| inc.findings.iter().filter(move |f| f.found.kind == k);
    let when = |ts: Option<i64>| ts.map(crate::report::iso_micros).unwrap_or_default();

    // OOM kills: per victim, most killed first.
    let mut victims: std::collections::BTreeMap<&str, (u64, Option<i64>, Option<i64>)> =
        Default::default();
    for f in by_kind(Kind::OomKill) {
        let v = victims
            .entry(f.found.subject.as_deref().unwrap_or("?"))
            .or_default();
        v.0 += f.found.count;
        v.1 = v.1.or(f.found.ts);
        v.2 = f.found.ts.or(v.2);
    }
    if !victims.is_empty() {
        let total: u64 = victims.values().map(|v| v.0).sum();
        let mut list: Vec<_> = victims.iter().collect();
        list.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        let first = victims.values().filter_map(|v| v.1).min();
        out.push(Headline {
            text: format!(
                "OOM killer: {total} kill(s) from {}: {}",
                when(first),
                list.iter()
                    .take(5)
                    .map(|(n, v)| format!("{n} x{}", v.0))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            table: "findings.parquet",
            rank: 9_000 + total.min(999),
        });
    }
    let simple = [
        (Kind::DiskFull, "disk full", 8_900),
        (
            Kind::PortExhaustion,
            "ports exhausted (Cannot assign requested address)",
            8_800,
        ),
        (Kind::RestartLoop, "restart loop", 8_700),
        (Kind::WorkerTimeout, "worker timeouts", 8_600),
        (Kind::TlsExpired, "expired TLS certificate", 8_500),
    ];
    // Port exhaustion seen in a capture: the TIME_WAIT group against the port range.
    if let Some(t) = inc
        .timewait
        .iter()
        .filter(|t| t.utilization.is_some_and(|u| u >= EXHAUSTION_UTILIZATION))
        .max_by(|a, b| {
            a.utilization
                .unwrap_or(0.0)
                .total_cmp(&b.utilization.unwrap_or(0.0))
                .then(b.capture.cmp(&a.capture))
        })
    {
        out.push(Headline {
            text: format!(
                "TIME_WAIT exhausts the ephemeral ports: {} sockets from {} to {} against {} ports (utilization {:.0}%) in {}",
                t.time_wait,
                t.local_addr,
                t.remote,
                t.ports_available,
                t.utilization.unwrap_or(0.0) * 100.0,
                t.capture
            ),
            table: "timewait.parquet",
            rank: 8_999,
        });
    }
    for (kind, what, rank) in simple {
        // Findings from records (a derived capture finding has no offset: see above).
        let rows: Vec<_> = by_kind(kind)
            .filter(|f| f.found.offset.is_some() || kind == Kind::RestartLoop)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let n: u64 = rows.iter().map(|f| f.found.count).sum();
        let mut sources: Vec<&str> = rows.iter().map(|f| f.source.as_str()).collect();
        sources.sort_unstable();
        sources.dedup();
        let subjects: Vec<&str> = {
            let mut s: Vec<&str> = rows
                .iter()
                .filter_map(|f| f.found.subject.as_deref())
                .collect();
            s.sort_unstable();
            s.dedup();
            s
        };
        let detail = if kind == Kind::RestartLoop {
            rows.iter()
                .map(|f| f.found.detail.clone())
                .take(2)
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            format!(
                "{n} line(s) from {} to {} in {}{}",
                when(rows.first().and_then(|f| f.found.ts)),
                when(rows.last().and_then(|f| f.found.ts)),
                sources
                    .iter()
                    .take(3)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", "),
                if subjects.is_empty() || subjects.len() > 4 {
                    String::new()
                } else {
                    format!(" ({})", subjects.join(", "))
                }
            )
        };
        out.push(Headline {
            text: format!("{what}: {detail}"),
            table: "findings.parquet",
            rank: rank + n.min(99),
        });
    }
    // A quiet stretch makes the headline when it is long (15 min) or lasts until the end of
    // the bundle (the server that served its last request); shorter ones stay in the table.
    let quiet_secs = |f: &FindingRow| f.found.quiet.map_or(0, |q| q.secs);
    let telling = |f: &&FindingRow| f.found.quiet.is_some_and(|q| q.secs >= 900 || q.to_end);
    if let Some(s) = by_kind(Kind::Silence).filter(telling).max_by(|a, b| {
        quiet_secs(a)
            .cmp(&quiet_secs(b))
            .then(b.found.ts.cmp(&a.found.ts))
    }) {
        out.push(Headline {
            text: format!("{} went silent: {}", s.source, s.found.detail),
            table: "findings.parquet",
            rank: 8_400,
        });
    }

    // Bursts across all sources, biggest first.
    let mut star: Vec<&BurstRow> = inc.bursts.iter().filter(|b| b.source == "*").collect();
    star.sort_by(|a, b| b.events.cmp(&a.events).then(a.start.cmp(&b.start)));
    if !star.is_empty() {
        let mut sigs: Vec<&str> = star.iter().map(|b| b.signature.as_str()).collect();
        sigs.sort_unstable();
        sigs.dedup();
        let top = star[0];
        out.push(Headline {
            text: format!(
                "{} burst(s) of {}; biggest: {} x{} in {} s from {}",
                star.len(),
                sigs.join(", "),
                top.signature,
                top.events,
                top.seconds,
                when(Some(top.start)),
            ),
            table: "bursts.parquet",
            rank: 7_000 + star.len().min(999) as u64,
        });
    }

    // Short sockets by layer and the dominant verdict.
    let short = &inc.short;
    if !short.is_empty() {
        let v = inc.drops_by_verdict();
        out.push(Headline {
            text: format!(
                "short sockets (< {}): {}; drops by verdict: {}",
                human_secs((short_ms / 1000.0) as i64),
                short
                    .iter()
                    .map(|(l, n)| format!("{} {n}", l.id()))
                    .collect::<Vec<_>>()
                    .join(", "),
                v.iter()
                    .take(4)
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            table: "drops.parquet",
            rank: 6_000,
        });
    }

    // The biggest template by bytes: what fills the disk.
    if let Some(t) = templates
        .iter()
        .filter(|t| {
            t.source != "*"
                && t.template.template != crate::templates::OTHER
                && t.template.template != crate::templates::NOT_RECORDS
                && !captures.contains(&t.source.as_str())
        })
        .max_by(|a, b| {
            a.share()
                .total_cmp(&b.share())
                .then(b.source.cmp(&a.source))
                .then(b.template.template.cmp(&a.template.template))
        })
    {
        out.push(Headline {
            text: format!(
                "biggest template: {:.1}% of {} ({} bytes): {}",
                t.share() * 100.0,
                t.source,
                t.template.bytes,
                crate::findings::lossy(t.template.template.as_bytes(), 120)
            ),
            table: "templates.parquet",
            rank: if t.share() >= 0.5 { 8_450 } else { 5_000 },
        });
    }
    out.sort_by(|a, b| b.rank.cmp(&a.rank).then(a.text.cmp(&b.text)));
    out
}
