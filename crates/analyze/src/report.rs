//! The run's output: `sources.parquet` and `summary.json` (the contract in
//! `docs/reports.md`), and the totals the terminal summary prints.

use std::path::{Path, PathBuf};

use coroner_parse::format::Envelope;
use serde_json::{Value, json};

use crate::bursts::bursts_batch;
use crate::captures::{states_batch, timewait_batch};
use crate::config::{RunConfig, format_tz};
use crate::drop_window::DropSink;
use crate::drops::{DropRow, drops_batch};
use crate::findings::findings_batch;
use crate::incident::{Headline, Incident, headline};
use crate::pattern_share::{rows_from_templates, share_batch, share_rows};
use crate::pipeline::{RunResult, SourceReport};
use crate::sockets::{EndView, SocketColumns, histogram_batch};
use crate::table::{self, Column, REPORT_VERSION};
use crate::templates::{template_rows, templates_batch};
use crate::timeline::{timeline_batch, timeline_rows};

/// Totals over a run. Archive rows are containers: their members are counted, their own
/// bytes (the tar stream) are not counted again, only its headers and padding.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub sources: u64,
    pub stored_bytes: u64,
    pub bytes: u64,
    pub records: u64,
    pub unparsed_records: u64,
    pub unparsed_bytes: u64,
    pub meta_bytes: u64,
    pub errors: u64,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
}

impl Totals {
    pub fn of(result: &RunResult) -> Totals {
        let mut t = Totals::default();
        for s in &result.sources {
            t.errors += u64::from(s.error.is_some());
            if s.id.member == 0 {
                t.stored_bytes += s.stored_bytes.unwrap_or(0);
            }
            if s.archive {
                t.meta_bytes += s.stats.meta_bytes;
                continue;
            }
            t.sources += 1;
            t.bytes += s.stats.bytes;
            t.records += s.stats.records;
            t.unparsed_records += s.stats.unparsed_records;
            t.unparsed_bytes += s.stats.unparsed_bytes;
            t.meta_bytes += s.stats.meta_bytes;
            for ts in [s.stats.first_ts, s.stats.last_ts].into_iter().flatten() {
                t.first_ts = Some(t.first_ts.map_or(ts, |f| f.min(ts)));
                t.last_ts = Some(t.last_ts.map_or(ts, |l| l.max(ts)));
            }
        }
        t
    }
}

/// The `sources.parquet` batch: the contract's columns, then coroner's additions
/// (`error_offset`, `meta_bytes`, `payloads`; see docs/reports.md).
pub fn sources_batch(result: &RunResult) -> Result<arrow_array::RecordBatch, String> {
    let s = &result.sources;
    let formats: Vec<String> = s.iter().map(SourceReport::format).collect();
    let errors: Vec<Option<String>> = s
        .iter()
        .map(|r| r.error.as_ref().map(|e| e.cause()))
        .collect();
    let mixes: Vec<String> = s.iter().map(|r| r.stats.payload_mix()).collect();
    table::batch(vec![
        Column::utf8("source", s.iter().map(|r| Some(r.name.as_str()))),
        Column::utf8("format", formats.iter().map(|f| Some(f.as_str()))),
        Column::utf8(
            "compression",
            s.iter().map(|r| Some(r.compression.as_str())),
        ),
        Column::u64("stored_bytes", s.iter().map(|r| r.stored_bytes)),
        Column::u64("bytes", s.iter().map(|r| Some(r.stats.bytes))),
        Column::u64("records", s.iter().map(|r| Some(r.stats.records))),
        Column::u64(
            "unparsed_records",
            s.iter().map(|r| Some(r.stats.unparsed_records)),
        ),
        Column::u64(
            "unparsed_bytes",
            s.iter().map(|r| Some(r.stats.unparsed_bytes)),
        ),
        Column::timestamp("first_ts", s.iter().map(|r| r.stats.first_ts)),
        Column::timestamp("last_ts", s.iter().map(|r| r.stats.last_ts)),
        Column::utf8("error", errors.iter().map(|e| e.as_deref())),
        Column::u64(
            "error_offset",
            s.iter().map(|r| r.error.as_ref().and_then(|e| e.offset)),
        ),
        Column::u64("meta_bytes", s.iter().map(|r| Some(r.stats.meta_bytes))),
        Column::utf8(
            "payloads",
            mixes.iter().map(|m| (!m.is_empty()).then_some(m.as_str())),
        ),
    ])
}

