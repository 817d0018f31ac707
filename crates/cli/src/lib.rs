//! # coroner-cli: the command line
//!
//! Argument parsing (clap derive), the terminal summary and the `detect` table. Everything
//! that reaches the terminal from a log (source names come from archives, too) goes through
//! [`term::clean`] first, so a hostile file name cannot move the cursor or retitle a window.
//!
//! Exit codes: `0` every source was read whole, `2` some source stopped early (the others
//! are still reported), `1` usage or output errors.
//!
//! ```
//! // `coroner --version` is answered by clap and exits 0.
//! assert_eq!(coroner_cli::run(["coroner", "--version"]), 0);
//! ```

pub mod formats;
pub mod progress;
pub mod term;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use coroner_analyze::config::{RunConfig, format_tz, parse_tz};
use coroner_analyze::pattern_share::{PatternMode, PatternSet, ShareRow, share_rows};
use coroner_analyze::pipeline::{self, RunResult, SourceReport};
use coroner_analyze::report::{self, Totals, iso_micros, thousands};
use coroner_parse::error::{human_size, parse_size};

use crate::term::clean;

/// Post-mortem log forensics: one pass over a bundle of logs, answers in Parquet.
#[derive(Parser, Debug)]
#[command(
    name = "coroner",
    version,
    about = "Post-mortem log forensics: one pass over a bundle of logs, answers in Parquet.",
    long_about = None,
    after_help = "Start with `coroner analyze BUNDLE -o out/` and read the first lines it prints; \
                  `coroner formats` lists what it reads. Tables: docs/reports.md."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Worker threads for parsing (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read every input once and write the report tables into a directory.
    ///
    /// One pass over everything: formats detected per source and per record, byte share per
    /// template, same-second bursts, WebSocket ends and drop verdicts, TIME_WAIT against the
    /// port range, findings (OOM kills, restarts, full disks, ...) and a timeline; then the
    /// few lines to read first, each naming the table with the detail.
    #[command(after_long_help = ANALYZE_EXAMPLES)]
    Analyze {
        #[command(flatten)]
        read: ReadArgs,
        #[command(flatten)]
        patterns: PatternArgs,
        /// Message templates kept per source in templates.parquet (the rest fold into one
        /// `<other>` row, so the sums still hold).
        #[arg(long, value_name = "N", default_value_t = 50)]
        top: usize,
        #[command(flatten)]
        incident: IncidentArgs,
        /// Directory for summary.json and the Parquet tables (created if missing).
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
    },
    /// Byte share of each pattern, all patterns in one pass: the ranked answer to "which
    /// message fills this log?", per pattern and per source.
    ///
    /// `bytes` is what `grep -F -- P FILE | wc --bytes` prints and `records` what
    /// `grep -c -F -- P FILE` prints, for every pattern at once, inside archives and
    /// compressed files too.
    ///
    /// Example: coroner share php-error.log.gz -p 'Redis::connect' -p 'Connection refused'
    #[command(after_long_help = SHARE_EXAMPLES)]
    Share {
        #[command(flatten)]
        read: ReadArgs,
        #[command(flatten)]
        patterns: PatternArgs,
        /// Print JSON rows (the columns of pattern_share.parquet) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List every format coroner reads, with one example of each.
    Formats,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    ///
    /// Example: coroner completions bash > /etc/bash_completion.d/coroner
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    ///
    /// Example: coroner man > coroner.1 && man ./coroner.1
    Man,
    /// Read every input and print what each source is: format, compression, bytes, records.
    ///
    /// Example: coroner detect /var/log/nginx/ journal.export.zst
    Detect {
        #[command(flatten)]
        read: ReadArgs,
        /// Print JSON (one object per source) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
struct ReadArgs {
    /// Files, directories (walked), or tar archives (.tar, .tar.gz, .tar.zst); plain, gzip
    /// or zstd streams, told apart by their magic bytes.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// A record longer than this ends its source with an error (K, M, G suffixes).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = size_arg)]
    max_line: usize,
    /// Zone assumed for timestamps that carry none: UTC, +02:00, -0330.
    #[arg(long, value_name = "ZONE", default_value = "UTC", value_parser = tz_arg)]
    tz: i32,
    /// Year of the first record for year-less timestamps (syslog, journalctl -o short);
    /// default: each file's modification time dates its last record.
    #[arg(long, value_name = "YEAR")]
    year: Option<i32>,
    /// Read plain files instead of memory-mapping them (for files still being written).
    #[arg(long)]
    no_mmap: bool,
    /// An nginx `log_format` string (the quoted parts joined, as in nginx.conf): access lines
    /// of that shape are read by it before the built-in combined/main/Traefik formats.
    #[arg(long, value_name = "FORMAT", value_parser = nginx_format_arg, allow_hyphen_values = true)]
    nginx_format: Option<String>,
    /// Target size of one unit of parallel work (results never depend on it).
    #[arg(long, value_name = "SIZE", default_value = "8M", value_parser = size_arg, hide = true)]
    chunk_size: usize,
}

const ANALYZE_EXAMPLES: &str = "\
Examples, from real post-mortems:
  # Everything in the bundle, whatever it is (tar, .gz, .zst, directories):
  coroner analyze incident-2026-07-02.tar.zst -o out/
  # Which segment dropped the WebSockets? (t3: journald export of the proxy, Traefik, cloudflared)
  coroner analyze t3-dispatch.export traefik/access.log.gz cloudflared.log.zst --short-ms 120000 -o out/
  # Mastodon: streaming floods and 504s; count your own phrase as a burst too
  coroner analyze journal.txt nginx/ --burst 'Redis::CommandError' -o out/
  # What fills the disk, with your guesses measured exactly like grep -F | wc --bytes:
  coroner analyze /var/log/php/ -p 'Redis::' -p 'PHP Notice' -o out/
  # A log without a zone written in local time (nginx error log, journalctl -o short):
  coroner analyze /var/log/nginx/error.log --tz +02:00 --year 2024 -o out/

Then, in Python:
  import polars as pl
  pl.read_parquet('out/drops.parquet').group_by('verdict').len()";

const SHARE_EXAMPLES: &str = "\
Examples:
  # The Redis TIME_WAIT post-mortem: which message filled the disk?
  coroner share php/app.log -p 'Redis::' -p 'Cannot assign requested address'
  # Case-insensitive, or regular expressions, or a file of patterns:
  coroner share /var/log/ -i -p 'timeout'
  coroner share access.log.gz --regex -p '\" 50[24] '
  coroner share journal.export --patterns guesses.txt --json";

/// Knobs of the incident analyses (bursts, sockets, drops, timeline).
#[derive(Args, Debug)]
struct IncidentArgs {
    /// An extra burst signature (repeatable, literal): same-second floods of it are bursts,
    /// like the built-in `context canceled` or `connection reset by peer`.
    #[arg(long = "burst", value_name = "PATTERN")]
    bursts: Vec<String>,
    /// Matches in one second that make it a burst second.
    #[arg(long, value_name = "N", default_value_t = 5)]
    burst_threshold: u64,
    /// A request path that is a WebSocket even when not answered 101 (repeatable; replaces
    /// the defaults /ws and /api/v1/streaming).
    #[arg(long = "ws-path", value_name = "PATH")]
    ws_paths: Vec<String>,
    /// A socket that lived less than this (ms) is short: a drop the user felt.
    #[arg(long, value_name = "MS", default_value_t = 120_000)]
    short_ms: u64,
    /// How far apart (ms) two layers may log the end of one connection.
    #[arg(long, value_name = "MS", default_value_t = 1_000)]
    skew: u64,
    /// Timeline bucket in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    bucket: u64,
}

impl IncidentArgs {
    fn apply(&self, config: &mut RunConfig) -> Result<(), String> {
        if self.bursts.len() > coroner_analyze::bursts::MAX_EXTRA {
            return Err(format!(
                "at most {} --burst patterns",
                coroner_analyze::bursts::MAX_EXTRA
            ));
        }
        if self.bursts.iter().any(String::is_empty) {
            return Err("--burst needs a non-empty pattern".into());
        }
        let a = &mut config.analysis;
        a.bursts = self.bursts.clone();
        a.burst_threshold = self.burst_threshold.max(1);
        if !self.ws_paths.is_empty() {
            a.ws_paths = self.ws_paths.clone();
        }
        a.short_ms = self.short_ms;
        a.skew_ms = self.skew;
        a.bucket_secs = self.bucket.max(1);
        Ok(())
    }
}

#[derive(Args, Debug)]
struct PatternArgs {
    /// A literal to measure (repeatable): its matching lines' bytes and count, as
    /// `grep -F -- PATTERN | wc --bytes` and `grep -c -F` would give.
    #[arg(
        short = 'p',
        long = "pattern",
        value_name = "PATTERN",
        allow_hyphen_values = true
    )]
    pattern: Vec<String>,
    /// Read more patterns from FILE, one per line (blank lines are skipped).
    #[arg(long = "patterns", value_name = "FILE")]
    pattern_file: Option<PathBuf>,
    /// ASCII letters match regardless of case (as `LC_ALL=C grep -i`).
    #[arg(short = 'i', long)]
    ignore_case: bool,
    /// Patterns are regular expressions (Rust regex syntax), matched per line.
    #[arg(long)]
    regex: bool,
}

impl PatternArgs {
    /// The patterns and mode, checked: an error is a usage error naming the pattern.
    fn resolve(&self) -> Result<(Vec<String>, PatternMode), String> {
        let mut list = self.pattern.clone();
        if let Some(file) = &self.pattern_file {
            let text = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
            let text = String::from_utf8_lossy(&text);
            list.extend(
                text.lines()
                    .map(|l| l.strip_suffix('\r').unwrap_or(l))
                    .filter(|l| !l.is_empty())
                    .map(String::from),
            );
        }
        let mode = match (self.regex, self.ignore_case) {
            (true, _) => PatternMode::Regex,
            (false, true) => PatternMode::IgnoreCase,
            (false, false) => PatternMode::Literal,
        };
        if self.regex && self.ignore_case {
            list = list.into_iter().map(|p| format!("(?i:{p})")).collect();
        }
        PatternSet::new(&list, mode).map_err(|e| e.to_string())?;
        Ok((list, mode))
    }
}

fn size_arg(s: &str) -> Result<usize, String> {
    parse_size(s)
        .filter(|&n| n > 0)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| format!("'{s}' is not a size (examples: 4096, 512K, 64M, 1G)"))
}

