//! The `chitter-oom` sample: the chitter.xyz outage of 2018-08-11 (01:36–04:13 UTC),
//! as the host's journal and the caddy access log saw it.
//!
//! What happened (seed write-up by the instance's admin): ImageMagick `convert`
//! processes spawned by Sidekiq hoarded memory; caddy (the HTTPS proxy in front of
//! Mastodon) stopped answering at 01:51 without crashing, so its access log simply
//! ends; from 01:54 the kernel OOM killer shot netdata, whose OOM score is set very
//! high, over and over: systemd restarted it 10 minutes later every time and it was
//! killed again soon after; at 02:33 the killer finally took a `convert`, journald
//! died of a watchdog SIGABRT and restarted, and at 02:35 systemd restarted the
//! Mastodon app server. Nobody could reach the site until caddy was restarted by hand
//! at 04:13.
//!
//! Events are simulated first (requests, jobs, kills); the two files are renderings,
//! and every number of the story and `chitter-oom.expected.json` is counted from the
//! rendered lines.

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
pub const NAME: &str = "chitter-oom";
/// One line for `coroner-gen` listings.
pub const SUMMARY: &str =
    "chitter.xyz 2018-08-11: OOM killer shoots netdata again and again, then convert; caddy silent";

/// File names inside the sample directory (also the `source` names in expected.json).
pub const JOURNAL_FILE: &str = "journal.txt";
pub const CADDY_FILE: &str = "caddy/access.log";

const SEED: u64 = 0x0001_c417_7e70_0e01;
const HOST: &str = "chitter";
const SITE: &str = "chitter.example";

fn t(h: u32, m: u32, s: u32) -> i64 {
    time::at(2018, 8, 11, h, m, s)
}

/// Key instants of the story.
struct Timeline {
    w0: i64,
    net_down: i64,
    net_up: i64,
    pressure: i64,
    caddy_dead: i64,
    first_oom: i64,
    convert_oom: i64,
    journald_abort: i64,
    web_restart: i64,
    login: i64,
    caddy_restart: i64,
}

impl Timeline {
    fn new() -> Self {
        Self {
            w0: t(0, 40, 0),
            net_down: t(1, 36, 12),
            net_up: t(1, 38, 47),
            pressure: t(1, 44, 0),
            caddy_dead: t(1, 51, 30),
            first_oom: t(1, 54, 7) + 412 * MS,
            convert_oom: t(2, 33, 41) + 77 * MS,
            journald_abort: t(2, 33, 52) + 610 * MS,
            web_restart: t(2, 35, 14) + 230 * MS,
            login: t(3, 56, 20),
            caddy_restart: t(4, 13, 2) + 118 * MS,
        }
    }
}

/// A request through caddy to Mastodon.
struct Req {
    end: i64,
    ip: String,
    method: &'static str,
    path: String,
    status: u16,
    size: u64,
    referer: &'static str,
    ua: &'static str,
    /// Rails controller/action when puma served it (dynamic requests).
    rails: Option<(&'static str, &'static str, &'static str)>,
    duration_ms: u64,
}

const UAS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64; rv:61.0) Gecko/20100101 Firefox/61.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/68.0.3440.106 Safari/537.36",
    "Tusky/3.0.1 Android/8.1.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 11_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15G77",
];
const FED_UA: &str = "http.rb/3.2.0 (Mastodon/2.4.3; +https://mastodon.example.net/)";

fn draw_req(end: i64, r: &mut SplitMix64, slow: bool) -> Req {
    let ip = format!(
        "{}.{}",
        r.pick(&["192.0.2", "198.51.100", "203.0.113"]),
        r.range(2, 250)
    );
    let roll = r.below(100);
    let mut q = Req {
        end,
        ip,
        method: "GET",
        path: String::new(),
        status: 200,
        size: 0,
        referer: "-",
        ua: UAS[r.below(UAS.len() as u64) as usize],
        rails: None,
        duration_ms: 0,
    };
    let rails = |c: &'static str, a: &'static str, f: &'static str| Some((c, a, f));
    match roll {
        0..=29 => {
            q.path = format!(
                "/api/v1/timelines/home?since_id=1005{:08}",
                r.below(1 << 26)
            );
            q.rails = rails("Api::V1::Timelines::HomeController", "show", "json");
            q.size = r.range(300, 24_000);
        }
        30..=44 => {
            q.path = "/api/v1/notifications".into();
            q.rails = rails("Api::V1::NotificationsController", "index", "json");
            q.size = r.range(200, 9_000);
        }
        45..=64 => {
            q.method = "POST";
            q.path = "/inbox".into();
            q.ua = FED_UA;
            q.status = 202;
            q.rails = rails("ActivityPub::InboxesController", "create", "json");
        }
        65..=74 => {
            q.path = format!("/users/{}", r.pick(&["codl", "fay", "moth", "ivo", "rune"]));
            q.ua = FED_UA;
            q.rails = rails("AccountsController", "show", "json");
            q.size = r.range(1_800, 2_600);
        }
        75..=89 => {
            q.path = format!(
                "/system/media_attachments/files/000/{:03}/{:03}/small/{}.png",
                r.below(300),
                r.below(1000),
                r.hex(16)
            );
            q.size = r.range(8_000, 90_000);
            q.referer = "https://chitter.example/web/timelines/home";
            if r.chance(0.2) {
                q.status = 304;
                q.size = 0;
            }
        }
        90..=95 => {
            q.path = "/packs/common-6c5b9a3e1d4f.js".into();
            q.status = 304;
            q.referer = "https://chitter.example/web/timelines/home";
        }
        _ => {
            q.path = format!(
                "/.well-known/webfinger?resource=acct:{}@{SITE}",
                r.pick(&["codl", "nobody", "fay"])
            );
            q.ua = FED_UA;
            q.rails = rails("WellKnown::WebfingerController", "show", "json");
            if r.chance(0.3) {
                q.status = 404;
                q.size = 0;
            } else {
                q.size = r.range(400, 700);
            }
        }
    }
    if q.rails.is_some() {
        q.duration_ms = if slow {
            r.range(900, 9_000)
        } else {
            r.range(12, 420)
        };
    }
    q
}

