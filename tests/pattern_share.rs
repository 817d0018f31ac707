//! Byte share per pattern against GNU grep, the tool it replaces: for every pattern and
//! every source, `bytes` must equal `grep -F -- P FILE | wc --bytes` and `records` must
//! equal `grep -c -F -- P FILE`, on plain and gzip renderings, across chunk boundaries.

mod common;

use std::path::Path;
use std::process::Command;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt64Type};
use common::{coroner, fixtures, gzip, read_parquet};
use serde_json::Value;

/// GNU grep's answer: (records, bytes) for one pattern. `-a` so a stray byte never turns a
/// file "binary"; `LC_ALL=C` so `-i` folds ASCII only, as coroner documents.
fn grep(pattern: &str, file: &Path, ignore_case: bool) -> (u64, u64) {
    let flags = if ignore_case { "-a -F -i" } else { "-a -F" };
    let run = |script: String| {
        let out = Command::new("sh")
            .arg("-c")
            .arg(script)
            .env("P", pattern)
            .env("F", file)
            .env("LC_ALL", "C")
            .output()
            .expect("run grep");
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    (
        run(format!("grep -c {flags} -- \"$P\" \"$F\" || true")),
        run(format!("grep {flags} -- \"$P\" \"$F\" | wc --bytes")),
    )
}

/// `coroner share --json` rows, by (source suffix, pattern).
fn share(paths: &[&Path], patterns: &[&str], extra: &[&str]) -> Vec<Value> {
    let mut args: Vec<String> = vec!["share".into(), "--json".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    for p in patterns {
        args.push(format!("--pattern={p}"));
    }
    args.extend(paths.iter().map(|p| p.to_string_lossy().into_owned()));
    let out = coroner(&args);
    common::assert_exit(&out, 0);
    serde_json::from_slice(&out.stdout).expect("share --json")
}

fn find<'a>(rows: &'a [Value], source_suffix: &str, pattern: &str) -> &'a Value {
    rows.iter()
        .find(|r| {
            r["pattern"] == pattern
                && r["source"]
                    .as_str()
                    .is_some_and(|s| s.ends_with(source_suffix))
        })
        .unwrap_or_else(|| panic!("no row for {source_suffix} / {pattern:?}"))
}

/// A deterministic log mixing the lines of the seed incidents, with numbers that vary so
/// patterns like `dur_ms=1` hit some lines and not others.
fn generated_log(lines: usize) -> Vec<u8> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut out = Vec::new();
    for _ in 0..lines {
        let n = next();
        let line = match n % 5 {
            0 => format!(
                "2026-07-02T15:42:{:02}Z ERR Request failed error=\"context canceled\" connIndex={} type=ws dest=https://example.com/api/v1/streaming\n",
                n % 60,
                n % 4
            ),
            1 => format!(
                "203.0.113.{} - - [02/Jul/2026:15:42:01 +0000] \"GET /api/v1/timelines/home?limit={} HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0\"\n",
                n % 250,
                n % 40,
                n % 100_000
            ),
            2 => format!(
                "PHP Warning:  Redis::connect(): connect() failed: Connection refused in /var/www/app.php on line {}\n",
                n % 900
            ),
            3 => format!("ws close dur_ms={} cause=downstream_closed\n", n % 5000),
            _ => format!("eeeee aba ababa {}\n", n % 7),
        };
        out.extend_from_slice(line.as_bytes());
    }
    out
}

const PATTERNS: &[&str] = &[
    "context canceled",
    "cancel",
    "canceled\"",
    "GET",
    "GET /api",
    "/api/v1",
    "api/v1/stream",
    "Redis::connect",
    "Redis",
    "connect",
    "connect()",
    "Connection refused",
    "ws close",
    "cause=",
    "dur_ms=1",
    "200",
    " ", // every line
    "zzzz-never-there",
    "ee",
    "eee",
    "aba",
    "bab",
    "\"-\"",
    "type=ws dest",
    "line 1",
    "HTTP/1.1\" 200",
];

