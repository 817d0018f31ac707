//! The `hachyderm` sample: the hachyderm.io "Global outage: 504 timeouts" of
//! 2022-12-13 (18:52–19:07 UTC).
//!
//! What happened (the instance's public post-mortem): the root filesystem of the
//! primary database server `nietzsche` filled up with the PostgreSQL WAL archive.
//! PostgreSQL could not extend its files, Redis (on the same host) could not persist
//! its RDB snapshots and, with `stop-writes-on-bgsave-error`, refused writes: every
//! Mastodon web request that wrote to Redis failed with `MISCONF`, requests piled up
//! and the edge nginx on `fritz` answered 504 (and 502 for streaming) until the
//! archive was destroyed at 19:06 and 187 GB came back.
//!
//! Events are simulated first; `journal.txt` and `nginx/access.log.gz` are
//! renderings, and every number in the story and `hachyderm.expected.json` is
//! counted from the rendered lines.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

use crate::common::{self, Bundle, Bursts, Lines, journal_line, json_counts, json_list};
use crate::out::{self, json_str};
use crate::rng::SplitMix64;
use crate::time::{self, MS, SEC};

/// Directory name of the sample.
pub const NAME: &str = "hachyderm";
/// One line for `coroner-gen` listings.
pub const SUMMARY: &str =
    "hachyderm 2022-12-13: database root filesystem full, Redis cannot persist, 504s at the edge";

/// File names inside the sample directory (also the `source` names in expected.json).
pub const JOURNAL_FILE: &str = "journal.txt";
pub const NGINX_FILE: &str = "nginx/access.log.gz";

const SEED: u64 = 0x0002_4ac4_7de2_0002;
const WEB: &str = "fritz";
const DB: &str = "nietzsche";
const MISCONF: &str = "Redis::CommandError (MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.):";

fn t(h: u32, m: u32, s: u32) -> i64 {
    time::at(2022, 12, 13, h, m, s)
}

struct Timeline {
    w0: i64,
    w1: i64,
    disk_98: i64,
    disk_full: i64,
    redis_fail: i64,
    misconf: i64,
    edge_504: i64,
    freed: i64,
    drained: i64,
}

impl Timeline {
    fn new() -> Self {
        Self {
            w0: t(18, 45, 0),
            w1: t(19, 15, 0),
            disk_98: t(18, 47, 0) + 18 * MS,
            disk_full: t(18, 51, 44) + 302 * MS,
            redis_fail: t(18, 52, 31) + 20 * MS,
            misconf: t(18, 59, 1) + 77 * MS,
            edge_504: t(18, 58, 2),
            freed: t(19, 6, 9) + 410 * MS,
            drained: t(19, 9, 40),
        }
    }
}

const UAS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64; rv:107.0) Gecko/20100101 Firefox/107.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.1 Safari/605.1.15",
    "Ivory/1.0 (iPhone; iOS 16.1.2)",
    "Tusky/20.1 Android/13",
    "http.rb/5.1.0 (Mastodon/4.0.2; +https://mastodon.example.net/)",
];

/// One request at the edge nginx on fritz.
struct Req {
    end: i64,
    ip: String,
    method: &'static str,
    path: &'static str,
    query: String,
    status: u16,
    size: u64,
    ua: &'static str,
    rt_ms: u64,
    /// Rails controller for web requests (logged by puma), None for streaming/static.
    rails: Option<(&'static str, &'static str)>,
    misconf: bool,
}

/// (method, path, Rails controller/action, weight).
type Route = (
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
    u64,
);

const ROUTES: &[Route] = &[
    (
        "GET",
        "/api/v1/timelines/home",
        Some(("Api::V1::Timelines::HomeController", "show")),
        30,
    ),
    (
        "GET",
        "/api/v1/notifications",
        Some(("Api::V1::NotificationsController", "index")),
        15,
    ),
    (
        "POST",
        "/api/v1/statuses",
        Some(("Api::V1::StatusesController", "create")),
        6,
    ),
    (
        "POST",
        "/api/v1/statuses/109506231004115523/favourite",
        Some(("Api::V1::Statuses::FavouritesController", "create")),
        8,
    ),
    (
        "POST",
        "/inbox",
        Some(("ActivityPub::InboxesController", "create")),
        25,
    ),
    ("GET", "/api/v1/streaming", None, 8),
    ("GET", "/api/v1/streaming/health", None, 2),
    ("GET", "/packs/js/common-b1a2c3d4e5f6a7b8.js", None, 6),
];

