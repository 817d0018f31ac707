//! Accounting invariants and rendering independence, on every sample and fixture: what
//! one table says must add up with what the others say, and how a file is stored must not
//! change what it says.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{analyze_into, fixtures, samples, table_rows};
use serde_json::Value;

type Row = serde_json::Map<String, Value>;

fn u(r: &Row, k: &str) -> u64 {
    r[k].as_u64().unwrap_or(0)
}

fn s<'a>(r: &'a Row, k: &str) -> &'a str {
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

#[test]
fn tables_add_up_on_every_sample_and_fixture() {
    let out = tempfile::tempdir().unwrap();
    let (fx, sm) = (fixtures(), samples());
    analyze_into(
        out.path(),
        &[&fx, &sm],
        &["--quiet", "-p", "context canceled", "-p", "GET /"],
        0,
    );
    let t = |name: &str| table_rows(&out.path().join(format!("{name}.parquet")));
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
    for r in &share {
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
    assert_eq!(star.len(), 2);
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

/// The same files stored plain instead of compressed (same names: coroner goes by magic
/// bytes) give byte-identical tables, except sources.parquet's compression columns.
#[test]
fn plain_and_compressed_renderings_say_the_same() {
    for sample in ["t3-drop", "hachyderm", "redis-timewait"] {
        let src = samples().join(sample);
        let plain = tempfile::tempdir().unwrap();
        let dst = plain.path().join(sample);
        copy_decompressed(&src, &dst);
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        // Relative inputs, so source names are the same in both runs.
        let run = |cwd: &Path, out: &Path| {
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_coroner"))
                .current_dir(cwd)
                .args(["analyze", "--quiet", "-o"])
                .arg(out)
                .arg(sample)
                .output()
                .unwrap();
            assert_eq!(
                o.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        };
        run(&samples(), a.path());
        run(plain.path(), b.path());
        for entry in std::fs::read_dir(a.path()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.ends_with(".parquet") {
                continue;
            }
            let other = b.path().join(&name);
            if name == "sources.parquet" {
                let strip = |rows: Vec<Row>| -> Vec<Row> {
                    rows.into_iter()
                        .map(|mut r| {
                            r.remove("compression");
                            r.remove("stored_bytes");
                            r
                        })
                        .collect()
                };
                assert_eq!(
                    strip(table_rows(&path)),
                    strip(table_rows(&other)),
                    "{sample}"
                );
            } else {
                assert!(
                    std::fs::read(&path).unwrap() == std::fs::read(&other).unwrap(),
                    "{sample}: {name} differs between compressed and plain"
                );
            }
        }
    }
}

fn copy_decompressed(src: &Path, dst: &Path) {
    use std::io::Read;
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let to = dst.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_decompressed(&p, &to);
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        let mut out = Vec::new();
        match bytes.get(..4) {
            Some([0x1f, 0x8b, ..]) => {
                flate2::read::MultiGzDecoder::new(&bytes[..])
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Some([0x28, 0xb5, 0x2f, 0xfd]) => out = zstd::decode_all(&bytes[..]).unwrap(),
            _ => out = bytes,
        }
        std::fs::write(&to, out).unwrap();
        // Same modification time: year-less times and capture dates come from it.
        let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
        std::fs::File::options()
            .write(true)
            .open(&to)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    }
}