fn tz_arg(s: &str) -> Result<i32, String> {
    parse_tz(s).ok_or_else(|| format!("'{s}' is not a zone offset (examples: UTC, +02:00, -0330)"))
}

fn nginx_format_arg(s: &str) -> Result<String, String> {
    coroner_parse::formats::nginx_format::compile(s)
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

impl ReadArgs {
    fn config(&self, threads: Option<usize>) -> RunConfig {
        let mut c = RunConfig::default();
        if let Some(t) = threads {
            c.threads = t.max(1);
        }
        c.max_line = self.max_line;
        c.chunk_size = self.chunk_size;
        c.tz_offset_secs = self.tz;
        c.year = self.year;
        c.mmap = !self.no_mmap;
        c.nginx_format = self.nginx_format.clone();
        c
    }
}

/// Entry point of the `coroner` binary: parse `std::env::args` and run.
pub fn main() -> i32 {
    run(std::env::args_os())
}

/// Run with explicit arguments (the first is the program name). Returns the exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match &cli.command {
        Command::Analyze {
            read,
            patterns,
            top,
            incident,
            output,
        } => analyze(&cli, read, patterns, *top, incident, output),
        Command::Share {
            read,
            patterns,
            json,
        } => share(&cli, read, patterns, *json),
        Command::Detect { read, json } => detect(&cli, read, *json),
        Command::Formats => {
            print!("{}", formats::listing());
            0
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(*shell, &mut cmd, "coroner", &mut std::io::stdout());
            0
        }
        Command::Man => {
            use clap::CommandFactory;
            match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Ok(()) => 0,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
                Err(e) => {
                    eprintln!("coroner: {e}");
                    1
                }
            }
        }
    }
}

