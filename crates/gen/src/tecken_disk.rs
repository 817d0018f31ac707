//! The `tecken-disk` sample: Mozilla's symbols server (Tecken), 2023-11-30, after the
//! maintainers' write-up on upload workers, orphaned files and the disk manager.
//!
//! What happens: symbol uploads (`POST /upload/`, up to 2 GB) are extracted to disk
//! and processed by gunicorn sync workers with a 300 s timeout. Big uploads exceed it:
//! the gunicorn master logs `WORKER TIMEOUT`, SIGKILLs the worker (nginx answers 504)
//! and the worker's extracted files stay on disk. The disk fills up (`OSError: [Errno
//! 28] No space left on device`). The disk manager that should remove orphaned files
//! runs Django checks first, cannot reach the tied-up database, exits non-zero, and
//! honcho takes the whole container down with it: systemd restarts `tecken-web.service`
//! again and again (a restart loop) until the database is back and the cleanup runs.
//!
//! Events are simulated first; `gunicorn.log`, `journal.txt` and `nginx/access.log`
//! are renderings, and every number in the story and `tecken-disk.expected.json` is
//! counted from the rendered lines.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

use crate::common::{
    self, Bundle, Bursts, Lines, UnitFindings, journal_line, json_counts, json_list,
};
use crate::out::json_str;
use crate::rng::SplitMix64;
use crate::time::{self, MIN, MS, SEC};

/// Directory name of the sample.
pub const NAME: &str = "tecken-disk";
/// One line for `coroner-gen` listings.
pub const SUMMARY: &str = "tecken 2023-11-30: upload workers time out, orphaned files fill the disk, container restart loop";

pub const GUNICORN_FILE: &str = "gunicorn.log";
pub const JOURNAL_FILE: &str = "journal.txt";
pub const NGINX_FILE: &str = "nginx/access.log";

const SEED: u64 = 0x0003_7ec4_e9d1_0003;
const HOST: &str = "tecken-web-3";
const UNIT: &str = "tecken-web.service";

fn t(h: u32, m: u32, s: u32) -> i64 {
    time::at(2023, 11, 30, h, m, s)
}

struct Timeline {
    w0: i64,
    w1: i64,
    /// Uploads that run into the 300 s timeout (start times).
    timeouts: Vec<i64>,
    disk_full: i64,
    db_stuck: i64,
    db_back: i64,
}

/// One nginx request.
struct Req {
    end: i64,
    method: &'static str,
    path: String,
    status: u16,
    size: u64,
    rt_ms: u64,
    ua: &'static str,
    ip: String,
}

/// A container life: (start, stop) and the pids inside.
struct Life {
    start: i64,
    stop: Option<i64>,
}

fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

fn ip(r: &mut SplitMix64) -> String {
    format!(
        "{}.{}",
        r.pick(&["192.0.2", "198.51.100", "203.0.113"]),
        r.range(2, 250)
    )
}

fn lives(tl: &Timeline, r: &mut SplitMix64) -> Vec<Life> {
    // Before the database is tied up the container runs; each start while it is
    // stuck dies when the disk manager's first run fails (~40–70 s), then systemd
    // waits RestartSec=30s.
    let mut v = vec![];
    let mut start = tl.w0 - 3 * 3600 * SEC;
    let mut stop = tl.db_stuck + 2 * MIN + r.range_i64(0, 30 * SEC);
    loop {
        v.push(Life {
            start,
            stop: Some(stop),
        });
        start = stop + 30 * SEC + r.range_i64(100 * MS, 900 * MS);
        if start >= tl.db_back {
            v.push(Life { start, stop: None });
            return v;
        }
        stop = start + r.range_i64(40 * SEC, 70 * SEC);
    }
}

fn up(lives: &[Life], at: i64) -> bool {
    lives
        .iter()
        .any(|l| l.start + 5 * SEC <= at && l.stop.is_none_or(|s| at < s))
}

