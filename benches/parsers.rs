//! Parser throughput, one core, bytes per second: each parser over ~8 MiB of its format
//! (real lines from `tests/fixtures/` where we have them, lines modelled on formats.md
//! where we do not), split into lines with memchr inside the timed loop, as the pipeline
//! does. The README quotes these numbers.
//!
//! Time is the benchmark thread's CPU time (`/proc/thread-self/schedstat`), not the wall
//! clock: the question is what one core parses per second, and on this shared 2-core machine
//! the wall clock also counts whatever else ran (the same row moved by 40 % between runs).
//! The floor row (a memchr line split) in the same run still shows the machine's state.
//!
//! Run: `cargo bench --bench parsers` (one parser: `cargo bench --bench parsers -- clf`).

mod common;

use std::hint::black_box;

use coroner_parse::detect::parse_syslog_line;
use coroner_parse::formats::{
    clf, cloudflared, cloudflared_json, docker_json, golog, gunicorn, journald_export,
    journald_json, kernel, logfmt, lograge, nginx_error, nginx_format, npmlog, pino, systemd,
    traefik_json,
};
use coroner_parse::payload::PayloadParser;
use coroner_parse::timestamp::{TimeCache, TimeContext, YearHint};
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};

const SIZE: usize = 8 << 20;

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{rel}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// `seed` repeated to SIZE, cut at a line end.
fn repeat(seed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SIZE + seed.len());
    while out.len() < SIZE {
        out.extend_from_slice(seed);
        if !seed.ends_with(b"\n") {
            out.push(b'\n');
        }
    }
    out
}

/// Lines made from a template by varying the numbers in it, so time caches and branch
/// predictors see a realistic stream rather than one line.
fn synthetic(lines: &[&str]) -> Vec<u8> {
    let mut seed = String::new();
    for i in 0..2000 {
        let line = lines[i % lines.len()];
        seed.push_str(&line.replace("{i}", &(i * 7919 % 100_000).to_string()));
        seed.push('\n');
    }
    repeat(seed.as_bytes())
}

fn each_line(buf: &[u8], mut f: impl FnMut(&[u8]) -> bool) -> usize {
    let mut ok = 0;
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', buf) {
        ok += usize::from(f(&buf[start..nl]));
        start = nl + 1;
    }
    ok
}