fn report_errors(result: &RunResult) -> i32 {
    for s in &result.sources {
        if let Some(e) = &s.error {
            eprintln!("coroner: {}: {}", clean(&s.name), e);
        }
    }
    if result.had_errors() { 2 } else { 0 }
}

/// The run's configuration with its patterns, or the usage error to print.
fn configure(cli: &Cli, read: &ReadArgs, patterns: &PatternArgs) -> Option<RunConfig> {
    let mut config = read.config(cli.threads);
    match patterns.resolve() {
        Ok((list, mode)) => {
            config.patterns = list;
            config.pattern_mode = mode;
            Some(config)
        }
        Err(e) => {
            eprintln!("coroner: {}", clean(&e));
            None
        }
    }
}

fn analyze(
    cli: &Cli,
    read: &ReadArgs,
    patterns: &PatternArgs,
    top: usize,
    incident: &IncidentArgs,
    output: &std::path::Path,
) -> i32 {
    let Some(mut config) = configure(cli, read, patterns) else {
        return 1;
    };
    config.top = top.max(1);
    if let Err(e) = incident.apply(&mut config) {
        eprintln!("coroner: {}", clean(&e));
        return 1;
    }
    let started = Instant::now();
    let progress = progress::Progress::new(cli.quiet, progress::stored_bytes(&read.paths));
    let result = pipeline::run(&read.paths, &config, &|b| progress.add(b));
    progress.finish();
    let elapsed = started.elapsed();
    let written = match report::write_all(output, &read.paths, &config, &result) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("coroner: cannot write the report: {}", clean(&e));
            return 1;
        }
    };
    let code = report_errors(&result);
    if !cli.quiet {
        print!(
            "{}",
            summary_text(&result, &config, elapsed.as_secs_f64(), &written, output)
        );
    }
    code
}

