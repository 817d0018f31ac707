//! The five seed incidents, end to end: `coroner analyze samples/<name>` must put the
//! post-mortem's root finding in the summary's first lines, and the Parquet tables must hold
//! it with the numbers the generator counted (`samples/<name>.expected.json`) or that GNU
//! tools compute from the same files.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{Row, analyze_into, s, samples, sh, table_rows};
use serde_json::Value;

struct Run {
    dir: tempfile::TempDir,
    stdout: String,
}

impl Run {
    fn of(sample: &str, extra: &[&str]) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let stdout = analyze_into(dir.path(), &[&samples().join(sample)], extra, 0);
        Run { dir, stdout }
    }

    fn table(&self, name: &str) -> Vec<Row> {
        table_rows(&self.dir.path().join(format!("{name}.parquet")))
    }

    /// The numbered headline lines of the terminal summary.
    fn headline(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| {
                l.trim_start()
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit())
            })
            .collect()
    }
}

fn expected(sample: &str) -> Value {
    let path = samples().join(format!("{sample}.expected.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn n(r: &Row, k: &str) -> u64 {
    r[k].as_u64().unwrap_or_else(|| panic!("{k} in {r:?}"))
}

/// Sum of `count` of the findings of `kind`, per subject.
fn findings_by_subject(rows: &[Row], kind: &str) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for r in rows.iter().filter(|r| s(r, "kind") == kind) {
        *m.entry(s(r, "subject").to_string()).or_default() += n(r, "count");
    }
    m
}

/// `2026-07-02T15:42:17Z` (expected.json) against the tables' `...17.000000Z`.
fn same_time(table: &str, expected: &str) -> bool {
    table.replace(".000000Z", "Z") == expected
}

/// Bursts of the tables equal the generator's list, for every source and `*` (signature
/// names compared without case: the generator writes `http 504`).
fn assert_bursts_match(run: &Run, sample: &str) {
    let want = expected(sample)["bursts"].as_array().unwrap().clone();
    let got = run.table("bursts");
    let key = |src: &str, sig: &str, start: &str| {
        let src = src
            .rsplit_once(&format!("{sample}/"))
            .map_or(src, |(_, r)| r);
        format!(
            "{src}|{}|{}",
            sig.to_lowercase(),
            start.replace(".000000Z", "Z")
        )
    };
    let got: BTreeMap<String, (u64, u64, u64)> = got
        .iter()
        .map(|r| {
            (
                key(s(r, "source"), s(r, "signature"), s(r, "start")),
                (n(r, "seconds"), n(r, "events"), n(r, "peak")),
            )
        })
        .collect();
    let want: BTreeMap<String, (u64, u64, u64)> = want
        .iter()
        .map(|b| {
            (
                key(
                    b["source"].as_str().unwrap(),
                    b["signature"].as_str().unwrap(),
                    b["start"].as_str().unwrap(),
                ),
                (
                    b["seconds"].as_u64().unwrap(),
                    b["events"].as_u64().unwrap(),
                    b["peak"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(got, want, "bursts of {sample}");
}

#[test]
fn t3_drop_attributes_the_drops_and_finds_the_cancel_bursts() {
    let run = Run::of("t3-drop", &[]);
    let e = expected("t3-drop");
    let head = run.headline();
    assert!(
        head.iter()
            .take(3)
            .any(|l| l.contains("burst(s)") && l.contains("context canceled")),
        "{}",
        run.stdout
    );
    assert!(
        head.iter().take(3).any(|l| l.contains("last_mile")),
        "{}",
        run.stdout
    );
    assert_bursts_match(&run, "t3-drop");
    let html = std::fs::read_to_string(run.dir.path().join("report.html")).unwrap();
    assert!(html.starts_with("<!doctype html>") && html.trim_end().ends_with("</html>"));
    assert!(html.matches("class=\"chart\"").count() >= 8);

    // Socket ends per layer and cause equal the generator's counts.
    let sockets = run.table("sockets");
    let count = |layer: &str, cause: &str| {
        sockets
            .iter()
            .filter(|r| s(r, "layer") == layer && s(r, "cause") == cause)
            .count() as u64
    };
    for cause in ["downstream_closed", "upstream_closed", "graceful"] {
        assert_eq!(
            count("dispatch", cause),
            e["dispatch"]["ws_close"][cause].as_u64().unwrap(),
            "{cause}"
        );
    }
    assert_eq!(
        count("traefik", "closed"),
        e["traefik"]["ws_101"].as_u64().unwrap()
    );
    assert_eq!(
        count("cloudflared", "ended_abruptly"),
        e["cloudflared"]["request_failed_ws"].as_u64().unwrap()
    );

    // The histogram counts every socket end once, per layer and cause.
    let hist = run.table("socket_histogram");
    let mut by: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in &hist {
        *by.entry((s(r, "layer").into(), s(r, "cause").into()))
            .or_default() += n(r, "count");
    }
    let mut direct: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in &sockets {
        *direct
            .entry((s(r, "layer").into(), s(r, "cause").into()))
            .or_default() += 1;
    }
    assert_eq!(by, direct);
    // Short dispatch sockets: the histogram's buckets up to 120 s.
    let short: u64 = hist
        .iter()
        .filter(|r| s(r, "layer") == "dispatch")
        .filter(|r| r["le_ms"].as_f64().is_some_and(|le| le <= 120_000.0))
        .map(|r| n(r, "count"))
        .sum();
    assert_eq!(
        short,
        e["dispatch"]["ws_close_short_total"].as_u64().unwrap()
    );

    // Drops: the generator's ground truth says 119 short sockets were phones on bad
    // networks (last mile, outside any burst), and 83 died of the serve stall.
    let drops = run.table("drops");
    let verdicts = |v: &str| drops.iter().filter(|r| s(r, "verdict") == v).count() as u64;
    assert_eq!(
        verdicts("last_mile"),
        e["truth"]["ws_close_short"]["last_mile"].as_u64().unwrap()
    );
    let dispatch_short_upstream = drops
        .iter()
        .filter(|r| s(r, "layers").contains("dispatch"))
        .filter(|r| s(r, "verdict").starts_with("serve_stall"))
        .count() as u64;
    assert!(
        dispatch_short_upstream
            >= e["truth"]["ws_close_short"]["stall_reset"]
                .as_u64()
                .unwrap()
    );
    // The storm's WebSocket handshakes that the serve reset (answered 5xx beside a
    // `connection reset by peer`) are Traefik-only rows, each a serve stall: the marker in
    // the bundle, not the status alone, decides it.
    let storm = drops
        .iter()
        .filter(|r| s(r, "layers") == "traefik")
        .filter(|r| s(r, "verdict").starts_with("serve_stall"))
        .count() as u64;
    assert!(
        storm >= e["truth"]["storm_handshake_resets"].as_u64().unwrap(),
        "{storm} Traefik-only serve stalls"
    );
    // Every short dispatch socket is one drop row.
    let with_dispatch = drops
        .iter()
        .filter(|r| s(r, "layers").contains("dispatch"))
        .count();
    assert_eq!(
        with_dispatch as u64,
        e["dispatch"]["ws_close_short_total"].as_u64().unwrap()
    );
}

#[test]
fn t3_drop_bursts_equal_the_uniq_c_pipeline_on_cloudflared() {
    // cloudflared lines start with their own second: the runbook's pipeline applies as is.
    let file = samples().join("t3-drop/cloudflared.log.zst");
    let uniq = sh(&format!(
        "zstd -dc {} | grep -F 'context canceled' | cut -c1-20 | sort | uniq -c | awk '$1>=5 {{print $2, $1}}'",
        file.display()
    ));
    let want: Vec<(String, u64)> = uniq
        .lines()
        .map(|l| {
            let (t, c) = l.split_once(' ').unwrap();
            (t.to_string(), c.parse().unwrap())
        })
        .collect();
    assert!(!want.is_empty());
    let run = Run::of("t3-drop", &[]);
    let got: Vec<(String, u64)> = run
        .table("bursts")
        .iter()
        .filter(|r| s(r, "source").ends_with("cloudflared.log.zst"))
        .filter(|r| s(r, "signature") == "context canceled")
        .map(|r| {
            assert_eq!(n(r, "seconds"), 1, "the sample's bursts are single seconds");
            (s(r, "start").replace(".000000Z", "Z"), n(r, "events"))
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn chitter_oom_names_the_oom_killer_and_the_silent_proxy() {
    let run = Run::of("chitter-oom", &[]);
    let e = expected("chitter-oom");
    let head = run.headline();
    assert!(
        head[0].contains("OOM killer") && head[0].contains("netdata x4"),
        "{}",
        run.stdout
    );
    assert!(
        head.iter()
            .take(3)
            .any(|l| l.contains("caddy/access.log went silent")),
        "{}",
        run.stdout
    );
    let findings = run.table("findings");
    let kills = findings_by_subject(&findings, "oom_kill");
    for (victim, v) in e["findings"]["oom_kill"].as_object().unwrap() {
        assert_eq!(kills.get(victim), v["count"].as_u64().as_ref(), "{victim}");
    }
    let silence: Vec<&Row> = findings
        .iter()
        .filter(|r| s(r, "kind") == "silence" && s(r, "subject").ends_with("caddy/access.log"))
        .filter(|r| s(r, "detail").contains("silent until the bundle ends"))
        .collect();
    let want = &e["findings"]["silence"][0];
    assert_eq!(silence.len(), 1, "{silence:?}");
    assert!(same_time(
        s(silence[0], "ts"),
        want["last_record"].as_str().unwrap()
    ));
    // No loop: netdata restarts every ~10 minutes, never 3 within 10.
    assert!(findings_by_subject(&findings, "restart_loop").is_empty());
    let restarts = findings_by_subject(&findings, "restart");
    assert!(restarts["netdata.service"] >= 4 * 3);
}

/// The streaming server's ends (client, whether a duration is known) as awk reads them
/// from the journal text `cat` gives: per request id, the first `Ending stream` or `Tried
/// writing to closed socket` line is the end, and it has a duration when an earlier line
/// of the id has an earlier time (journalctl's `short-iso` stamps compare as text).
fn streaming_ends_by_awk(cat: &str) -> Vec<String> {
    let awk = sh(&format!(
        r#"{cat} | awk '$3 ~ /^node\[/ && ($4 == "verb" || $4 == "ERR!") && length($5) == 36 {{
            id = $5; t = $1
            if (id in ended) next
            if (($6 == "Ending" && $7 == "stream") || ($6 == "Tried" && $7 == "writing")) {{
                ended[id] = 1
                print id, ((id in first) && first[id] < t) ? "timed" : "untimed"
                next
            }}
            if (!(id in first) || t < first[id]) first[id] = t
        }}' | sort"#
    ));
    awk.lines().map(str::to_string).collect()
}

/// `got` equals `want`; else the counts and the first line that differs (the lists are
/// long).
fn same_lines(got: &[String], want: &[String]) {
    if got != want {
        let at = got.iter().zip(want).position(|(g, w)| g != w);
        panic!(
            "{} lines, awk {}; first difference at {at:?}: {:?} vs awk {:?}",
            got.len(),
            want.len(),
            at.map(|i| &got[i]),
            at.map(|i| &want[i]),
        );
    }
}

/// The same from `sockets.parquet`.
fn streaming_ends_of(run: &Run) -> Vec<String> {
    let mut got: Vec<String> = run
        .table("sockets")
        .iter()
        .filter(|r| s(r, "layer") == "mastodon-streaming")
        .map(|r| {
            let timed = if r["duration_ms"].is_null() {
                "untimed"
            } else {
                "timed"
            };
            format!("{} {timed}", s(r, "client"))
        })
        .collect();
    got.sort();
    got
}

#[test]
fn hachyderm_streaming_ends_equal_awk_on_the_journal() {
    let run = Run::of("hachyderm", &[]);
    let journal = samples().join("hachyderm/journal.txt");
    let want = streaming_ends_by_awk(&format!("cat {}", journal.display()));
    assert!(
        want.len() > 50,
        "the sample has streaming ends: {}",
        want.len()
    );
    same_lines(&streaming_ends_of(&run), &want);
}

/// On a generated streaming log (the bench bundle's, 500 KB of it, cut into a few dozen
/// chunks), where most ends close a stream opened earlier: the durations known are awk's
/// too, so request ids are neither forgotten nor mixed up across chunks.
#[test]
fn generated_streaming_ends_equal_awk() {
    let dir = tempfile::tempdir().unwrap();
    let spec = coroner_gen::bundle::BundleSpec {
        bytes: 5_000_000,
        seed: 7,
    };
    coroner_gen::bundle::write_bundle(&dir.path().join("b"), &spec).unwrap();
    let log = dir.path().join("b/mastodon/streaming.journal.gz");
    let out = dir.path().join("out");
    // 64 KiB chunks (the hidden --chunk-size): streams open in one chunk and end in another.
    analyze_into(&out, &[&log], &["--threads", "2", "--chunk-size", "64K"], 0);
    let run = Run {
        dir: tempfile::tempdir().unwrap(),
        stdout: String::new(),
    };
    for f in std::fs::read_dir(&out).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, run.dir.path().join(f.file_name().unwrap())).unwrap();
    }
    let want = streaming_ends_by_awk(&format!("gzip -dc {}", log.display()));
    let timed = want.iter().filter(|l| l.ends_with(" timed")).count();
    assert!(
        timed > 100 && timed < want.len(),
        "{timed} of {} timed",
        want.len()
    );
    same_lines(&streaming_ends_of(&run), &want);
}

#[test]
fn hachyderm_puts_the_full_database_disk_first() {
    let run = Run::of("hachyderm", &[]);
    let e = expected("hachyderm");
    let head = run.headline();
    assert!(head[0].contains("disk full"), "{}", run.stdout);
    assert!(
        head.iter().take(3).any(|l| l.contains("HTTP 504")),
        "{}",
        run.stdout
    );
    let findings = run.table("findings");
    let disk = findings_by_subject(&findings, "disk_full");
    for d in e["findings"]["disk_full"].as_array().unwrap() {
        let ident = d["ident"].as_str().unwrap();
        assert_eq!(disk.get(ident), d["count"].as_u64().as_ref(), "{ident}");
    }
    assert_bursts_match(&run, "hachyderm");
    // Error buckets: every 5xx of the access log is an error in the timeline.
    let timeline = run.table("timeline");
    let five: u64 = timeline
        .iter()
        .filter(|r| s(r, "source").ends_with("access.log.gz"))
        .map(|r| n(r, "status_5xx"))
        .sum();
    let status = &e["nginx"]["status"];
    let want: u64 = ["500", "502", "504"]
        .iter()
        .map(|k| status[*k].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(five, want);
}

#[test]
fn tecken_disk_finds_disk_full_worker_timeouts_and_the_restart_loop() {
    let run = Run::of("tecken-disk", &[]);
    let e = expected("tecken-disk");
    let head: Vec<&str> = run.headline().into_iter().take(3).collect();
    for want in ["disk full", "restart loop", "worker timeouts"] {
        assert!(
            head.iter().any(|l| l.contains(want)),
            "{want}: {}",
            run.stdout
        );
    }
    let findings = run.table("findings");
    let disk: u64 = findings_by_subject(&findings, "disk_full").values().sum();
    assert_eq!(
        disk,
        e["findings"]["disk_full"][0]["count"].as_u64().unwrap()
    );
    let workers: u64 = findings_by_subject(&findings, "worker_timeout")
        .values()
        .sum();
    assert_eq!(
        workers,
        e["findings"]["worker_timeout"]["count"].as_u64().unwrap()
            + e["findings"]["worker_sigkill"]["count"].as_u64().unwrap()
    );
    let loops = findings_by_subject(&findings, "restart_loop");
    assert_eq!(
        loops.get("tecken-web.service"),
        e["findings"]["restart"]["scheduled_restart"]["count"]
            .as_u64()
            .as_ref()
    );
}

#[test]
fn redis_timewait_finds_port_exhaustion_and_the_redis_flood() {
    let run = Run::of("redis-timewait", &[]);
    let e = expected("redis-timewait");
    let head = run.headline();
    assert!(
        head[0].contains("TIME_WAIT exhausts the ephemeral ports")
            && head[0].contains("10.0.4.30:6379"),
        "{}",
        run.stdout
    );
    assert!(
        head.iter()
            .take(3)
            .any(|l| l.contains("Cannot assign requested address")),
        "{}",
        run.stdout
    );
    assert!(
        head.iter()
            .take(3)
            .any(|l| l.contains("Redis::connect") && l.contains("89.")),
        "{}",
        run.stdout
    );
    let findings = run.table("findings");
    let ports: u64 = findings
        .iter()
        .filter(|r| s(r, "kind") == "port_exhaustion" && s(r, "source").ends_with("app.log"))
        .map(|r| n(r, "count"))
        .sum();
    assert_eq!(
        ports,
        e["findings"]["port_exhaustion"]["count"].as_u64().unwrap()
    );

    // Socket states equal awk on the capture itself.
    let capture = samples().join("redis-timewait/netstat-nat.txt.gz");
    let awk = sh(&format!(
        "gzip -dc {} | awk 'NR>2 {{print $6}}' | sort | uniq -c",
        capture.display()
    ));
    let want: BTreeMap<String, u64> = awk
        .lines()
        .map(|l| {
            let mut it = l.split_whitespace();
            let c = it.next().unwrap().parse().unwrap();
            (it.next().unwrap().to_string(), c)
        })
        .collect();
    let got: BTreeMap<String, u64> = run
        .table("socket_states")
        .iter()
        .map(|r| (s(r, "state").to_string(), n(r, "count")))
        .collect();
    assert_eq!(got, want);
    let tw = run.table("timewait");
    let redis = tw
        .iter()
        .find(|r| s(r, "remote") == "10.0.4.30:6379")
        .expect("a TIME_WAIT group to the Redis port");
    assert_eq!(n(redis, "time_wait"), 28_232);
    assert_eq!(n(redis, "ports_available"), 28_232);
    assert!(redis["utilization"].as_f64().unwrap() >= 1.0);
}

/// Every table byte-identical for 1 and 2 threads and tiny chunks.
#[test]
fn one_and_two_threads_write_identical_tables_for_every_sample() {
    let names: Vec<PathBuf> = std::fs::read_dir(samples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert!(names.len() >= 5);
    for sample in names {
        let one = tempfile::tempdir().unwrap();
        let two = tempfile::tempdir().unwrap();
        analyze_into(one.path(), &[&sample], &["--quiet", "--threads", "1"], 0);
        analyze_into(
            two.path(),
            &[&sample],
            &["--quiet", "--threads", "2", "--chunk-size", "16K"],
            0,
        );
        let mut tables = 0;
        for entry in std::fs::read_dir(one.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "parquet") {
                let other = two.path().join(path.file_name().unwrap());
                assert!(
                    std::fs::read(&path).unwrap() == std::fs::read(&other).unwrap(),
                    "{} differs between 1 and 2 threads for {}",
                    path.file_name().unwrap().to_string_lossy(),
                    sample.display()
                );
                tables += 1;
            }
        }
        assert!(tables >= 10, "{tables} tables for {}", sample.display());
    }
}

/// Timeline percentiles against exact nearest-rank percentiles computed here from the
/// access log's own `rt=` values, per minute: within the sketch's stated 1 % error.
#[test]
fn hachyderm_latency_percentiles_are_within_the_sketch_error_of_exact() {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(samples().join("hachyderm/nginx/access.log.gz")).unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // Minute (ISO, as the table writes it) -> latencies in ms.
    let mut exact: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for line in text.lines() {
        let t = &line[line.find('[').unwrap() + 1..];
        // dd/Mon/yyyy:HH:MM:SS +0000
        let (day, mon, year, hh, mm) = (&t[0..2], &t[3..6], &t[7..11], &t[12..14], &t[15..17]);
        assert_eq!(&t[21..26], "+0000", "{line}");
        let m = MONTHS.iter().position(|x| *x == mon).unwrap() + 1;
        let minute = format!("{year}-{m:02}-{day}T{hh}:{mm}:00.000000Z");
        let Some(rt) = line.split(' ').find_map(|f| f.strip_prefix("rt=")) else {
            continue;
        };
        let ms = rt.parse::<f64>().unwrap() * 1000.0;
        exact.entry(minute).or_default().push(ms);
    }
    assert!(exact.len() >= 20, "{} minutes", exact.len());
    let run = Run::of("hachyderm", &[]);
    let rows: BTreeMap<String, Row> = run
        .table("timeline")
        .into_iter()
        .filter(|r| s(r, "source").ends_with("access.log.gz"))
        .map(|r| (s(&r, "bucket_start").to_string(), r))
        .collect();
    let mut checked = 0;
    for (minute, mut v) in exact {
        v.sort_by(f64::total_cmp);
        let row = &rows[&minute];
        assert_eq!(n(row, "latency_count"), v.len() as u64, "{minute}");
        for (q, col) in [(0.5, "p50_ms"), (0.9, "p90_ms"), (0.99, "p99_ms")] {
            let rank = ((q * v.len() as f64).ceil() as usize).max(1);
            let want = v[rank - 1];
            let got = row[col].as_f64().unwrap();
            assert!(
                (got - want).abs() <= 0.01 * want + 1e-3,
                "{minute} {col}: sketch {got}, exact {want}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 60);
}

/// A log longer than the timeline keeps in memory (17 days of minute buckets, more than
/// its 8,192; a seventh of the lines stamped twelve days back, in buckets long written
/// out): every minute's records, bytes and 5xx errors are what awk counts, and nothing is
/// reported lost. One thread with the whole log in one chunk (whose own timeline writes
/// buckets out, read back when it is merged), and two threads with 16 KiB chunks.
#[test]
fn a_timeline_longer_than_memory_holds_counts_what_awk_counts() {
    use coroner_gen::time::{at, clf};
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let start = at(2026, 6, 1, 0, 0, 0);
    let mut text = String::new();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..15_000i64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut t = start + (i * 100 + (x % 100) as i64) * 1_000_000;
        if i % 7 == 3 {
            t -= 12 * 86_400 * 1_000_000;
        }
        let status = if x.is_multiple_of(11) { 502 } else { 200 };
        text.push_str(&format!(
            "192.0.2.{} - - [{}] \"GET /p/{} HTTP/1.1\" {status} {} \"-\" \"curl/8\"\n",
            x % 200,
            clf(t),
            x % 1000,
            x % 5000
        ));
    }
    std::fs::write(&log, &text).unwrap();
    let awk = sh(&format!(
        "awk -F'[][]' '{{k=substr($2,1,17); n[k]++; b[k]+=length($0)+1; \
         if ($3 ~ /\" 5[0-9][0-9] /) e[k]++}} END {{for (k in n) print k, n[k], b[k], e[k]+0}}' {}",
        log.display()
    ));
    let truth: BTreeMap<String, (u64, u64, u64)> = awk
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let num = |i: usize| f[i].parse::<u64>().unwrap();
            (f[0].to_string(), (num(1), num(2), num(3)))
        })
        .collect();
    assert!(truth.len() > 8_192 + 4_000, "{} minutes", truth.len());
    let mut seen = Vec::new();
    for (threads, chunk) in [("1", "8M"), ("2", "16K")] {
        let out = tempfile::tempdir().unwrap();
        let args = ["--quiet", "--threads", threads, "--chunk-size", chunk];
        analyze_into(out.path(), &[&log], &args, 0);
        let rows = table_rows(&out.path().join("timeline.parquet"));
        let got: BTreeMap<String, (u64, u64, u64)> = rows
            .iter()
            .map(|r| {
                // 2026-06-01T00:00:00.000000Z -> 01/Jun/2026:00:00, awk's key.
                let iso = s(r, "bucket_start");
                let num = |a: usize, b: usize| iso[a..b].parse::<u32>().unwrap();
                let us = at(
                    i64::from(num(0, 4)),
                    num(5, 7),
                    num(8, 10),
                    num(11, 13),
                    num(14, 16),
                    0,
                );
                let key = clf(us)[..17].to_string();
                (key, (n(r, "records"), n(r, "bytes"), n(r, "errors")))
            })
            .collect();
        assert_eq!(got.len(), rows.len(), "one row per minute");
        let differ: Vec<_> = truth
            .iter()
            .filter(|(k, v)| got.get(*k) != Some(v))
            .take(3)
            .map(|(k, v)| format!("{k}: awk {v:?}, coroner {:?}", got.get(k)))
            .collect();
        assert!(differ.is_empty(), "{threads} thread(s): {differ:?}");
        assert_eq!(got.len(), truth.len(), "{threads} thread(s)");
        let starts: Vec<&str> = rows.iter().map(|r| s(r, "bucket_start")).collect();
        assert!(starts.is_sorted(), "rows by bucket_start");
        let summary = common::summary(out.path());
        assert_eq!(summary["capped"]["timeline_buckets"], 0);
        assert_eq!(summary["capped"]["spill_error"], Value::Null);
        seen.push(rows);
    }
    assert_eq!(seen[0], seen[1]);
}

/// With no temporary directory to write to, the time buckets a timeline cannot keep in
/// memory are lost, and counted: one record per one-second bucket, so every line is either
/// in a row or in `capped.timeline_buckets`, whether the buckets were written out by the
/// source's timeline or by a chunk's (the whole log in one chunk).
#[test]
fn timeline_buckets_a_failing_temporary_file_loses_are_counted() {
    use coroner_gen::time::at;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let start = at(2026, 6, 1, 0, 0, 0) / 1_000_000;
    let lines = 20_000u64;
    let text: String = (0..lines as i64)
        .map(|i| {
            let (d, s) = ((start + i) / 86_400, (start + i) % 86_400);
            let (y, m, day) = coroner_gen::time::civil_from_days(d);
            format!(
                "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}+0000 host app[7]: tick {i}\n",
                s / 3600,
                s / 60 % 60,
                s % 60
            )
        })
        .collect();
    std::fs::write(&log, text).unwrap();
    for chunk in ["8M", "16K"] {
        let out = tempfile::tempdir().unwrap();
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_coroner"))
            .env("TMPDIR", dir.path().join("not-there"))
            .args([
                "analyze",
                "--quiet",
                "--bucket",
                "1",
                "--chunk-size",
                chunk,
                "-o",
            ])
            .arg(out.path())
            .arg(&log)
            .output()
            .unwrap();
        common::assert_exit(&o, 0);
        let summary = common::summary(out.path());
        let lost = summary["capped"]["timeline_buckets"].as_u64().unwrap();
        assert!(lost > 0, "chunk {chunk}: nothing lost");
        let error = summary["capped"]["spill_error"]
            .as_str()
            .unwrap_or_default();
        assert!(error.contains("temporary file"), "chunk {chunk}: {error:?}");
        let rows = table_rows(&out.path().join("timeline.parquet"));
        let kept: u64 = rows.iter().map(|r| n(r, "records")).sum();
        assert_eq!(kept + lost, lines, "chunk {chunk}");
        assert!(rows.iter().all(|r| n(r, "records") == 1));
    }
}