#[test]
fn generated_logs_match_grep_plain_gzip_and_without_final_newline() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = generated_log(30_000);
    let plain = dir.path().join("mixed.log");
    std::fs::write(&plain, &data).unwrap();
    let gz = dir.path().join("mixed.log.gz");
    std::fs::write(&gz, gzip(&data)).unwrap();
    data.pop(); // no final newline: grep still prints one, and so do we
    let open = dir.path().join("open-ended.log");
    std::fs::write(&open, &data).unwrap();

    // A 16 KiB chunk size puts hundreds of chunk boundaries in each file, for 1 and 2
    // threads; every pattern that matches at all matches next to some boundary.
    for threads in ["1", "2"] {
        let rows = share(
            &[&plain, &gz, &open],
            PATTERNS,
            &["--chunk-size", "16K", "--threads", threads],
        );
        for p in PATTERNS {
            let want = grep(p, &plain, false);
            for (suffix, file) in [
                ("mixed.log", &plain),
                ("mixed.log.gz", &plain),
                ("open-ended.log", &open),
            ] {
                let want = if file == &plain {
                    want
                } else {
                    grep(p, file, false)
                };
                let row = find(&rows, suffix, p);
                assert_eq!(
                    (
                        row["records"].as_u64().unwrap(),
                        row["bytes"].as_u64().unwrap()
                    ),
                    want,
                    "{suffix} {p:?} threads={threads}"
                );
            }
        }
    }
}

#[test]
fn apache_log_matches_grep_plain_and_gzip_and_ignore_case() {
    let apache = fixtures().join("elastic-examples/apache_logs");
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("apache_logs.gz");
    std::fs::write(&gz, gzip(&std::fs::read(&apache).unwrap())).unwrap();
    let patterns = [
        "GET",
        "POST",
        "HEAD",
        "Googlebot",
        "bot",
        "Mozilla/5.0",
        "\" 404 ",
        "\" 200 ",
        ".php",
        "/images/",
        "favicon.ico",
        "- -",
        "HTTP/1.1\"",
        "compatible; ",
        "\"-\"",
        "Windows NT",
        "Safari",
        "Firefox",
        "66.249.73.135",
        "no-such-thing-anywhere",
    ];
    let rows = share(&[&apache, &gz], &patterns, &[]);
    for p in patterns {
        let want = grep(p, &apache, false);
        if !p.starts_with("no-such") {
            assert_ne!(want.0, 0, "pattern {p:?} should match something");
        }
        for suffix in ["apache_logs", "apache_logs.gz"] {
            let row = find(&rows, suffix, p);
            let got = (
                row["records"].as_u64().unwrap(),
                row["bytes"].as_u64().unwrap(),
            );
            assert_eq!(got, want, "{suffix} {p:?}");
            let total = row["total_bytes"].as_u64().unwrap();
            assert_eq!(total, common::wc(&apache).0);
            assert!((row["share"].as_f64().unwrap() - want.1 as f64 / total as f64).abs() < 1e-12);
        }
    }
    // The `*` row adds the sources up.
    let star = find(&rows, "*", "GET");
    assert_eq!(
        star["bytes"].as_u64().unwrap(),
        2 * grep("GET", &apache, false).1
    );

    let folded = ["get", "MOZILLA", "googlebot", "WINDOWS nt"];
    let rows = share(&[&apache], &folded, &["-i"]);
    for p in folded {
        let row = find(&rows, "apache_logs", p);
        assert_eq!(row["kind"], "ignore-case");
        assert_eq!(
            (
                row["records"].as_u64().unwrap(),
                row["bytes"].as_u64().unwrap()
            ),
            grep(p, &apache, true),
            "-i {p:?}"
        );
    }
}