struct Sim {
    tl: Timeline,
    reqs: Vec<Req>,
}

fn ip(r: &mut SplitMix64) -> String {
    format!(
        "{}.{}",
        r.pick(&["192.0.2", "198.51.100", "203.0.113"]),
        r.range(2, 250)
    )
}

fn simulate(r: &mut SplitMix64) -> Sim {
    let tl = Timeline::new();
    let mut reqs = Vec::new();
    let total: u64 = ROUTES.iter().map(|x| x.3).sum();
    let mut now = tl.w0 + r.range_i64(0, SEC);
    while now < tl.w1 {
        let mut roll = r.below(total);
        let mut route = ROUTES[0];
        for x in ROUTES {
            if roll < x.3 {
                route = *x;
                break;
            }
            roll -= x.3;
        }
        let (method, path, rails, _) = route;
        let degraded = (tl.disk_full..tl.drained).contains(&now);
        let outage = (tl.edge_504..tl.freed + 90 * SEC).contains(&now);
        let mut q = Req {
            end: now,
            ip: ip(r),
            method,
            path,
            query: String::new(),
            status: 200,
            size: r.range(400, 30_000),
            ua: UAS[r.below(UAS.len() as u64) as usize],
            rt_ms: r.range(40, 450),
            rails,
            misconf: false,
        };
        if path == "/inbox" {
            q.status = 202;
            q.size = 0;
            q.ua = UAS[4];
        }
        if path == "/api/v1/timelines/home" && r.chance(0.5) {
            q.query = format!("?since_id=1095062{:08}", r.below(100_000_000));
        }
        if path == "/api/v1/streaming" {
            q.status = 101;
            q.size = r.range(2_000, 90_000);
            q.rt_ms = r.range(60_000, 1_800_000);
        }
        if path.starts_with("/packs/") {
            q.rails = None;
            q.rt_ms = 0;
            q.status = 304;
            q.size = 0;
        }
        if degraded && q.rails.is_some() {
            q.rt_ms = r.range(1_500, 14_000);
        }
        if outage && !path.starts_with("/packs/") {
            let writes = method == "POST";
            if writes && now >= tl.misconf && r.chance(0.8) {
                q.status = 500;
                q.misconf = true;
                q.rt_ms = r.range(30, 400);
                q.size = 0;
            } else if path.starts_with("/api/v1/streaming") && r.chance(0.6) {
                q.status = 502;
                q.rt_ms = r.range(1, 900);
                q.size = 552;
                q.rails = None;
            } else if r.chance(0.45) {
                q.status = 504;
                q.rt_ms = 60_000 + r.range(0, 4);
                q.size = 562;
            }
        }
        reqs.push(q);
        now += r.range_i64(300 * MS, 2_200 * MS);
    }
    // Waves: requests stuck since the same moment time out together 60 s later
    // (clients that retried all at once); a few streaming reconnect storms get 502.
    let mut w = tl.edge_504 + r.range_i64(0, 10 * SEC);
    while w < tl.freed + 60 * SEC {
        let n = r.range(5, 15);
        let sec = w.div_euclid(SEC) * SEC;
        let streaming = r.chance(0.25);
        for _ in 0..n {
            let at = sec + r.range_i64(0, 999 * MS);
            let (path, rails) = if streaming {
                ("/api/v1/streaming", None)
            } else {
                (
                    "/api/v1/timelines/home",
                    Some(("Api::V1::Timelines::HomeController", "show")),
                )
            };
            reqs.push(Req {
                end: at,
                ip: ip(r),
                method: "GET",
                path,
                query: String::new(),
                status: if streaming { 502 } else { 504 },
                size: if streaming { 552 } else { 562 },
                ua: UAS[r.below(4) as usize],
                rt_ms: if streaming {
                    r.range(1, 300)
                } else {
                    60_000 + r.range(0, 4)
                },
                rails: if streaming { None } else { rails },
                misconf: false,
            });
        }
        w += r.range_i64(18 * SEC, 55 * SEC);
    }
    Sim { tl, reqs }
}

fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