/// A netdata run: started at, killed at (None = survived to the end), pid.
struct Netdata {
    start: i64,
    killed: Option<i64>,
    pid: u32,
}

struct Sim {
    tl: Timeline,
    reqs: Vec<Req>,
    netdata: Vec<Netdata>,
}

fn simulate(r: &mut SplitMix64) -> Sim {
    let tl = Timeline::new();
    let mut reqs = Vec::new();
    let mut now = tl.w0 + r.range_i64(0, 2 * SEC);
    while now < tl.caddy_dead {
        if (tl.net_down..tl.net_up).contains(&now) {
            now = tl.net_up + r.range_i64(0, 3 * SEC);
            continue;
        }
        let slow = now >= tl.pressure;
        reqs.push(draw_req(now, r, slow));
        let gap = if slow {
            r.range_i64(2 * SEC, 9 * SEC)
        } else {
            r.range_i64(600 * MS, 7 * SEC)
        };
        now += gap;
    }
    // netdata: killed, restarted 10 min later, killed again soon after, until the
    // convert kill frees memory.
    let mut netdata = Vec::new();
    let mut start = t(0, 12, 40) + 311 * MS;
    let mut kill = tl.first_oom;
    let mut pid = 1187;
    loop {
        netdata.push(Netdata {
            start,
            killed: Some(kill),
            pid,
        });
        start = kill + 10 * MIN + r.range_i64(400 * MS, 900 * MS);
        pid += r.range(1_300, 2_600) as u32;
        if start > tl.convert_oom {
            netdata.push(Netdata {
                start,
                killed: None,
                pid,
            });
            break;
        }
        kill = start + r.range_i64(35 * SEC, 80 * SEC);
    }
    Sim { tl, reqs, netdata }
}

fn uuid_like(r: &mut SplitMix64) -> String {
    r.uuid()
}