#[test]
fn analyze_writes_the_same_numbers_as_share() {
    let apache = fixtures().join("elastic-examples/apache_logs");
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("patterns.txt");
    std::fs::write(&list, "Googlebot\n\n\" 404 \nPOST\n").unwrap();
    let out_dir = dir.path().join("out");
    let out = coroner([
        "analyze".as_ref(),
        apache.as_os_str(),
        "-o".as_ref(),
        out_dir.as_os_str(),
        "--patterns".as_ref(),
        list.as_os_str(),
        "-p".as_ref(),
        "GET".as_ref(),
        "--quiet".as_ref(),
    ]);
    common::assert_exit(&out, 0);
    let batch = read_parquet(&out_dir.join("pattern_share.parquet"));
    let schema = batch.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "source",
            "pattern",
            "kind",
            "records",
            "bytes",
            "total_bytes",
            "share"
        ]
    );
    let rows = share(&[&apache], &["GET", "Googlebot", "\" 404 ", "POST"], &[]);
    let pattern = batch.column(1).as_string::<i32>();
    let source = batch.column(0).as_string::<i32>();
    let records = batch.column(3).as_primitive::<UInt64Type>();
    let bytes = batch.column(4).as_primitive::<UInt64Type>();
    let shares = batch.column(6).as_primitive::<Float64Type>();
    assert_eq!(batch.num_rows(), 8, "4 patterns, for the source and for *");
    for i in 0..batch.num_rows() {
        let suffix = if source.value(i) == "*" {
            "*"
        } else {
            "apache_logs"
        };
        let row = find(&rows, suffix, pattern.value(i));
        assert_eq!(records.value(i), row["records"].as_u64().unwrap());
        assert_eq!(bytes.value(i), row["bytes"].as_u64().unwrap());
        // serde_json parses floats to within an ulp (no float_roundtrip feature).
        assert!((shares.value(i) - row["share"].as_f64().unwrap()).abs() < 1e-15);
        let want = grep(pattern.value(i), &apache, false);
        assert_eq!((records.value(i), bytes.value(i)), want);
    }
    // Ranked by bytes within each group.
    assert!(bytes.value(0) >= bytes.value(1) && bytes.value(1) >= bytes.value(2));
}

#[test]
fn bad_patterns_are_usage_errors_that_name_the_pattern() {
    let apache = fixtures().join("elastic-examples/apache_logs");
    let out = coroner([
        "share".as_ref(),
        apache.as_os_str(),
        "--regex".as_ref(),
        "-p".as_ref(),
        "(unclosed".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("coroner: pattern \"(unclosed\" is not a valid regular expression"),
        "{err}"
    );
    let out = coroner(["share".as_ref(), apache.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "coroner: share needs at least one pattern (-p PATTERN or --patterns FILE)\n"
    );
}

/// `share` counts each record by its bytes without reading it (no envelope, payload or
/// time); `analyze` reads every record. On every sample and fixture (journal exports, tar
/// and compressed members, binary files, captures) they give the same rows, and each
/// source's `total_bytes` is its decompressed size in `sources.parquet`.
#[test]
fn share_without_reading_records_agrees_with_analyze_everywhere() {
    let (fx, sm) = (fixtures(), common::samples());
    let patterns = [
        "GET",
        "context canceled",
        "\" 50",
        "MESSAGE=",
        "TIME_WAIT",
        "a",
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["--quiet".to_string()];
    args.extend(patterns.iter().map(|p| format!("--pattern={p}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::analyze_into(dir.path(), &[&fx, &sm], &args, 0);
    let key = |r: &serde_json::Map<String, Value>| {
        (
            r["source"].as_str().unwrap().to_string(),
            r["pattern"].as_str().unwrap().to_string(),
        )
    };
    let analyzed: std::collections::BTreeMap<_, _> =
        common::table_rows(&dir.path().join("pattern_share.parquet"))
            .into_iter()
            .map(|r| {
                let k = key(&r);
                let v = ["records", "bytes", "total_bytes"].map(|c| r[c].as_u64().unwrap());
                (k, v)
            })
            .collect();
    let shared: std::collections::BTreeMap<_, _> = share(&[&fx, &sm], &patterns, &[])
        .into_iter()
        .map(|r| {
            let r = r.as_object().unwrap().clone();
            let v = ["records", "bytes", "total_bytes"].map(|c| r[c].as_u64().unwrap());
            (key(&r), v)
        })
        .collect();
    assert!(
        analyzed.len() > 40 * patterns.len(),
        "{} rows",
        analyzed.len()
    );
    assert_eq!(shared, analyzed);
    let sizes: std::collections::BTreeMap<String, u64> =
        common::table_rows(&dir.path().join("sources.parquet"))
            .into_iter()
            .map(|r| {
                (
                    r["source"].as_str().unwrap().to_string(),
                    r["bytes"].as_u64().unwrap(),
                )
            })
            .collect();
    for ((source, _), [_, _, total]) in &shared {
        if source != "*" {
            assert_eq!(Some(total), sizes.get(source), "{source}");
        }
    }
}
