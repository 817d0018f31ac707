//! The input layer, driven through the real binary: every rendering of the same bytes is
//! counted the same, equal to GNU `wc`; broken streams stop with a named error, keep what
//! came before, and make the run exit 2.

mod common;

use std::path::Path;

use common::*;

#[test]
fn apache_log_is_counted_the_same_in_every_rendering() {
    let plain_path = fixtures().join("elastic-examples/apache_logs");
    let plain = std::fs::read(&plain_path).unwrap();
    let (wc_bytes, wc_lines) = wc(&plain_path);
    assert_eq!(wc_bytes, plain.len() as u64);

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.gz"), gzip(&plain)).unwrap();
    // Several gzip members, as `cat a.gz b.gz` or pigz --independent write them; the cut
    // falls inside a line on purpose.
    let cut = plain.len() / 3 + 17;
    let mut multi = gzip(&plain[..cut]);
    multi.extend(gzip(&plain[cut..2 * cut]));
    multi.extend(gzip(&plain[2 * cut..]));
    std::fs::write(d.join("multi.gz"), multi).unwrap();
    std::fs::write(d.join("a.zst"), zstd(&plain)).unwrap();
    std::fs::write(
        d.join("bundle.tar.gz"),
        gzip(&tar(&[("logs/apache_logs", &plain)])),
    )
    .unwrap();
    // A name that lies: gzip bytes called .log are still decoded.
    std::fs::write(d.join("lies.log"), gzip(&plain)).unwrap();

    let (code, rows, stderr) = detect(&[&plain_path, d], &[]);
    assert_eq!(code, 0, "{stderr}");
    for suffix in [
        "apache_logs",
        "a.gz",
        "multi.gz",
        "a.zst",
        "bundle.tar.gz:logs/apache_logs",
        "lies.log",
    ] {
        let r = row(&rows, suffix);
        assert_eq!(r["bytes"], wc_bytes, "{suffix}");
        assert_eq!(r["records"], wc_lines, "{suffix}");
        assert_eq!(r["error"], serde_json::Value::Null, "{suffix}");
        assert!(
            r["format"].as_str().unwrap().starts_with("plain"),
            "{suffix}: {}",
            r["format"]
        );
    }
    assert_eq!(row(&rows, "a.zst")["compression"], "zstd");
    assert_eq!(row(&rows, "lies.log")["compression"], "gzip");
    assert_eq!(
        row(&rows, "bundle.tar.gz:logs/apache_logs")["compression"],
        "tar+gzip"
    );
    // The archive's own row accounts for the tar stream: headers and padding are meta.
    let archive = row(&rows, "bundle.tar.gz");
    assert_eq!(archive["format"], "tar");
    assert_eq!(
        archive["bytes"].as_u64().unwrap(),
        archive["meta_bytes"].as_u64().unwrap() + wc_bytes
    );
}

#[test]
fn truncated_gzip_keeps_what_came_before_and_exits_2() {
    let plain = std::fs::read(fixtures().join("elastic-examples/apache_logs")).unwrap();
    let gz = gzip(&plain);
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.log.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let good = dir.path().join("good.log");
    std::fs::write(&good, b"still read\n").unwrap();

    let (code, rows, stderr) = detect(&[&cut, &good], &[]);
    assert_eq!(code, 2);
    let r = row(&rows, "cut.log.gz");
    assert_eq!(r["error"], "truncated gzip stream");
    // gzip itself delivers exactly this much from the cut file before it gives up.
    let zcat_bytes: u64 = sh(&format!(
        "gzip -dc {} 2>/dev/null | wc --bytes; true",
        cut.display()
    ))
    .parse()
    .unwrap();
    assert_eq!(r["bytes"], zcat_bytes);
    assert_eq!(r["error_offset"], zcat_bytes);
    assert!(zcat_bytes > 0 && zcat_bytes < plain.len() as u64);
    // Every complete line before the cut is a record, and the partial last one too.
    let before = &plain[..zcat_bytes as usize];
    let lines = before.iter().filter(|&&b| b == b'\n').count() as u64;
    assert_eq!(
        r["records"],
        lines + u64::from(before.last() != Some(&b'\n'))
    );
    assert!(
        stderr.contains(&format!(
            "coroner: {}: truncated gzip stream (at byte {zcat_bytes})",
            cut.display()
        )),
        "{stderr}"
    );
    // The other source is unaffected.
    assert_eq!(row(&rows, "good.log")["records"], 1);
    assert_eq!(row(&rows, "good.log")["error"], serde_json::Value::Null);
}

#[test]
fn corrupt_zstd_and_missing_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..100_000u32)
        .flat_map(|i| format!("line {i} of a log {}\n", i.wrapping_mul(2_654_435_761)).into_bytes())
        .collect();
    let mut z = zstd(&data);
    let mid = z.len() / 2;
    for b in &mut z[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let bad = dir.path().join("bad.zst");
    std::fs::write(&bad, &z).unwrap();
    let missing = dir.path().join("missing.log");
    let (code, rows, stderr) = detect(&[&bad, &missing], &[]);
    assert_eq!(code, 2);
    let r = row(&rows, "bad.zst");
    assert!(r["error"].as_str().unwrap().starts_with("zstd: "), "{r}");
    assert!(r["bytes"].as_u64().unwrap() < data.len() as u64);
    assert_eq!(
        row(&rows, "missing.log")["error"],
        "No such file or directory"
    );
    assert!(
        stderr.contains("missing.log: No such file or directory"),
        "{stderr}"
    );
}