/// The kernel's OOM report for one kill (kernel 4.15, pre-5.0 two-line form).
fn oom_report(
    j: &mut Lines,
    at: i64,
    r: &mut SplitMix64,
    victim: (&str, u32, u32),
    convert_pids: &[u32],
    netdata_pid: Option<u32>,
) {
    let k = |j: &mut Lines, msg: &str| j.push(at, journal_line(at, HOST, "kernel", None, msg));
    let invoker = convert_pids[0];
    k(
        j,
        "convert invoked oom-killer: gfp_mask=0x14200ca(GFP_HIGHUSER_MOVABLE), nodemask=(null), order=0, oom_score_adj=0",
    );
    k(j, "convert cpuset=/ mems_allowed=0");
    k(
        j,
        &format!("CPU: 1 PID: {invoker} Comm: convert Not tainted 4.15.0-29-generic #31-Ubuntu"),
    );
    k(
        j,
        "Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.10.2-1ubuntu1 04/01/2014",
    );
    k(j, "Call Trace:");
    for f in [
        " dump_stack+0x63/0x8b",
        " dump_header+0x71/0x285",
        " oom_kill_process+0x220/0x440",
        " out_of_memory+0x2d1/0x4f0",
        " __alloc_pages_slowpath+0xa53/0xe00",
        " __alloc_pages_nodemask+0x263/0x280",
        " alloc_pages_vma+0x88/0x1c0",
        " __handle_mm_fault+0x8b7/0x12e0",
        " handle_mm_fault+0xb1/0x1f0",
        " __do_page_fault+0x281/0x4b0",
        " page_fault+0x45/0x50",
    ] {
        k(j, f);
    }
    k(j, "Mem-Info:");
    k(
        j,
        &format!(
            "active_anon:{} inactive_anon:{} isolated_anon:0 active_file:{} inactive_file:{} isolated_file:0 unevictable:0 dirty:0 writeback:0 unstable:0 slab_reclaimable:{} slab_unreclaimable:{} mapped:{} shmem:{} pagetables:{} bounce:0 free:{} free_pcp:{} free_cma:0",
            r.range(880_000, 900_000),
            r.range(60_000, 70_000),
            r.range(120, 400),
            r.range(90, 300),
            r.range(9_000, 11_000),
            r.range(14_000, 16_000),
            r.range(300, 900),
            r.range(2_000, 3_000),
            r.range(5_000, 6_000),
            r.range(16_000, 17_000),
            r.range(0, 120)
        ),
    );
    k(j, "Free swap  = 0kB");
    k(j, "Total swap = 0kB");
    k(j, "1048429 pages RAM");
    k(j, "Tasks state (memory values in pages):");
    k(
        j,
        "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
    );
    let row = |pid: u32, uid: u32, vm: u64, rss: u64, adj: i32, name: &str, j: &mut Lines| {
        let pt = rss * 2 + 40_960;
        k(
            j,
            &format!(
                "[{pid:>7}] {uid:>5} {pid:>5} {vm:>8} {rss:>8} {pt:>14} {:>8} {adj:>13} {name}",
                0
            ),
        );
    };
    row(412, 0, 25_478, 1_820, 0, "systemd-journal", j);
    row(1_021, 33, 98_112, 11_404, 0, "caddy", j);
    if let Some(p) = netdata_pid {
        row(p, 112, 103_085, 24_553 + r.below(400), 1000, "netdata", j);
    }
    row(
        1_390,
        1001,
        380_201,
        151_220 + r.below(2_000),
        0,
        "bundle",
        j,
    );
    row(
        1_423,
        1001,
        412_960,
        188_004 + r.below(2_000),
        0,
        "bundle",
        j,
    );
    row(1_502, 1001, 121_544, 40_117, 0, "node", j);
    row(1_540, 113, 55_310, 9_880, -900, "postgres", j);
    for &p in convert_pids {
        row(
            p,
            1001,
            560_000 + r.below(90_000),
            150_000 + r.below(40_000),
            0,
            "convert",
            j,
        );
    }
    let (name, pid, score) = victim;
    let vm = if name == "netdata" {
        412_340
    } else {
        2_611_204
    };
    let rss = if name == "netdata" {
        98_212 + r.below(1_600)
    } else {
        742_880 + r.below(9_000)
    };
    k(
        j,
        &format!("Out of memory: Kill process {pid} ({name}) score {score} or sacrifice child"),
    );
    k(
        j,
        &format!(
            "Killed process {pid} ({name}) total-vm:{vm}kB, anon-rss:{rss}kB, file-rss:{}kB, shmem-rss:0kB",
            r.range(2_000, 5_000)
        ),
    );
    let later = at + r.range_i64(20 * MS, 300 * MS);
    j.push(later, journal_line(later, HOST, "kernel", None, &format!(
        "oom_reaper: reaped process {pid} ({name}), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"
    )));
}

