//! `report.html`: one self-contained page beside the Parquet tables, for the person who
//! opens the run's directory before any notebook.
//!
//! Everything is drawn here, by hand, as inline SVG: no JavaScript, no fonts, no style sheet
//! or image from the network, so the file opens from disk anywhere (an air-gapped
//! post-mortem laptop too). Sections, each with an `id` (the chart sections also a
//! `data-chart` attribute, every chart's `<svg>` the class `chart`):
//! - `headline`: the ranked headline lines of `summary.json`, each naming its table;
//! - `timeline`: records and errors per time bucket, all sources together and then per
//!   source (the [`MAX_TIMELINES`] largest by records), bursts marked;
//! - `sockets`: the short-socket duration histogram per (layer, cause);
//! - `templates`: byte share of the top templates across all sources (`*`);
//! - `timewait`: TIME_WAIT groups of the socket captures against the port range;
//! - `findings`: the findings table with its evidence (source and byte offset).
//!
//! Log content is hostile: every string that came from a log (source names, templates,
//! details, subjects, causes, addresses) goes through [`escape`], and every SVG helper
//! escapes what it is given, so no text reaches the page raw. The page is a function of
//! its inputs only (no clock, no random ids): the same run renders the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::bursts::BurstRow;
use crate::captures::{DEFAULT_PORTS, TimewaitRow};
use crate::config::{RunConfig, format_tz};
use crate::findings::FindingRow;
use crate::incident::{EXHAUSTION_UTILIZATION, Headline, Incident};
use crate::pipeline::{RunResult, SourceReport};
use crate::report::{Totals, iso_micros, thousands};
use crate::sockets::{BUCKETS_MS, HistogramRow, Layer};
use crate::table::REPORT_VERSION;
use crate::templates::{NOT_RECORDS, OTHER, TemplateRow};

/// Sources with a timeline chart of their own (largest by records first).
pub const MAX_TIMELINES: usize = 20;
/// Rows of the findings table.
pub const MAX_FINDINGS: usize = 200;
/// Templates in the byte share chart.
pub const MAX_TEMPLATES: usize = 15;
/// (layer, cause) histograms drawn (most sockets first).
pub const MAX_HISTOGRAMS: usize = 12;
/// TIME_WAIT groups drawn (highest utilization first).
pub const MAX_TIMEWAIT: usize = 15;
/// Bars of a timeline chart: more buckets than this are summed into wider bins.
const MAX_BINS: i64 = 300;
/// Bursts marked on one timeline chart (most events first).
const MAX_BURST_MARKS: usize = 100;

const SEC: i64 = 1_000_000;

/// `write!` into a `String`, which cannot fail.
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

// ---------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------

/// Text for HTML and SVG (element content and quoted attribute values alike): `&`, `<`,
/// `>`, `"` and `'` as entities; tab, CR and LF as a space; every other control character
/// (C0, DEL, C1), the bidirectional overrides (which could make a log line read backwards)
/// and the noncharacters as U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() || is_format_trap(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Bidirectional controls and noncharacters.
fn is_format_trap(c: char) -> bool {
    let u = c as u32;
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || (0xFDD0..=0xFDEF).contains(&u)
        || u & 0xFFFE == 0xFFFE
}

/// At most `max` characters, `…` marking a cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// Clipped, then escaped.
fn esc_clip(s: &str, max: usize) -> String {
    escape(&clip(s, max))
}

/// `1.5 MiB`.
fn bytes_h(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A share in [0, 1] as a percentage; a non-zero share too small to print is `<0.1%`.
fn pct(x: f64) -> String {
    if x > 0.0 && x < 0.001 {
        "<0.1%".into()
    } else {
        format!("{:.1}%", x * 100.0)
    }
}

/// `2026-07-02 15:42:01Z`, with the microseconds when there are any.
fn utc(us: i64) -> String {
    let iso = iso_micros(us);
    let micros = &iso[19..26];
    if micros == ".000000" {
        format!("{} {}Z", &iso[..10], &iso[11..19])
    } else {
        format!("{} {}{micros}Z", &iso[..10], &iso[11..19])
    }
}

/// A duration, short: `45s`, `1m`, `2h 30m`, `3d`, `1d 2h` (the two largest parts).
fn secs_h(secs: i64) -> String {
    let parts = [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3600, "h"),
        (secs % 3600 / 60, "m"),
        (secs % 60, "s"),
    ];
    let shown: Vec<String> = parts
        .iter()
        .skip_while(|(n, _)| *n == 0)
        .take(2)
        .filter(|(n, _)| *n != 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    if shown.is_empty() {
        "0s".into()
    } else {
        shown.join(" ")
    }
}

/// A coordinate with one decimal.
fn c(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// The smallest of 1, 2, 5 x 10^k at or above `x` (at least 1).
fn nice_ceil(x: u64) -> u64 {
    let mut p = 1u64;
    loop {
        for m in [1, 2, 5] {
            if let Some(v) = p.checked_mul(m)
                && v >= x
            {
                return v;
            }
        }
        match p.checked_mul(10) {
            Some(n) => p = n,
            None => return x,
        }
    }
}

// ---------------------------------------------------------------------------------------
// SVG helpers: every string they are given is escaped here.
// ---------------------------------------------------------------------------------------

fn svg_open(out: &mut String, w: f64, h: f64, label: &str) {
    let label = escape(label);
    w!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{label}\"><title>{label}</title>\n",
        c(w),
        c(h),
        c(w),
        c(h)
    );
}

fn svg_close(out: &mut String) {
    out.push_str("</svg>\n");
}

/// A rectangle; `tip` becomes its tooltip.
fn rect(out: &mut String, x: f64, y: f64, w: f64, h: f64, class: &str, tip: Option<&str>) {
    w!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"{}\"",
        c(x),
        c(y),
        c(w.max(0.0)),
        c(h.max(0.0)),
        escape(class)
    );
    match tip {
        Some(t) => w!(out, "><title>{}</title></rect>\n", escape(t)),
        None => out.push_str("/>\n"),
    }
}

/// Text at (x, y); `anchor` is `start`, `middle` or `end`.
fn text(out: &mut String, x: f64, y: f64, anchor: &str, class: &str, s: &str) {
    w!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"{}\" class=\"{}\">{}</text>\n",
        c(x),
        c(y),
        escape(anchor),
        escape(class),
        escape(s)
    );
}

fn line(out: &mut String, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
    w!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"{}\"/>\n",
        c(x1),
        c(y1),
        c(x2),
        c(y2),
        escape(class)
    );
}

/// Many bars as one path (`(x, y, w, h)` each): a timeline has hundreds.
fn bars_path(out: &mut String, bars: &[(f64, f64, f64, f64)], class: &str) {
    if bars.is_empty() {
        return;
    }
    w!(out, "<path class=\"{}\" d=\"", escape(class));
    for &(x, y, w, h) in bars {
        w!(out, "M{} {}h{}v{}h-{}z", c(x), c(y), c(w), c(h), c(w));
    }
    out.push_str("\"/>\n");
}

/// A value axis on the left of a plot: `0` at the bottom, `max` at the top, a baseline.
fn value_ticks(out: &mut String, left: f64, right: f64, top: f64, bottom: f64, max: u64) {
    text(out, left - 5.0, top + 4.0, "end", "tl", &thousands(max));
    text(out, left - 5.0, bottom, "end", "tl", "0");
    line(out, left, top, right, top, "grid");
    line(out, left, bottom, right, bottom, "axis");
}

