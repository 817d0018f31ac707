//! Byte share per pattern: "which message is filling this log?", for every guess at once.
//!
//! The field answer was `grep -F -- P FILE | wc --bytes`, one pass per guess. Here all
//! patterns are compiled into one automaton (aho-corasick for literals, a `RegexSet` for
//! `--regex`) and every source is scanned once, inside the same pass as everything else.
//!
//! Semantics are grep's, so the numbers can be checked with grep:
//! - line formats (plain, syslog text, JSON lines): the unit is the physical line, with its
//!   newline; a last line without one counts one byte more, as `grep | wc --bytes` does.
//!   `records` is `grep -c -F`, `bytes` is `grep -F | wc --bytes`.
//! - journald export: the unit is the whole entry as stored (a binary field may hold `\n`).
//! - binary sources are not scanned (grep would only say "binary file matches").
//!
//! How the literal scan stays near memory speed: the automaton runs over a whole chunk, not
//! line by line, and a line's bounds are looked up (memrchr/memchr) only for lines that hold
//! a match; a per-pattern "last line counted" mark makes a line count once per pattern
//! however often the pattern occurs in it. Overlapping matches are reported, so patterns
//! that overlap each other (`abc`, `bcd` in `abcd`) are all seen.
//!
//! ```
//! use coroner_analyze::pattern_share::{PatternMode, PatternSet, PatternCounts};
//! let set = PatternSet::new(&["timeout".to_string(), "GET".to_string()], PatternMode::Literal).unwrap();
//! let mut counts = PatternCounts::new(set.len());
//! set.count_lines(b"GET /a timeout timeout\nPOST /b\nGET /c", &mut counts);
//! assert_eq!(counts.records, [1, 2]);
//! assert_eq!(counts.bytes, [23, 23 + 7]); // the last line gets the newline grep prints
//! ```

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use memchr::{memchr, memchr_iter, memmem, memrchr};
use regex::bytes::{RegexSet, RegexSetBuilder};

use coroner_parse::frame::Framing;

use crate::pipeline::{RunResult, SourceReport};
use crate::table::{self, Column};

/// How the patterns of a run are matched (one mode per run, like grep's flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PatternMode {
    /// Exact bytes (`grep -F`).
    #[default]
    Literal,
    /// ASCII case-insensitive bytes (`LC_ALL=C grep -F -i`).
    IgnoreCase,
    /// Regular expressions, Rust `regex` syntax, matched per line (`grep -P`-like).
    Regex,
}

impl PatternMode {
    /// The `kind` column of `pattern_share.parquet`.
    pub fn kind(self) -> &'static str {
        match self {
            PatternMode::Literal => "literal",
            PatternMode::IgnoreCase => "ignore-case",
            PatternMode::Regex => "regex",
        }
    }
}

/// Why a pattern list cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// A pattern holds a newline: it could never match inside one line (grep would split it
    /// into two patterns; we say so instead of guessing).
    Newline { pattern: String },
    /// A regular expression that does not compile.
    Regex { pattern: String, cause: String },
    /// More patterns than the automaton is built for.
    TooMany { count: usize },
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatternError::Newline { pattern } => {
                write!(
                    f,
                    "pattern {pattern:?} contains a newline; give each line as its own pattern"
                )
            }
            PatternError::Regex { pattern, cause } => {
                write!(
                    f,
                    "pattern {pattern:?} is not a valid regular expression: {cause}"
                )
            }
            PatternError::TooMany { count } => {
                write!(
                    f,
                    "{count} patterns; at most {MAX_PATTERNS} are supported in one run"
                )
            }
        }
    }
}

impl std::error::Error for PatternError {}

/// Enough for any list a person writes; bounds the per-chunk counters.
pub const MAX_PATTERNS: usize = 100_000;

