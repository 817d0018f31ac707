//! The `redis-timewait` sample: a PHP application that opens a new TCP connection to
//! Redis for every metrics write runs out of ephemeral ports (seed: "Debugging a
//! production system under fire", 2021-03-11).
//!
//! What happens: every request's Prometheus client connects to Redis and closes the
//! connection; the app closes first, so each socket sits in TIME_WAIT for 60 s on the
//! app host. Under a busier-than-usual load the TIME_WAIT sockets towards
//! `10.0.4.30:6379` occupy every port of `ip_local_port_range` (32768–60999, 28 232
//! ports), `connect()` fails with EADDRNOTAVAIL, and the PHP warning
//! `Redis::connect(): connect() failed: Cannot assign requested address` fills the
//! log (about 90 % of its bytes: `grep Redis:: | wc --bytes`).
//!
//! A 4-tuple must be unique, so one (local address, remote endpoint) pair can hold at
//! most as many TIME_WAIT sockets as the range has ports: here the Redis pair holds
//! all 28 232 (utilization 1.0, the exhaustion), and TIME_WAIT sockets towards MySQL
//! (another bucket) bring the capture's total to the 30 400 the seed saw.
//!
//! Everything is counted from the rendered files.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

use crate::common::{self, Bundle, Lines, json_counts, json_list};
use crate::out::{self, json_str};
use crate::rng::SplitMix64;
use crate::time::{self, MS, SEC};

/// Directory name of the sample.
pub const NAME: &str = "redis-timewait";
/// One line for `coroner-gen` listings.
pub const SUMMARY: &str = "PHP app exhausts ephemeral ports to Redis (TIME_WAIT); 'Cannot assign requested address' fills the log";

pub const APP_FILE: &str = "php/app.log";
pub const NETSTAT_FILE: &str = "netstat-nat.txt.gz";
pub const RANGE_FILE: &str = "proc/sys/net/ipv4/ip_local_port_range";

const SEED: u64 = 0x0004_4ed1_5713_0004;
const LOCAL: &str = "10.0.4.21";
const REDIS: &str = "10.0.4.30:6379";
const PORT_LO: u32 = 32_768;
const PORT_HI: u32 = 60_999;
/// Total TIME_WAIT in the capture (the seed's `uniq -c`).
const TIME_WAIT_TOTAL: u32 = 30_400;
const WARNING: &str = "PHP Warning:  Redis::connect(): connect() failed: Cannot assign requested address in /var/www/app/vendor/prometheus/src/Storage/Redis.php on line 112";

fn t(h: u32, m: u32, s: u32) -> i64 {
    time::at(2021, 3, 11, h, m, s)
}

fn app_log(r: &mut SplitMix64) -> (Lines, i64, i64) {
    let mut l = Lines::default();
    let w0 = t(10, 0, 0);
    let w1 = t(10, 30, 0);
    let onset = t(10, 9, 27);
    let mut now = w0 + r.range_i64(0, SEC);
    let stamp = |at: i64| format!("[{}]", time::php(at));
    while now < w1 {
        let line = match r.below(10) {
            0..=5 => format!(
                "{} checkout: order {} placed ({} items, {}.{:02} EUR)",
                stamp(now),
                48_000 + r.below(9_000),
                r.range(1, 6),
                r.range(5, 400),
                r.below(100)
            ),
            6 | 7 => format!(
                "{} PHP Notice:  Undefined index: utm_source in /var/www/app/src/Controller/LandingController.php on line 57",
                stamp(now)
            ),
            8 => format!(
                "{} PHP Deprecated:  Function create_function() is deprecated in /var/www/app/vendor/legacy/smarty/libs/sysplugins/smarty_internal_compilebase.php on line 86",
                stamp(now)
            ),
            _ => format!(
                "{} session: user {} logged in from 198.51.100.{}",
                stamp(now),
                10_000 + r.below(90_000),
                r.range(2, 250)
            ),
        };
        l.push(now, line);
        now += r.range_i64(2 * SEC, 9 * SEC);
    }
    // The warnings: a trickle first, then one per metrics write once the range is full.
    let mut now = onset;
    while now < w1 {
        l.push(now, format!("{} {WARNING}", stamp(now)));
        let full = now >= t(10, 14, 0);
        now += if full {
            r.range_i64(100 * MS, 1_100 * MS)
        } else {
            r.range_i64(2 * SEC, 12 * SEC)
        };
    }
    (l, onset, w1)
}