const TRAEFIK: &[&str] = &[
    r#"192.0.2.{i} - - [02/Jul/2026:15:42:01 +0000] "GET /api/v1/streaming/?stream=user HTTP/1.1" 101 0 "-" "Mozilla/5.0 (X11; Linux x86_64)" {i} "websecure-mastodon-streaming@docker" "http://172.18.0.5:4000" {i}ms"#,
    r#"198.51.100.4 - - [02/Jul/2026:15:42:02 +0000] "POST /api/v1/statuses HTTP/2.0" 200 {i} "https://example.org/" "Tusky/25.0" {i} "websecure-mastodon@docker" "http://172.18.0.4:3000" 12ms"#,
];
const CLOUDFLARED: &[&str] = &[
    "2026-07-02T15:42:01Z ERR Request failed error=\"stream {i} canceled by remote with error code 0\" connIndex=1 dest=https://example.org/api/v1/streaming event=0 ip=198.51.100.4 type=ws",
    "2026-07-02T15:42:01Z INF Registered tunnel connection connIndex=0 event=0 ip=198.51.100.4 location=ams01 protocol=quic",
    "2026-07-02T15:42:02Z ERR  error=\"Incoming request ended abruptly: context canceled\" cfRay={i}-AMS event=1 originService=http://localhost:4000",
];
const CLOUDFLARED_JSON: &[&str] = &[
    r#"{"level":"error","connIndex":1,"event":0,"ip":"198.51.100.4","type":"ws","error":"stream {i} canceled by remote with error code 0","time":"2026-07-02T15:42:01Z","message":"Request failed"}"#,
];
const TRAEFIK_JSON: &[&str] = &[
    r#"{"ClientAddr":"192.0.2.7:{i}","ClientHost":"192.0.2.7","DownstreamContentSize":{i},"DownstreamStatus":101,"Duration":30012000000,"OriginDuration":30011000000,"OriginStatus":101,"Overhead":1000000,"RequestHost":"example.org","RequestMethod":"GET","RequestPath":"/api/v1/streaming","RequestProtocol":"HTTP/1.1","RetryAttempts":0,"RouterName":"websecure-mastodon-streaming@docker","ServiceName":"mastodon-streaming@docker","ServiceURL":"http://172.18.0.5:4000","StartLocal":"2026-07-02T15:41:31.123456789Z","StartUTC":"2026-07-02T15:41:31.123456789Z","entryPointName":"websecure","level":"info","msg":"","time":"2026-07-02T15:42:01Z"}"#,
];
const PINO: &[&str] = &[
    r#"{"level":"warn","time":1782999721{i},"pid":7,"hostname":"streaming-7d9","name":"streaming","req":{"id":"9f8e7d6c-{i}"},"msg":"Error retrieving statuses: connection terminated"}"#,
];
const NPMLOG: &[&str] = &[
    "WARN 2d1c9e8a-0b1e-4d7f-9d2a-{i} Error retrieving statuses: connection terminated",
    "verb 2d1c9e8a-0b1e-4d7f-9d2a-{i} Subscribe to timeline:{i}",
];
const LOGRAGE: &[&str] = &[
    "I, [2026-07-02T15:42:01.123456 #7]  INFO -- : [9f8e7d6c-{i}] method=GET path=/api/v1/timelines/home format=json controller=Api::V1::Timelines::HomeController action=show status=200 duration={i}.45 view=12.34 db=45.67",
];
const GUNICORN: &[&str] = &[
    "[2026-07-02 15:42:01 +0000] [1234] [CRITICAL] WORKER TIMEOUT (pid:{i})",
    "[2026-07-02 15:42:02 +0000] [{i}] [INFO] Booting worker with pid: {i}",
];
const GOLOG: &[&str] = &["2026/07/02 15:42:01 http: proxy error: context canceled {i}"];
const NGINX_ERROR: &[&str] = &[
    "2026/07/02 15:42:01 [error] 4213#4213: *{i} upstream timed out (110: Connection timed out) while reading response header from upstream, client: 192.0.2.7, server: example.org, request: \"GET / HTTP/1.1\", upstream: \"http://127.0.0.1:3000/\", host: \"example.org\"",
];
const KERNEL: &[&str] = &[
    "Out of memory: Killed process {i} (ruby) total-vm:4194304kB, anon-rss:2097152kB, file-rss:0kB, shmem-rss:0kB, UID:991 pgtables:8192kB oom_score_adj:0",
    "EXT4-fs warning (device sda1): ext4_dx_add_entry:2516: Directory (ino: {i}) index full, reach max htree level :2",
];
const SYSTEMD: &[&str] = &[
    "mastodon-sidekiq.service: Main process exited, code=killed, status=9/KILL",
    "mastodon-web.service: Scheduled restart job, restart counter is at {i}.",
    "Started Session {i} of User root.",
];
const LOGFMT: &[&str] = &[
    "time=2026-07-02T15:42:01Z level=warn msg=\"ws close\" dur_ms={i} cause=downstream_closed conn={i}",
];

const NETSTAT: &[&str] = &[
    "tcp        0      0 10.0.4.21:{i}         10.0.4.30:6379          TIME_WAIT  ",
    "tcp6       0      0 2001:db8::21:443        2001:db8:8e4:1724::44f3:{i} ESTABLISHED",
];

type Group<'a> = BenchmarkGroup<'a, common::CpuTime>;

fn run_on(g: &mut Group<'_>, name: &str, buf: Vec<u8>, f: &mut dyn FnMut(&[u8]) -> bool) {
    // (Nearly) every line must parse, or the number would flatter a parser that gives up
    // early. Not all: the real apache log holds one line cut inside its user agent, which
    // the strict `log_format` matcher refuses and the CLF reader keeps.
    let lines = memchr::memchr_iter(b'\n', &buf).count();
    let parsed = each_line(&buf, &mut *f);
    assert!(
        parsed * 1000 >= lines * 999,
        "{name}: {parsed} of {lines} lines parse"
    );
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function(name, |b| b.iter(|| black_box(each_line(&buf, &mut *f))));
}