enum Matcher {
    None,
    /// Exact literals: one SIMD substring search per pattern (memchr's memmem), over
    /// cache-sized blocks; see [`PatternSet::scan_exact`].
    Exact(Vec<memmem::Finder<'static>>),
    /// ASCII case-insensitive literals: one automaton, overlapping matches.
    Literal(AhoCorasick),
    Regex(RegexSet),
}

/// The compiled patterns of a run. Cheap to share between threads (`&PatternSet`).
pub struct PatternSet {
    patterns: Vec<String>,
    mode: PatternMode,
    matcher: Matcher,
    /// Automaton pattern index -> our index (empty patterns are left out of the automaton).
    map: Vec<usize>,
    /// Our indexes of empty patterns: they match every line, as with grep.
    empty: Vec<usize>,
}

impl std::fmt::Debug for PatternSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatternSet")
            .field("patterns", &self.patterns)
            .field("mode", &self.mode)
            .finish()
    }
}

impl PatternSet {
    pub fn new(patterns: &[String], mode: PatternMode) -> Result<PatternSet, PatternError> {
        if patterns.len() > MAX_PATTERNS {
            return Err(PatternError::TooMany {
                count: patterns.len(),
            });
        }
        if let Some(p) = patterns.iter().find(|p| p.contains('\n')) {
            return Err(PatternError::Newline { pattern: p.clone() });
        }
        let mut map = Vec::new();
        let mut empty = Vec::new();
        let mut live: Vec<&str> = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            if p.is_empty() {
                empty.push(i);
            } else {
                map.push(i);
                live.push(p);
            }
        }
        let matcher = if live.is_empty() {
            Matcher::None
        } else if mode == PatternMode::Regex {
            // Checked one by one first, so the error names the faulty pattern.
            for p in &live {
                if let Err(e) = regex::bytes::Regex::new(p) {
                    return Err(PatternError::Regex {
                        pattern: (*p).to_string(),
                        cause: e.to_string(),
                    });
                }
            }
            let set = RegexSetBuilder::new(&live)
                .build()
                .map_err(|e| PatternError::Regex {
                    pattern: live.join(" | "),
                    cause: e.to_string(),
                })?;
            Matcher::Regex(set)
        } else if mode == PatternMode::Literal {
            Matcher::Exact(
                live.iter()
                    .map(|p| memmem::Finder::new(p.as_bytes()).into_owned())
                    .collect(),
            )
        } else {
            let ac = AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(mode == PatternMode::IgnoreCase)
                .build(&live)
                .map_err(|_| PatternError::TooMany {
                    count: patterns.len(),
                })?;
            Matcher::Literal(ac)
        };
        Ok(PatternSet {
            patterns: patterns.to_vec(),
            mode,
            matcher,
            map,
            empty,
        })
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    pub fn mode(&self) -> PatternMode {
        self.mode
    }