fn netstat(r: &mut SplitMix64) -> String {
    let mut rows: Vec<String> = Vec::new();
    let row = |local: &str, foreign: &str, state: &str, recvq: u32| {
        format!(
            "{:<4}  {recvq:>6} {:>6} {local:<23} {foreign:<23} {state:<11}",
            "tcp", 0
        )
    };
    for (a, st) in [
        ("0.0.0.0:80", "LISTEN"),
        ("0.0.0.0:22", "LISTEN"),
        ("127.0.0.1:9000", "LISTEN"),
        ("127.0.0.1:9253", "LISTEN"),
        ("10.0.4.21:9100", "LISTEN"),
    ] {
        rows.push(row(a, "0.0.0.0:*", st, 0));
    }
    // Every port of the range is held by a TIME_WAIT socket to Redis.
    let mut ports: Vec<u32> = (PORT_LO..=PORT_HI).collect();
    for i in (1..ports.len()).rev() {
        let j = r.below(i as u64 + 1) as usize;
        ports.swap(i, j);
    }
    let mut tw: Vec<String> = ports
        .iter()
        .map(|p| row(&format!("{LOCAL}:{p}"), REDIS, "TIME_WAIT", 0))
        .collect();
    // MySQL: php-fpm also connects per request (another 4-tuple bucket, so its ports
    // may repeat the Redis ones); those close first too.
    let extra = (TIME_WAIT_TOTAL - (PORT_HI - PORT_LO + 1)) as usize;
    let mut my: Vec<u32> = (PORT_LO..=PORT_HI).collect();
    for i in (1..my.len()).rev() {
        let j = r.below(i as u64 + 1) as usize;
        my.swap(i, j);
    }
    for p in &my[..extra] {
        tw.push(row(
            &format!("{LOCAL}:{p}"),
            "10.0.4.31:3306",
            "TIME_WAIT",
            0,
        ));
    }
    for p in &my[extra..extra + 24] {
        tw.push(row(
            &format!("{LOCAL}:{p}"),
            "10.0.4.31:3306",
            "ESTABLISHED",
            0,
        ));
    }
    // Inbound from the load balancers: open, and some half-closed.
    let lbs = ["10.0.1.10", "10.0.1.11"];
    for _ in 0..41 {
        tw.push(row(
            &format!("{LOCAL}:80"),
            &format!("{}:{}", r.pick(&lbs), r.range(1_024, 65_535)),
            "ESTABLISHED",
            0,
        ));
    }
    for _ in 0..13 {
        tw.push(row(
            &format!("{LOCAL}:80"),
            &format!("{}:{}", r.pick(&lbs), r.range(1_024, 65_535)),
            "CLOSE_WAIT",
            1,
        ));
    }
    tw.push(row("10.0.4.21:22", "198.51.100.23:50514", "ESTABLISHED", 0));
    // netstat lists in /proc/net/tcp hash order: effectively shuffled.
    for i in (1..tw.len()).rev() {
        let j = r.below(i as u64 + 1) as usize;
        tw.swap(i, j);
    }
    rows.extend(tw);
    let mut s = String::from(
        "Active Internet connections (servers and established)\nProto Recv-Q Send-Q Local Address           Foreign Address         State      \n",
    );
    for l in rows {
        s.push_str(&l);
        s.push('\n');
    }
    s
}

struct Stats {
    app_lines: u64,
    app_bytes: u64,
    redis_lines: u64,
    redis_bytes: u64,
    eaddr_lines: Vec<i64>,
    netstat_rows: u64,
    states: BTreeMap<String, u64>,
    /// (local addr, remote) → TIME_WAIT.
    tw: BTreeMap<(String, String), u64>,
    range: (u64, u64),
}

fn count(app: &Lines, app_bytes: &[u8], ns: &str, range: &str) -> Stats {
    let (mut rl, mut rb, mut ea) = (0, 0, vec![]);
    for (t, l) in &app.lines {
        if l.contains("Redis::") {
            rl += 1;
            rb += l.len() as u64 + 1;
        }
        if l.contains("Cannot assign requested address") {
            ea.push(*t);
        }
    }
    let mut states = BTreeMap::new();
    let mut tw = BTreeMap::new();
    let mut rows = 0;
    for line in ns.lines().skip(2) {
        let f: Vec<&str> = line.split_whitespace().collect();
        rows += 1;
        *states.entry(f[5].to_owned()).or_default() += 1;
        if f[5] == "TIME_WAIT" {
            let local = f[3].rsplit_once(':').unwrap().0.to_owned();
            *tw.entry((local, f[4].to_owned())).or_default() += 1;
        }
    }
    let mut it = range.split_whitespace().map(|x| x.parse::<u64>().unwrap());
    Stats {
        app_lines: app.lines.len() as u64,
        app_bytes: app_bytes.len() as u64,
        redis_lines: rl,
        redis_bytes: rb,
        eaddr_lines: ea,
        netstat_rows: rows,
        states,
        tw,
        range: (it.next().unwrap(), it.next().unwrap()),
    }
}