fn render(sim: &Sim, r: &mut SplitMix64) -> (Lines, Lines) {
    let tl = &sim.tl;
    let mut nginx = Lines::default();
    let mut j = Lines::default();
    let puma = [588_687u32, 588_702, 588_731, 588_764];
    for q in &sim.reqs {
        let (uct, uht, urt) = match q.status {
            504 => ("0.000".to_owned(), "-".to_owned(), secs(q.rt_ms)),
            502 => ("-".to_owned(), "-".to_owned(), secs(q.rt_ms)),
            _ if q.path.starts_with("/packs/") => ("-".into(), "-".into(), "-".into()),
            _ => (
                "0.000".into(),
                secs(q.rt_ms.saturating_sub(4)),
                secs(q.rt_ms.saturating_sub(2)),
            ),
        };
        nginx.push(q.end, format!(
            "{} - - [{}] \"{} {}{} HTTP/1.1\" {} {} \"-\" \"{}\" rt={} uct=\"{uct}\" uht=\"{uht}\" urt=\"{urt}\"",
            q.ip, time::clf(q.end), q.method, q.path, q.query, q.status, q.size, q.ua, secs(q.rt_ms)
        ));
        // puma logs the requests it finished (a 504 is still finished later, unseen).
        let Some((controller, action)) = q.rails else {
            continue;
        };
        if q.status == 504 || r.chance(0.4) {
            continue;
        }
        let at = q.end - 3 * MS;
        let pid = *r.pick(&puma);
        let id = r.uuid();
        let dur = q.rt_ms.saturating_sub(3);
        if q.misconf {
            j.push(
                at,
                journal_line(at, WEB, "bundle", Some(pid), &format!("[{id}] {MISCONF}")),
            );
            j.push(
                at,
                journal_line(
                    at,
                    WEB,
                    "bundle",
                    Some(pid),
                    &format!("[{id}] app/lib/redis_configuration.rb:13:in `block in pool'"),
                ),
            );
        }
        let key = if q.path == "/inbox" {
            " key=https://mastodon.example.net/users/ada#main-key"
        } else {
            ""
        };
        j.push(at, journal_line(at, WEB, "bundle", Some(pid), &format!(
            "[{id}] method={} path={} format=json controller={controller} action={action} status={} duration={}.{:02} view={}.{:02} db={}.{:02}{key}",
            q.method, q.path, q.status, dur, r.below(100), dur / 9, r.below(100), dur / 3, r.below(100)
        )));
    }
    // Rack::Attack throttles while clients hammer retries.
    let mut now = tl.misconf + 40 * SEC;
    while now < tl.drained {
        let at = now;
        j.push(at, journal_line(at, WEB, "bundle", Some(*r.pick(&puma)), &format!(
            "[{}] Rate limit hit (throttle): {} GET /api/v1/timelines/home?since_id=1095062{:08}",
            r.uuid(), ip(r), r.below(100_000_000)
        )));
        now += r.range_i64(3 * SEC, 25 * SEC);
    }
    // Streaming (npmlog, identifier "node"): background, then closed-socket floods.
    let node = 588_901u32;
    let mut now = tl.w0 + 2 * SEC;
    while now < tl.w1 {
        let id = r.uuid();
        let acct = 109_310_000_000_000_000u64 + r.below(1_000_000_000);
        let line = if r.chance(0.6) {
            format!(
                "verb {id} Starting stream from timeline:{acct}, timeline:{acct}:notifications for {acct}"
            )
        } else {
            format!("verb {id} Ending stream for {acct}")
        };
        j.push(now, journal_line(now, WEB, "node", Some(node), &line));
        now += r.range_i64(2 * SEC, 12 * SEC);
    }
    let mut w = tl.edge_504 + 20 * SEC;
    while w < tl.freed + 30 * SEC {
        let sec = w.div_euclid(SEC) * SEC;
        let ids: Vec<String> = (0..r.range(2, 5)).map(|_| r.uuid()).collect();
        for _ in 0..r.range(6, 26) {
            let at = sec + r.range_i64(0, 999 * MS);
            j.push(
                at,
                journal_line(
                    at,
                    WEB,
                    "node",
                    Some(node),
                    &format!("ERR! {} Tried writing to closed socket", r.pick(&ids)),
                ),
            );
        }
        w += r.range_i64(25 * SEC, 70 * SEC);
    }
    // nietzsche: the disk, PostgreSQL, Redis.
    let at = tl.disk_98;
    j.push(at, journal_line(at, DB, "disk-check", Some(771_204), "WARNING: / is 98% full (1.80T of 1.83T used) on /dev/nvme0n1p2, /var/lib/postgres/data/archive holds 412G"));
    let at = tl.disk_full - 20 * SEC;
    j.push(
        at,
        journal_line(
            at,
            DB,
            "disk-check",
            Some(771_388),
            "CRITICAL: / is 100% full (1.83T of 1.83T used) on /dev/nvme0n1p2",
        ),
    );
    let mut now = tl.disk_full;
    while now < tl.freed {
        let pid = r.range(900_000, 990_000) as u32;
        let ts = time::postgres(now);
        if r.chance(0.7) {
            j.push(now, journal_line(now, DB, "postgres", Some(pid), &format!(
                "{ts} [{pid}] ERROR:  could not extend file \"base/16401/{}\": No space left on device", 17_872 + r.below(4)
            )));
            j.push(
                now,
                journal_line(
                    now,
                    DB,
                    "postgres",
                    Some(pid),
                    &format!("{ts} [{pid}] HINT:  Check free disk space."),
                ),
            );
        } else {
            j.push(now, journal_line(now, DB, "postgres", Some(pid), &format!(
                "{ts} [{pid}] LOG:  archiver process: could not write to file \"pg_wal/xlogtemp.{pid}\": No space left on device"
            )));
        }
        now += r.range_i64(15 * SEC, 70 * SEC);
    }
    let redis = 2_611u32;
    let mut now = tl.redis_fail;
    while now < tl.freed {
        let child = r.range(700_000, 799_999) as u32;
        let m =
            |at: i64, lvl: char, msg: &str| format!("{redis}:M {} {lvl} {msg}", time::redis(at));
        j.push(
            now,
            journal_line(
                now,
                DB,
                "redis-server",
                Some(redis),
                &m(now, '*', "10000 changes in 60 seconds. Saving..."),
            ),
        );
        j.push(
            now,
            journal_line(
                now,
                DB,
                "redis-server",
                Some(redis),
                &m(
                    now,
                    '*',
                    &format!("Background saving started by pid {child}"),
                ),
            ),
        );
        let c = now + r.range_i64(40 * MS, 300 * MS);
        j.push(
            c,
            journal_line(
                c,
                DB,
                "redis-server",
                Some(redis),
                &format!(
                    "{child}:C {} # Write error saving DB on disk: No space left on device",
                    time::redis(c)
                ),
            ),
        );
        let e = c + r.range_i64(50 * MS, 150 * MS);
        j.push(
            e,
            journal_line(
                e,
                DB,
                "redis-server",
                Some(redis),
                &m(e, '#', "Background saving error"),
            ),
        );
        now = e + 5 * SEC + r.range_i64(0, 2 * SEC);
    }
    let f = tl.freed;
    let child = 801_223u32;
    j.push(
        f,
        journal_line(
            f,
            DB,
            "redis-server",
            Some(redis),
            &format!(
                "{redis}:M {} * Background saving started by pid {child}",
                time::redis(f)
            ),
        ),
    );
    let d = f + 2_310 * MS;
    j.push(
        d,
        journal_line(
            d,
            DB,
            "redis-server",
            Some(redis),
            &format!("{child}:C {} * DB saved on disk", time::redis(d)),
        ),
    );
    j.push(
        d,
        journal_line(
            d,
            DB,
            "redis-server",
            Some(redis),
            &format!(
                "{redis}:M {} * Background saving terminated with success",
                time::redis(d + 90 * MS)
            ),
        ),
    );
    let at = f + 4 * SEC;
    j.push(at, journal_line(at, DB, "sudo", Some(771_902), "   malte : TTY=pts/1 ; PWD=/var/lib/postgres/data ; USER=root ; COMMAND=/usr/bin/pg_archivecleanup /var/lib/postgres/data/archive 00000001000031A2000000C4"));
    let at = f + 60 * SEC;
    j.push(
        at,
        journal_line(
            at,
            DB,
            "disk-check",
            Some(772_010),
            "OK: / is 88% full (1.61T of 1.83T used) on /dev/nvme0n1p2",
        ),
    );
    (j, nginx)
}