#[test]
fn overlong_line_ends_the_source_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = b"ok 1\nok 2\n".to_vec();
    data.extend(vec![b'x'; 5000]);
    data.extend(b"\nnever read\n");
    let plain = dir.path().join("long.log");
    std::fs::write(&plain, &data).unwrap();
    std::fs::write(dir.path().join("long.log.gz"), gzip(&data)).unwrap();
    let (code, rows, _) = detect(&[dir.path()], &["--max-line", "1K"]);
    assert_eq!(code, 2);
    for suffix in ["long.log", "long.log.gz"] {
        let r = row(&rows, suffix);
        assert_eq!(r["error"], "line longer than 1 KiB", "{suffix}");
        assert_eq!(r["error_offset"], 10, "{suffix}");
        assert_eq!(r["records"], 2, "{suffix}");
        assert_eq!(r["bytes"], 10, "{suffix}");
    }
}

#[test]
fn last_line_without_newline_is_a_record_and_empty_files_are_sources() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.log"), b"one\ntwo").unwrap();
    std::fs::write(dir.path().join("empty.log"), b"").unwrap();
    let (code, rows, _) = detect(&[dir.path()], &[]);
    assert_eq!(code, 0);
    assert_eq!(
        (
            row(&rows, "a.log")["records"].as_u64(),
            row(&rows, "a.log")["bytes"].as_u64()
        ),
        (Some(2), Some(7))
    );
    assert_eq!(row(&rows, "empty.log")["records"], 0);
}

#[test]
fn one_and_two_threads_write_identical_tables() {
    let out1 = tempfile::tempdir().unwrap();
    let out2 = tempfile::tempdir().unwrap();
    let input = fixtures();
    for (dir, threads) in [(out1.path(), "1"), (out2.path(), "2")] {
        let o = coroner([
            "analyze".as_ref(),
            input.as_os_str(),
            "-o".as_ref(),
            dir.as_os_str(),
            "--threads".as_ref(),
            threads.as_ref(),
            "--chunk-size".as_ref(),
            "64K".as_ref(),
        ]);
        assert!(
            o.status.code() == Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let mut tables = 0;
    for entry in std::fs::read_dir(out1.path()).unwrap() {
        let name = entry.unwrap().file_name();
        if !name.to_string_lossy().ends_with(".parquet") {
            continue;
        }
        tables += 1;
        let a = std::fs::read(out1.path().join(&name)).unwrap();
        let b = std::fs::read(out2.path().join(&name)).unwrap();
        assert!(a == b, "{name:?} differs between --threads 1 and 2");
    }
    assert!(tables >= 3, "sources, templates and pattern_share at least");
}

#[test]
fn sources_parquet_has_the_contract_columns() {
    use arrow_array::Array;
    use arrow_schema::{DataType, TimeUnit};
    let out = tempfile::tempdir().unwrap();
    let input = fixtures().join("lnav");
    let o = coroner([
        "analyze".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        out.path().as_os_str(),
        "--quiet".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        o.stdout.is_empty(),
        "--quiet printed {:?}",
        String::from_utf8_lossy(&o.stdout)
    );
    let batch = read_parquet(&out.path().join("sources.parquet"));
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let want = [
        ("source", DataType::Utf8),
        ("format", DataType::Utf8),
        ("compression", DataType::Utf8),
        ("stored_bytes", DataType::UInt64),
        ("bytes", DataType::UInt64),
        ("records", DataType::UInt64),
        ("unparsed_records", DataType::UInt64),
        ("unparsed_bytes", DataType::UInt64),
        ("first_ts", ts.clone()),
        ("last_ts", ts),
        ("error", DataType::Utf8),
    ];
    let schema = batch.schema();
    for (i, (name, ty)) in want.iter().enumerate() {
        assert_eq!(schema.field(i).name(), name);
        assert_eq!(schema.field(i).data_type(), ty, "{name}");
    }
    let bytes = batch
        .column_by_name("bytes")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::UInt64Array>()
        .unwrap();
    let total: u64 = bytes.iter().flatten().sum();
    let du: u64 = std::fs::read_dir(&input)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert_eq!(total, du, "every byte of the folder is accounted for");
    let summary = common::summary(out.path());
    assert_eq!(summary["report_version"], "1");
    assert_eq!(summary["totals"]["bytes"], du);
    assert_eq!(summary["options"]["tz"], "UTC");
    assert!(Path::new(&out.path().join("sources.parquet")).exists());
}

#[test]
fn usage_errors_exit_1() {
    assert_eq!(
        coroner(["analyze", "x"]).status.code(),
        Some(1),
        "missing -o"
    );
    assert_eq!(coroner(["nonsense"]).status.code(), Some(1));
    assert_eq!(coroner(["--version"]).status.code(), Some(0));
}