/// The few lines a person reads first.
fn summary_text(
    result: &RunResult,
    config: &RunConfig,
    secs: f64,
    written: &report::Written,
    dir: &std::path::Path,
) -> String {
    let t = Totals::of(result);
    let mut out = String::new();
    let rate = if secs > 0.0 {
        t.bytes as f64 / secs
    } else {
        0.0
    };
    out += &format!(
        "coroner {}: {} sources, {} read ({} stored), {} records in {:.2} s ({}/s, {} threads)\n",
        env!("CARGO_PKG_VERSION"),
        t.sources,
        approx_size(t.bytes),
        approx_size(t.stored_bytes),
        thousands(t.records),
        secs,
        approx_size(rate as u64),
        config.threads,
    );
    if !written.headline.is_empty() {
        out += "what stands out (most telling first; the table to open for detail):\n";
        for (i, h) in written.headline.iter().take(8).enumerate() {
            out += &format!("  {}. {}  [{}]\n", i + 1, clean(&h.text), h.table);
        }
    }
    if let (Some(a), Some(b)) = (t.first_ts, t.last_ts) {
        out += &format!(
            "  time span: {} .. {} (zone assumed where none is given: {})\n",
            iso_micros(a),
            iso_micros(b),
            format_tz(config.tz_offset_secs)
        );
    }
    if t.unparsed_records > 0 || t.unparsed_bytes > 0 {
        out += &format!(
            "  unparsed: {} records, {} (per source: sources.parquet unparsed_records)\n",
            thousands(t.unparsed_records),
            approx_size(t.unparsed_bytes)
        );
    }
    if t.errors > 0 {
        out += &format!(
            "  {} source(s) stopped early: see the errors above and sources.parquet error\n",
            t.errors
        );
    }
    let names: Vec<String> = written
        .files
        .iter()
        .map(|p| clean(&p.strip_prefix(dir).unwrap_or(p).to_string_lossy()))
        .collect();
    out += &format!(
        "  wrote into {}: {}\n",
        clean(&dir.to_string_lossy()),
        names.join(", ")
    );
    out
}

fn share(cli: &Cli, read: &ReadArgs, patterns: &PatternArgs, json: bool) -> i32 {
    let Some(mut config) = configure(cli, read, patterns) else {
        return 1;
    };
    config.templates = false;
    config.analyses = false;
    config.read_records = false;
    if config.patterns.is_empty() {
        eprintln!("coroner: share needs at least one pattern (-p PATTERN or --patterns FILE)");
        return 1;
    }
    let progress = progress::Progress::new(cli.quiet, progress::stored_bytes(&read.paths));
    let result = pipeline::run(&read.paths, &config, &|b| progress.add(b));
    progress.finish();
    let rows = share_rows(&result, &config.patterns, config.pattern_mode);
    if json {
        let rows: Vec<_> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "source": r.source, "pattern": r.pattern, "kind": r.kind,
                    "records": r.records, "bytes": r.bytes,
                    "total_bytes": r.total_bytes, "share": r.share,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    } else if !cli.quiet {
        print!("{}", share_table(&rows));
    }
    report_errors(&result)
}