    /// Count the lines of `data` (a run of whole lines; the last may lack its newline) that
    /// hold each pattern.
    pub fn count_lines(&self, data: &[u8], counts: &mut PatternCounts) {
        if self.is_empty() || data.is_empty() {
            return;
        }
        if !self.empty.is_empty() {
            let lines = memchr_iter(b'\n', data).count() as u64 + u64::from(!ends_in_newline(data));
            let bytes = grep_bytes(data);
            for &i in &self.empty {
                counts.records[i] += lines;
                counts.bytes[i] += bytes;
            }
        }
        match &self.matcher {
            Matcher::None => {}
            Matcher::Exact(finders) => self.scan_exact(finders, data, counts),
            Matcher::Literal(ac) => self.scan_literal(ac, data, counts),
            Matcher::Regex(set) => {
                let mut start = 0;
                while start < data.len() {
                    let end = memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i + 1);
                    let line = &data[start..end];
                    let text = line.strip_suffix(b"\n").unwrap_or(line);
                    for k in set.matches(text).iter() {
                        let i = self.map[k];
                        counts.records[i] += 1;
                        counts.bytes[i] += grep_bytes(line);
                    }
                    start = end;
                }
            }
        }
    }

    /// Each pattern searched on its own, but over a block small enough to stay in the L2
    /// cache, so the N searches cost N cached scans and one trip to memory. After a match
    /// the search jumps to the end of its line: a line counts once per pattern, and a
    /// pattern on every line costs a line-end lookup per line, not a search per occurrence.
    fn scan_exact(
        &self,
        finders: &[memmem::Finder<'static>],
        data: &[u8],
        counts: &mut PatternCounts,
    ) {
        const BLOCK: usize = 256 << 10;
        let mut start = 0;
        while start < data.len() {
            let mut end = (start + BLOCK).min(data.len());
            if end < data.len() {
                // Blocks end at a line end; a line longer than a block is one block.
                end = match memrchr(b'\n', &data[start..end]) {
                    Some(i) => start + i + 1,
                    None => memchr(b'\n', &data[end..]).map_or(data.len(), |i| end + i + 1),
                };
            }
            let block = &data[start..end];
            for (k, finder) in finders.iter().enumerate() {
                let i = self.map[k];
                // `pos` is always at a line start.
                let mut pos = 0;
                while let Some(found) = finder.find(&block[pos..]) {
                    let at = pos + found;
                    let line_start = memrchr(b'\n', &block[pos..at]).map_or(pos, |j| pos + j + 1);
                    let line_end = memchr(b'\n', &block[at..]).map_or(block.len(), |j| at + j + 1);
                    counts.records[i] += 1;
                    counts.bytes[i] += grep_bytes(&block[line_start..line_end]);
                    pos = line_end;
                }
            }
            start = end;
        }
    }

    fn scan_literal(&self, ac: &AhoCorasick, data: &[u8], counts: &mut PatternCounts) {
        // The line each pattern was last counted in (its start offset), so a line counts
        // once per pattern; matches come in order of their end, so lines never revisit.
        let mut counted_at = vec![usize::MAX; self.map.len()];
        let (mut line_start, mut line_end) = (usize::MAX, 0);
        for m in ac.find_overlapping_iter(data) {
            let at = m.start();
            if line_start == usize::MAX || at < line_start || at >= line_end {
                line_start = memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1);
                line_end = memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i + 1);
            }
            let k = m.pattern().as_usize();
            if counted_at[k] != line_start {
                counted_at[k] = line_start;
                let i = self.map[k];
                counts.records[i] += 1;
                counts.bytes[i] += grep_bytes(&data[line_start..line_end]);
            }
        }
    }

    /// Count one record that is not a line (a journald export entry), as stored.
    pub fn count_record(&self, record: &[u8], counts: &mut PatternCounts) {
        if self.is_empty() || record.is_empty() {
            return;
        }
        let len = record.len() as u64;
        for &i in &self.empty {
            counts.records[i] += 1;
            counts.bytes[i] += len;
        }
        let mut hit = |k: usize| {
            let i = self.map[k];
            counts.records[i] += 1;
            counts.bytes[i] += len;
        };
        match &self.matcher {
            Matcher::None => {}
            Matcher::Exact(finders) => {
                for (k, f) in finders.iter().enumerate() {
                    if f.find(record).is_some() {
                        hit(k);
                    }
                }
            }
            Matcher::Literal(ac) => {
                let mut seen = vec![false; self.map.len()];
                for m in ac.find_overlapping_iter(record) {
                    let k = m.pattern().as_usize();
                    if !seen[k] {
                        seen[k] = true;
                        hit(k);
                    }
                }
            }
            Matcher::Regex(set) => set.matches(record).iter().for_each(hit),
        }
    }
}

fn ends_in_newline(data: &[u8]) -> bool {
    data.last() == Some(&b'\n')
}

/// What `grep | wc --bytes` counts for these lines: grep ends a last line with a newline.
fn grep_bytes(lines: &[u8]) -> u64 {
    lines.len() as u64 + u64::from(!ends_in_newline(lines))
}

/// Matching records and bytes per pattern; merges by addition (exact in any order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatternCounts {
    pub records: Vec<u64>,
    pub bytes: Vec<u64>,
}

impl PatternCounts {
    pub fn new(patterns: usize) -> Self {
        PatternCounts {
            records: vec![0; patterns],
            bytes: vec![0; patterns],
        }
    }

    pub fn merge(&mut self, other: &PatternCounts) {
        if self.records.len() < other.records.len() {
            self.records.resize(other.records.len(), 0);
            self.bytes.resize(other.bytes.len(), 0);
        }
        for (a, b) in self.records.iter_mut().zip(&other.records) {
            *a += b;
        }
        for (a, b) in self.bytes.iter_mut().zip(&other.bytes) {
            *a += b;
        }
    }
}

