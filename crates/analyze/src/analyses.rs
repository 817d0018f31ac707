//! The incident analyses of one run, fed by the single pass: [`Analyzer`] holds what the
//! run was asked (read-only, shared by the workers), [`Analyses`] the mergeable state of one
//! source (or one chunk of it, before merging).
//!
//! Every record is looked at once: one automaton scan of its message for all the phrases
//! the analyses know ([`crate::needles`]), then each analysis takes what it needs.

use coroner_parse::timestamp::Micros;

use crate::bursts::{self, BurstCounts};
use crate::captures::CaptureCounts;
use crate::event::Event;
use crate::findings::{self, Findings};
use crate::needles::Needles;
use crate::sockets::{self, SocketEnds, SocketRules};
use crate::timeline::Timeline;

/// Options of the incident analyses (`analyze` flags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnalysisOptions {
    /// Extra burst signatures (`--burst`), literal.
    pub bursts: Vec<String>,
    /// Matches per second that make a burst second (`--burst-threshold`).
    pub burst_threshold: u64,
    /// Request paths that are WebSockets (`--ws-path`).
    pub ws_paths: Vec<String>,
    /// Shorter than this is a short socket, a drop (`--short-ms`).
    pub short_ms: u64,
    /// How far apart two layers' lines of one connection may be (`--skew`, ms).
    pub skew_ms: u64,
    /// Timeline bucket (`--bucket`, seconds).
    pub bucket_secs: u64,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            bursts: Vec::new(),
            burst_threshold: 5,
            ws_paths: vec!["/ws".into(), "/api/v1/streaming".into()],
            short_ms: 120_000,
            skew_ms: 1_000,
            bucket_secs: 60,
        }
    }
}

/// What every worker needs to look at records: the phrases and where each analysis's
/// phrases sit in the needle set.
#[derive(Clone, Debug)]
pub struct Analyzer {
    pub options: AnalysisOptions,
    needles: Needles,
    /// Burst signature names: text ones (needle ids `0..text_bursts`), then the statuses.
    pub burst_names: Vec<String>,
    text_bursts: usize,
    /// Needle id of `findings::PHRASES[0]`.
    finding_phrases: usize,
    ws_close: usize,
    rules: SocketRules,
}

impl Analyzer {
    pub fn new(options: &AnalysisOptions) -> Analyzer {
        let burst_names = bursts::signature_names(&options.bursts);
        let text_bursts = burst_names.len() - bursts::STATUSES.len();
        let mut phrases: Vec<String> = burst_names[..text_bursts].to_vec();
        let finding_phrases = phrases.len();
        phrases.extend(findings::PHRASES.iter().map(|(p, _)| p.to_string()));
        let ws_close = phrases.len();
        phrases.push(sockets::WS_CLOSE.to_string());
        Analyzer {
            options: options.clone(),
            needles: Needles::new(phrases),
            burst_names,
            text_bursts,
            finding_phrases,
            ws_close,
            rules: SocketRules::new(&options.ws_paths),
        }
    }
}

/// The analyses' state for one source.
#[derive(Debug, Default)]
pub struct Analyses {
    pub bursts: BurstCounts,
    pub findings: Findings,
    pub sockets: SocketEnds,
    /// Socket captures (netstat, ss, /proc/net/tcp): states and TIME_WAIT groups.
    pub captures: CaptureCounts,
    /// An `ip_local_port_range` file: the ports it allows.
    pub port_range: Option<u64>,
    pub timeline: Timeline,
}

impl Analyses {
    /// Look at one record.
    #[inline]
    pub fn observe(&mut self, a: &Analyzer, ev: &Event) {
        // An access-log line's text is a URL and a user agent (client-controlled): the
        // phrases mean nothing there (its bursts come from the status), and skipping the scan
        // is most of the analyses' cost on access logs.
        let hits = if ev.request.is_some() {
            crate::needles::Hits(0)
        } else {
            a.needles.scan(ev.message)
        };
        if let Some(ts) = ev.ts {
            if hits.any() {
                for id in hits.ids().take_while(|&id| id < a.text_bursts) {
                    self.bursts.add(id, ts);
                }
            }
            if let Some(status) = ev.request.and_then(|r| r.status)
                && let Some(i) = bursts::STATUSES.iter().position(|(s, _)| *s == status)
            {
                self.bursts.add(a.text_bursts + i, ts);
            }
        }
        self.timeline.observe(ev, a.options.bucket_secs);
        self.findings.observe(ev, hits, a.finding_phrases);
        self.sockets.observe(&a.rules, ev, hits.has(a.ws_close));
    }

    /// A record that is not a log line with a payload (envelope grammar failed, a socket
    /// capture row, a malformed span): counted in the timeline only, so its rows add up to
    /// the source's records and bytes.
    #[inline]
    pub fn observe_other(&mut self, a: &Analyzer, ts: Option<Micros>, len: u64, offset: u64) {
        let text = coroner_parse::payload::Parsed::Text;
        let ev = Event {
            ts,
            offset,
            len,
            message: b"",
            parsed: &text,
            request: None,
            priority: None,
            ident: b"",
        };
        self.timeline.observe(&ev, a.options.bucket_secs);
    }

    /// Fold the next chunk of the same source into this one (chunks come in order). Taken
    /// by value: its rows (socket ends, findings) move instead of being copied.
    pub fn merge(&mut self, other: Analyses) {
        self.bursts.merge(&other.bursts);
        self.findings.merge(other.findings);
        self.sockets.merge(other.sockets);
        self.captures.merge(&other.captures);
        self.port_range = self.port_range.or(other.port_range);
        self.timeline.merge(other.timeline);
    }

    /// After the pass: derived findings and streaming durations.
    pub fn finish(&mut self, source: &str, bundle_end: Option<Micros>) {
        self.findings.finish(source, bundle_end);
        self.sockets.finish();
    }
}
