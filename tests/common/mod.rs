//! Helpers shared by the integration tests: run the real binary, read what it wrote, and
//! ask GNU tools for the independent truth.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// Run `coroner ARGS...`.
pub fn coroner<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_coroner"))
        .args(args)
        .output()
        .expect("run coroner")
}

/// `coroner detect --json PATHS...`: (exit code, rows, stderr).
pub fn detect(paths: &[&Path], extra: &[&str]) -> (i32, Vec<Value>, String) {
    let mut args: Vec<&std::ffi::OsStr> = vec!["detect".as_ref(), "--json".as_ref()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    args.extend(paths.iter().map(|p| p.as_os_str()));
    let out = coroner(args);
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (
        out.status.code().unwrap_or(-1),
        rows,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The row for a source whose name ends with `suffix`.
pub fn row<'a>(rows: &'a [Value], suffix: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["source"].as_str().is_some_and(|s| s.ends_with(suffix)))
        .unwrap_or_else(|| panic!("no source ending in {suffix}: {rows:#?}"))
}

/// `wc --bytes` and `wc --lines` of a file, from GNU wc itself.
pub fn wc(path: &Path) -> (u64, u64) {
    let out = Command::new("wc")
        .arg("--bytes")
        .arg("--lines")
        .arg(path)
        .output()
        .expect("run wc");
    let text = String::from_utf8(out.stdout).unwrap();
    let nums: Vec<u64> = text
        .split_whitespace()
        .take(2)
        .map(|n| n.parse().unwrap())
        .collect();
    (nums[1], nums[0])
}

/// Run a shell pipeline and return its stdout trimmed (for GNU-tool truths).
pub fn sh(script: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Every batch of a Parquet file concatenated (small tables only).
pub fn read_parquet(path: &Path) -> RecordBatch {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    arrow_select_concat(&batches)
}

fn arrow_select_concat(batches: &[RecordBatch]) -> RecordBatch {
    assert!(!batches.is_empty(), "empty parquet file");
    if batches.len() == 1 {
        return batches[0].clone();
    }
    panic!("tests expect single-batch tables, got {}", batches.len());
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

/// A tar archive of (name, bytes) members.
pub fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// A table as JSON rows, every column by name (strings, numbers; times as ISO 8601 UTC
/// with microseconds, like summary.json). Empty tables give no rows.
pub fn table_rows(path: &Path) -> Vec<serde_json::Map<String, Value>> {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, TimestampMicrosecondType, UInt64Type};
    use arrow_schema::DataType;
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let schema = batch.schema();
        for i in 0..batch.num_rows() {
            let mut row = serde_json::Map::new();
            for (f, col) in schema.fields().iter().zip(batch.columns()) {
                let v = if col.is_null(i) {
                    Value::Null
                } else {
                    match f.data_type() {
                        DataType::Utf8 => Value::from(col.as_string::<i32>().value(i)),
                        DataType::UInt64 => Value::from(col.as_primitive::<UInt64Type>().value(i)),
                        DataType::Float64 => {
                            let x = col.as_primitive::<Float64Type>().value(i);
                            if x.is_finite() {
                                Value::from(x)
                            } else {
                                Value::from(x.to_string())
                            }
                        }
                        DataType::Timestamp(..) => {
                            Value::from(coroner_analyze::report::iso_micros(
                                col.as_primitive::<TimestampMicrosecondType>().value(i),
                            ))
                        }
                        other => panic!("column {} of type {other}", f.name()),
                    }
                };
                row.insert(f.name().clone(), v);
            }
            rows.push(row);
        }
    }
    rows
}

/// `coroner analyze -o OUT ARGS... PATHS...`; panics unless it exits `code`; its stdout.
pub fn analyze_into(out: &Path, paths: &[&Path], extra: &[&str], code: i32) -> String {
    let mut args: Vec<&std::ffi::OsStr> = vec!["analyze".as_ref(), "-o".as_ref(), out.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    args.extend(paths.iter().map(|p| p.as_os_str()));
    let o = coroner(args);
    assert_exit(&o, code);
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Panics, showing stderr, unless the run exited `code`.
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `summary.json` of a run that wrote into `out`.
pub fn summary(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

/// One table row as `table_rows` gives it.
pub type Row = serde_json::Map<String, Value>;

/// A count column of a row; 0 when null.
pub fn u(r: &Row, k: &str) -> u64 {
    r[k].as_u64().unwrap_or(0)
}

/// A string column of a row; empty when null.
pub fn s<'a>(r: &'a Row, k: &str) -> &'a str {
    r[k].as_str().unwrap_or("")
}

/// Sum of (records, bytes) per source over a table's rows.
fn sums(rows: &[Row]) -> BTreeMap<String, (u64, u64)> {
    let mut m = BTreeMap::new();
    for r in rows {
        let e = m.entry(s(r, "source").to_string()).or_insert((0, 0));
        e.0 += u(r, "records");
        e.1 += u(r, "bytes");
    }
    m
}

/// The accounting every analyze output must satisfy, whatever the input: every record of a
/// source is in one timeline bucket, a source's bytes are its records' bytes plus its meta
/// bytes (binary content aside), each `*` row of pattern_share is the sum of its per-source
/// rows (`patterns` of them the -p patterns), and the socket histogram counts every socket
/// end once.
pub fn assert_tables_add_up(out: &Path, patterns: usize) {
    let t = |name: &str| table_rows(&out.join(format!("{name}.parquet")));
    let sources: BTreeMap<String, (u64, u64)> = t("sources")
        .iter()
        .filter(|r| s(r, "format") != "tar")
        .map(|r| (s(r, "source").to_string(), (u(r, "records"), u(r, "bytes"))))
        .collect();
    // Every record is in one timeline bucket (or the untimed row): records add up; bytes
    // add up to the source's bytes less what is not a record (meta bytes, opaque data).
    let timeline = sums(&t("timeline"));
    let src_rows = t("sources");
    for r in src_rows.iter().filter(|r| s(r, "format") != "tar") {
        let name = s(r, "source");
        let (records, bytes) = timeline.get(name).copied().unwrap_or((0, 0));
        assert_eq!(records, u(r, "records"), "timeline records of {name}");
        assert!(
            bytes + u(r, "meta_bytes") <= u(r, "bytes"),
            "timeline bytes of {name}"
        );
        // Binary content (a .journal file) is counted in sources.parquet but holds no
        // records; every other source's bytes are its records' and its meta bytes.
        if !matches!(s(r, "format"), "journald-file" | "binary") {
            assert_eq!(
                bytes + u(r, "meta_bytes"),
                u(r, "bytes"),
                "timeline bytes of {name}"
            );
        }
    }
    // Pattern share: the `*` row of a pattern is the sum of its per-source rows.
    let share = t("pattern_share");
    let mut per: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    let mut star: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    // (Mined templates are ranked per source and across sources separately: only the
    // literal patterns' rows must add up.)
    for r in share.iter().filter(|r| s(r, "kind") != "template") {
        let key = s(r, "pattern").to_string();
        let target = if s(r, "source") == "*" {
            &mut star
        } else {
            &mut per
        };
        let e = target.entry(key).or_insert((0, 0, 0));
        e.0 += u(r, "records");
        e.1 += u(r, "bytes");
        e.2 += u(r, "total_bytes");
    }
    let given = share
        .iter()
        .filter(|r| s(r, "source") == "*" && s(r, "kind") != "template")
        .count();
    assert_eq!(given, patterns, "patterns in pattern_share");
    assert_eq!(star, per);
    // Socket histogram: every socket end counted once per (layer, cause).
    let mut hist: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in t("socket_histogram") {
        *hist
            .entry((s(&r, "layer").into(), s(&r, "cause").into()))
            .or_default() += u(&r, "count");
    }
    let mut ends: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in t("sockets") {
        *ends
            .entry((s(&r, "layer").into(), s(&r, "cause").into()))
            .or_default() += 1;
    }
    assert_eq!(hist, ends);
    assert!(!sources.is_empty());
}