fn ports(st: &Stats) -> u64 {
    st.range.1 - st.range.0 + 1
}

/// Share as a decimal with 4 places (exact integer arithmetic, rounded half up).
fn share(num: u64, den: u64) -> String {
    let x = (num * 20_000 / den).div_ceil(2);
    format!("{}.{:04}", x / 10_000, x % 10_000)
}

fn headline(st: &Stats) -> Vec<String> {
    let top = st.tw.iter().max_by_key(|(_, v)| **v).unwrap();
    vec![
        format!(
            "port_exhaustion: {} TIME_WAIT from {} to {} = {} of {} ephemeral ports (utilization {})",
            top.1,
            top.0.0,
            top.0.1,
            top.1,
            ports(st),
            share(*top.1, ports(st))
        ),
        format!(
            "pattern share: Redis:: lines are {} of php/app.log bytes ({} `Cannot assign requested address` warnings)",
            share(st.redis_bytes, st.app_bytes),
            st.eaddr_lines.len()
        ),
    ]
}

fn expected_json(st: &Stats, gz: u64) -> String {
    let tw: Vec<String> = st.tw.iter().map(|((l, r), n)| format!(
        "    {{\"local_addr\": {}, \"remote\": {}, \"time_wait\": {n}, \"ports_available\": {}, \"utilization\": {}}}",
        json_str(l), json_str(r), ports(st), share(*n, ports(st))
    )).collect();
    let (f, l) = common::first_last(&st.eaddr_lines);
    format!(
        r#"{{
  "sample": {name},
  "note": "Generated by coroner-gen (crates/gen/src/redis_timewait.rs); counted from the files. Times UTC. Shares rounded to 4 places.",
  "sources": {{
    {af}: {{"format": "plain", "compression": "none", "records": {al}, "bytes": {ab}}},
    {nf}: {{"format": "netstat", "compression": "gzip", "records": {nr}, "stored_bytes": {gz}}},
    {rf}: {{"format": "port-range", "compression": "none", "records": 1}}
  }},
  "port_range": {{"low": {lo}, "high": {hi}, "ports": {np}}},
  "socket_states": {states},
  "timewait": [
{tw}
  ],
  "findings": {{
    "port_exhaustion": {{"source": {af}, "count": {ne}, "first": {f}, "last": {l}}}
  }},
  "pattern_share": {{"source": {af}, "pattern": "Redis::", "records": {rl}, "bytes": {rb}, "total_bytes": {ab}, "share": {sh}}},
  "bursts": [],
  "headline": {headline}
}}
"#,
        name = json_str(NAME),
        af = json_str(APP_FILE),
        nf = json_str(NETSTAT_FILE),
        rf = json_str(RANGE_FILE),
        al = st.app_lines,
        ab = st.app_bytes,
        nr = st.netstat_rows,
        lo = st.range.0,
        hi = st.range.1,
        np = ports(st),
        states = json_counts(&st.states),
        tw = tw.join(",\n"),
        ne = st.eaddr_lines.len(),
        rl = st.redis_lines,
        rb = st.redis_bytes,
        sh = share(st.redis_bytes, st.app_bytes),
        headline = json_list(&headline(st)),
    )
}

