//! What a run is asked to do: the options every analysis shares.

use crate::analyses::AnalysisOptions;
use crate::pattern_share::PatternMode;

/// Options of one `analyze`/`detect` run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunConfig {
    /// Worker threads for parsing (`--threads`); at least 1.
    pub threads: usize,
    /// A record longer than this ends its source with an error (`--max-line`).
    pub max_line: usize,
    /// Target size of one unit of parallel work. Chunks are cut at record boundaries, so
    /// results never depend on it (tests vary it to prove that).
    pub chunk_size: usize,
    /// Map plain files instead of reading them (`--no-mmap` turns it off).
    pub mmap: bool,
    /// Zone assumed for timestamps that carry none, in seconds east of UTC (`--tz`).
    pub tz_offset_secs: i32,
    /// Year of the first record for year-less timestamps (`--year`); else each file's
    /// modification time dates its last record.
    pub year: Option<i32>,
    /// Patterns whose byte share is measured (`-p`, `--patterns FILE`), and how they match
    /// (`-i`, `--regex`). Validate them with [`PatternSet::new`] before the run: a list that
    /// does not compile is ignored by the pipeline.
    ///
    /// [`PatternSet::new`]: crate::pattern_share::PatternSet::new
    pub patterns: Vec<String>,
    pub pattern_mode: PatternMode,
    /// Mine message templates (`templates.parquet`); `detect` and `share` turn it off.
    pub templates: bool,
    /// Templates kept per source before the rest fold into `<other>` (`--top`).
    pub top: usize,
    /// An nginx `log_format` string (`--nginx-format`) tried on every record before the
    /// built-in access formats. Validate it with `coroner_parse::formats::nginx_format::compile`
    /// first: one that does not compile is ignored by the pipeline.
    pub nginx_format: Option<String>,
    /// Run the incident analyses (bursts, sockets, drops, captures, timeline, findings);
    /// `detect` and `share` turn it off.
    pub analyses: bool,
    pub analysis: AnalysisOptions,
    /// Read every record (envelope, payload, time) for the per-source statistics. `share`
    /// turns it off: its answer needs each record's bytes and the pattern matches only, and
    /// reading the records was a third of its time on a mixed bundle.
    pub read_records: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_line: 64 << 20,
            chunk_size: 8 << 20,
            mmap: true,
            tz_offset_secs: 0,
            year: None,
            patterns: Vec::new(),
            pattern_mode: PatternMode::Literal,
            templates: true,
            top: 50,
            nginx_format: None,
            analyses: true,
            analysis: AnalysisOptions::default(),
            read_records: true,
        }
    }
}

/// `UTC`, `Z`, `+02:00`, `-0330`, `+2`: the `--tz` syntax (fixed offsets; named zones with
/// daylight saving rules are not supported yet). Returns seconds east of UTC.
pub fn parse_tz(text: &str) -> Option<i32> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("utc") || t == "Z" || t.eq_ignore_ascii_case("gmt") {
        return Some(0);
    }
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// `+02:00`, `-03:30`, `UTC`: how an offset is written in `summary.json`.
pub fn format_tz(offset_secs: i32) -> String {
    if offset_secs == 0 {
        return "UTC".into();
    }
    let sign = if offset_secs < 0 { '-' } else { '+' };
    let a = offset_secs.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tz_forms() {
        assert_eq!(parse_tz("UTC"), Some(0));
        assert_eq!(parse_tz("+02:00"), Some(7200));
        assert_eq!(parse_tz("-0330"), Some(-12600));
        assert_eq!(parse_tz("+3"), Some(10800));
        assert_eq!(parse_tz("Europe/Paris"), None);
        assert_eq!(parse_tz("+25"), None);
        assert_eq!(format_tz(-12600), "-03:30");
        assert_eq!(format_tz(0), "UTC");
    }
}