fn bench(c: &mut Criterion<common::CpuTime>) {
    let mut g = c.benchmark_group("parse");
    g.sample_size(10);
    let g = &mut g;

    let apache = repeat(&fixture("elastic-examples/apache_logs"));
    // The floor every line parser stands on: the same memchr line split, no parsing.
    run_on(g, "floor/split-lines (apache)", apache.clone(), &mut |l| {
        black_box(l);
        true
    });
    let mut cache = TimeCache::new();
    run_on(g, "clf/apache-combined", apache.clone(), &mut |l| {
        clf::parse_cached(l, &mut cache).is_ok()
    });
    let main = repeat(&fixture("lnav/logfile_shop_access_log.0"));
    let mut cache = TimeCache::new();
    run_on(g, "clf/nginx-main", main, &mut |l| {
        clf::parse_cached(l, &mut cache).is_ok()
    });
    run_on(g, "clf/traefik", synthetic(TRAEFIK), &mut |l| {
        clf::parse_traefik_cached(l, &mut cache).is_ok()
    });
    let combined = nginx_format::compile(nginx_format::COMBINED).unwrap();
    run_on(g, "nginx-format/combined", apache.clone(), &mut |l| {
        combined.parse(l).is_ok()
    });
    run_on(g, "nginx-error", synthetic(NGINX_ERROR), &mut |l| {
        nginx_error::parse(l, 0).is_ok()
    });

    let export = repeat(&fixture("kjournald/rpi4-journal.export"));
    g.throughput(Throughput::Bytes(export.len() as u64));
    g.bench_function("journald-export/entries", |b| {
        b.iter(|| {
            journald_export::Entries::new(&export, true, 1 << 26)
                .filter(|e| matches!(e, Ok((_, Some(Ok(_))))))
                .count()
        })
    });
    run_on(
        g,
        "journald-json",
        repeat(&fixture("kjournald/rpi4-journal.json")),
        &mut |l| journald_json::parse(l).is_ok(),
    );
    let ctx = TimeContext {
        offset_secs: 0,
        year: YearHint::FirstRecord {
            year: 2021,
            first_month: 3,
        },
    };
    let short: Vec<u8> = fixture("kjournald/rpi4-journal.short-iso-precise.txt")
        .split_inclusive(|&b| b == b'\n')
        .filter(|l| !l.starts_with(b" ") && !l.starts_with(b"-- "))
        .flatten()
        .copied()
        .collect();
    run_on(g, "syslog/short-iso-precise", repeat(&short), &mut |l| {
        parse_syslog_line(l, &ctx).is_some()
    });
    let docker: Vec<u8> = fixture("elastic-examples/apache_logs")
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .flat_map(|l| {
            let esc = String::from_utf8_lossy(l).replace('\\', "\\\\").replace('"', "\\\"");
            format!(
                "{{\"log\":\"{esc}\\n\",\"stream\":\"stdout\",\"time\":\"2024-10-10T13:55:36.123456789Z\"}}\n"
            )
            .into_bytes()
        })
        .collect();
    run_on(g, "docker-json", repeat(&docker), &mut |l| {
        docker_json::parse(l).is_ok()
    });

    let mut cache = TimeCache::new();
    run_on(g, "cloudflared", synthetic(CLOUDFLARED), &mut |l| {
        cloudflared::parse_cached(l, &mut cache).is_ok()
    });
    run_on(
        g,
        "cloudflared-json",
        synthetic(CLOUDFLARED_JSON),
        &mut |l| cloudflared_json::parse(l).is_ok(),
    );
    run_on(g, "traefik-json", synthetic(TRAEFIK_JSON), &mut |l| {
        traefik_json::parse(l).is_ok()
    });
    run_on(g, "pino", synthetic(PINO), &mut |l| pino::parse(l).is_ok());
    run_on(g, "npmlog", synthetic(NPMLOG), &mut |l| {
        npmlog::parse(l).is_ok()
    });
    run_on(g, "lograge", synthetic(LOGRAGE), &mut |l| {
        lograge::parse(l, 0).is_ok()
    });
    run_on(g, "gunicorn", synthetic(GUNICORN), &mut |l| {
        gunicorn::parse(l, 0).is_ok()
    });
    run_on(g, "go-log", synthetic(GOLOG), &mut |l| {
        golog::parse(l, 0).is_ok()
    });
    run_on(g, "kernel", synthetic(KERNEL), &mut |l| {
        kernel::parse(l).is_ok()
    });
    run_on(g, "systemd", synthetic(SYSTEMD), &mut |l| {
        systemd::parse(l).is_ok()
    });
    run_on(g, "logfmt", synthetic(LOGFMT), &mut |l| {
        logfmt::parse(l, 0).is_ok()
    });

    // Template masking (`templates::mask_into`), which every free-text record goes
    // through: the free-text lines above together, and a netstat capture's rows.
    let free_text: Vec<&str> =
        [NGINX_ERROR, KERNEL, SYSTEMD, GOLOG, LOGFMT, NPMLOG, NETSTAT].concat();
    let mut masked = Vec::new();
    run_on(
        g,
        "template-mask (free text)",
        synthetic(&free_text),
        &mut |l| {
            coroner_analyze::templates::mask_into(l, &mut masked);
            !masked.is_empty()
        },
    );

    // The dispatcher: detection plus the full parse, on the access log.
    let mut parser = PayloadParser::new(0, None);
    run_on(g, "payload/detect+parse (apache)", apache, &mut |l| {
        parser.parse(l).0 != coroner_parse::format::Payload::Text
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(common::CpuTime::thread());
    targets = bench
}
criterion_main!(benches);