/// `1,234,567`: a count as people read it (terminal summary, HTML report).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// ISO 8601 UTC with microseconds, for JSON.
pub fn iso_micros(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    )
}

fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `sockets.parquet`: every source's socket ends (not archives), in `sources.parquet`
/// order, each source's in arrival order; read back from their spills a slice at a time.
fn write_sockets(path: &Path, result: &RunResult) -> Result<(), String> {
    let mut writer = table::BatchWriter::new(path);
    let mut columns = SocketColumns::new(table::BATCH_ROWS);
    for s in result.streams() {
        let name = s.name.as_str();
        s.analyses
            .sockets
            .visit(|bytes| {
                let end = EndView::read(bytes).ok_or("a socket end that does not read back")?;
                columns.push(name, &end);
                if columns.len() >= table::BATCH_ROWS {
                    writer.write(&columns.batch()?)?;
                }
                Ok(())
            })
            .map_err(|e| format!("{name}: {e}"))?;
    }
    if !columns.is_empty() {
        writer.write(&columns.batch()?)?;
    }
    writer.finish(|| SocketColumns::new(0).batch())
}

/// What the temporary files of the incident tables could not take (a full disk).
#[derive(Debug, Default)]
pub struct SpillLoss {
    /// Socket ends left out of the drop attribution.
    pub drop_ends: u64,
    /// Drop rows found but not written.
    pub drops: u64,
    pub error: Option<String>,
}

/// `summary.json`: the run's inputs, options, versions, totals and per-source errors.
pub fn summary_json(
    inputs: &[PathBuf],
    config: &RunConfig,
    result: &RunResult,
    tables: &[&str],
    headline: &[Headline],
    spill: &SpillLoss,
) -> Value {
    let t = Totals::of(result);
    let errors: Vec<Value> = result
        .sources
        .iter()
        .filter_map(|s| {
            s.error
                .as_ref()
                .map(|e| json!({"source": s.name, "error": e.cause(), "offset": e.offset}))
        })
        .collect();
    json!({
        "report_version": REPORT_VERSION,
        "coroner_version": env!("CARGO_PKG_VERSION"),
        "inputs": inputs.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
        "options": {
            "threads": config.threads,
            "max_line": config.max_line,
            "mmap": config.mmap,
            "tz": format_tz(config.tz_offset_secs),
            "tz_note": "zone assumed for timestamps that carry none (nginx error log, journalctl -o short, syslog)",
            "year": config.year,
            "patterns": config.patterns,
            "pattern_kind": config.pattern_mode.kind(),
            "top": config.top,
            "nginx_format": config.nginx_format,
            "analyses": config.analyses,
            "bursts": config.analysis.bursts,
            "burst_threshold": config.analysis.burst_threshold,
            "ws_paths": config.analysis.ws_paths,
            "short_ms": config.analysis.short_ms,
            "skew_ms": config.analysis.skew_ms,
            "bucket_secs": config.analysis.bucket_secs,
            "year_policy": match config.year {
                Some(_) => "--year is the year of each source's first record; months before its month roll into the next year",
                None => "each file's modification time dates its last record; months after that month belong to the year before",
            },
        },
        "totals": {
            "sources": t.sources,
            "stored_bytes": t.stored_bytes,
            "bytes": t.bytes,
            "records": t.records,
            "unparsed_records": t.unparsed_records,
            "unparsed_bytes": t.unparsed_bytes,
            "meta_bytes": t.meta_bytes,
            "errors": t.errors,
            "first_ts": t.first_ts.map(iso_micros),
            "last_ts": t.last_ts.map(iso_micros),
        },
        "tables": tables,
        // What the analyses' memory bounds left out (see docs/reports.md): nothing is lost
        // silently.
        "capped": {
            "socket_ends": result.sources.iter().map(|s| s.analyses.sockets.dropped()).sum::<u64>(),
            "findings": result.sources.iter().map(|s| s.analyses.findings.dropped).sum::<u64>(),
            "drop_ends": spill.drop_ends,
            "drops": spill.drops,
            "timeline_buckets": result.sources.iter().map(|s| s.analyses.timeline.lost()).sum::<u64>(),
            "spill_error": result
                .sources
                .iter()
                .find_map(|s| s.analyses.sockets.error().or_else(|| s.analyses.timeline.error()))
                .or(spill.error.as_deref()),
        },
        "headline": headline
            .iter()
            .map(|h| json!({"text": h.text, "table": h.table}))
            .collect::<Vec<_>>(),
        "errors": errors,
    })
}

