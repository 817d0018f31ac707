//! Every real file in tests/fixtures is detected as what it is, and the same journal in its
//! four renderings gives the same number of records (2,202).

mod common;

use common::*;

/// (file, expected format: exact, or an envelope prefix ending in `/*`).
const EXPECTED: &[(&str, &str)] = &[
    ("elastic-examples/apache_logs", "plain/nginx-access"),
    ("elastic-examples/LICENSE", "plain"),
    ("elastic-examples/SOURCE.md", "plain"),
    (
        "kjournald/journalexportformat_binary_example.export",
        "journald-export/*",
    ),
    (
        "kjournald/journalexportformat_example.export",
        "journald-export/*",
    ),
    ("kjournald/rpi4-journal.export", "journald-export/*"),
    ("kjournald/rpi4-journal.json", "journald-json/*"),
    ("kjournald/rpi4-journal.short.txt", "syslog/*"),
    ("kjournald/rpi4-journal.short-iso-precise.txt", "syslog/*"),
    ("kjournald/export-examples.license", "plain"),
    ("kjournald/SOURCE.md", "plain"),
    ("kjournald/journal.tar.gz.license", "plain"),
    ("kjournald/journal.tar.gz", "tar"),
    ("lnav/logfile_access_log.0", "plain/nginx-access"),
    ("lnav/logfile_bad_access_log.0", "plain/nginx-access"),
    ("lnav/logfile_shop_access_log.0", "plain/nginx-access"),
    ("lnav/logfile_journald.json", "journald-json/*"),
    ("lnav/logfile_syslog.0", "syslog/*"),
    ("lnav/logfile_syslog_fr.0", "syslog/*"),
    ("lnav/LICENSE", "plain"),
    ("lnav/SOURCE.md", "plain"),
    ("socket-captures/netstat-nat.txt", "netstat"),
    ("socket-captures/netstat-tan.txt", "netstat"),
    ("socket-captures/netstat-tanW.txt", "netstat"),
    ("socket-captures/netstat-tanp.txt", "netstat"),
    ("socket-captures/ss-tan.txt", "ss"),
    ("socket-captures/ss-tanp.txt", "ss"),
    ("socket-captures/ss-tano.txt", "ss"),
    ("socket-captures/ss-Htan.txt", "ss"),
    ("socket-captures/ss-tn-state-time-wait.txt", "ss"),
    ("socket-captures/ss-s.txt", "ss-summary"),
    ("socket-captures/proc-net-tcp.txt", "proc-net-tcp"),
    ("socket-captures/proc-net-tcp6.txt", "proc-net-tcp"),
    ("socket-captures/ip_local_port_range.txt", "port-range"),
    ("socket-captures/SOURCE.md", "plain"),
];

fn matches(format: &str, want: &str) -> bool {
    match want.strip_suffix("/*") {
        Some(envelope) => format == envelope || format.starts_with(&format!("{envelope}/")),
        None => format == want,
    }
}

#[test]
fn every_fixture_is_detected_as_what_it_is() {
    let (code, rows, stderr) = detect(&[&fixtures()], &[]);
    assert_eq!(code, 0, "{stderr}");
    let mut checked = 0;
    for r in &rows {
        let name = r["source"].as_str().unwrap();
        let format = r["format"].as_str().unwrap();
        if name.contains("journal.tar.gz:") {
            assert_eq!(format, "journald-file", "{name}");
            continue;
        }
        let rel = name.split("fixtures/").nth(1).unwrap();
        if rel == "README.md" {
            continue;
        }
        let want = EXPECTED
            .iter()
            .find(|(f, _)| *f == rel)
            .unwrap_or_else(|| panic!("no expectation for {rel}"))
            .1;
        assert!(
            matches(format, want),
            "{rel}: detected {format}, expected {want}"
        );
        checked += 1;
    }
    assert_eq!(checked, EXPECTED.len(), "every expectation met a file");
}

#[test]
fn one_journal_in_four_renderings_is_2202_records() {
    let k = fixtures().join("kjournald");
    let files = [
        "rpi4-journal.export",
        "rpi4-journal.json",
        "rpi4-journal.short.txt",
        "rpi4-journal.short-iso-precise.txt",
    ];
    let paths: Vec<_> = files.iter().map(|f| k.join(f)).collect();
    let refs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
    let (code, rows, _) = detect(&refs, &["--year", "2021"]);
    assert_eq!(code, 0);
    for f in files {
        let r = row(&rows, f);
        assert_eq!(r["records"], 2202, "{f}");
        assert_eq!(r["unparsed_records"], 0, "{f}");
    }
    // The text renderings hold 36 `-- Boot … --` separator lines: meta, not records.
    let boot_bytes: u64 = sh(&format!(
        "grep -- '^-- Boot' {} | wc --bytes",
        k.join(files[2]).display()
    ))
    .parse()
    .unwrap();
    assert_eq!(row(&rows, files[2])["meta_bytes"], boot_bytes);
    // journald export and JSON carry the receive time; they agree to the microsecond.
    for key in ["first_ts", "last_ts"] {
        assert_eq!(
            row(&rows, files[0])[key],
            row(&rows, files[1])[key],
            "{key}"
        );
    }
}