fn story(st: &Stats, onset: i64, w1: i64) -> String {
    let hms = time::hms;
    let states: Vec<String> = st
        .states
        .iter()
        .map(|(k, v)| format!("{v:>7} {k}"))
        .collect();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"# `redis-timewait`: TIME_WAIT eats every port to Redis (2021-03-11)

Generated by `coroner-gen samples` from `crates/gen/src/redis_timewait.rs`. Do not edit by
hand: change the generator and regenerate. Every number below is counted from the files by
the generator; `redis-timewait.expected.json` (next to this file) holds the same numbers for
tests. The directory `redis-timewait/` holds only the captured files.

It reproduces "Debugging a production system under fire": a large PHP application whose
Prometheus client opens a fresh connection to Redis for every metrics write. The disks fill
with one warning; `grep Redis:: | wc --bytes` shows it is ~90 % of the log; `netstat -nat |
awk '{{print $6}}' | sort | uniq -c` shows {tw_total} TIME_WAIT against a port range of
32768–60999. App host `{LOCAL}`, Redis `{REDIS}` (private addresses).

## Files

| file | what it is | records |
|---|---|---|
| `php/app.log` | PHP `error_log` (`[11-Mar-2021 10:15:42 UTC] ...`): app messages, notices, and the Redis warnings | {al} lines, {ab} bytes |
| `netstat-nat.txt.gz` | `netstat -nat` on the app host during the incident (two header lines, then one row per socket) | {nr} rows |
| `proc/sys/net/ipv4/ip_local_port_range` | `32768<TAB>60999` | 1 line |

## Story (UTC)

- 10:00–: ordinary app lines every few seconds.
- {onset}: the first `Cannot assign requested address`; from about 10:14 every port of the range
  towards Redis is in TIME_WAIT and almost every metrics write fails, several per second, until
  the end of the log ({end}).
- The netstat capture was taken during the incident.

## What a correct analysis finds

- **socket_states** (header lines excluded):
```
{states}
```
- **timewait**: {tw_rows}. A 4-tuple is unique, so one (local address, remote) bucket cannot
  hold more TIME_WAIT sockets than the range has ports: the Redis bucket holds all {np}
  (utilization 1.0000, no port left: EADDRNOTAVAIL); the total TIME_WAIT ({tw_total}) exceeds the
  range because the MySQL bucket (`10.0.4.31:3306`) holds the rest.
- **port_exhaustion**: {ne} `Cannot assign requested address` lines ({onset}–{last}).
- **pattern share** of `Redis::` in `php/app.log`: {rl} lines, {rb} of {ab} bytes = {sh}.

Headline: {headline}.

## Exact wordings

```
[11-Mar-2021 10:15:42 UTC] {WARNING}
tcp        0      0 10.0.4.21:41234         10.0.4.30:6379          TIME_WAIT  
```
"#,
        tw_total = st.states.get("TIME_WAIT").copied().unwrap_or(0),
        al = st.app_lines,
        ab = st.app_bytes,
        nr = st.netstat_rows,
        onset = hms(onset),
        end = hms(w1),
        last = st.eaddr_lines.last().map(|t| hms(*t)).unwrap_or_default(),
        states = states.join("\n"),
        tw_rows = st
            .tw
            .iter()
            .map(|((l, r), n)| format!("`{l}` → `{r}`: {n}"))
            .collect::<Vec<_>>()
            .join("; "),
        np = ports(st),
        ne = st.eaddr_lines.len(),
        rl = st.redis_lines,
        rb = st.redis_bytes,
        sh = share(st.redis_bytes, st.app_bytes),
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
    let mut app_rng = rng.fork();
    let mut ns_rng = rng.fork();
    let (mut app, onset, w1) = app_log(&mut app_rng);
    let app_bytes = app.render();
    let ns = netstat(&mut ns_rng);
    let range = format!("{PORT_LO}\t{PORT_HI}\n");
    let gz = out::gzip(ns.as_bytes())?;
    let st = count(&app, &app_bytes, &ns, &range);
    Ok(Bundle {
        story: story(&st, onset, w1),
        expected: expected_json(&st, gz.len() as u64),
        files: vec![
            (APP_FILE, app_bytes),
            (NETSTAT_FILE, gz),
            (RANGE_FILE, range.into_bytes()),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn ports_exhausted_and_warning_dominates() {
        let b = build().unwrap();
        let app = String::from_utf8(b.file(APP_FILE).unwrap().to_vec()).unwrap();
        let mut ns = String::new();
        flate2::read::MultiGzDecoder::new(b.file(NETSTAT_FILE).unwrap())
            .read_to_string(&mut ns)
            .unwrap();
        assert_eq!(b.file(RANGE_FILE).unwrap(), b"32768\t60999\n");
        let eaddr = app
            .lines()
            .filter(|l| l.contains("Cannot assign requested address"))
            .count();
        assert!(eaddr > 1_000, "{eaddr}");
        let redis_bytes: usize = app
            .lines()
            .filter(|l| l.contains("Redis::"))
            .map(|l| l.len() + 1)
            .sum();
        let pct = redis_bytes * 100 / app.len();
        assert!((85..=95).contains(&pct), "{pct}%");
        let lines: Vec<&str> = ns.lines().collect();
        assert!(lines[0].starts_with("Active Internet connections"));
        assert!(lines[1].starts_with("Proto Recv-Q Send-Q Local Address"));
        let tw = lines[2..]
            .iter()
            .filter(|l| l.split_whitespace().nth(5) == Some("TIME_WAIT"))
            .count();
        assert!(tw > 28_232, "{tw}");
        let to_redis = lines[2..]
            .iter()
            .filter(|l| l.contains(" 10.0.4.30:6379 ") && l.contains("TIME_WAIT"))
            .count();
        assert_eq!(to_redis, 28_232);
        assert!(b.expected.contains("\"utilization\": 1.0000"));
    }
}