fn render(r: &mut SplitMix64) -> (Timeline, Lines, Lines, Lines) {
    let tl = Timeline {
        w0: t(13, 30, 0),
        w1: t(15, 10, 0),
        timeouts: vec![
            t(13, 41, 12),
            t(13, 52, 40),
            t(14, 1, 6),
            t(14, 8, 51),
            t(14, 14, 30),
            t(14, 19, 2),
        ],
        disk_full: t(14, 22, 10),
        db_stuck: t(14, 30, 0),
        db_back: t(14, 52, 30),
    };
    let lv = lives(&tl, r);
    let mut g = Lines::default();
    let mut j = Lines::default();
    let mut n = Lines::default();
    let gl = |g: &mut Lines, at: i64, pid: u32, lvl: &str, msg: &str| {
        g.push(at, format!("{} [{pid}] [{lvl}] {msg}", time::gunicorn(at)));
    };
    let sys = |j: &mut Lines, at: i64, msg: &str| {
        j.push(at, journal_line(at, HOST, "systemd", Some(1), msg))
    };
    let master = 8u32;
    let mut next_pid = 23u32;
    let mut workers: Vec<u32> = Vec::new();

    // Container lives: gunicorn start/stop in gunicorn.log, honcho + systemd in the journal.
    for (i, l) in lv.iter().enumerate() {
        let docker = 2_412 + i as u32 * 211;
        let h = |j: &mut Lines, at: i64, who: &str, msg: &str| {
            let c = time::Civil::of(at);
            j.push(
                at,
                journal_line(
                    at,
                    HOST,
                    "docker",
                    Some(docker),
                    &format!("{:02}:{:02}:{:02} {who:<14} | {msg}", c.hour, c.min, c.sec),
                ),
            );
        };
        if l.start >= tl.w0 {
            sys(
                &mut j,
                l.start,
                &format!("Started {UNIT} - Tecken symbols web (docker)."),
            );
            let a = l.start + 2 * SEC;
            h(&mut j, a, "system", "web.1 started (pid=8)");
            h(&mut j, a, "system", "disk_manager.1 started (pid=9)");
            gl(&mut g, a, master, "INFO", "Starting gunicorn 21.2.0");
            gl(
                &mut g,
                a,
                master,
                "INFO",
                &format!("Listening at: http://0.0.0.0:8000 ({master})"),
            );
            gl(&mut g, a, master, "INFO", "Using worker: sync");
            workers.clear();
            next_pid = 23;
            for _ in 0..4 {
                let at = a + 60 * MS;
                gl(
                    &mut g,
                    at,
                    next_pid,
                    "INFO",
                    &format!("Booting worker with pid: {next_pid}"),
                );
                workers.push(next_pid);
                next_pid += 1;
            }
            h(
                &mut j,
                a + 1_500 * MS,
                "disk_manager.1",
                "Running remove_orphaned_files...",
            );
        }
        if let Some(stop) = l.stop {
            if stop < tl.w0 {
                continue;
            }
            let a = stop - 1_200 * MS;
            h(
                &mut j,
                a,
                "disk_manager.1",
                "Running remove_orphaned_files...",
            );
            h(
                &mut j,
                stop,
                "disk_manager.1",
                "django.db.utils.OperationalError: connection to server at \"tecken-db.internal\" (10.0.7.12), port 5432 failed: timeout expired",
            );
            h(&mut j, stop, "system", "disk_manager.1 stopped (rc=1)");
            h(&mut j, stop, "system", "sending SIGTERM to web.1 (pid 8)");
            gl(&mut g, stop, master, "INFO", "Handling signal: term");
            for w in &workers {
                gl(
                    &mut g,
                    stop + 20 * MS,
                    *w,
                    "INFO",
                    &format!("Worker exiting (pid: {w})"),
                );
            }
            let s2 = stop + 900 * MS;
            gl(&mut g, s2, master, "INFO", "Shutting down: Master");
            h(&mut j, s2, "system", "web.1 stopped (rc=0)");
            let s3 = s2 + 400 * MS;
            sys(
                &mut j,
                s3,
                &format!("{UNIT}: Main process exited, code=exited, status=1/FAILURE"),
            );
            sys(
                &mut j,
                s3,
                &format!("{UNIT}: Failed with result 'exit-code'."),
            );
            let s4 = lv[i + 1].start - 10 * MS;
            sys(
                &mut j,
                s4,
                &format!(
                    "{UNIT}: Scheduled restart job, restart counter is at {}.",
                    i + 1
                ),
            );
            sys(
                &mut j,
                s4,
                &format!("Stopped {UNIT} - Tecken symbols web (docker)."),
            );
        }
    }
    // A clean disk-manager pass before the trouble, and the big one after.
    for at in [t(13, 45, 0), t(14, 0, 0), t(14, 15, 0)] {
        let c = time::Civil::of(at);
        j.push(
            at,
            journal_line(
                at,
                HOST,
                "docker",
                Some(2_412),
                &format!(
                    "{:02}:{:02}:{:02} disk_manager.1 | Running remove_orphaned_files...",
                    c.hour, c.min, c.sec
                ),
            ),
        );
        let a2 = at + 3 * SEC;
        let c = time::Civil::of(a2);
        j.push(a2, journal_line(a2, HOST, "docker", Some(2_412), &format!("{:02}:{:02}:{:02} disk_manager.1 | remove_orphaned_files: removed 0 files (0 B), cutoff 60 minutes", c.hour, c.min, c.sec)));
    }
    let last = lv.last().unwrap();
    let docker = 2_412 + (lv.len() as u32 - 1) * 211;
    let a = last.start + 31 * SEC;
    let c = time::Civil::of(a);
    j.push(a, journal_line(a, HOST, "docker", Some(docker), &format!("{:02}:{:02}:{:02} disk_manager.1 | remove_orphaned_files: removed 214 files (18.4 GB), cutoff 60 minutes", c.hour, c.min, c.sec)));

    // Traffic: downloads every few seconds, uploads every minute or two.
    let mut now = tl.w0 + r.range_i64(0, SEC);
    while now < tl.w1 {
        let alive = up(&lv, now);
        let mut q = Req {
            end: now,
            method: "GET",
            path: format!(
                "/{0}.pdb/{1}{2}/{0}.sym",
                r.pick(&["xul", "firefox", "nss3", "mozglue", "libxul.so"]),
                r.hex(32).to_uppercase(),
                r.below(3)
            ),
            status: if r.chance(0.7) { 302 } else { 404 },
            size: 0,
            rt_ms: r.range(4, 90),
            ua: "stackwalker/0.21.0",
            ip: ip(r),
        };
        if !alive {
            q.status = 502;
            q.rt_ms = 0;
            q.size = 157;
        }
        n.push(now, render_req(&q));
        now += r.range_i64(800 * MS, 6 * SEC);
    }
    let cleaned = a;
    // Background: the monitoring agent's disk check every minute.
    let mut now = tl.w0 + 7 * SEC;
    let mut used = 61u64;
    while now < tl.w1 {
        let ts = time::postgres(now).replace(".", ",");
        let ts = &ts[..ts.len() - 8];
        used = if now < tl.disk_full {
            (used + r.below(3)).min(99)
        } else if now < cleaned {
            100
        } else {
            34
        };
        let lvl = if used >= 95 { "WARN" } else { "INFO" };
        j.push(now, journal_line(now, HOST, "datadog-agent", Some(1_201), &format!(
            "{ts} UTC | CORE | {lvl} | (pkg/collector/worker/check_logger.go:71 in CheckFinished) | check:disk | Done running check, /tmp used {used}%"
        )));
        now += 60 * SEC + r.range_i64(0, 300 * MS);
    }
    let mut now = tl.w0 + 20 * SEC;
    let mut timeouts = tl.timeouts.iter().peekable();
    while now < tl.w1 {
        let big = timeouts.peek().is_some_and(|&&s| s <= now);
        let start = if big { *timeouts.next().unwrap() } else { now };
        let mut q = Req {
            end: start,
            method: "POST",
            path: "/upload/".into(),
            status: 201,
            size: r.range(120, 400),
            rt_ms: r.range(8_000, 140_000),
            ua: "python-requests/2.31.0",
            ip: format!("10.20.{}.{}", r.range(1, 4), r.range(2, 250)),
        };
        let worker = workers.get(r.below(4) as usize).copied().unwrap_or(23);
        let alive = up(&lv, start);
        if !alive {
            q.status = 502;
            q.rt_ms = 1;
            q.size = 157;
        } else if big {
            // The master kills the worker at 300 s; nginx's proxy_read_timeout (300 s) fires too.
            q.status = 504;
            q.rt_ms = 300_000 + r.range(0, 3);
            q.size = 160;
            let kill = start + 300 * SEC + r.range_i64(0, 900 * MS);
            gl(
                &mut g,
                kill,
                master,
                "CRITICAL",
                &format!("WORKER TIMEOUT (pid:{worker})"),
            );
            gl(
                &mut g,
                kill + 1_020 * MS,
                master,
                "ERROR",
                &format!("Worker (pid:{worker}) was sent SIGKILL! Perhaps out of memory?"),
            );
            gl(
                &mut g,
                kill + 1_100 * MS,
                next_pid,
                "INFO",
                &format!("Booting worker with pid: {next_pid}"),
            );
            if let Some(w) = workers.iter_mut().find(|w| **w == worker) {
                *w = next_pid;
            }
            next_pid += 1;
        } else if start >= tl.disk_full && start < cleaned {
            q.status = 500;
            q.rt_ms = r.range(900, 9_000);
            q.size = 145;
            let at = start + q.rt_ms as i64 * MS;
            gl(
                &mut g,
                at,
                worker,
                "ERROR",
                &format!(
                    "Error handling request /upload/: OSError: [Errno 28] No space left on device: '/tmp/upload-{}/{}.pdb/{}/{}.sym'",
                    r.hex(8),
                    "xul",
                    r.hex(33).to_uppercase(),
                    "xul"
                ),
            );
        }
        q.end = start + q.rt_ms as i64 * MS;
        n.push(q.end, render_req(&q));
        now = start + r.range_i64(40 * SEC, 150 * SEC);
    }
    (tl, g, j, n)
}