/// Time ticks between `t0` and `t1` (µs, UTC): about 6 to 8 labelled ticks at round
/// times, and the step in seconds.
fn time_ticks(t0: i64, t1: i64) -> (Vec<i64>, i64) {
    const STEPS: [i64; 22] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200,
        86_400, 172_800, 604_800, 1_209_600, 2_592_000,
    ];
    let span = t1.saturating_sub(t0).max(1);
    let step = STEPS
        .iter()
        .copied()
        .find(|s| span / (s * SEC) <= 7)
        .unwrap_or_else(|| (span / 7 / SEC).max(1));
    let step_us = step.saturating_mul(SEC);
    let mut ticks = Vec::new();
    let mut t = Some(t0 - t0.rem_euclid(step_us));
    if t < Some(t0) {
        t = t.and_then(|t| t.checked_add(step_us));
    }
    while let Some(at) = t.filter(|&at| at <= t1 && ticks.len() < 16) {
        ticks.push(at);
        t = at.checked_add(step_us);
    }
    (ticks, step)
}

/// A tick's label, as precise as the step needs.
fn tick_label(t: i64, step_secs: i64, span_us: i64) -> String {
    let iso = iso_micros(t);
    if step_secs < 60 {
        iso[11..19].to_string()
    } else if span_us <= 86_400 * SEC && step_secs < 86_400 {
        iso[11..16].to_string()
    } else if step_secs < 86_400 {
        format!("{} {}", &iso[5..10], &iso[11..16])
    } else {
        iso[..10].to_string()
    }
}

/// A time axis under a plot from `x0` to `x1` for times `t0`..`t1`.
/// A caption line under the tick labels gives the full UTC range.
fn time_axis(out: &mut String, x0: f64, x1: f64, y: f64, t0: i64, t1: i64) {
    let (ticks, step) = time_ticks(t0, t1);
    let span = t1.saturating_sub(t0).max(1);
    for t in ticks {
        let x = x0 + t.saturating_sub(t0) as f64 / span as f64 * (x1 - x0);
        line(out, x, y, x, y + 4.0, "axis");
        // A label at the right end would be cut by the edge of the chart.
        let anchor = if x > x1 - 30.0 { "end" } else { "middle" };
        text(out, x, y + 15.0, anchor, "tl", &tick_label(t, step, span));
    }
    text(
        out,
        x0,
        y + 29.0,
        "start",
        "tl",
        &format!("time (UTC): {} to {}", utc(t0), utc(t1)),
    );
}