/// The ranked answer: all sources first, then each source, biggest share first.
fn share_table(rows: &[ShareRow]) -> String {
    let mut out = String::new();
    let mut current: Option<&str> = None;
    for r in rows {
        if current != Some(r.source.as_str()) {
            current = Some(&r.source);
            let title = if r.source == "*" {
                "all sources".to_string()
            } else {
                clean(&r.source)
            };
            out += &format!(
                "{}{title} ({} bytes)\n  {:>7}  {:>14}  {:>12}  PATTERN\n",
                if out.is_empty() { "" } else { "\n" },
                thousands(r.total_bytes),
                "SHARE",
                "BYTES",
                "RECORDS"
            );
        }
        out += &format!(
            "  {:>6.2}%  {:>14}  {:>12}  {}\n",
            r.share * 100.0,
            thousands(r.bytes),
            thousands(r.records),
            clean(&r.pattern)
        );
    }
    out
}

fn detect(cli: &Cli, read: &ReadArgs, json: bool) -> i32 {
    let mut config = read.config(cli.threads);
    config.templates = false;
    config.analyses = false;
    let progress = progress::Progress::new(cli.quiet, progress::stored_bytes(&read.paths));
    let result = pipeline::run(&read.paths, &config, &|b| progress.add(b));
    progress.finish();
    if json {
        let rows: Vec<_> = result.sources.iter().map(source_json).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    } else if !cli.quiet {
        print!("{}", detect_table(&result));
    }
    report_errors(&result)
}

fn source_json(s: &SourceReport) -> serde_json::Value {
    serde_json::json!({
        "source": s.name,
        "format": s.format(),
        "compression": s.compression,
        "stored_bytes": s.stored_bytes,
        "bytes": s.stats.bytes,
        "records": s.stats.records,
        "unparsed_records": s.stats.unparsed_records,
        "unparsed_bytes": s.stats.unparsed_bytes,
        "first_ts": s.stats.first_ts.map(iso_micros),
        "last_ts": s.stats.last_ts.map(iso_micros),
        "error": s.error.as_ref().map(|e| e.cause()),
        "error_offset": s.error.as_ref().and_then(|e| e.offset),
        "meta_bytes": s.stats.meta_bytes,
        "payloads": s.stats.payload_mix(),
    })
}

/// The inventory as an aligned table (numbers right-aligned).
fn detect_table(result: &RunResult) -> String {
    let header = [
        "SOURCE",
        "FORMAT",
        "COMPRESSION",
        "STORED",
        "BYTES",
        "RECORDS",
        "UNPARSED",
        "FIRST",
        "LAST",
        "ERROR",
    ];
    let mut rows: Vec<[String; 10]> = vec![header.map(String::from)];
    for s in &result.sources {
        rows.push([
            clean(&s.name),
            s.format(),
            s.compression.clone(),
            s.stored_bytes.map_or("-".into(), |n| n.to_string()),
            s.stats.bytes.to_string(),
            s.stats.records.to_string(),
            s.stats.unparsed_records.to_string(),
            s.stats.first_ts.map_or("-".into(), short_time),
            s.stats.last_ts.map_or("-".into(), short_time),
            s.error
                .as_ref()
                .map_or("-".into(), |e| clean(&e.to_string())),
        ]);
    }
    let mut widths = [0usize; 10];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let numeric = [
        false, false, false, true, true, true, true, false, false, false,
    ];
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i > 0 {
                line.push_str("  ");
            }
            if numeric[i] {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.push_str(&" ".repeat(pad));
                }
            }
        }
        out += line.trim_end();
        out.push('\n');
    }
    out
}

/// `2021-03-13T15:23:01Z`: seconds are enough in a table.
fn short_time(us: i64) -> String {
    let full = iso_micros(us);
    format!("{}Z", &full[..19])
}

/// `2.3 MiB`: sizes for people (the tables keep exact bytes).
fn approx_size(n: u64) -> String {
    let units = [
        (1u64 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    for (unit, name) in units {
        if n >= unit {
            return format!("{:.1} {name}", n as f64 / unit as f64);
        }
    }
    if n == 0 {
        "0 B".into()
    } else {
        human_size(n).replace(" bytes", " B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(approx_size(1536), "1.5 KiB");
        assert_eq!(approx_size(0), "0 B");
        assert_eq!(approx_size(12), "12 B");
    }

    #[test]
    fn usage_errors_exit_1() {
        assert_eq!(run(["coroner", "analyze"]), 1);
        assert_eq!(run(["coroner", "frobnicate"]), 1);
        assert_eq!(run(["coroner", "detect", "x", "--max-line", "lots"]), 1);
    }
}