#[test]
fn access_logs_parse_with_zero_unparsed_and_the_bad_line_is_counted() {
    let (_, rows, _) = detect(
        &[
            &fixtures().join("elastic-examples/apache_logs"),
            &fixtures().join("lnav"),
        ],
        &[],
    );
    let apache = row(&rows, "apache_logs");
    assert_eq!(
        (
            apache["records"].as_u64(),
            apache["unparsed_records"].as_u64()
        ),
        (Some(10_000), Some(0))
    );
    // The log is not time-sorted: first/last are the min and max, which awk finds too (all
    // lines are +0000 and in May 2015, so the text sorts as time does).
    let path = fixtures().join("elastic-examples/apache_logs");
    assert_eq!(
        sh(&format!("awk '{{print $5}}' {} | sort -u", path.display())),
        "+0000]"
    );
    let clf = |which: &str| {
        let t = sh(&format!(
            "awk '{{print substr($4, 2)}}' {} | sort | {which} -1",
            path.display()
        ));
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let m = months.iter().position(|m| *m == &t[3..6]).unwrap() + 1;
        format!("{}-{m:02}-{}T{}.000000Z", &t[7..11], &t[..2], &t[12..20])
    };
    assert_eq!(apache["first_ts"], clf("head").as_str());
    assert_eq!(apache["last_ts"], clf("tail").as_str());
    let shop = row(&rows, "logfile_shop_access_log.0");
    assert_eq!(
        (shop["records"].as_u64(), shop["unparsed_records"].as_u64()),
        (Some(1000), Some(0))
    );
    let bad = row(&rows, "logfile_bad_access_log.0");
    assert_eq!(bad["unparsed_records"], 1);
    let bad_line: u64 = sh(&format!(
        "sed -n 2p {} | wc --bytes",
        fixtures().join("lnav/logfile_bad_access_log.0").display()
    ))
    .parse()
    .unwrap();
    assert_eq!(bad["unparsed_bytes"], bad_line);
}

#[test]
fn nginx_format_reads_a_custom_log_format_and_a_bad_one_is_a_usage_error() {
    // A log_format of the kind a proxy operator writes: no ident/user, times at the end.
    let format = r#"$remote_addr [$time_local] "$request" $status $body_bytes_sent rt=$request_time urt="$upstream_response_time""#;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("proxy.log");
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!(
            "192.0.2.{} [10/Oct/2024:13:55:{:02} +0200] \"GET /api/{i} HTTP/1.1\" {} 612 rt=0.0{i:02} urt=\"0.0{i:02}, 0.001 : -\"\n",
            i % 200,
            i % 60,
            if i % 7 == 0 { 502 } else { 200 },
        ));
    }
    std::fs::write(&log, &text).unwrap();

    // Without the format the lines are free text: nothing claims them.
    let (code, rows, _) = detect(&[&log], &[]);
    assert_eq!(code, 0);
    assert_eq!(row(&rows, "proxy.log")["format"], "plain");

    let (code, rows, _) = detect(&[&log], &["--nginx-format", format]);
    assert_eq!(code, 0);
    let r = row(&rows, "proxy.log");
    assert_eq!(r["format"], "plain/nginx-access");
    assert_eq!(r["records"], 40);
    assert_eq!(r["unparsed_records"], 0);
    // +0200 applied: 13:55:00 local is 11:55:00 UTC.
    assert_eq!(r["first_ts"], "2024-10-10T11:55:00.000000Z");

    let out = coroner(["detect", "--nginx-format", "${remote_addr", "x"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--nginx-format") && err.contains("missing '}' after \"${\""),
        "{err}"
    );
}

#[test]
fn free_text_lines_are_dated_by_a_leading_time() {
    // No payload claims these lines; their leading RFC 3339 time still dates the source.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("worker.log");
    std::fs::write(
        &log,
        "2024-07-10T17:08:33Z worker started\n2024-07-10T17:09:00Z worker stopped after a while\n",
    )
    .unwrap();
    let (code, rows, _) = detect(&[&log], &[]);
    assert_eq!(code, 0);
    let r = row(&rows, "worker.log");
    assert_eq!(r["format"], "plain");
    assert_eq!(r["first_ts"], "2024-07-10T17:08:33.000000Z");
    assert_eq!(r["last_ts"], "2024-07-10T17:09:00.000000Z");
}