fn render(sim: &Sim, r: &mut SplitMix64) -> (Lines, Lines) {
    let tl = &sim.tl;
    let mut caddy = Lines::default();
    let mut j = Lines::default();
    let sys = |j: &mut Lines, at: i64, msg: &str| {
        j.push(at, journal_line(at, HOST, "systemd", Some(1), msg))
    };

    // caddy (combined) and the puma line of every dynamic request.
    let puma_pids = [1_417u32, 1_419];
    for q in &sim.reqs {
        caddy.push(
            q.end,
            format!(
                "{} - - [{}] \"{} {} HTTP/1.1\" {} {} \"{}\" \"{}\"",
                q.ip,
                time::clf(q.end),
                q.method,
                q.path,
                q.status,
                q.size,
                q.referer,
                q.ua
            ),
        );
        if let Some((controller, action, format)) = q.rails {
            let path = q.path.split('?').next().unwrap_or("");
            let view = q.duration_ms as f64 * 0.21;
            let db = q.duration_ms as f64 * 0.37;
            let key = if q.method == "POST" {
                format!(
                    " key=https://mastodon.example.net/users/{}#main-key",
                    r.pick(&["ana", "bo", "cy"])
                )
            } else {
                String::new()
            };
            let at = q.end - 2 * MS;
            j.push(at, journal_line(at, HOST, "bundle", Some(*r.pick(&puma_pids)), &format!(
                "[{}] method={} path={path} format={format} controller={controller} action={action} status={} duration={}.{:02} view={view:.2} db={db:.2}{key}",
                uuid_like(r), q.method, q.status, q.duration_ms, r.below(100)
            )));
        }
    }

    // Sidekiq jobs all along (it keeps working while the front door is shut).
    let workers = [
        ("ActivityPub::DeliveryWorker", 40u64),
        ("ActivityPub::ProcessingWorker", 25),
        ("LinkCrawlWorker", 10),
        ("ThreadResolveWorker", 5),
        ("PushUpdateWorker", 20),
    ];
    let end = tl.caddy_restart + 2 * SEC;
    let mut now = tl.w0 + 3 * SEC;
    while now < tl.caddy_restart - 5 * SEC {
        let mut roll = r.below(100);
        let mut worker = workers[0].0;
        for (w, p) in workers {
            if roll < p {
                worker = w;
                break;
            }
            roll -= p;
        }
        let tid = format!("TID-{}", r.hex(9));
        let jid = r.hex(24);
        let pressure = (tl.pressure..tl.convert_oom).contains(&now);
        let took = if pressure {
            r.range(4_000, 40_000)
        } else {
            r.range(20, 1_900)
        };
        let msg = |state: &str| {
            format!(
                "{} 1423 {tid} {worker} JID-{jid} INFO: {state}",
                time::rfc3339_ms(now)
            )
        };
        j.push(
            now,
            journal_line(now, HOST, "bundle", Some(1423), &msg("start")),
        );
        let done_at = now + took as i64 * MS;
        let done = format!(
            "{} 1423 {tid} {worker} JID-{jid} INFO: done: {}.{:03} sec",
            time::rfc3339_ms(done_at),
            took / 1000,
            took % 1000
        );
        j.push(
            done_at,
            journal_line(done_at, HOST, "bundle", Some(1423), &done),
        );
        now += r.range_i64(8 * SEC, 45 * SEC);
    }

    // Cron, hourly.
    let mut cron_pid = 20_411u32;
    for h in 1..=4 {
        let at = t(h, 17, 1) + r.range_i64(0, 400 * MS);
        if at > end {
            break;
        }
        let ident = |j: &mut Lines, pid: u32, msg: &str| {
            j.push(at, journal_line(at, HOST, "CRON", Some(pid), msg))
        };
        ident(
            &mut j,
            cron_pid,
            "pam_unix(cron:session): session opened for user root by (uid=0)",
        );
        ident(
            &mut j,
            cron_pid + 1,
            "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)",
        );
        ident(
            &mut j,
            cron_pid,
            "pam_unix(cron:session): session closed for user root",
        );
        cron_pid += r.range(2_000, 4_000) as u32;
    }

    // The network blip.
    let at = tl.net_down + 71 * SEC;
    j.push(
        at,
        journal_line(
            at,
            HOST,
            "systemd-timesyncd",
            Some(688),
            "Timed out waiting for reply from 203.0.113.123:123 (ntp.ubuntu.com).",
        ),
    );
    let at = tl.net_up + 5 * SEC;
    j.push(
        at,
        journal_line(
            at,
            HOST,
            "systemd-timesyncd",
            Some(688),
            "Synchronized to time server 203.0.113.123:123 (ntp.ubuntu.com).",
        ),
    );

    // netdata: OOM kills, systemd's reaction, restarts 10 minutes later.
    let convert_pids = [23_817u32, 23_902, 24_115];
    for (i, n) in sim.netdata.iter().enumerate() {
        if i > 0 {
            let at = n.start;
            sys(
                &mut j,
                at,
                "netdata.service: Service hold-off time over, scheduling restart.",
            );
            sys(
                &mut j,
                at,
                &format!("netdata.service: Scheduled restart job, restart counter is at {i}."),
            );
            sys(&mut j, at, "Stopped Real time performance monitoring.");
            sys(&mut j, at, "Started Real time performance monitoring.");
            let at2 = at + 180 * MS;
            j.push(
                at2,
                journal_line(
                    at2,
                    HOST,
                    "netdata",
                    Some(n.pid),
                    "SIGNAL: Not enabling reaper",
                ),
            );
        }
        if let Some(k) = n.killed {
            let score = 1012 + r.below(9) as u32;
            oom_report(
                &mut j,
                k,
                r,
                ("netdata", n.pid, score),
                &convert_pids,
                Some(n.pid),
            );
            let at = k + r.range_i64(30 * MS, 200 * MS);
            sys(
                &mut j,
                at,
                "netdata.service: Main process exited, code=killed, status=9/KILL",
            );
            sys(&mut j, at, "netdata.service: Failed with result 'signal'.");
        }
    }
    // 02:33 convert.
    oom_report(
        &mut j,
        tl.convert_oom,
        r,
        ("convert", convert_pids[0], 638),
        &convert_pids,
        None,
    );
    // journald's watchdog fires while the box thrashes.
    let a = tl.journald_abort;
    sys(
        &mut j,
        a,
        "systemd-journald.service: Watchdog timeout (limit 3min)!",
    );
    sys(
        &mut j,
        a,
        "systemd-journald.service: Killing process 412 (systemd-journal) with signal SIGABRT.",
    );
    let a2 = a + 1_402 * MS;
    sys(
        &mut j,
        a2,
        "systemd-journald.service: Main process exited, code=dumped, status=6/ABRT",
    );
    sys(
        &mut j,
        a2,
        "systemd-journald.service: Failed with result 'watchdog'.",
    );
    sys(
        &mut j,
        a2,
        "systemd-journald.service: Service has no hold-off time, scheduling restart.",
    );
    sys(
        &mut j,
        a2,
        "systemd-journald.service: Scheduled restart job, restart counter is at 1.",
    );
    sys(
        &mut j,
        a2,
        "Stopping Flush Journal to Persistent Storage...",
    );
    sys(&mut j, a2, "Stopped Flush Journal to Persistent Storage.");
    sys(&mut j, a2, "Stopped Journal Service.");
    sys(&mut j, a2, "Starting Journal Service...");
    let a3 = a2 + 310 * MS;
    j.push(
        a3,
        journal_line(
            a3,
            HOST,
            "systemd-journald",
            Some(24_391),
            "Journal started",
        ),
    );
    j.push(a3, journal_line(a3, HOST, "systemd-journald", Some(24_391), "System journal (/var/log/journal/5a1e0c4b8f2d4e6b9c3a7d1f0e2b4c6d) is 1.1G, max 4.0G, 2.8G free."));
    sys(&mut j, a3, "Started Journal Service.");
    // 02:35 the app server.
    let w = tl.web_restart;
    sys(
        &mut j,
        w,
        "mastodon-web.service: Main process exited, code=exited, status=1/FAILURE",
    );
    sys(
        &mut j,
        w,
        "mastodon-web.service: Failed with result 'exit-code'.",
    );
    let w2 = w + 5 * SEC + 12 * MS;
    sys(
        &mut j,
        w2,
        "mastodon-web.service: Service hold-off time over, scheduling restart.",
    );
    sys(
        &mut j,
        w2,
        "mastodon-web.service: Scheduled restart job, restart counter is at 1.",
    );
    sys(&mut j, w2, "Stopped mastodon-web.");
    sys(&mut j, w2, "Started mastodon-web.");
    let w3 = w2 + 6 * SEC;
    for line in [
        "[24502] Puma starting in cluster mode...",
        "[24502] * Version 3.11.4 (ruby 2.5.1-p57), codename: Love Song",
        "[24502] * Min threads: 5, max threads: 5",
        "[24502] * Environment: production",
        "[24502] * Process workers: 2",
        "[24502] * Preloading application",
        "[24502] * Listening on tcp://127.0.0.1:3000",
        "[24502] Use Ctrl-C to stop",
        "[24502] - Worker 0 (pid: 24561) booted, phase: 0",
        "[24502] - Worker 1 (pid: 24563) booted, phase: 0",
    ] {
        j.push(w3, journal_line(w3, HOST, "bundle", Some(24_502), line));
    }
    // 03:56 codl logs in; 04:13 restarts caddy.
    let l = tl.login;
    j.push(l, journal_line(l, HOST, "sshd", Some(30_112), "Accepted publickey for codl from 198.51.100.77 port 50412 ssh2: ED25519 SHA256:q3VYkJ0c2mS8xLr1d4tWbE9nHfA7uPz6oKi5gQeRw2M"));
    j.push(
        l,
        journal_line(
            l,
            HOST,
            "sshd",
            Some(30_112),
            "pam_unix(sshd:session): session opened for user codl by (uid=0)",
        ),
    );
    j.push(
        l,
        journal_line(
            l,
            HOST,
            "systemd-logind",
            Some(702),
            "New session 214 of user codl.",
        ),
    );
    sys(&mut j, l, "Started Session 214 of user codl.");
    let c = tl.caddy_restart;
    j.push(c, journal_line(c, HOST, "sudo", Some(31_877), "    codl : TTY=pts/0 ; PWD=/home/codl ; USER=root ; COMMAND=/bin/systemctl restart caddy"));
    j.push(
        c,
        journal_line(
            c,
            HOST,
            "sudo",
            Some(31_877),
            "pam_unix(sudo:session): session opened for user root by codl(uid=0)",
        ),
    );
    sys(&mut j, c, "Stopping Caddy HTTP/2 web server...");
    let c2 = c + 540 * MS;
    sys(&mut j, c2, "Stopped Caddy HTTP/2 web server.");
    sys(&mut j, c2, "Started Caddy HTTP/2 web server.");
    let c3 = c2 + 1_210 * MS;
    j.push(
        c3,
        journal_line(
            c3,
            HOST,
            "caddy",
            Some(31_903),
            "Activating privacy features... done.",
        ),
    );
    j.push(
        c3,
        journal_line(c3, HOST, "caddy", Some(31_903), &format!("https://{SITE}")),
    );
    j.push(
        c3,
        journal_line(c3, HOST, "caddy", Some(31_903), &format!("http://{SITE}")),
    );
    j.push(
        c3,
        journal_line(
            c3,
            HOST,
            "sudo",
            Some(31_877),
            "pam_unix(sudo:session): session closed for user root",
        ),
    );
    (j, caddy)
}