/// One row of `pattern_share.parquet` (and one line of `coroner share`).
#[derive(Clone, Debug, PartialEq)]
pub struct ShareRow {
    /// A source name, or `*` for all sources together.
    pub source: String,
    pub pattern: String,
    pub kind: &'static str,
    pub records: u64,
    pub bytes: u64,
    /// The source's decompressed size (`wc --bytes`); for `*`, the sum over scanned sources.
    pub total_bytes: u64,
    pub share: f64,
}

/// The rows of a run: the `*` rows first, then each scanned source in report order; within
/// each group patterns rank by bytes (ties keep the order they were given in). Archive rows
/// and binary sources are not scanned and get no rows.
pub fn share_rows(result: &RunResult, patterns: &[String], mode: PatternMode) -> Vec<ShareRow> {
    let scanned: Vec<&SourceReport> = result
        .streams()
        .filter(|s| {
            s.envelope
                .is_some_and(|e| Framing::for_envelope(e) != Framing::Opaque)
        })
        .collect();
    let mut all = PatternCounts::new(patterns.len());
    let mut all_bytes = 0;
    for s in &scanned {
        all.merge(&s.patterns);
        all_bytes += s.stats.bytes;
    }
    let mut rows = group("*", &all, all_bytes, patterns, mode);
    for s in scanned {
        rows.extend(group(&s.name, &s.patterns, s.stats.bytes, patterns, mode));
    }
    rows
}

fn group(
    source: &str,
    counts: &PatternCounts,
    total: u64,
    patterns: &[String],
    mode: PatternMode,
) -> Vec<ShareRow> {
    let mut order: Vec<usize> = (0..patterns.len()).collect();
    let bytes = |i: usize| counts.bytes.get(i).copied().unwrap_or(0);
    order.sort_by(|&a, &b| bytes(b).cmp(&bytes(a)).then(a.cmp(&b)));
    order
        .into_iter()
        .map(|i| ShareRow {
            source: source.to_string(),
            pattern: patterns[i].clone(),
            kind: mode.kind(),
            records: counts.records.get(i).copied().unwrap_or(0),
            bytes: bytes(i),
            total_bytes: total,
            share: if total == 0 {
                0.0
            } else {
                bytes(i) as f64 / total as f64
            },
        })
        .collect()
}

/// Without patterns, `pattern_share` holds the top templates (kind `template`), so a user
/// who knows nothing yet still gets the answer: same rows, same numbers as `templates`.
pub fn rows_from_templates(rows: &[crate::templates::TemplateRow]) -> Vec<ShareRow> {
    rows.iter()
        .filter(|r| r.template.records > 0)
        .map(|r| ShareRow {
            source: r.source.clone(),
            pattern: r.template.template.clone(),
            kind: "template",
            records: r.template.records,
            bytes: r.template.bytes,
            total_bytes: r.total_bytes,
            share: r.share(),
        })
        .collect()
}