fn render_req(q: &Req) -> String {
    let (uct, uht, urt) = match q.status {
        504 => ("0.000".to_owned(), "-".to_owned(), secs(q.rt_ms)),
        502 => ("-".to_owned(), "-".to_owned(), "0.000".to_owned()),
        _ => (
            "0.000".to_owned(),
            secs(q.rt_ms.saturating_sub(1)),
            secs(q.rt_ms.saturating_sub(1)),
        ),
    };
    format!(
        "{} - - [{}] \"{} {} HTTP/1.1\" {} {} \"-\" \"{}\" rt={} uct=\"{uct}\" uht=\"{uht}\" urt=\"{urt}\"",
        q.ip,
        time::clf(q.end),
        q.method,
        q.path,
        q.status,
        q.size,
        q.ua,
        secs(q.rt_ms)
    )
}

struct Stats {
    gunicorn_lines: u64,
    journal_lines: u64,
    nginx_lines: u64,
    worker_timeout: Vec<i64>,
    sigkill: Vec<i64>,
    enospc: Vec<i64>,
    units: UnitFindings,
    loop_: Option<(u64, i64)>,
    upload_status: BTreeMap<u16, u64>,
    status: BTreeMap<u16, u64>,
    dm_fail: u64,
    bursts: Vec<common::Burst>,
}