/// Everything the story and expected.json state, counted from the rendered lines.
struct Stats {
    journal_lines: u64,
    caddy_lines: u64,
    caddy_status: BTreeMap<u16, u64>,
    units: UnitFindings,
    silence: Option<common::Silence>,
    caddy_first: i64,
    journal_last: i64,
    bursts: Vec<common::Burst>,
    puma_lines: u64,
    puma_last: i64,
    oom_invoked: u64,
}

fn count(j: &Lines, caddy: &Lines) -> Stats {
    let mut bursts = Bursts::default();
    let mut caddy_status = BTreeMap::new();
    let mut caddy_times = Vec::new();
    for (t, line) in &caddy.lines {
        let status: u16 = line
            .split("\" ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .expect("status");
        *caddy_status.entry(status).or_default() += 1;
        bursts.status(CADDY_FILE, *t, status);
        bursts.text(CADDY_FILE, *t, line.as_bytes());
        caddy_times.push(common::whole_second(*t));
    }
    let mut puma_lines = 0;
    let mut puma_last = 0;
    let mut oom_invoked = 0;
    for (t, line) in &j.lines {
        bursts.text(JOURNAL_FILE, *t, line.as_bytes());
        if line.contains(" method=") && line.contains(" bundle[") {
            puma_lines += 1;
            puma_last = puma_last.max(*t);
        }
        oom_invoked += u64::from(line.contains(" invoked oom-killer: "));
    }
    let journal_last = j
        .lines
        .iter()
        .map(|(t, _)| common::whole_second(*t))
        .max()
        .unwrap_or(0);
    let bundle_end = journal_last.max(*caddy_times.iter().max().unwrap_or(&0));
    Stats {
        journal_lines: j.lines.len() as u64,
        caddy_lines: caddy.lines.len() as u64,
        caddy_status,
        units: UnitFindings::scan(&j.lines),
        silence: common::silence(&caddy_times, bundle_end),
        caddy_first: caddy_times.iter().copied().min().unwrap_or(0),
        journal_last,
        bursts: bursts.finish(),
        puma_lines,
        puma_last,
        oom_invoked,
    }
}

fn times_json(m: &BTreeMap<String, Vec<i64>>) -> String {
    let parts: Vec<String> = m
        .iter()
        .map(|(k, v)| {
            let (f, l) = common::first_last(v);
            format!(
                "{}: {{\"count\": {}, \"first\": {f}, \"last\": {l}}}",
                json_str(k),
                v.len()
            )
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn headline(st: &Stats) -> Vec<String> {
    let hm = |t: i64| time::hms(t)[..5].to_owned();
    let mut h = Vec::new();
    if let Some(s) = st.silence {
        h.push(format!(
            "silence: {CADDY_FILE} quiet from {} to the end of the bundle ({})",
            hm(s.last),
            hm(s.until)
        ));
    }
    if let Some(v) = st.units.oom_kill.get("netdata") {
        h.push(format!(
            "oom_kill: netdata killed {} times from {}",
            v.len(),
            hm(v[0])
        ));
    }
    if let Some(v) = st.units.oom_kill.get("convert") {
        h.push(format!("oom_kill: convert killed at {}", hm(v[0])));
    }
    h
}

fn expected_json(st: &Stats, tl: &Timeline) -> String {
    let silence = match st.silence {
        Some(s) => format!(
            "[{{\"source\": {}, \"last_record\": {}, \"median_gap_s\": {}, \"quiet_until\": {}, \"quiet_s\": {}}}]",
            json_str(CADDY_FILE),
            json_str(&time::rfc3339(s.last)),
            s.median_gap / SEC,
            json_str(&time::rfc3339(s.until)),
            (s.until - s.last) / SEC
        ),
        None => "[]".into(),
    };
    let loops: Vec<String> = st
        .units
        .scheduled_restart
        .iter()
        .filter_map(|(u, v)| {
            common::restart_loop(v).map(|(m, f)| {
                format!(
                    "{{\"unit\": {}, \"max_in_10min\": {m}, \"looping_at\": {}}}",
                    json_str(u),
                    json_str(&time::rfc3339(f))
                )
            })
        })
        .collect();
    format!(
        r#"{{
  "sample": {name},
  "note": "Generated by coroner-gen (crates/gen/src/chitter_oom.rs); counted from the files. Times UTC; burst end is exclusive.",
  "window": {{"start": {w0}, "end": {w1}}},
  "burst_threshold": {threshold},
  "sources": {{
    {jf}: {{"format": "syslog", "compression": "none", "records": {jl}}},
    {cf}: {{"format": "plain/nginx-access", "compression": "none", "records": {cl}}}
  }},
  "findings": {{
    "oom_kill": {oom},
    "oom_killer_invocations": {inv},
    "killed_process_lines": {killed},
    "main_process_exited": {exited},
    "failed_with_result": {failed},
    "scheduled_restart": {sched},
    "restart_loop": [{loops}],
    "silence": {silence}
  }},
  "caddy": {{"lines": {cl}, "first": {cfirst}, "status": {cstatus}}},
  "mastodon_web": {{"request_lines": {puma}, "last_request": {puma_last}}},
  "bursts": [
{bursts}
  ],
  "headline": {headline}
}}
"#,
        name = json_str(NAME),
        w0 = json_str(&time::rfc3339(tl.w0)),
        w1 = json_str(&time::rfc3339(st.journal_last)),
        threshold = common::BURST_THRESHOLD,
        jf = json_str(JOURNAL_FILE),
        cf = json_str(CADDY_FILE),
        jl = st.journal_lines,
        cl = st.caddy_lines,
        oom = times_json(&st.units.oom_kill),
        inv = st.oom_invoked,
        killed = json_counts(&st.units.killed_process),
        exited = times_json(&st.units.main_exited),
        failed = times_json(&st.units.failed),
        sched = times_json(&st.units.scheduled_restart),
        loops = loops.join(", "),
        cfirst = json_str(&time::rfc3339(st.caddy_first)),
        cstatus = json_counts(&st.caddy_status),
        puma = st.puma_lines,
        puma_last = json_str(&time::rfc3339(st.puma_last)),
        bursts = common::bursts_json(&st.bursts),
        headline = json_list(&headline(st)),
    )
}

fn story(st: &Stats, tl: &Timeline) -> String {
    let hms = time::hms;
    let list = |v: Option<&Vec<i64>>| -> String {
        v.map(|v| v.iter().map(|t| hms(*t)).collect::<Vec<_>>().join(", "))
            .unwrap_or_else(|| "none".into())
    };
    let netdata = st.units.oom_kill.get("netdata");
    let restarts = st.units.scheduled_restart.get("netdata.service");
    let silence = st
        .silence
        .map(|s| {
            format!(
                "last line at {}, median gap {} s, then quiet for {} s until the bundle ends at {}",
                hms(s.last),
                s.median_gap / SEC,
                (s.until - s.last) / SEC,
                hms(s.until)
            )
        })
        .unwrap_or_else(|| "none".into());
    let mut s = String::new();
    let _ = write!(
        s,
        r#"# `chitter-oom`: the OOM killer shoots the monitoring, the proxy goes quiet (2018-08-11)

Generated by `coroner-gen samples` from `crates/gen/src/chitter_oom.rs`. Do not edit by
hand: change the generator and regenerate. Every number below is counted from the files by
the generator; `chitter-oom.expected.json` (next to this file) holds the same numbers for
tests. The directory `chitter-oom/` holds only the log files.

It reproduces the chitter.xyz outage post-mortem (a small Mastodon instance, one VM with
4 GiB and no swap, Ubuntu 18.04, kernel 4.15, systemd 237, Mastodon 2.4 behind caddy 0.11).
Host `chitter`, site `{SITE}`; client addresses are documentation ranges.

## Files

| file | what it is | records |
|---|---|---|
| `journal.txt` | `journalctl -o short-iso --utc` of the whole host: kernel, systemd, Mastodon web (puma) and Sidekiq (both `bundle[pid]`), cron, sshd, caddy | {jl} lines |
| `caddy/access.log` | caddy's access log, `{{combined}}` format (time = end of request) | {cl} lines |

## Story (UTC)

- {w0}–: steady traffic: timelines, notifications, federation inbox POSTs, media; a request
  every few seconds. Sidekiq works through federation jobs all along.
- {nd}–{nu}: the network drops out (no requests; timesyncd times out).
- from {pr}: ImageMagick `convert` processes (spawned by Sidekiq for media) hoard memory; puma
  answers in seconds instead of milliseconds, Sidekiq jobs take 4–40 s.
- {cl_last}: caddy serves its last request and stops listening, without crashing: the access
  log ends there (the last puma request line is at {puma_last}).
- {oom0}: the kernel OOM killer kills **netdata** (it raises its own OOM score to 1000, so it is
  always the victim): `netdata.service: Main process exited, code=killed, status=9/KILL`,
  `Failed with result 'signal'`. systemd restarts it 10 minutes later (`RestartSec=10min`):
  {nrestart}; each time it is killed again within about a minute. Kills at {nkills}.
- {conv}: with netdata down, the killer finally takes a **`convert`** (memory returns);
  {jd}: journald's watchdog fires (SIGABRT, `code=dumped, status=6/ABRT`), it restarts and
  loses nothing; {web}: systemd restarts `mastodon-web` (puma boots again).
- {login}: codl logs in; {cr}: `systemctl restart caddy`. The capture ends there.

## What a correct analysis finds

- **oom_kill**: netdata {nn} times ({nkills}); convert once ({convk}). {inv} `invoked
  oom-killer` reports in all, each with its task table (convert processes at 150–190k pages).
- **restarts**: `netdata.service` scheduled restarts at {nrestart} (counter 1..{nr}), 10+ min
  apart: **no restart loop** (never 3 within 10 min); `systemd-journald.service` and
  `mastodon-web.service` once each.
- **silence**: `caddy/access.log`: {silence}. The journal keeps going to the end.
- **bursts**: none of the built-in signatures reaches 5 per second in this bundle.
- caddy status counts: {cstatus}.

Headline, in post-mortem order: {headline}.

## Exact wordings

Kernel (pre-5.0 two-line kill, then the reaper):
```
<ts> chitter kernel: convert invoked oom-killer: gfp_mask=0x14200ca(GFP_HIGHUSER_MOVABLE), nodemask=(null), order=0, oom_score_adj=0
<ts> chitter kernel: Out of memory: Kill process <pid> (netdata) score <score> or sacrifice child
<ts> chitter kernel: Killed process <pid> (netdata) total-vm:412340kB, anon-rss:<n>kB, file-rss:<n>kB, shmem-rss:0kB
<ts> chitter kernel: oom_reaper: reaped process <pid> (netdata), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB
```
systemd:
```
<ts> chitter systemd[1]: netdata.service: Main process exited, code=killed, status=9/KILL
<ts> chitter systemd[1]: netdata.service: Failed with result 'signal'.
<ts> chitter systemd[1]: netdata.service: Service hold-off time over, scheduling restart.
<ts> chitter systemd[1]: netdata.service: Scheduled restart job, restart counter is at <n>.
<ts> chitter systemd[1]: Started Real time performance monitoring.
```
caddy (combined):
```
<ip> - - [11/Aug/2018:01:50:59 +0000] "GET /api/v1/timelines/home?since_id=... HTTP/1.1" 200 <size> "-" "<ua>"
```
`<ts>` is `2018-08-11T01:54:07+0000` style (journalctl short-iso, systemd < 255).
"#,
        jl = st.journal_lines,
        cl = st.caddy_lines,
        w0 = hms(tl.w0),
        nd = hms(tl.net_down),
        nu = hms(tl.net_up),
        pr = hms(tl.pressure),
        cl_last = st.silence.map(|s| hms(s.last)).unwrap_or_default(),
        puma_last = hms(st.puma_last),
        oom0 = netdata.map(|v| hms(v[0])).unwrap_or_default(),
        nrestart = list(restarts),
        nkills = list(netdata),
        nn = netdata.map_or(0, Vec::len),
        nr = restarts.map_or(0, Vec::len),
        conv = hms(tl.convert_oom),
        convk = list(st.units.oom_kill.get("convert")),
        jd = hms(tl.journald_abort),
        web = hms(tl.web_restart),
        login = hms(tl.login),
        cr = hms(tl.caddy_restart),
        inv = st.oom_invoked,
        silence = silence,
        cstatus = json_counts(&st.caddy_status),
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
    let (mut j, mut caddy) = render(&sim, &mut render_rng);
    let journal = j.render();
    let access = caddy.render();
    let st = count(&j, &caddy);
    Ok(Bundle {
        files: vec![(JOURNAL_FILE, journal), (CADDY_FILE, access)],
        story: story(&st, &sim.tl),
        expected: expected_json(&st, &sim.tl),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oom_kills_and_silence_hold_in_the_bytes() {
        let b = build().unwrap();
        let j = String::from_utf8(b.file(JOURNAL_FILE).unwrap().to_vec()).unwrap();
        let c = String::from_utf8(b.file(CADDY_FILE).unwrap().to_vec()).unwrap();
        let netdata_kills = j
            .lines()
            .filter(|l| {
                l.contains("kernel: Out of memory: Kill process ") && l.contains("(netdata) score ")
            })
            .count();
        assert!(netdata_kills >= 3, "{netdata_kills}");
        assert_eq!(
            j.lines()
                .filter(|l| l.contains("Out of memory: Kill process ")
                    && l.contains("(convert) score "))
                .count(),
            1
        );
        // Every line carries its year and zone.
        assert!(
            j.lines()
                .all(|l| l.starts_with("2018-08-11T") && l[19..24] == *"+0000")
        );
        // caddy's last line is at 01:51, the journal runs to 04:13.
        let last = c.lines().last().unwrap();
        assert!(last.contains("[11/Aug/2018:01:5"), "{last}");
        assert!(j.lines().last().unwrap().starts_with("2018-08-11T04:13:"));
        assert!(
            b.expected
                .contains("\"silence\": [{\"source\": \"caddy/access.log\"")
        );
        assert!(
            b.expected
                .contains(&format!("\"netdata\": {{\"count\": {netdata_kills},"))
        );
        assert!(b.expected.contains("\"restart_loop\": []"));
    }
}