// ---------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #fff; margin: 0; }
main { max-width: 1140px; margin: 0 auto; padding: 16px 20px 48px; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 15px; margin: 18px 0 4px; }
nav a { margin-right: 14px; color: #0969da; text-decoration: none; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.note { color: #57606a; font-size: 13px; margin: 4px 0; }
.empty { color: #57606a; font-style: italic; }
ol.headline li { margin: 6px 0; }
ol.headline code { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 4px; padding: 0 4px; color: #57606a; }
figure { margin: 10px 0 14px; }
figcaption { font-weight: 600; font-size: 13.5px; margin-bottom: 2px; word-break: break-all; }
.grid-charts { display: flex; flex-wrap: wrap; gap: 8px 18px; }
.grid-charts figure { margin: 6px 0; }
svg.chart { display: block; max-width: 100%; height: auto; background: #fff; }
svg.chart text { font: 11px system-ui, sans-serif; fill: #1f2328; }
svg.chart text.tl { fill: #57606a; font-size: 10.5px; }
svg.chart text.mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11px; }
svg.chart text.lab { paint-order: stroke; stroke: #fff; stroke-width: 3px; font-weight: 600; }
svg.chart .axis { stroke: #8c959f; stroke-width: 1; }
svg.chart .grid { stroke: #eaeef2; stroke-width: 1; }
svg.chart .thr { stroke: #cf222e; stroke-width: 1.2; stroke-dasharray: 4 3; }
svg.chart .rec { fill: #4c78a8; }
svg.chart .err { fill: #e45756; }
svg.chart .burst { fill: #f58518; fill-opacity: 0.28; }
svg.chart .burst-mark { fill: #f58518; }
svg.chart .short { fill: #e45756; }
svg.chart .long { fill: #8c9db5; }
svg.chart .track { fill: #eef1f5; }
svg.chart .bar { fill: #4c78a8; }
svg.chart .dim { fill: #aeb7c2; }
svg.chart .hot { fill: #e45756; }
svg.chart .hover { fill: #000; fill-opacity: 0; }
svg.chart .hover:hover { fill-opacity: 0.07; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { border-bottom: 1px solid #eaeef2; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; position: sticky; top: 0; }
td.num { text-align: right; white-space: nowrap; }
td.when { white-space: nowrap; }
td.detail { word-break: break-word; min-width: 260px; max-width: 520px; }
.kind { display: inline-block; padding: 0 6px; border-radius: 9px; background: #eaeef2; white-space: nowrap; }
.kind.oom_kill, .kind.disk_full, .kind.port_exhaustion { background: #ffd8d3; }
.kind.restart_loop, .kind.worker_timeout, .kind.tls_expired { background: #ffe7c2; }
.kind.silence { background: #dbe9ff; }
"#;

/// The whole `report.html` of a run: a deterministic function of its inputs.
pub fn render(
    result: &RunResult,
    config: &RunConfig,
    inc: &Incident,
    templates: &[TemplateRow],
    headline: &[Headline],
) -> String {
    let mut out = String::with_capacity(128 << 10);
    out.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>coroner report</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<main>\n");
    section_summary(&mut out, result, config);
    out.push_str(
        "<nav><a href=\"#headline\">Headline</a><a href=\"#timeline\">Timeline</a>\
         <a href=\"#sockets\">Short sockets</a><a href=\"#templates\">Templates</a>\
         <a href=\"#timewait\">TIME_WAIT</a><a href=\"#findings\">Findings</a></nav>\n",
    );
    section_headline(&mut out, headline);
    section_timelines(&mut out, result, config, inc);
    section_sockets(&mut out, config, inc);
    section_templates(&mut out, templates);
    section_timewait(&mut out, inc);
    table_findings(&mut out, result, inc);
    w!(
        out,
        "<p class=\"note\">coroner {}, report_version {}. Every number here is in the Parquet tables beside this file.</p>\n",
        env!("CARGO_PKG_VERSION"),
        REPORT_VERSION
    );
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// Title, totals, options and sources that could not be read.
fn section_summary(out: &mut String, result: &RunResult, config: &RunConfig) {
    let t = Totals::of(result);
    out.push_str("<header id=\"summary\">\n<h1>coroner report</h1>\n");
    w!(
        out,
        "<p>{} source(s), {} records, {} ({} unparsed records, {} outside records)",
        thousands(t.sources),
        thousands(t.records),
        bytes_h(t.bytes),
        thousands(t.unparsed_records),
        bytes_h(t.meta_bytes)
    );
    if let (Some(a), Some(b)) = (t.first_ts, t.last_ts) {
        w!(out, "; from {} to {} (UTC)", utc(a), utc(b));
    }
    out.push_str(".</p>\n");
    w!(
        out,
        "<p class=\"note\">Timeline bucket {}, burst threshold {} per second, short socket &lt; {}, zone assumed for zoneless times {}.</p>\n",
        secs_h(config.analysis.bucket_secs.min(i64::MAX as u64) as i64),
        thousands(config.analysis.burst_threshold),
        ms_h(config.analysis.short_ms as f64),
        escape(&format_tz(config.tz_offset_secs))
    );
    let errors: Vec<&SourceReport> = result
        .sources
        .iter()
        .filter(|s| s.error.is_some())
        .collect();
    if !errors.is_empty() {
        w!(
            out,
            "<p class=\"note\">{} source(s) could not be read to the end (<code>sources.parquet</code>, column <code>error</code>):</p>\n<ul class=\"note\">\n",
            errors.len()
        );
        for s in errors.iter().take(10) {
            let e = s.error.as_ref().expect("filtered");
            w!(
                out,
                "<li><span class=\"mono\">{}</span>: {}{}</li>\n",
                esc_clip(&s.name, 200),
                esc_clip(&e.cause(), 300),
                e.offset
                    .map(|o| format!(" at byte {}", thousands(o)))
                    .unwrap_or_default()
            );
        }
        if errors.len() > 10 {
            w!(out, "<li>and {} more</li>\n", errors.len() - 10);
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</header>\n");
}

/// The ranked headline, each line naming the table with the detail.
fn section_headline(out: &mut String, headline: &[Headline]) {
    out.push_str("<section id=\"headline\">\n<h2>Headline</h2>\n");
    if headline.is_empty() {
        out.push_str("<p class=\"empty\">Nothing stood out: no findings, bursts, short sockets or dominant template.</p>\n");
    } else {
        out.push_str("<ol class=\"headline\">\n");
        for h in headline {
            w!(
                out,
                "<li>{} <code>{}</code></li>\n",
                esc_clip(&h.text, 2000),
                escape(h.table)
            );
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</section>\n");
}

// ----- timeline -------------------------------------------------------------------------

/// The time range shared by every timeline chart, and the width of one bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    t0: i64,
    t1: i64,
    bin: i64,
}

impl Span {
    fn of(starts: impl Iterator<Item = i64>, bucket_us: i64) -> Option<Span> {
        let (mut lo, mut hi) = (None::<i64>, None::<i64>);
        for s in starts {
            lo = Some(lo.map_or(s, |l| l.min(s)));
            hi = Some(hi.map_or(s, |h| h.max(s)));
        }
        let (t0, last) = (lo?, hi?);
        let width = last.saturating_add(bucket_us).saturating_sub(t0).max(1);
        let buckets = width / bucket_us + i64::from(width % bucket_us != 0);
        let per_bin = buckets / MAX_BINS + i64::from(buckets % MAX_BINS != 0);
        let bin = bucket_us.saturating_mul(per_bin.max(1));
        let bins = (width / bin + i64::from(width % bin != 0)).max(1);
        Some(Span {
            t0,
            t1: t0.saturating_add(bin.saturating_mul(bins)),
            bin,
        })
    }

    fn bins(&self) -> usize {
        (self.t1.saturating_sub(self.t0) / self.bin).max(1) as usize
    }

    fn bin_of(&self, t: i64) -> usize {
        (((t - self.t0).max(0) / self.bin) as usize).min(self.bins() - 1)
    }
}

/// Timed buckets (`(start, records, errors)`) summed into the span's bins, and their
/// totals: made as the buckets are read (a timeline written out to a temporary file is not
/// read back whole).
struct Strip {
    bins: Vec<(u64, u64)>,
    records: u64,
    errors: u64,
}

impl Strip {
    fn empty(span: &Span) -> Strip {
        Strip {
            bins: vec![(0, 0); span.bins()],
            records: 0,
            errors: 0,
        }
    }

    fn of(buckets: impl Iterator<Item = (i64, u64, u64)>, span: &Span) -> Strip {
        let mut strip = Strip::empty(span);
        for (s, r, e) in buckets {
            strip.add(span.bin_of(s), r, e);
        }
        strip
    }

    /// Saturating: the counts of a damaged temporary file can be anything.
    fn add(&mut self, bin: usize, records: u64, errors: u64) {
        let b = &mut self.bins[bin];
        b.0 = b.0.saturating_add(records);
        b.1 = b.1.saturating_add(errors);
        self.records = self.records.saturating_add(records);
        self.errors = self.errors.saturating_add(errors);
    }
}

/// All sources together, then the largest sources one by one.
fn section_timelines(out: &mut String, result: &RunResult, config: &RunConfig, inc: &Incident) {
    out.push_str("<section id=\"timeline\" data-chart=\"timeline\">\n<h2>Timeline</h2>\n");
    let bucket_us = (config.analysis.bucket_secs.max(1) as i64).saturating_mul(SEC);
    let mut sources: Vec<&SourceReport> = result
        .streams()
        .filter(|s| s.analyses.timeline.has_timed())
        .collect();
    sources.sort_by(|a, b| {
        b.stats
            .records
            .cmp(&a.stats.records)
            .then_with(|| a.name.cmp(&b.name))
            .then(a.id.cmp(&b.id))
    });
    let starts = sources
        .iter()
        .filter_map(|s| s.analyses.timeline.span())
        .flat_map(|(first, last)| [first, last]);
    let Some(span) = Span::of(starts, bucket_us) else {
        out.push_str("<p class=\"empty\">No record has a time: no timeline.</p>\n</section>\n");
        return;
    };
    let strips: Vec<Strip> = sources
        .iter()
        .map(|s| Strip::of(s.analyses.timeline.errors_per_bucket(), &span))
        .collect();
    let mut all = Strip::empty(&span);
    for strip in &strips {
        for (i, &(r, e)) in strip.bins.iter().enumerate() {
            all.add(i, r, e);
        }
    }
    w!(
        out,
        "<p class=\"note\">Records (blue) and error records (red) per {} bar, UTC, on one time axis for every chart; bursts (same-second mass events, <code>bursts.parquet</code>) shaded orange. Hover a bar or a burst mark for its numbers. Detail per {} bucket in <code>timeline.parquet</code>.</p>\n",
        secs_h(span.bin / SEC),
        secs_h(bucket_us / SEC)
    );
    let untimed_all: u64 = result
        .streams()
        .filter_map(|s| s.analyses.timeline.untimed().map(|u| u.records))
        .sum();
    let star: Vec<&BurstRow> = inc.bursts.iter().filter(|b| b.source == "*").collect();
    chart_timeline(
        out,
        "all sources together (*)",
        &all,
        &star,
        &span,
        untimed_all,
    );
    for (s, strip) in sources.iter().zip(&strips).take(MAX_TIMELINES) {
        let bursts: Vec<&BurstRow> = inc.bursts.iter().filter(|b| b.source == s.name).collect();
        let untimed = s.analyses.timeline.untimed().map_or(0, |u| u.records);
        chart_timeline(out, &s.name, strip, &bursts, &span, untimed);
    }
    if sources.len() > MAX_TIMELINES {
        w!(
            out,
            "<p class=\"note\">{} more source(s) with timed records are not drawn (the {} with the most records are): see <code>timeline.parquet</code>.</p>\n",
            sources.len() - MAX_TIMELINES,
            MAX_TIMELINES
        );
    }
    out.push_str("</section>\n");
}

/// One source's records and errors per bin (two strips), its bursts shaded.
fn chart_timeline(
    out: &mut String,
    name: &str,
    strip: &Strip,
    bursts: &[&BurstRow],
    span: &Span,
    untimed: u64,
) {
    const W: f64 = 1100.0;
    const LEFT: f64 = 64.0;
    const RIGHT: f64 = 14.0;
    const REC_TOP: f64 = 16.0;
    const REC_H: f64 = 64.0;
    const ERR_TOP: f64 = REC_TOP + REC_H + 8.0;
    const ERR_H: f64 = 30.0;
    const AXIS: f64 = ERR_TOP + ERR_H;
    const H: f64 = AXIS + 34.0;
    let pw = W - LEFT - RIGHT;
    let bins = &strip.bins;
    let n = bins.len() as f64;
    let bw = pw / n;
    let gap = if bw > 3.0 { 1.0 } else { 0.0 };
    let xof = |t: i64| {
        LEFT + t.saturating_sub(span.t0) as f64 / span.t1.saturating_sub(span.t0).max(1) as f64 * pw
    };
    let (records, errors) = (strip.records, strip.errors);
    let rmax = nice_ceil(bins.iter().map(|b| b.0).max().unwrap_or(0));
    let emax = nice_ceil(bins.iter().map(|b| b.1).max().unwrap_or(0));

    out.push_str("<figure>\n");
    w!(
        out,
        "<figcaption>{}: {} records, {} errors{}</figcaption>\n",
        esc_clip(name, 300),
        thousands(records),
        thousands(errors),
        if bursts.is_empty() {
            String::new()
        } else {
            format!(", {} burst(s)", bursts.len())
        }
    );
    svg_open(
        out,
        W,
        H,
        &format!(
            "timeline of {}: records and errors per bin",
            clip(name, 300)
        ),
    );
    // Bursts behind the bars.
    let mut marks: Vec<&&BurstRow> = bursts.iter().collect();
    marks.sort_by(|a, b| b.events.cmp(&a.events).then(a.start.cmp(&b.start)));
    marks.truncate(MAX_BURST_MARKS);
    marks.sort_by(|a, b| a.start.cmp(&b.start).then(a.signature.cmp(&b.signature)));
    let burst_tip = |b: &BurstRow| {
        format!(
            "burst: {} x{} in {} s from {} (peak {}/s, threshold {}/s)",
            b.signature,
            thousands(b.events),
            b.seconds,
            utc(b.start),
            thousands(b.peak),
            b.threshold
        )
    };
    for b in &marks {
        let x0 = xof(b.start.clamp(span.t0, span.t1));
        let x1 = xof(b.end.clamp(span.t0, span.t1)).max(x0 + 2.0);
        rect(out, x0, REC_TOP, x1 - x0, AXIS - REC_TOP, "burst", None);
    }
    let rec_bars: Vec<_> = bins
        .iter()
        .enumerate()
        .filter(|(_, b)| b.0 > 0)
        .map(|(i, b)| {
            let h = (b.0 as f64 / rmax as f64 * REC_H).max(1.0);
            (
                LEFT + i as f64 * bw,
                REC_TOP + REC_H - h,
                (bw - gap).max(0.6),
                h,
            )
        })
        .collect();
    let err_bars: Vec<_> = bins
        .iter()
        .enumerate()
        .filter(|(_, b)| b.1 > 0)
        .map(|(i, b)| {
            let h = (b.1 as f64 / emax as f64 * ERR_H).max(1.0);
            (
                LEFT + i as f64 * bw,
                ERR_TOP + ERR_H - h,
                (bw - gap).max(0.6),
                h,
            )
        })
        .collect();
    bars_path(out, &rec_bars, "rec");
    bars_path(out, &err_bars, "err");
    value_ticks(out, LEFT, W - RIGHT, REC_TOP, REC_TOP + REC_H, rmax);
    value_ticks(out, LEFT, W - RIGHT, ERR_TOP, ERR_TOP + ERR_H, emax);
    text(out, LEFT + 4.0, REC_TOP + 11.0, "start", "lab", "records");
    text(out, LEFT + 4.0, ERR_TOP + 11.0, "start", "lab", "errors");
    // Tooltips: one transparent column per non-empty bin.
    for (i, b) in bins.iter().enumerate().filter(|(_, b)| b.0 > 0) {
        let from = span.t0.saturating_add(span.bin.saturating_mul(i as i64));
        let tip = format!(
            "{} to {}: {} records, {} errors",
            utc(from),
            utc(from.saturating_add(span.bin)),
            thousands(b.0),
            thousands(b.1)
        );
        rect(
            out,
            LEFT + i as f64 * bw,
            REC_TOP,
            bw,
            AXIS - REC_TOP,
            "hover",
            Some(&tip),
        );
    }
    // Burst marks on top, so their tooltips win.
    for b in &marks {
        let x = xof(b.start.clamp(span.t0, span.t1));
        w!(
            out,
            "<path class=\"burst-mark\" d=\"M{} 3l5 0l-5 9l-5 -9z\"><title>{}</title></path>\n",
            c(x),
            escape(&burst_tip(b))
        );
    }
    time_axis(out, LEFT, W - RIGHT, AXIS, span.t0, span.t1);
    svg_close(out);
    if untimed > 0 {
        w!(
            out,
            "<p class=\"note\">{} record(s) without a time are not drawn.</p>\n",
            thousands(untimed)
        );
    }
    if bursts.len() > marks.len() {
        w!(
            out,
            "<p class=\"note\">{} more burst(s) not marked: see <code>bursts.parquet</code>.</p>\n",
            bursts.len() - marks.len()
        );
    }
    out.push_str("</figure>\n");
}

// ----- sockets --------------------------------------------------------------------------

/// Labels of the histogram buckets (upper bounds), as [`BUCKETS_MS`].
const BUCKET_LABELS: [&str; 13] = [
    "1s", "2s", "5s", "10s", "20s", "30s", "1m", "2m", "5m", "10m", "30m", "1h", ">1h",
];

/// A duration in ms, short: `1s`, `2m`, `1h 30m 0s`.
fn ms_h(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        secs_h((ms / 1000.0).min(i64::MAX as f64) as i64)
    }
}

/// The duration histogram per (layer, cause), short sockets in red.
fn section_sockets(out: &mut String, config: &RunConfig, inc: &Incident) {
    out.push_str(
        "<section id=\"sockets\" data-chart=\"histogram\">\n<h2>Short sockets: how long connections lived</h2>\n",
    );
    let short_ms = config.analysis.short_ms as f64;
    if inc.histogram.is_empty() {
        out.push_str("<p class=\"empty\">No long-lived connection (WebSocket, streaming) ended in these logs.</p>\n</section>\n");
        return;
    }
    let short = &inc.short;
    w!(
        out,
        "<p class=\"note\">Sockets per duration bucket (upper bound; <code>socket_histogram.parquet</code>), one chart per layer and cause. Red: shorter than {} (a drop the user felt). {}</p>\n",
        ms_h(short_ms),
        if short.is_empty() {
            "No short socket.".to_string()
        } else {
            format!(
                "Short sockets by layer: {}.",
                short
                    .iter()
                    .map(|(l, n)| format!("{} {}", l.id(), thousands(*n)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    if inc.verdicts.iter().sum::<u64>() > 0 {
        let v = inc.drops_by_verdict();
        w!(
            out,
            "<p class=\"note\">Drops by verdict (<code>drops.parquet</code>): {}.</p>\n",
            escape(
                &v.iter()
                    .map(|(k, n)| format!("{k} {}", thousands(*n)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        );
    }
    let mut groups: BTreeMap<(Layer, &str), Vec<&HistogramRow>> = BTreeMap::new();
    for r in &inc.histogram {
        groups
            .entry((r.layer, r.cause.as_str()))
            .or_default()
            .push(r);
    }
    let mut groups: Vec<((Layer, &str), Vec<&HistogramRow>)> = groups.into_iter().collect();
    let total = |rows: &[&HistogramRow]| rows.iter().map(|r| r.count).sum::<u64>();
    groups.sort_by(|a, b| total(&b.1).cmp(&total(&a.1)).then(a.0.cmp(&b.0)));
    out.push_str("<div class=\"grid-charts\">\n");
    for ((layer, cause), rows) in groups.iter().take(MAX_HISTOGRAMS) {
        chart_histogram(out, *layer, cause, rows, short_ms);
    }
    out.push_str("</div>\n");
    if groups.len() > MAX_HISTOGRAMS {
        w!(
            out,
            "<p class=\"note\">{} more (layer, cause) group(s) with fewer sockets are not drawn: see <code>socket_histogram.parquet</code>.</p>\n",
            groups.len() - MAX_HISTOGRAMS
        );
    }
    out.push_str("</section>\n");
}

/// One (layer, cause): sockets per duration bucket, `n/a` for ends without a duration.
fn chart_histogram(
    out: &mut String,
    layer: Layer,
    cause: &str,
    rows: &[&HistogramRow],
    short_ms: f64,
) {
    const W: f64 = 420.0;
    const LEFT: f64 = 40.0;
    const RIGHT: f64 = 8.0;
    const TOP: f64 = 14.0;
    const PH: f64 = 110.0;
    const AXIS: f64 = TOP + PH;
    const H: f64 = AXIS + 34.0;
    let mut counts = [0u64; 13];
    let mut unknown = None;
    for r in rows {
        match r.le_ms {
            Some(le) => {
                let i = BUCKETS_MS.iter().position(|&b| b == le).unwrap_or(12);
                counts[i] += r.count;
            }
            None => unknown = Some(unknown.unwrap_or(0) + r.count),
        }
    }
    let mut cats: Vec<(&str, u64, String, &str)> = Vec::with_capacity(14);
    for (i, &n) in counts.iter().enumerate() {
        let range = match i {
            0 => format!("up to {}", ms_h(BUCKETS_MS[0])),
            12 => format!("over {}", ms_h(BUCKETS_MS[11])),
            _ => format!("{} to {}", ms_h(BUCKETS_MS[i - 1]), ms_h(BUCKETS_MS[i])),
        };
        let class = if BUCKETS_MS[i] <= short_ms {
            "short"
        } else {
            "long"
        };
        cats.push((BUCKET_LABELS[i], n, range, class));
    }
    if let Some(n) = unknown {
        cats.push(("n/a", n, "no duration logged".into(), "dim"));
    }
    let sum: u64 = cats.iter().map(|c| c.1).sum();
    let max = nice_ceil(cats.iter().map(|c| c.1).max().unwrap_or(0));
    let pw = W - LEFT - RIGHT;
    let bw = pw / cats.len() as f64;
    let title = format!("{} / {}", layer.id(), clip(cause, 80));
    out.push_str("<figure>\n");
    w!(
        out,
        "<figcaption>{}: {} socket(s)</figcaption>\n",
        escape(&title),
        thousands(sum)
    );
    svg_open(
        out,
        W,
        H,
        &format!(
            "duration histogram of {} sockets, cause {}",
            layer.id(),
            clip(cause, 200)
        ),
    );
    value_ticks(out, LEFT, W - RIGHT, TOP, AXIS, max);
    for (i, (label, n, range, class)) in cats.iter().enumerate() {
        let x = LEFT + i as f64 * bw;
        if *n > 0 {
            let h = (*n as f64 / max as f64 * PH).max(1.0);
            let tip = format!(
                "{} / {}: {} socket(s) lasting {range}",
                layer.id(),
                clip(cause, 200),
                thousands(*n)
            );
            rect(out, x + 1.5, AXIS - h, bw - 3.0, h, class, Some(&tip));
            text(
                out,
                x + bw / 2.0,
                AXIS - h - 3.0,
                "middle",
                "tl",
                &thousands(*n),
            );
        }
        text(out, x + bw / 2.0, AXIS + 13.0, "middle", "tl", label);
    }
    let k = BUCKETS_MS.iter().take_while(|&&le| le <= short_ms).count();
    if (1..13).contains(&k) {
        let x = LEFT + k as f64 * bw;
        line(out, x, TOP - 6.0, x, AXIS, "thr");
        text(
            out,
            x - 3.0,
            TOP + 14.0,
            "end",
            "tl lab",
            &format!("short < {}", ms_h(short_ms)),
        );
    }
    text(
        out,
        LEFT + pw / 2.0,
        AXIS + 28.0,
        "middle",
        "tl",
        "duration, up to (bucket bound)",
    );
    svg_close(out);
    out.push_str("</figure>\n");
}

// ----- templates ------------------------------------------------------------------------

/// Byte share of the top templates of all sources together.
fn section_templates(out: &mut String, templates: &[TemplateRow]) {
    out.push_str(
        "<section id=\"templates\" data-chart=\"share\">\n<h2>What fills the logs: byte share of the top templates</h2>\n",
    );
    let mut star: Vec<&TemplateRow> = templates.iter().filter(|t| t.source == "*").collect();
    if star.is_empty() {
        out.push_str("<p class=\"empty\">No templates were mined in this run.</p>\n</section>\n");
        return;
    }
    star.sort_by(|a, b| {
        b.template
            .bytes
            .cmp(&a.template.bytes)
            .then_with(|| a.template.template.cmp(&b.template.template))
    });
    w!(
        out,
        "<p class=\"note\">All sources together (<code>*</code>) of {}; the {} biggest templates by bytes, against 100%. Per source in <code>templates.parquet</code>. Hover a row for counts, times and an example.</p>\n",
        bytes_h(star[0].total_bytes),
        MAX_TEMPLATES.min(star.len())
    );
    chart_share(out, &star[..star.len().min(MAX_TEMPLATES)]);
    if star.len() > MAX_TEMPLATES {
        w!(
            out,
            "<p class=\"note\">{} more template row(s) of <code>*</code> not drawn.</p>\n",
            star.len() - MAX_TEMPLATES
        );
    }
    out.push_str("</section>\n");
}

/// Horizontal bars: share, then the template text.
fn chart_share(out: &mut String, rows: &[&TemplateRow]) {
    const W: f64 = 1100.0;
    const ROW: f64 = 22.0;
    const TOP: f64 = 6.0;
    const PCT_X: f64 = 58.0;
    const BAR_X: f64 = 64.0;
    const BAR_W: f64 = 300.0;
    const TEXT_X: f64 = BAR_X + BAR_W + 10.0;
    let h = TOP + rows.len() as f64 * ROW + 20.0;
    svg_open(out, W, h, "byte share of the top templates, all sources");
    for (i, t) in rows.iter().enumerate() {
        let y = TOP + i as f64 * ROW;
        let share = t.share().clamp(0.0, 1.0);
        let special = t.template.template == OTHER || t.template.template == NOT_RECORDS;
        rect(out, BAR_X, y + 4.0, BAR_W, ROW - 8.0, "track", None);
        if share > 0.0 {
            rect(
                out,
                BAR_X,
                y + 4.0,
                (share * BAR_W).max(1.0),
                ROW - 8.0,
                if special { "dim" } else { "bar" },
                None,
            );
        }
        text(out, PCT_X, y + 15.0, "end", "", &pct(t.share()));
        text(
            out,
            TEXT_X,
            y + 15.0,
            "start",
            "mono",
            &clip(&t.template.template, 104),
        );
        let when = match (t.template.first_ts, t.template.last_ts) {
            (Some(a), Some(b)) => format!(", from {} to {}", utc(a), utc(b)),
            _ => String::new(),
        };
        let example = String::from_utf8_lossy(&t.template.example);
        let tip = format!(
            "{}\n{} of {} bytes ({}), {} records{when}\nexample: {}",
            clip(&t.template.template, 400),
            thousands(t.template.bytes),
            thousands(t.total_bytes),
            pct(t.share()),
            thousands(t.template.records),
            clip(&example, 300)
        );
        rect(out, 0.0, y, W, ROW, "hover", Some(&tip));
    }
    let y = TOP + rows.len() as f64 * ROW + 2.0;
    for (f, label) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")] {
        let x = BAR_X + f * BAR_W;
        line(out, x, y, x, y + 3.0, "axis");
        text(out, x, y + 14.0, "middle", "tl", label);
    }
    svg_close(out);
}

// ----- TIME_WAIT ------------------------------------------------------------------------

/// TIME_WAIT groups of the socket captures against the port range, and each capture's
/// states.
fn section_timewait(out: &mut String, inc: &Incident) {
    out.push_str(
        "<section id=\"timewait\" data-chart=\"timewait\">\n<h2>TIME_WAIT against the ephemeral port range</h2>\n",
    );
    match inc.port_range {
        Some(n) => w!(
            out,
            "<p class=\"note\">The bundle's <code>ip_local_port_range</code> allows {} ports.",
            thousands(n)
        ),
        None => w!(
            out,
            "<p class=\"note\">No <code>ip_local_port_range</code> in the bundle: the default range 32768-60999 ({} ports) is assumed.",
            thousands(DEFAULT_PORTS)
        ),
    }
    out.push_str(" A (local address, remote endpoint) group needs one port per socket; from 90% the port is exhausted (<code>timewait.parquet</code>).</p>\n");
    if inc.timewait.is_empty() {
        out.push_str("<p class=\"empty\">No TIME_WAIT socket in a capture (netstat, ss, /proc/net/tcp) of this bundle.</p>\n");
    } else {
        let mut rows: Vec<&TimewaitRow> = inc
            .timewait
            .iter()
            .filter(|t| t.utilization.is_some())
            .collect();
        rows.sort_by(|a, b| {
            b.utilization
                .unwrap_or(0.0)
                .total_cmp(&a.utilization.unwrap_or(0.0))
                .then(b.time_wait.cmp(&a.time_wait))
                .then_with(|| a.capture.cmp(&b.capture))
                .then_with(|| a.local_addr.cmp(&b.local_addr))
                .then_with(|| a.remote.cmp(&b.remote))
        });
        if rows.is_empty() {
            out.push_str("<p class=\"empty\">Only grouped (<code>&lt;other&gt;</code>) TIME_WAIT rows: no utilization to draw.</p>\n");
        } else {
            chart_timewait(out, &rows[..rows.len().min(MAX_TIMEWAIT)]);
            if rows.len() > MAX_TIMEWAIT {
                w!(
                    out,
                    "<p class=\"note\">{} more group(s) with lower utilization not drawn.</p>\n",
                    rows.len() - MAX_TIMEWAIT
                );
            }
        }
        let other: u64 = inc
            .timewait
            .iter()
            .filter(|t| t.utilization.is_none())
            .map(|t| t.time_wait)
            .sum();
        if other > 0 {
            w!(
                out,
                "<p class=\"note\">{} more TIME_WAIT socket(s) in the <code>&lt;other&gt;</code> rows.</p>\n",
                thousands(other)
            );
        }
    }
    if !inc.states.is_empty() {
        let mut by: BTreeMap<(&str, Option<i64>), Vec<String>> = BTreeMap::new();
        for s in &inc.states {
            by.entry((s.capture.as_str(), s.captured_at))
                .or_default()
                .push(format!("{} {}", s.state.name(), thousands(s.count)));
        }
        out.push_str("<p class=\"note\">Socket states per capture (<code>socket_states.parquet</code>):</p>\n<ul class=\"note\">\n");
        for ((capture, at), states) in &by {
            w!(
                out,
                "<li><span class=\"mono\">{}</span>{}: {}</li>\n",
                esc_clip(capture, 200),
                at.map(|t| format!(" (captured {})", utc(t)))
                    .unwrap_or_default(),
                escape(&states.join(", "))
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

/// One bar per group: utilization against 100% of the ports, 90% marked.
fn chart_timewait(out: &mut String, rows: &[&TimewaitRow]) {
    const W: f64 = 1100.0;
    const ROW: f64 = 24.0;
    const TOP: f64 = 16.0;
    const BAR_X: f64 = 440.0;
    const BAR_W: f64 = 460.0;
    let h = TOP + rows.len() as f64 * ROW + 22.0;
    svg_open(
        out,
        W,
        h,
        "TIME_WAIT sockets per (local address, remote) against the ephemeral ports",
    );
    let thr_x = BAR_X + EXHAUSTION_UTILIZATION * BAR_W;
    for (i, t) in rows.iter().enumerate() {
        let y = TOP + i as f64 * ROW;
        let u = t.utilization.unwrap_or(0.0);
        // The capture by its file name (the tooltip has the whole name).
        let file = t.capture.rsplit(['/', ':']).next().unwrap_or(&t.capture);
        let label = format!("{} -> {} ({file})", t.local_addr, t.remote);
        text(out, 4.0, y + 16.0, "start", "mono", &clip(&label, 62));
        rect(out, BAR_X, y + 5.0, BAR_W, ROW - 10.0, "track", None);
        if u > 0.0 {
            let class = if u >= EXHAUSTION_UTILIZATION {
                "hot"
            } else {
                "bar"
            };
            rect(
                out,
                BAR_X,
                y + 5.0,
                (u.min(1.0) * BAR_W).max(1.0),
                ROW - 10.0,
                class,
                None,
            );
        }
        text(
            out,
            BAR_X + BAR_W + 8.0,
            y + 16.0,
            "start",
            "",
            &format!(
                "{} / {} ports ({})",
                thousands(t.time_wait),
                thousands(t.ports_available),
                pct(u)
            ),
        );
        let tip = format!(
            "{}: {} TIME_WAIT socket(s) from {} to {} hold {} of {} ephemeral ports",
            clip(&t.capture, 300),
            thousands(t.time_wait),
            clip(&t.local_addr, 100),
            clip(&t.remote, 100),
            pct(u),
            thousands(t.ports_available)
        );
        rect(out, 0.0, y, W, ROW, "hover", Some(&tip));
    }
    let bottom = TOP + rows.len() as f64 * ROW;
    line(out, thr_x, TOP - 8.0, thr_x, bottom, "thr");
    text(out, thr_x, TOP - 4.0, "middle", "tl", "90%: exhausted");
    for (f, label) in [
        (0.0, "0%"),
        (0.25, "25%"),
        (0.5, "50%"),
        (0.75, "75%"),
        (1.0, "100%"),
    ] {
        let x = BAR_X + f * BAR_W;
        line(out, x, bottom + 2.0, x, bottom + 5.0, "axis");
        text(out, x, bottom + 16.0, "middle", "tl", label);
    }
    svg_close(out);
}

// ----- findings -------------------------------------------------------------------------

/// The findings, oldest first, with their evidence.
fn table_findings(out: &mut String, result: &RunResult, inc: &Incident) {
    out.push_str("<section id=\"findings\" data-table=\"findings\">\n<h2>Findings</h2>\n");
    let capped: u64 = result
        .sources
        .iter()
        .map(|s| s.analyses.findings.dropped)
        .sum();
    if inc.findings.is_empty() {
        out.push_str("<p class=\"empty\">No finding (OOM kill, restart, disk full, worker timeout, expired certificate, port exhaustion, silence).</p>\n");
    } else {
        let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
        for f in &inc.findings {
            *kinds.entry(f.found.kind.id()).or_default() += 1;
        }
        w!(
            out,
            "<p class=\"note\">{} row(s) of <code>findings.parquet</code>: {}. Evidence: the source and byte offset of the (first) record that showed it.</p>\n",
            thousands(inc.findings.len() as u64),
            kinds
                .iter()
                .map(|(k, n)| format!("{k} {}", thousands(*n)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        out.push_str("<table>\n<thead><tr><th>time (UTC)</th><th>kind</th><th>source</th><th>subject</th><th>count</th><th>detail</th><th>evidence</th></tr></thead>\n<tbody>\n");
        for f in inc.findings.iter().take(MAX_FINDINGS) {
            finding_row(out, f);
        }
        out.push_str("</tbody>\n</table>\n");
        if inc.findings.len() > MAX_FINDINGS {
            w!(
                out,
                "<p class=\"note\">{} more finding(s), later in time: see <code>findings.parquet</code>.</p>\n",
                thousands((inc.findings.len() - MAX_FINDINGS) as u64)
            );
        }
    }
    if capped > 0 {
        w!(
            out,
            "<p class=\"note\">{} finding(s) beyond the per-source bound were only counted (<code>summary.json</code>, <code>capped</code>).</p>\n",
            thousands(capped)
        );
    }
    out.push_str("</section>\n");
}

fn finding_row(out: &mut String, f: &FindingRow) {
    let kind = f.found.kind.id();
    let evidence = match f.found.offset {
        Some(o) => format!(
            "<span class=\"mono\">{}</span> @ byte {}",
            esc_clip(&f.source, 200),
            thousands(o)
        ),
        None => "derived (no single record)".into(),
    };
    w!(
        out,
        "<tr><td class=\"when\">{}</td><td><span class=\"kind {kind}\">{kind}</span></td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"num\">{}</td><td class=\"detail mono\">{}</td><td>{evidence}</td></tr>\n",
        f.found.ts.map(utc).unwrap_or_else(|| "untimed".into()),
        esc_clip(&f.source, 200),
        esc_clip(f.found.subject.as_deref().unwrap_or(""), 200),
        thousands(f.found.count),
        esc_clip(&f.found.detail, 400),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Found, Kind};
    use crate::incident::headline;
    use crate::templates::template_rows;

    /// A run over a few synthetic logs in a fresh directory.
    fn run_logs(tag: &str, files: &[(&str, String)]) -> (tempfile::TempDir, RunResult) {
        let dir = tempfile::Builder::new()
            .prefix(&format!("coroner-html-{tag}"))
            .tempdir()
            .unwrap();
        let mut paths = Vec::new();
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            paths.push(p);
        }
        let config = RunConfig {
            threads: 2,
            ..RunConfig::default()
        };
        let result = crate::pipeline::run(&paths, &config, &|_| {});
        (dir, result)
    }

    fn bundle() -> Vec<(&'static str, String)> {
        let mut access = String::new();
        for i in 0..40 {
            access.push_str(&format!(
                "203.0.113.{} - - [02/Jul/2026:15:{:02}:{:02} +0000] \"GET /api/{i} HTTP/1.1\" 200 512 \"-\" \"curl/8\"\n",
                i % 7 + 1,
                30 + i / 4,
                i * 7 % 60
            ));
        }
        for i in 0..8 {
            access.push_str(&format!(
                "203.0.113.9 - - [02/Jul/2026:15:42:01 +0000] \"GET /feed/{i} HTTP/1.1\" 502 166 \"-\" \"curl/8\"\n"
            ));
        }
        let kern = "2026-07-02T15:40:00.000000+00:00 Out of memory: Killed process 42 (netdata) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB\n\
                    2026-07-02T15:40:05.000000+00:00 systemd noise line\n"
            .to_string();
        let dispatch = "2026-07-02T15:41:00Z ws close dur_ms=500 cause=downstream_closed user=a\n\
                        2026-07-02T15:41:30Z ws close dur_ms=3000000 cause=downstream_closed user=b\n\
                        2026-07-02T15:42:30Z ws close dur_ms=900 cause=upstream_closed user=c\n"
            .to_string();
        // A socket capture: 9 TIME_WAIT sockets to one database against 10 ports.
        let mut ss = String::from(
            "State      Recv-Q Send-Q Local Address:Port  Peer Address:Port\n\
             LISTEN     0      128         0.0.0.0:22         0.0.0.0:*\n\
             ESTAB      0      0          10.0.0.5:60001     10.0.0.9:5432\n",
        );
        for port in 0..9 {
            ss.push_str(&format!(
                "TIME-WAIT  0      0          10.0.0.5:{}     10.0.0.9:5432\n",
                60_000 + port
            ));
        }
        vec![
            ("access.log", access),
            ("kern.log", kern),
            ("dispatch.log", dispatch),
            ("ss-tan.txt", ss),
            ("ip_local_port_range", "60000\t60009\n".into()),
        ]
    }

    fn render_run(result: &RunResult) -> String {
        let config = RunConfig::default();
        let inc = Incident::of(result, &config).unwrap();
        let templates = template_rows(result, config.top);
        let head = headline(&inc, &templates, &[], config.analysis.short_ms as f64);
        render(result, &config, &inc, &templates, &head)
    }

    #[test]
    fn html_report_is_one_self_contained_document() {
        let (_dir, result) = run_logs("doc", &bundle());
        assert!(!result.had_errors());
        let config = RunConfig::default();
        let inc = Incident::of(&result, &config).unwrap();
        // The bundle gives what each section draws.
        assert!(inc.bursts.iter().any(|b| b.signature == "HTTP 502"));
        assert!(inc.findings.iter().any(|f| f.found.kind == Kind::OomKill));
        assert!(!inc.histogram.is_empty());
        assert_eq!(inc.port_range, Some(10));
        assert!(inc.timewait.iter().any(|t| t.time_wait == 9));
        let html = render_run(&result);
        if let Ok(path) = std::env::var("CORONER_HTML_SAMPLE") {
            std::fs::write(path, &html).unwrap();
        }

        assert!(html.starts_with("<!doctype html>\n"));
        assert!(html.ends_with("</html>\n"));
        assert_eq!(html.matches("<html").count(), 1);
        assert_eq!(html.matches("</html>").count(), 1);
        // Nothing from the network: no scripts, no linked resources, no URLs at all.
        let lower = html.to_ascii_lowercase();
        for bad in [
            "http://", "https://", "<script", "<link", "<img", "<iframe", "src=", "url(",
            "@import", "//cdn",
        ] {
            assert!(!lower.contains(bad), "{bad} in the report");
        }
        for id in [
            "id=\"headline\"",
            "id=\"timeline\" data-chart=\"timeline\"",
            "id=\"sockets\" data-chart=\"histogram\"",
            "id=\"templates\" data-chart=\"share\"",
            "id=\"timewait\" data-chart=\"timewait\"",
            "id=\"findings\"",
        ] {
            assert!(html.contains(id), "{id}");
        }
        // Timelines: all sources + 3 sources; histograms: 2 causes; share; TIME_WAIT.
        let charts = html.matches("<svg class=\"chart\"").count();
        assert!(charts >= 8, "{charts} charts");
        assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
        // The OOM finding with its subject and evidence, the headline naming its table.
        assert!(html.contains("netdata"));
        assert!(html.contains("<span class=\"kind oom_kill\">oom_kill</span>"));
        assert!(html.contains("kern.log</span> @ byte 0"));
        assert!(html.contains("OOM killer"));
        assert!(html.contains("<code>findings.parquet</code>"));
        assert!(html.contains("<code>bursts.parquet</code>"));
        // The 502 burst is marked on the access log's chart and on the `*` chart.
        assert_eq!(html.matches("burst: HTTP 502 x8").count(), 2);
        // A short and a long dispatch socket.
        assert!(html.contains("dispatch / downstream_closed"));
        assert!(html.contains("class=\"short\""));
        assert!(html.contains("class=\"long\""));
        // TIME_WAIT against the bundle's 10 ports: exhausted, in the headline too.
        assert!(html.contains("allows 10 ports"));
        assert!(html.contains("9 / 10 ports (90.0%)"));
        assert!(html.contains("class=\"hot\""));
        assert!(html.contains("TIME_WAIT exhausts the ephemeral ports"));
        assert!(html.contains("<code>timewait.parquet</code>"));
        assert!(html.contains("TIME_WAIT 9"));
        // Deterministic.
        assert_eq!(html, render_run(&result));
    }

    #[test]
    fn html_report_of_an_empty_bundle_still_renders() {
        let (_dir, result) = run_logs("empty", &[("empty.log", String::new())]);
        let html = render_run(&result);
        assert!(html.starts_with("<!doctype html>") && html.ends_with("</html>\n"));
        assert!(html.contains("No record has a time"));
        assert!(html.contains("No finding"));
        assert_eq!(html.matches("<svg").count(), 0);
    }

    const HOSTILE: &str =
        "<script>alert(1)</script>\"'&\u{0}\u{1}\u{7}\u{8}\u{b}\u{c}\u{1b}[31m\u{7f}\u{85}\u{202e}";

    #[test]
    fn escape_covers_markup_and_control_characters() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("a\tb\r\nc"), "a b  c");
        assert_eq!(
            escape("\u{0}\u{1b}\u{7f}\u{9b}\u{202e}\u{ffff}"),
            "\u{fffd}".repeat(6)
        );
        assert_eq!(escape("ünïcødé ✓ 日本"), "ünïcødé ✓ 日本");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(12), "12");
    }

    /// Log content is hostile: markup and control bytes through every field that reaches
    /// the page never come out raw.
    #[test]
    fn hostile_log_content_is_escaped_everywhere() {
        // Through the pipeline: a source name, templates, a cause, a subject, a detail.
        let name = "evil<script>alert(1)</script>\u{1}.log";
        let lines = format!(
            "2026-07-02T15:40:00Z Out of memory: Killed process 42 (<script>alert(1)</script>) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB\n\
             2026-07-02T15:40:01Z ws close dur_ms=5 cause=<script>alert(1)</script>\u{1b}[0m user=<b>\n\
             2026-07-02T15:40:02Z {HOSTILE} No space left on device\n"
        );
        let (_dir, mut result) = run_logs("hostile", &[("evil.log", lines)]);
        let config = RunConfig::default();

        // And straight into every table the report draws from.
        result.sources[0].name = format!("{name}{HOSTILE}");
        let mut inc = Incident::of(&result, &config).unwrap();
        assert!(!inc.findings.is_empty() && !inc.histogram.is_empty());
        inc.findings.push(FindingRow {
            source: HOSTILE.into(),
            found: Found {
                ts: Some(1_782_000_000 * SEC),
                kind: Kind::Silence,
                subject: Some(HOSTILE.into()),
                detail: HOSTILE.into(),
                count: 1,
                offset: Some(7),
                quiet: None,
            },
        });
        for h in &mut inc.histogram {
            h.cause = format!("{}{HOSTILE}", h.cause);
        }
        inc.bursts.push(BurstRow {
            source: "*".into(),
            signature: HOSTILE.into(),
            start: 1_782_997_201 * SEC,
            end: 1_782_997_202 * SEC,
            seconds: 1,
            events: 9,
            peak: 9,
            threshold: 5,
        });
        inc.timewait.push(TimewaitRow {
            capture: HOSTILE.into(),
            local_addr: HOSTILE.into(),
            remote: HOSTILE.into(),
            time_wait: 28_000,
            ports_available: 28_232,
            utilization: Some(28_000.0 / 28_232.0),
        });
        let mut templates = template_rows(&result, config.top);
        assert!(!templates.is_empty());
        for t in &mut templates {
            t.source = "*".into();
            t.template.template = format!("{HOSTILE}{}", t.template.template);
            t.template.stats.example = HOSTILE.as_bytes().to_vec();
        }
        let mut head = headline(&inc, &templates, &[], config.analysis.short_ms as f64);
        head.push(Headline {
            text: HOSTILE.into(),
            table: "findings.parquet",
            rank: 1,
        });
        let html = render(&result, &config, &inc, &templates, &head);
        if let Ok(path) = std::env::var("CORONER_HTML_SAMPLE") {
            std::fs::write(format!("{path}.hostile.html"), &html).unwrap();
        }

        assert!(!html.contains("<script"), "raw script tag");
        assert!(!html.contains("alert(1)</"), "raw closing tag");
        assert!(!html.contains("<b>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        // Quotes only where the page itself puts them: never the hostile `"'&` run.
        assert!(!html.contains("\"'&"));
        assert!(html.contains("&quot;&#39;&amp;"));
        for ch in html.chars() {
            let allowed = ch == '\n' || !(ch.is_control() || is_format_trap(ch));
            assert!(allowed, "raw control character U+{:04X}", ch as u32);
        }
        // Every escaped field made it to the page (nothing was dropped to be safe).
        assert!(
            html.matches("&lt;script&gt;alert(1)&lt;/script&gt;")
                .count()
                >= 8
        );
        assert!(html.contains("burst: &lt;script&gt;"));
    }

    #[test]
    fn time_ticks_are_round_and_bounded() {
        let t0 = 1_782_997_200 * SEC; // 2026-07-02T13:00:00Z
        let (ticks, step) = time_ticks(t0 + 17 * SEC, t0 + 3600 * SEC);
        assert_eq!(step, 600);
        assert!(ticks.len() <= 8 && ticks.iter().all(|t| t % (600 * SEC) == 0));
        assert_eq!(tick_label(ticks[0], step, 3600 * SEC), "13:10");
        let (ticks, step) = time_ticks(t0, t0 + 30 * 86_400 * SEC);
        assert!(step >= 86_400 && ticks.len() <= 8);
        assert_eq!(tick_label(t0, step, 30 * 86_400 * SEC), "2026-07-02");
        assert_eq!(nice_ceil(0), 1);
        assert_eq!(nice_ceil(7), 10);
        assert_eq!(nice_ceil(101), 200);
    }

    #[test]
    fn long_spans_are_binned() {
        let bucket = 60 * SEC;
        let starts = (0..10_000).map(|i| i * bucket);
        let span = Span::of(starts, bucket).unwrap();
        assert!(span.bins() as i64 <= MAX_BINS);
        assert_eq!(span.bin % bucket, 0);
        assert!(span.t1 >= 10_000 * bucket);
        let one = Span::of(std::iter::once(5 * bucket), bucket).unwrap();
        assert_eq!((one.t0, one.t1, one.bins()), (5 * bucket, 6 * bucket, 1));
        assert!(Span::of(std::iter::empty(), bucket).is_none());
        // Absurd widths and far-apart times do not overflow.
        let wide = Span::of([-(1i64 << 62), 0].into_iter(), i64::MAX).unwrap();
        assert_eq!(wide.bins(), 1);
        assert_eq!(wide.bin_of(0), 0);
        let (ticks, _) = time_ticks(i64::MIN / 2, i64::MAX);
        assert!(ticks.len() <= 16);
        assert_eq!(secs_h(60), "1m");
        assert_eq!(secs_h(3 * 86_400 + 7200 + 5), "3d 2h");
        assert_eq!(secs_h(0), "0s");
        assert_eq!(ms_h(120_000.0), "2m");
    }
}