/// The `pattern_share.parquet` batch.
pub fn share_batch(rows: &[ShareRow]) -> Result<arrow_array::RecordBatch, String> {
    table::batch(vec![
        Column::utf8("source", rows.iter().map(|r| Some(r.source.as_str()))),
        Column::utf8("pattern", rows.iter().map(|r| Some(r.pattern.as_str()))),
        Column::utf8("kind", rows.iter().map(|r| Some(r.kind))),
        Column::u64("records", rows.iter().map(|r| Some(r.records))),
        Column::u64("bytes", rows.iter().map(|r| Some(r.bytes))),
        Column::u64("total_bytes", rows.iter().map(|r| Some(r.total_bytes))),
        Column::f64("share", rows.iter().map(|r| Some(r.share))),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obviously correct reference: split into lines, test each pattern on each line.
    fn naive(patterns: &[String], mode: PatternMode, data: &[u8]) -> PatternCounts {
        let mut c = PatternCounts::new(patterns.len());
        for line in data.split_inclusive(|&b| b == b'\n') {
            let text = line.strip_suffix(b"\n").unwrap_or(line);
            for (i, p) in patterns.iter().enumerate() {
                let found = match mode {
                    PatternMode::Literal => {
                        p.is_empty() || text.windows(p.len()).any(|w| w == p.as_bytes())
                    }
                    PatternMode::IgnoreCase => {
                        p.is_empty()
                            || text
                                .windows(p.len())
                                .any(|w| w.eq_ignore_ascii_case(p.as_bytes()))
                    }
                    PatternMode::Regex => regex::bytes::Regex::new(p).unwrap().is_match(text),
                };
                if found {
                    c.records[i] += 1;
                    c.bytes[i] += grep_bytes(line);
                }
            }
        }
        c
    }

    fn pats(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    const LOG: &[u8] =
        b"GET /api abcd 200\nPOST /Api bcd 500\n\nabcabc GET GET\nno final newline GET";

    #[test]
    fn literal_overlapping_empty_and_repeated_match_the_naive_count() {
        let p = pats(&["abc", "bcd", "GET", "", "zzz", "/api", "", "d 2"]);
        for mode in [PatternMode::Literal, PatternMode::IgnoreCase] {
            let set = PatternSet::new(&p, mode).unwrap();
            let mut c = PatternCounts::new(set.len());
            set.count_lines(LOG, &mut c);
            assert_eq!(c, naive(&p, mode, LOG), "{mode:?}");
        }
        let set = PatternSet::new(&p, PatternMode::Literal).unwrap();
        let mut c = PatternCounts::new(set.len());
        set.count_lines(LOG, &mut c);
        assert_eq!(c.records[..3], [2, 2, 3]);
        assert_eq!(
            c.records[3], 5,
            "the empty pattern matches every line, the blank one too"
        );
        assert_eq!(c.records[4], 0);
    }

    #[test]
    fn regex_mode_matches_per_line() {
        let p = pats(&[r"GET \S+", r"^\s*$", r"[0-9]{3}$", "bcd|abc"]);
        let set = PatternSet::new(&p, PatternMode::Regex).unwrap();
        let mut c = PatternCounts::new(set.len());
        set.count_lines(LOG, &mut c);
        assert_eq!(c, naive(&p, PatternMode::Regex, LOG));
        assert_eq!(
            c.records[1], 1,
            "the blank line, not the newline between lines"
        );
    }

    #[test]
    fn export_entries_count_whole() {
        let p = pats(&["foo", "MESSAGE", "nothing"]);
        let set = PatternSet::new(&p, PatternMode::Literal).unwrap();
        let mut c = PatternCounts::new(set.len());
        let entry = b"MESSAGE=foo foo\n_PID=1\n\n";
        set.count_record(entry, &mut c);
        assert_eq!(
            (c.records.clone(), c.bytes.clone()),
            (vec![1, 1, 0], vec![24, 24, 0])
        );
    }

    #[test]
    fn errors_are_pinned() {
        assert_eq!(
            PatternSet::new(&pats(&["a\nb"]), PatternMode::Literal)
                .unwrap_err()
                .to_string(),
            "pattern \"a\\nb\" contains a newline; give each line as its own pattern"
        );
        let e = PatternSet::new(&pats(&["ok", "(unclosed"]), PatternMode::Regex).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("pattern \"(unclosed\" is not a valid regular expression: "),
            "{e}"
        );
    }

    #[test]
    fn random_logs_agree_with_naive() {
        // A tiny deterministic generator: lines from a small alphabet make overlaps common.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"abAB \n";
        for _ in 0..200 {
            let len = (next() % 200) as usize;
            let data: Vec<u8> = (0..len).map(|_| alphabet[(next() % 6) as usize]).collect();
            let p: Vec<String> = (0..4)
                .map(|_| {
                    let n = 1 + (next() % 3) as usize;
                    (0..n)
                        .map(|_| alphabet[(next() % 5) as usize] as char)
                        .collect()
                })
                .collect();
            for mode in [PatternMode::Literal, PatternMode::IgnoreCase] {
                let set = PatternSet::new(&p, mode).unwrap();
                let mut c = PatternCounts::new(set.len());
                set.count_lines(&data, &mut c);
                assert_eq!(
                    c,
                    naive(&p, mode, &data),
                    "{mode:?} {p:?} {:?}",
                    String::from_utf8_lossy(&data)
                );
            }
        }
    }
}