struct Stats {
    journal_lines: u64,
    nginx_lines: u64,
    status: BTreeMap<u16, u64>,
    /// (host, ident) → times of lines with "No space left on device".
    enospc: BTreeMap<String, Vec<i64>>,
    misconf: Vec<i64>,
    closed_socket: Vec<i64>,
    throttle: u64,
    bgsave_errors: u64,
    status_times: BTreeMap<u16, Vec<i64>>,
    rt_max_ms: u64,
    bursts: Vec<common::Burst>,
    disk_98: Vec<i64>,
}

fn count(j: &Lines, nginx: &Lines) -> Stats {
    let mut st = Stats {
        journal_lines: j.lines.len() as u64,
        nginx_lines: nginx.lines.len() as u64,
        status: BTreeMap::new(),
        enospc: BTreeMap::new(),
        misconf: vec![],
        closed_socket: vec![],
        throttle: 0,
        bgsave_errors: 0,
        status_times: BTreeMap::new(),
        rt_max_ms: 0,
        bursts: vec![],
        disk_98: vec![],
    };
    let mut bursts = Bursts::default();
    for (t, line) in &nginx.lines {
        let status: u16 = line
            .split("\" ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .expect("status");
        *st.status.entry(status).or_default() += 1;
        st.status_times.entry(status).or_default().push(*t);
        bursts.status(NGINX_FILE, *t, status);
        bursts.text(NGINX_FILE, *t, line.as_bytes());
        let rt = line
            .split(" rt=")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .expect("rt");
        let (a, b) = rt.split_once('.').expect("rt has ms");
        st.rt_max_ms = st
            .rt_max_ms
            .max(a.parse::<u64>().unwrap() * 1000 + b.parse::<u64>().unwrap());
    }
    for (t, line) in &j.lines {
        bursts.text(JOURNAL_FILE, *t, line.as_bytes());
        if line.contains("No space left on device") {
            let mut f = line.split(' ');
            let host = f.nth(1).unwrap_or("");
            let ident = f.next().unwrap_or("").split('[').next().unwrap_or("");
            st.enospc
                .entry(format!("{host} {ident}"))
                .or_default()
                .push(*t);
        }
        if line.contains("unable to persist to disk") {
            st.misconf.push(*t);
        }
        if line.contains("Tried writing to closed socket") {
            st.closed_socket.push(*t);
        }
        st.throttle += u64::from(line.contains("Rate limit hit (throttle): "));
        st.bgsave_errors += u64::from(line.ends_with(" # Background saving error"));
        if line.contains(" is 98% full ") {
            st.disk_98.push(*t);
        }
    }
    st.bursts = bursts.finish();
    st
}

fn fl(v: &[i64]) -> String {
    let (f, l) = common::first_last(v);
    format!("\"count\": {}, \"first\": {f}, \"last\": {l}", v.len())
}

fn headline(st: &Stats) -> Vec<String> {
    let hm = |t: i64| time::hms(t)[..5].to_owned();
    let first_full = st.enospc.values().flatten().min().copied().unwrap_or(0);
    let n504 = st
        .bursts
        .iter()
        .filter(|b| b.source == NGINX_FILE && b.signature == "http 504")
        .count();
    let ncs = st
        .bursts
        .iter()
        .filter(|b| b.source == JOURNAL_FILE && b.signature == "Tried writing to closed socket")
        .count();
    vec![
        format!(
            "disk_full: root filesystem full on {DB} from {} (postgres, redis-server: No space left on device)",
            hm(first_full)
        ),
        format!(
            "redis unable to persist to disk: {} MISCONF errors in mastodon-web from {}",
            st.misconf.len(),
            st.misconf.first().map(|t| hm(*t)).unwrap_or_default()
        ),
        format!(
            "bursts: http 504 at the edge ({n504} burst runs from {})",
            st.status_times
                .get(&504)
                .and_then(|v| v.iter().min())
                .map(|t| hm(*t))
                .unwrap_or_default()
        ),
        format!("bursts: Tried writing to closed socket in streaming ({ncs} burst runs)"),
    ]
}

fn expected_json(st: &Stats, tl: &Timeline, gz: u64) -> String {
    let enospc: Vec<String> = st
        .enospc
        .iter()
        .map(|(k, v)| {
            let (host, ident) = k.split_once(' ').unwrap_or((k, ""));
            format!(
                "{{\"host\": {}, \"ident\": {}, {}}}",
                json_str(host),
                json_str(ident),
                fl(v)
            )
        })
        .collect();
    let st5: Vec<String> = [502u16, 504]
        .iter()
        .map(|s| {
            let v = st.status_times.get(s).cloned().unwrap_or_default();
            format!("\"{s}\": {{{}}}", fl(&v))
        })
        .collect();
    format!(
        r#"{{
  "sample": {name},
  "note": "Generated by coroner-gen (crates/gen/src/hachyderm.rs); counted from the files. Times UTC; burst end is exclusive.",
  "window": {{"start": {w0}, "end": {w1}}},
  "burst_threshold": {threshold},
  "sources": {{
    {jf}: {{"format": "syslog", "compression": "none", "records": {jl}}},
    {nf}: {{"format": "plain/nginx-access", "compression": "gzip", "records": {nl}, "stored_bytes": {gz}}}
  }},
  "findings": {{
    "disk_full": [{enospc}],
    "disk_98_percent_warning": {{{d98}}},
    "redis_misconf": {{{misconf}}},
    "redis_background_saving_errors": {bgerr},
    "rate_limit_hit": {throttle}
  }},
  "nginx": {{"lines": {nl}, "status": {status}, "errors": {{{st5}}}, "rt_max_s": {rtmax}}},
  "streaming": {{"tried_writing_to_closed_socket": {{{cs}}}}},
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
        jf = json_str(JOURNAL_FILE),
        nf = json_str(NGINX_FILE),
        jl = st.journal_lines,
        nl = st.nginx_lines,
        enospc = enospc.join(", "),
        d98 = fl(&st.disk_98),
        misconf = fl(&st.misconf),
        bgerr = st.bgsave_errors,
        throttle = st.throttle,
        status = json_counts(&st.status),
        st5 = st5.join(", "),
        rtmax = secs(st.rt_max_ms),
        cs = fl(&st.closed_socket),
        bursts = common::bursts_json(&st.bursts),
        headline = json_list(&headline(st)),
    )
}

fn story(st: &Stats, tl: &Timeline) -> String {
    let hms = time::hms;
    let enospc: Vec<String> = st
        .enospc
        .iter()
        .map(|(k, v)| {
            format!(
                "`{k}` {} lines ({}–{})",
                v.len(),
                hms(v[0]),
                hms(*v.last().unwrap())
            )
        })
        .collect();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"# `hachyderm`: a full disk on the database server shows up as 504s everywhere (2022-12-13)

Generated by `coroner-gen samples` from `crates/gen/src/hachyderm.rs`. Do not edit by hand:
change the generator and regenerate. Every number below is counted from the files by the
generator; `hachyderm.expected.json` (next to this file) holds the same numbers for tests.
The directory `hachyderm/` holds only the log files.

It reproduces hachyderm.io's "Global outage: 504 timeouts" post-mortem: "Full root filesystem
on primary database server resulted in a cascading failure that first impacted Redis's ability
to persist to disk which later resulted in 5XX responses on the edge." Hosts: `{WEB}` (nginx,
Mastodon 4.0 web = puma `bundle`, streaming = `node` with npmlog), `{DB}` (PostgreSQL, Redis).
Client addresses are documentation ranges.

## Files

| file | what it is | records |
|---|---|---|
| `journal.txt` | `journalctl -o short-iso --utc` merged from {WEB} and {DB} | {jl} lines |
| `nginx/access.log.gz` | the edge nginx on {WEB}: `combined` + ` rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time"` (time = end of request) | {nl} lines |

## Story (UTC, window {w0}–{w1})

- {d98}: a disk check on {DB} warns that `/` is 98 % full (the PostgreSQL WAL archive); nobody
  is alerted.
- {full}: `/` is full. PostgreSQL: `could not extend file ...: No space left on device`;
  from {rf} Redis's background saves fail (`Write error saving DB on disk: No space left on
  device`, `Background saving error`) every ~6 s. Web requests slow down (rt seconds).
- from about {e504}: the edge returns 504 (nginx gives up after 60 s, `rt=60.00x`); clients
  retry in waves, so 504s arrive several in the same second; streaming reconnects get 502;
  the streaming server floods `Tried writing to closed socket`.
- {misconf}: the first `Redis::CommandError (MISCONF ... unable to persist to disk ...)` in
  mastodon-web; POSTs fail with 500; Rack::Attack throttles the retrying clients.
- {freed}: the archive is cleaned (`pg_archivecleanup`), Redis saves again (`DB saved on
  disk`); the queue drains by about {drained}.

## What a correct analysis finds

- **disk_full** on {DB}: {enospc}.
- Redis MISCONF in mastodon-web: {nmis} lines; Redis `Background saving error`: {bgerr}.
- **nginx**: {nl} lines, status {status}; max rt {rtmax} s.
- **streaming**: {ncs} `Tried writing to closed socket` lines.
- **bursts** (>= 5 per second of the record's own time):
{bursts}
Headline, in post-mortem order: {headline}.

## Exact wordings

```
<ts> nietzsche postgres[<pid>]: 2022-12-13 18:51:44.302 UTC [<pid>] ERROR:  could not extend file "base/16401/17872": No space left on device
<ts> nietzsche redis-server[2611]: <child>:C 13 Dec 2022 18:52:31.140 # Write error saving DB on disk: No space left on device
<ts> nietzsche redis-server[2611]: 2611:M 13 Dec 2022 18:52:31.260 # Background saving error
<ts> fritz bundle[<pid>]: [<uuid>] Redis::CommandError (MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. ...):
<ts> fritz bundle[<pid>]: [<uuid>] Rate limit hit (throttle): <ip> GET /api/v1/timelines/home?since_id=<id>
<ts> fritz node[588901]: ERR! <uuid> Tried writing to closed socket
<ip> - - [13/Dec/2022:18:58:03 +0000] "GET /api/v1/timelines/home HTTP/1.1" 504 562 "-" "<ua>" rt=60.001 uct="0.000" uht="-" urt="60.001"
```
`<ts>` is `2022-12-13T18:59:01+0000` (journalctl short-iso, systemd < 255).
"#,
        jl = st.journal_lines,
        nl = st.nginx_lines,
        w0 = hms(tl.w0),
        w1 = hms(tl.w1),
        d98 = hms(tl.disk_98),
        full = hms(tl.disk_full),
        rf = hms(tl.redis_fail),
        e504 = hms(tl.edge_504),
        misconf = st.misconf.first().map(|t| hms(*t)).unwrap_or_default(),
        freed = hms(tl.freed),
        drained = hms(tl.drained),
        enospc = enospc.join(", "),
        nmis = st.misconf.len(),
        bgerr = st.bgsave_errors,
        status = json_counts(&st.status),
        rtmax = secs(st.rt_max_ms),
        ncs = st.closed_socket.len(),
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
    let mut sim_rng = rng.fork();
    let mut render_rng = rng.fork();
    let sim = simulate(&mut sim_rng);
    let (mut j, mut nginx) = render(&sim, &mut render_rng);
    let journal = j.render();
    let access = out::gzip(&nginx.render())?;
    let st = count(&j, &nginx);
    Ok(Bundle {
        story: story(&st, &sim.tl),
        expected: expected_json(&st, &sim.tl, access.len() as u64),
        files: vec![(JOURNAL_FILE, journal), (NGINX_FILE, access)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn disk_full_and_edge_errors_hold_in_the_bytes() {
        let b = build().unwrap();
        let j = String::from_utf8(b.file(JOURNAL_FILE).unwrap().to_vec()).unwrap();
        let mut n = String::new();
        flate2::read::MultiGzDecoder::new(b.file(NGINX_FILE).unwrap())
            .read_to_string(&mut n)
            .unwrap();
        assert!(
            j.lines()
                .all(|l| l.starts_with("2022-12-13T") && &l[19..24] == "+0000")
        );
        let enospc = j
            .lines()
            .filter(|l| l.contains(" nietzsche ") && l.contains("No space left on device"))
            .count();
        assert!(enospc >= 50, "{enospc}");
        assert!(j.contains(" fritz bundle[") && j.contains("unable to persist to disk"));
        // Several seconds with >= 5 504s at the edge.
        let mut per_sec: BTreeMap<&str, u32> = BTreeMap::new();
        for l in n.lines().filter(|l| l.contains("HTTP/1.1\" 504 ")) {
            *per_sec
                .entry(&l[l.find('[').unwrap()..l.find(']').unwrap()])
                .or_default() += 1;
        }
        assert!(
            per_sec.values().filter(|&&c| c >= 5).count() >= 3,
            "{per_sec:?}"
        );
        assert!(n.lines().all(|l| l.contains(" rt=") && l.ends_with('"')));
        assert!(
            b.expected
                .contains("\"signature\": \"Tried writing to closed socket\"")
        );
        assert!(b.expected.contains("\"signature\": \"http 504\""));
    }
}