/// What `write_all` wrote, and the headline it put in `summary.json`.
#[derive(Debug, Default)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub headline: Vec<Headline>,
}

/// Write every table of the run into `dir` (created if needed).
pub fn write_all(
    dir: &Path,
    inputs: &[PathBuf],
    config: &RunConfig,
    result: &RunResult,
) -> Result<Written, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut tables = vec!["sources.parquet"];
    let mut written = vec![dir.join("sources.parquet")];
    table::write_parquet(&written[0], &sources_batch(result)?)?;
    let templates = if config.templates {
        let rows = template_rows(result, config.top);
        let path = dir.join("templates.parquet");
        table::write_parquet(&path, &templates_batch(&rows)?)?;
        tables.push("templates.parquet");
        written.push(path);
        rows
    } else {
        Vec::new()
    };
    let share = if !config.patterns.is_empty() {
        Some(share_rows(result, &config.patterns, config.pattern_mode))
    } else if config.templates {
        Some(rows_from_templates(&templates))
    } else {
        None
    };
    if let Some(rows) = share {
        let path = dir.join("pattern_share.parquet");
        table::write_parquet(&path, &share_batch(&rows)?)?;
        tables.push("pattern_share.parquet");
        written.push(path);
    }
    let mut lines = Vec::new();
    let mut spill = SpillLoss::default();
    if config.analyses {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.threads.max(1))
            .build()
            .map_err(|e| e.to_string())?;
        // sockets.parquet needs the sources' socket ends, not the incident: it is written
        // while the incident is derived (one read of every end, then drop attribution),
        // not after it. It was the longest table, and waited for both.
        let sockets_path = dir.join("sockets.parquet");
        // drops.parquet is written as the attribution makes its rows, on a thread of its
        // own (not one of the pool's: with one thread the attribution would wait for a
        // writer that never ran); it had been the run's last seconds, on one core.
        let drops_path = dir.join("drops.parquet");
        // The names drop rows' `source` indices point to, as the incident counts them.
        let names: Vec<&str> = result.streams().map(|s| s.name.as_str()).collect();
        // Room for the rows of a whole slice the writer encodes at once: with room for a
        // few batches only, the attribution stopped each time the writer encoded a slice,
        // and the two took turns on one core for the run's last seconds.
        let slice_batches = table::BATCH_ROWS.div_ceil(DropSink::BATCH);
        let (drop_tx, drop_rx) = crossbeam_channel::bounded::<Vec<DropRow>>(slice_batches);
        let (inc, sockets_written, drops_written) = std::thread::scope(|scope| {
            let writer = scope.spawn(|| {
                let rows = drop_rx.into_iter().flatten().map(Ok);
                table::write_iter(&drops_path, rows, |rows| drops_batch(rows, &names))
            });
            let (inc, sockets) = pool.install(|| {
                rayon::join(
                    || Incident::with_drops(result, config, Some(drop_tx)),
                    || write_sockets(&sockets_path, result),
                )
            });
            let drops = writer
                .join()
                .unwrap_or_else(|_| Err(format!("{}: the writer failed", drops_path.display())));
            (inc, sockets, drops)
        });
        let inc = inc?;
        spill = SpillLoss {
            drop_ends: inc.unsorted,
            drops: inc.drops.lost(),
            error: inc
                .spill_error
                .clone()
                .or_else(|| inc.drops.error().map(str::to_string)),
        };
        let timelines: Vec<_> = result
            .streams()
            .map(|s| (s.name.as_str(), &s.analyses.timeline))
            .collect();
        // The tables are independent: they are encoded in parallel (zstd and the Parquet
        // encoders were a third of a 5 GB run, all on one core), on the run's thread count,
        // and listed in this order whatever order they finish in. The tables that grow with
        // the input (socket ends, drops, findings) go a slice of rows at a time.
        type Job<'j> = Box<dyn Fn(&Path) -> Result<(), String> + Send + Sync + 'j>;
        let one = |batch: fn(&Incident) -> Result<arrow_array::RecordBatch, String>| -> Job<'_> {
            let inc = &inc;
            Box::new(move |p: &Path| table::write_parquet(p, &batch(inc)?))
        };
        let jobs: Vec<(&'static str, Job<'_>)> = vec![
            ("bursts.parquet", one(|i| bursts_batch(&i.bursts))),
            ("sockets.parquet", Box::new(|_| sockets_written.clone())),
            (
                "socket_histogram.parquet",
                one(|i| histogram_batch(&i.histogram)),
            ),
            ("drops.parquet", Box::new(|_| drops_written.clone())),
            (
                "findings.parquet",
                Box::new(|p| table::write_rows(p, &inc.findings, findings_batch)),
            ),
            (
                "timeline.parquet",
                Box::new(|p| {
                    let rows = timeline_rows(&timelines, config.analysis.bucket_secs);
                    table::write_iter(p, rows, timeline_batch)
                }),
            ),
            ("socket_states.parquet", one(|i| states_batch(&i.states))),
            ("timewait.parquet", one(|i| timewait_batch(&i.timewait))),
        ];
        let captures: Vec<&str> = result
            .sources
            .iter()
            .filter(|s| s.envelope.is_some_and(Envelope::is_capture))
            .map(|s| s.name.as_str())
            .collect();
        lines = headline(&inc, &templates, &captures, config.analysis.short_ms as f64);
        let html_path = dir.join("report.html");
        let write_html = || {
            let html = crate::html::render(result, config, &inc, &templates, &lines);
            std::fs::write(&html_path, html).map_err(|e| format!("{}: {e}", html_path.display()))
        };
        let (tables_done, html_done) = pool.install(|| {
            use rayon::prelude::*;
            rayon::join(
                || {
                    jobs.par_iter()
                        .map(|(name, write)| write(&dir.join(name)))
                        .collect::<Result<Vec<()>, String>>()
                },
                write_html,
            )
        });
        tables_done?;
        html_done?;
        for (name, _) in &jobs {
            tables.push(name);
            written.push(dir.join(name));
        }
        written.push(html_path);
    }
    let summary = dir.join("summary.json");
    let text = serde_json::to_string_pretty(&summary_json(
        inputs, config, result, &tables, &lines, &spill,
    ))
    .map_err(|e| e.to_string())?;
    std::fs::write(&summary, text + "\n").map_err(|e| format!("{}: {e}", summary.display()))?;
    written.insert(0, summary);
    Ok(Written {
        files: written,
        headline: lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(123_456), "123,456");
        assert_eq!(thousands(12), "12");
        assert_eq!(thousands(0), "0");
    }

    #[test]
    fn iso_micros_known_values() {
        assert_eq!(
            iso_micros(1_615_648_981_464_603),
            "2021-03-13T15:23:01.464603Z"
        );
        assert_eq!(iso_micros(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(iso_micros(-1), "1969-12-31T23:59:59.999999Z");
    }
}