fn count(g: &Lines, j: &Lines, n: &Lines) -> Stats {
    let mut b = Bursts::default();
    let (mut wt, mut sk, mut en) = (vec![], vec![], vec![]);
    for (t, l) in &g.lines {
        b.text(GUNICORN_FILE, *t, l.as_bytes());
        if l.contains("[CRITICAL] WORKER TIMEOUT (pid:") {
            wt.push(*t);
        }
        if l.contains("was sent SIGKILL! Perhaps out of memory?") {
            sk.push(*t);
        }
        if l.contains("No space left on device") {
            en.push(*t);
        }
    }
    let mut dm_fail = 0;
    for (t, l) in &j.lines {
        b.text(JOURNAL_FILE, *t, l.as_bytes());
        dm_fail += u64::from(l.contains("disk_manager.1 stopped (rc=1)"));
    }
    let (mut us, mut st) = (BTreeMap::new(), BTreeMap::new());
    for (t, l) in &n.lines {
        let s: u16 = l
            .split("\" ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .expect("status");
        *st.entry(s).or_default() += 1;
        if l.contains("\"POST /upload/ ") {
            *us.entry(s).or_default() += 1;
        }
        b.status(NGINX_FILE, *t, s);
        b.text(NGINX_FILE, *t, l.as_bytes());
    }
    let units = UnitFindings::scan(&j.lines);
    let loop_ = units
        .scheduled_restart
        .get(UNIT)
        .and_then(|v| common::restart_loop(v));
    Stats {
        gunicorn_lines: g.lines.len() as u64,
        journal_lines: j.lines.len() as u64,
        nginx_lines: n.lines.len() as u64,
        worker_timeout: wt,
        sigkill: sk,
        enospc: en,
        units,
        loop_,
        upload_status: us,
        status: st,
        dm_fail,
        bursts: b.finish(),
    }
}

fn fl(v: &[i64]) -> String {
    let (f, l) = common::first_last(v);
    format!("\"count\": {}, \"first\": {f}, \"last\": {l}", v.len())
}

fn headline(st: &Stats) -> Vec<String> {
    let hm = |t: i64| time::hms(t)[..5].to_owned();
    let restarts = st
        .units
        .scheduled_restart
        .get(UNIT)
        .cloned()
        .unwrap_or_default();
    vec![
        format!(
            "worker_timeout: {} gunicorn WORKER TIMEOUT + SIGKILL from {} (uploads > 300 s, 504 at nginx)",
            st.worker_timeout.len(),
            st.worker_timeout
                .first()
                .map(|t| hm(*t))
                .unwrap_or_default()
        ),
        format!(
            "disk_full: {} `No space left on device` upload errors from {}",
            st.enospc.len(),
            st.enospc.first().map(|t| hm(*t)).unwrap_or_default()
        ),
        format!(
            "restart_loop: {UNIT} restarted {} times from {} (disk manager cannot reach the database)",
            restarts.len(),
            restarts.first().map(|t| hm(*t)).unwrap_or_default()
        ),
    ]
}

fn expected_json(st: &Stats, tl: &Timeline) -> String {
    let restarts = st
        .units
        .scheduled_restart
        .get(UNIT)
        .cloned()
        .unwrap_or_default();
    let exited = st.units.main_exited.get(UNIT).cloned().unwrap_or_default();
    let lp = match st.loop_ {
        Some((m, f)) => format!(
            "[{{\"unit\": {}, \"max_in_10min\": {m}, \"looping_at\": {}}}]",
            json_str(UNIT),
            json_str(&time::rfc3339(f))
        ),
        None => "[]".into(),
    };
    format!(
        r#"{{
  "sample": {name},
  "note": "Generated by coroner-gen (crates/gen/src/tecken_disk.rs); counted from the files. Times UTC; burst end is exclusive.",
  "window": {{"start": {w0}, "end": {w1}}},
  "burst_threshold": {threshold},
  "sources": {{
    {gf}: {{"format": "plain/gunicorn", "compression": "none", "records": {gl}}},
    {jf}: {{"format": "syslog", "compression": "none", "records": {jl}}},
    {nf}: {{"format": "plain/nginx-access", "compression": "none", "records": {nl}}}
  }},
  "findings": {{
    "worker_timeout": {{{wt}}},
    "worker_sigkill": {{{sk}}},
    "disk_full": [{{"source": {gf}, {en}}}],
    "restart": {{"unit": {unit}, "main_process_exited": {{{ex}}}, "scheduled_restart": {{{rs}}}}},
    "restart_loop": {lp},
    "disk_manager_failed_runs": {dm}
  }},
  "nginx": {{"lines": {nl}, "status": {status}, "upload_status": {ustatus}}},
  "bursts": [
{bursts}
  ],
  "headline": {headline}
}}
"#,
        name = json_str(NAME),
        w0 = json_str(&time::rfc3339(tl.w0)),
        w1 = json_str(&time::rfc3339(tl.w1)),
        threshold = common::BURST_THRESHOLD,
        gf = json_str(GUNICORN_FILE),
        jf = json_str(JOURNAL_FILE),
        nf = json_str(NGINX_FILE),
        gl = st.gunicorn_lines,
        jl = st.journal_lines,
        nl = st.nginx_lines,
        wt = fl(&st.worker_timeout),
        sk = fl(&st.sigkill),
        en = fl(&st.enospc),
        unit = json_str(UNIT),
        ex = fl(&exited),
        rs = fl(&restarts),
        dm = st.dm_fail,
        status = json_counts(&st.status),
        ustatus = json_counts(&st.upload_status),
        bursts = common::bursts_json(&st.bursts),
        headline = json_list(&headline(st)),
    )
}

