//! Conformance of the parsers on real data (`tests/fixtures/`, see its README for sources and
//! licences), each checked against an independent truth: the same journal rendered three
//! ways by journalctl, and GNU awk over the access logs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use coroner_parse::detect::parse_syslog_line;
use coroner_parse::formats::{clf, journald_export, journald_json};
use coroner_parse::timestamp::{TimeContext, YearHint};

fn fixture_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(rel)
}

fn fixture(rel: &str) -> Vec<u8> {
    let path = fixture_path(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&b| b == b'\n').filter(|l| !l.is_empty())
}

/// What all three renderings of one journal entry must agree on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// What journalctl shows: `_SOURCE_REALTIME_TIMESTAMP` when present, else
    /// `__REALTIME_TIMESTAMP` (µs).
    time: i64,
    identifier: String,
    pid: Option<u32>,
    message: Vec<u8>,
}

fn from_export() -> Vec<Entry> {
    let data = fixture("kjournald/rpi4-journal.export");
    let mut out = Vec::new();
    for item in journald_export::Entries::new(&data, true, 1 << 26) {
        let (span, rec) = item.expect("no entry is too long");
        let rec = rec
            .unwrap_or_else(|| panic!("span {span:?} is not a record"))
            .expect("every entry parses");
        out.push(Entry {
            time: rec.source_ts.or(rec.ts).expect("entry has a time"),
            identifier: String::from_utf8_lossy(rec.identifier.unwrap_or_default()).into(),
            pid: rec.pid,
            message: rec.message.to_vec(),
        });
    }
    out
}

fn from_json() -> Vec<Entry> {
    let data = fixture("kjournald/rpi4-journal.json");
    lines(&data)
        .map(|line| {
            let rec = journald_json::parse(line).expect("every JSON line parses");
            let mut message = Vec::new();
            rec.message.decode_into(&mut message);
            Entry {
                time: rec.source_ts.or(rec.ts).expect("entry has a time"),
                identifier: String::from_utf8_lossy(rec.identifier.unwrap_or_default()).into(),
                pid: rec.pid,
                message,
            }
        })
        .collect()
}

/// journalctl's text: one entry per line, a multi-line message continued on lines indented
/// to where the message starts, and `-- Boot … --` separators that are no entry.
fn from_short_iso_precise() -> Vec<Entry> {
    let data = fixture("kjournald/rpi4-journal.short-iso-precise.txt");
    let ctx = TimeContext {
        offset_secs: 0,
        year: YearHint::FirstRecord {
            year: 2021,
            first_month: 1,
        },
    };
    let mut out: Vec<Entry> = Vec::new();
    let mut indent = 0;
    for line in lines(&data) {
        if line.starts_with(b"-- ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix(&b" "[..]) {
            // A continuation: strip the indentation journalctl added, keep the newline.
            let last = out.last_mut().expect("a continuation follows an entry");
            let text = rest.get(indent - 1..).unwrap_or_default();
            last.message.push(b'\n');
            last.message.extend_from_slice(text);
            continue;
        }
        let s = parse_syslog_line(line, &ctx)
            .unwrap_or_else(|| panic!("not a journal line: {}", String::from_utf8_lossy(line)));
        indent = line.len() - s.message.len();
        out.push(Entry {
            time: s.ts.expect("short-iso-precise has wall time"),
            identifier: String::from_utf8_lossy(s.ident).into(),
            pid: s.pid,
            message: s.message.to_vec(),
        });
    }
    out
}

#[test]
fn one_journal_three_renderings_same_2202_entries() {
    let export = from_export();
    let json = from_json();
    let text = from_short_iso_precise();
    assert_eq!(export.len(), 2202);
    assert_eq!(json.len(), 2202);
    assert_eq!(text.len(), 2202);
    for (i, ((e, j), t)) in export.iter().zip(&json).zip(&text).enumerate() {
        assert_eq!(e, j, "entry {i}: export vs json");
        assert_eq!(e, t, "entry {i}: export vs short-iso-precise");
    }
    // The two binary MESSAGE fields (a newline inside) made it through all three.
    assert_eq!(
        export.iter().filter(|e| e.message.contains(&b'\n')).count(),
        2
    );
}

/// `awk '{print $COL}' FILE | sort | uniq -c` as a map, or None when awk is not installed.
fn awk_counts(rel: &str, program: &str) -> Option<BTreeMap<String, u64>> {
    let out = Command::new("awk")
        .arg(program)
        .arg(fixture_path(rel))
        .output()
        .ok()?;
    assert!(out.status.success(), "awk failed on {rel}");
    let mut counts = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        *counts.entry(line.to_string()).or_insert(0) += 1;
    }
    Some(counts)
}

fn status_counts(rel: &str) -> (usize, BTreeMap<String, u64>) {
    let data = fixture(rel);
    let mut counts = BTreeMap::new();
    let mut n = 0;
    for line in lines(&data) {
        let rec = clf::parse(line).unwrap_or_else(|e| {
            panic!("{rel}: {e}: {}", String::from_utf8_lossy(line));
        });
        assert!(rec.time.is_some(), "{rel}: time of {:?}", rec.time_raw);
        assert!(rec.method.is_some(), "{rel}: request {:?}", rec.request);
        *counts
            .entry(String::from_utf8_lossy(rec.status_raw).into_owned())
            .or_insert(0) += 1;
        n += 1;
    }
    (n, counts)
}

#[test]
fn apache_10000_lines_all_parse_and_status_counts_equal_awk() {
    let (n, ours) = status_counts("elastic-examples/apache_logs");
    assert_eq!(n, 10_000);
    match awk_counts("elastic-examples/apache_logs", "{print $9}") {
        Some(awk) => assert_eq!(ours, awk),
        None => eprintln!("awk not installed: status counts not compared"),
    }
}

#[test]
fn lnav_shop_1000_lines_all_parse_and_status_counts_equal_awk() {
    let rel = "lnav/logfile_shop_access_log.0";
    let (n, ours) = status_counts(rel);
    assert_eq!(n, 1_000);
    match awk_counts(rel, "{print $9}") {
        Some(awk) => assert_eq!(ours, awk),
        None => eprintln!("awk not installed: status counts not compared"),
    }
    // nginx `main`: the X-Forwarded-For field is read, the +0330 zone applied.
    let data = fixture(rel);
    let first = clf::parse(lines(&data).next().unwrap()).unwrap();
    // 22/Jan/2019:03:56:14 +0330 is 00:26:14 UTC.
    assert_eq!(first.time, Some(1_548_116_774_000_000));
}