fn story(st: &Stats, tl: &Timeline) -> String {
    let hms = time::hms;
    let list = |v: &[i64]| v.iter().map(|t| hms(*t)).collect::<Vec<_>>().join(", ");
    let restarts = st
        .units
        .scheduled_restart
        .get(UNIT)
        .cloned()
        .unwrap_or_default();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"# `tecken-disk`: upload workers time out, the disk fills, the container flaps (2023-11-30)

Generated by `coroner-gen samples` from `crates/gen/src/tecken_disk.rs`. Do not edit by hand:
change the generator and regenerate. Every number below is counted from the files by the
generator; `tecken-disk.expected.json` (next to this file) holds the same numbers for tests.
The directory `tecken-disk/` holds only the log files.

It reproduces the failure chain of Mozilla Tecken's write-up (2023-11-30): uploads that
outlive gunicorn's 300 s timeout are SIGKILLed and leave their extracted files behind, the
instance runs out of disk, and the disk manager that should clean up exits non-zero when the
database is unreachable, which makes honcho stop the container: systemd restarts it again and
again. Host `{HOST}`, unit `{UNIT}` (runs the container; honcho's output reaches the journal as
`docker[pid]`). Addresses are documentation/private ranges.

## Files

| file | what it is | records |
|---|---|---|
| `gunicorn.log` | gunicorn 21.2 error log (`[%Y-%m-%d %H:%M:%S %z] [pid] [LEVEL] msg`), master pid 8 | {gl} lines |
| `journal.txt` | `journalctl -o short-iso --utc` of the host: systemd and the container's honcho output | {jl} lines |
| `nginx/access.log` | nginx `combined` + ` rt= uct="" uht="" urt=""`: symbol downloads (`GET ...sym`, 302/404) and uploads (`POST /upload/`) | {nl} lines |

## Story (UTC, window {w0}–{w1})

- All along: symbol downloads every few seconds, an upload every minute or two (201).
- Uploads that run past 300 s: the master logs `[CRITICAL] WORKER TIMEOUT (pid:N)` then
  `[ERROR] Worker (pid:N) was sent SIGKILL! Perhaps out of memory?` and boots a new worker;
  nginx logs 504 with `rt=300.00x`. Worker timeouts at {wt}.
- From {enospc0}: the orphaned files have filled `/tmp`: uploads fail fast with
  `OSError: [Errno 28] No space left on device` (nginx 500).
- {db}: the database is tied up. The disk manager's `remove_orphaned_files` runs Django checks,
  cannot connect (`django.db.utils.OperationalError ... timeout expired`), exits 1; honcho stops
  web; the container exits; systemd restarts it 30 s later, and it dies again: scheduled
  restarts at {restarts}. Requests meanwhile get 502.
- {dbb}: the database is back; the next start survives, `remove_orphaned_files` removes 214 files
  (18.4 GB) and uploads work again.

## What a correct analysis finds

- **worker_timeout**: {nwt} `WORKER TIMEOUT` lines, {nsk} `was sent SIGKILL` lines.
- **disk_full**: {nen} `No space left on device` lines in `gunicorn.log` ({enospc0}–{enospc1}).
- **restart_loop**: `{UNIT}`: {nrs} `Scheduled restart job` lines ({nloop}); {dm} failed disk
  manager runs.
- nginx status counts: {status}; uploads: {ustatus}.
- **bursts**:
{bursts}
Headline, in post-mortem order: {headline}.

## Exact wordings

```
[2023-11-30 14:02:11 +0000] [8] [CRITICAL] WORKER TIMEOUT (pid:23)
[2023-11-30 14:02:12 +0000] [8] [ERROR] Worker (pid:23) was sent SIGKILL! Perhaps out of memory?
[2023-11-30 14:02:12 +0000] [31] [INFO] Booting worker with pid: 31
[2023-11-30 14:23:40 +0000] [27] [ERROR] Error handling request /upload/: OSError: [Errno 28] No space left on device: '/tmp/upload-<hex>/xul.pdb/<id>/xul.sym'
2023-11-30T14:32:41+0000 tecken-web-3 docker[2412]: 14:32:41 system         | disk_manager.1 stopped (rc=1)
2023-11-30T14:32:42+0000 tecken-web-3 systemd[1]: tecken-web.service: Main process exited, code=exited, status=1/FAILURE
2023-11-30T14:32:42+0000 tecken-web-3 systemd[1]: tecken-web.service: Failed with result 'exit-code'.
2023-11-30T14:33:12+0000 tecken-web-3 systemd[1]: tecken-web.service: Scheduled restart job, restart counter is at 1.
```
(pids and times above are illustrative; see the files.)
"#,
        gl = st.gunicorn_lines,
        jl = st.journal_lines,
        nl = st.nginx_lines,
        w0 = hms(tl.w0),
        w1 = hms(tl.w1),
        wt = list(&st.worker_timeout),
        enospc0 = st.enospc.first().map(|t| hms(*t)).unwrap_or_default(),
        enospc1 = st.enospc.last().map(|t| hms(*t)).unwrap_or_default(),
        db = hms(tl.db_stuck),
        dbb = hms(tl.db_back),
        restarts = list(&restarts),
        nwt = st.worker_timeout.len(),
        nsk = st.sigkill.len(),
        nen = st.enospc.len(),
        nrs = restarts.len(),
        nloop = st
            .loop_
            .map(|(m, f)| format!("up to {m} within 10 min; a loop from {}", hms(f)))
            .unwrap_or_else(|| "no loop".into()),
        dm = st.dm_fail,
        status = json_counts(&st.status),
        ustatus = json_counts(&st.upload_status),
        bursts = common::bursts_md(&st.bursts),
        headline = headline(st)
            .iter()
            .map(|h| format!("`{h}`"))
            .collect::<Vec<_>>()
            .join("; "),
    );
    s
}

/// Generates the whole sample in memory.
pub fn build() -> io::Result<Bundle> {
    let mut rng = SplitMix64::new(SEED);
    let mut r = rng.fork();
    let (tl, mut g, mut j, mut n) = render(&mut r);
    let files = vec![
        (GUNICORN_FILE, g.render()),
        (JOURNAL_FILE, j.render()),
        (NGINX_FILE, n.render()),
    ];
    let st = count(&g, &j, &n);
    Ok(Bundle {
        files,
        story: story(&st, &tl),
        expected: expected_json(&st, &tl),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_disk_and_restart_loop_hold_in_the_bytes() {
        let b = build().unwrap();
        let g = String::from_utf8(b.file(GUNICORN_FILE).unwrap().to_vec()).unwrap();
        let j = String::from_utf8(b.file(JOURNAL_FILE).unwrap().to_vec()).unwrap();
        let n = String::from_utf8(b.file(NGINX_FILE).unwrap().to_vec()).unwrap();
        let wt = g
            .lines()
            .filter(|l| l.contains("] [8] [CRITICAL] WORKER TIMEOUT (pid:"))
            .count();
        assert!(wt >= 4, "{wt}");
        assert_eq!(
            wt,
            g.lines()
                .filter(|l| l.contains("was sent SIGKILL! Perhaps out of memory?"))
                .count()
        );
        assert!(
            g.lines()
                .all(|l| l.starts_with("[2023-11-30 ") && l[20..26] == *" +0000")
        );
        assert!(g.contains("OSError: [Errno 28] No space left on device: '/tmp/upload-"));
        let restarts: Vec<&str> = j
            .lines()
            .filter(|l| {
                l.contains("tecken-web.service: Scheduled restart job, restart counter is at ")
            })
            .collect();
        assert!(restarts.len() >= 3);
        // Three restarts within 10 minutes.
        let mins: Vec<u32> = restarts
            .iter()
            .map(|l| l[11..13].parse::<u32>().unwrap() * 60 + l[14..16].parse::<u32>().unwrap())
            .collect();
        assert!(mins.windows(3).any(|w| w[2] - w[0] < 10), "{mins:?}");
        assert!(
            n.lines()
                .filter(|l| l.contains("\"POST /upload/ HTTP/1.1\" 504 "))
                .count()
                >= 4
        );
        assert!(
            b.expected
                .contains("\"restart_loop\": [{\"unit\": \"tecken-web.service\"")
        );
    }
}
