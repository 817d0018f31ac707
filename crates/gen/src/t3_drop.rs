//! The `t3-drop` sample: the 2026-07-02 t3 outage, as the three connection-logging
//! layers of the path saw it (runbook "t3 drop attribution — is it infra or my
//! network?").
//!
//! Path: browser → Cloudflare edge → cloudflared pod → Traefik → `t3-dispatch` (a Go
//! reverse proxy on the devvm) → the user's own `t3 serve` on `127.0.0.1:37xx`.
//!
//! What happened: at 15:41:55 an agent's 12.3G `ugrep` plateaued inside
//! `t3-serve@wizard`'s MemoryHigh..MemoryMax band; with no swap the kernel throttled
//! the whole cgroup and wizard's `t3 serve` stopped answering (nothing is logged at
//! that moment). 20–30 s later every one of wizard's browser tabs hit its heartbeat
//! watchdog at once, giving two same-second bursts of `context canceled` at
//! dispatch; the reconnects then died against the starved server (`connection reset
//! by peer`, `cause=upstream_closed`, Traefik 502) until the clients gave up at about
//! 15:44. The hog was SIGKILLed by hand at 16:35:08 and wizard reloaded his tabs.
//! Around it runs ordinary life: other users' long healthy sessions, phones on bad
//! networks dropping one socket at a time (the last-mile drops), two idle QUIC
//! connection timeouts in cloudflared, and an unrelated `t3 serve` restart of user
//! bram at 16:12:40 (refused dials).
//!
//! Everything is simulated as structured events first ([`Ws`], [`Http`]); the three
//! log files are renderings of those events, and the story/`expected.json` numbers
//! are counted from the rendered records, so they cannot drift from the data.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io;

pub use crate::common::BURST_THRESHOLD;
use crate::common::{Bundle, Burst, Bursts, json_counts};
use crate::journald::{Cursor, Entry};
use crate::out::{self, json_str};
use crate::rng::SplitMix64;
use crate::time::{self, MIN, MS, SEC};

/// Directory name of the sample.
pub const NAME: &str = "t3-drop";
/// One line for `coroner-gen` listings.
pub const SUMMARY: &str =
    "t3 WebSocket drops: serve stall + same-second cancel bursts vs last-mile drops";

/// File names inside the sample directory; they are also the `source` names used
/// in `expected.json`.
pub const DISPATCH_FILE: &str = "t3-dispatch.export";
pub const TRAEFIK_FILE: &str = "traefik/access.log.gz";
pub const CLOUDFLARED_FILE: &str = "cloudflared.log.zst";

const SEED: u64 = 0x7433_2d64_726f_7001;

/// A socket shorter than this is a drop the user felt (coroner's `--short-ms`).
pub const SHORT_MS: u64 = 120_000;

const HOST: &str = "t3.example.net";
const DEVVM: &str = "devvm";
const CLOUDFLARED_POD_IP: &str = "10.42.3.17";
const ROUTER: &str = "t3code-t3@kubernetescrd";
const DISPATCH_URL: &str = "http://10.0.20.31:8080";
const ORIGIN_SERVICE: &str = "http://traefik.kube-system.svc:80";
const APP_JS: &str = "/assets/app-4c1f9e27.js";
const APP_CSS: &str = "/assets/index-b83d0a56.css";

/// Users and the loopback port of their `t3 serve` (dispatch routes by user).
const USERS: &[(&str, u16)] = &[
    ("wizard", 3773),
    ("ana", 3774),
    ("bram", 3775),
    ("cleo", 3776),
    ("dario", 3777),
    ("elin", 3778),
    ("farid", 3779),
    ("greta", 3780),
    ("hugo", 3781),
    ("ines", 3782),
    ("jonas", 3783),
    ("kira", 3784),
    ("lev", 3785),
    ("mona", 3786),
];
const WIZARD: usize = 0;
const BRAM: usize = 2;
/// Users with one client attached from the tailnet straight to dispatch (no
/// Cloudflare, no Traefik): the handful of dispatch closes with no Traefik line.
const DIRECT_USERS: &[usize] = &[3, 5, 8, 11];
/// wizard's tabs and devices: all of them die together when his serve stalls.
const WIZARD_CLIENTS: usize = 17;
/// How many of them fire their watchdog in the first burst second.
const FIRST_BURST_CLIENTS: usize = 9;
/// (wizard client, storm attempt) pairs where the starved serve managed to answer
/// the upgrade with a 503 instead of resetting: dispatch logs the raw status line,
/// trailing `\r` included, which makes that MESSAGE binary in the export.
const NON_101_ATTEMPTS: &[(usize, usize)] = &[(3, 2), (11, 4)];

/// Edge IP and colo of each HA tunnel connection. Connection 1 is re-registered
/// at every QUIC idle timeout, so it has one entry per registration.
const EDGES: [&[(&str, &str)]; 4] = [
    &[("198.41.200.63", "lhr10")],
    &[
        ("198.41.192.147", "man01"),
        ("198.41.200.83", "lhr10"),
        ("198.41.192.77", "man01"),
    ],
    &[("198.41.200.9", "lhr10")],
    &[("198.41.192.97", "man01")],
];
/// Requests ride the busy connections; an idle-timeout (connection 1) by
/// definition carries no stream, so it never drops a request.
const REQUEST_CONNS: [u8; 3] = [0, 2, 3];

/// The fixed moments of the story, µs since the epoch.
#[derive(Clone, Debug)]
struct Timeline {
    w0: i64,
    w1: i64,
    /// The hog plateaus; wizard's serve stops answering. Not logged anywhere.
    stall: i64,
    /// The two watchdog seconds.
    bursts: [i64; 2],
    /// About when wizard's clients stop auto-reconnecting.
    storm_end: i64,
    /// wizard reloading a tab by hand while the server is still dead.
    manual_retries: [i64; 4],
    /// The hog is SIGKILLed; serve answers again.
    kill: i64,
    /// bram's `t3 serve` restarts (unrelated to the incident).
    restart: i64,
    restart_up: i64,
    /// QUIC idle timeouts of tunnel connection 1.
    churn: [i64; 2],
    cloudflared_start: i64,
    devvm_boot: i64,
}

impl Timeline {
    fn new() -> Self {
        let t = |h, m, s| time::at(2026, 7, 2, h, m, s);
        Self {
            w0: t(15, 30, 0),
            w1: t(16, 45, 0),
            stall: t(15, 41, 55) + 300 * MS,
            bursts: [t(15, 42, 17), t(15, 42, 23)],
            storm_end: t(15, 44, 0),
            manual_retries: [t(15, 49, 41), t(15, 58, 12), t(16, 11, 5), t(16, 24, 50)],
            kill: t(16, 35, 8),
            restart: t(16, 12, 40) + 200 * MS,
            restart_up: t(16, 12, 46) + 700 * MS,
            churn: [t(15, 53, 41), t(16, 27, 9)],
            cloudflared_start: t(5, 58, 12),
            devvm_boot: time::at(2026, 6, 28, 3, 11, 7) + 482_913,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    /// Browser → Cloudflare → cloudflared → Traefik → dispatch.
    Tunnel,
    /// Tailnet client straight to dispatch: only dispatch sees it.
    Direct,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Profile {
    /// Desktop/laptop on a good network: sessions of 10–120 minutes.
    Desk,
    /// Phone on a bad network: drops every few seconds to minutes.
    Mobile,
}

#[derive(Clone, Debug)]
struct Client {
    user: usize,
    via: Via,
    profile: Profile,
    /// Mean gap between the client's API calls, µs.
    api_every: i64,
}

/// How dispatch says a WebSocket ended (`cause=` of `ws close`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Cause {
    DownstreamClosed,
    UpstreamClosed,
    Graceful,
}

impl Cause {
    const ALL: [Cause; 3] = [
        Cause::DownstreamClosed,
        Cause::UpstreamClosed,
        Cause::Graceful,
    ];
    fn as_str(self) -> &'static str {
        match self {
            Cause::DownstreamClosed => "downstream_closed",
            Cause::UpstreamClosed => "upstream_closed",
            Cause::Graceful => "graceful",
        }
    }
}

/// What really ended a socket: the ground truth an attribution is scored against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Truth {
    /// A session that ended normally (tab closed, laptop slept).
    Healthy,
    /// A phone's bad network.
    LastMile,
    /// Client watchdog firing because wizard's serve stalled (the bursts).
    StallCancel,
    /// A reconnect killed by the stalled serve (`upstream_closed` + reset).
    StallReset,
    /// bram's serve restart.
    ServeRestart,
}

impl Truth {
    const ALL: [Truth; 5] = [
        Truth::Healthy,
        Truth::LastMile,
        Truth::StallCancel,
        Truth::StallReset,
        Truth::ServeRestart,
    ];
    fn as_str(self) -> &'static str {
        match self {
            Truth::Healthy => "healthy",
            Truth::LastMile => "last_mile",
            Truth::StallCancel => "stall_cancel",
            Truth::StallReset => "stall_reset",
            Truth::ServeRestart => "serve_restart",
        }
    }
}

/// One upgraded WebSocket. `start`/`end` are dispatch's view.
#[derive(Clone, Debug)]
struct Ws {
    client: usize,
    start: i64,
    end: i64,
    cause: Cause,
    truth: Truth,
    /// Tunnel connection carrying it.
    conn: u8,
    /// Cloudflare ray id (16 hex).
    ray: String,
    /// dispatch's ephemeral port towards serve (shown in reset errors).
    eport: u16,
    /// Traefik sees the request this much before dispatch, and the end this much after.
    traefik_lead: i64,
    traefik_lag: i64,
}

/// How dispatch's call to serve failed for a non-upgraded request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Upstream {
    /// The client went away first (Traefik 499).
    Canceled,
    /// serve reset the connection; dispatch's local port.
    Reset(u16),
    /// Nothing listening on serve's port.
    Refused,
    /// serve answered the upgrade with a non-101 status.
    Non101,
}

/// One plain HTTP exchange through dispatch, including failed `/ws` upgrades.
/// `start`/`end` are Traefik's view.
#[derive(Clone, Debug)]
struct Http {
    client: usize,
    start: i64,
    end: i64,
    method: &'static str,
    path: String,
    status: u16,
    size: u64,
    err: Option<Upstream>,
    conn: u8,
    ray: String,
}

/// The simulation: clients, and the events they produced.
struct Sim {
    tl: Timeline,
    clients: Vec<Client>,
    ws: Vec<Ws>,
    http: Vec<Http>,
    /// Seconds in which some layer logs a browser-side cancel. Unrelated cancels are
    /// kept two seconds apart: the last-mile drops really are one at a time, and a
    /// chance coincidence would otherwise read as a (tiny) shared-cause burst.
    cancel_secs: BTreeSet<i64>,
}

/// Uniform duration in `[a, b)` µs.
fn dur(r: &mut SplitMix64, a: i64, b: i64) -> i64 {
    r.range_i64(a, b)
}

fn pct(v: i64, r: &mut SplitMix64, lo: i64, hi: i64) -> i64 {
    v * r.range_i64(lo, hi) / 100
}

impl Sim {
    fn new(rng: &mut SplitMix64) -> Self {
        let mut r = rng.fork();
        let mut clients = Vec::new();
        // wizard runs many agent tabs on two machines, plus his phone and tablet.
        for k in 0..WIZARD_CLIENTS {
            clients.push(Client {
                user: WIZARD,
                via: Via::Tunnel,
                profile: if k >= WIZARD_CLIENTS - 2 {
                    Profile::Mobile
                } else {
                    Profile::Desk
                },
                api_every: dur(&mut r, 20 * SEC, 90 * SEC),
            });
        }
        for user in 1..USERS.len() {
            // bram's restart is a side event: keep it small (three tabs).
            let n = if user == BRAM {
                3
            } else {
                r.range(5, 12) as usize
            };
            for j in 0..n {
                let direct = j == 0 && DIRECT_USERS.contains(&user);
                let mobile = !direct && r.chance(0.25);
                clients.push(Client {
                    user,
                    via: if direct { Via::Direct } else { Via::Tunnel },
                    profile: if mobile {
                        Profile::Mobile
                    } else {
                        Profile::Desk
                    },
                    api_every: dur(&mut r, 30 * SEC, 180 * SEC),
                });
            }
        }
        Self {
            tl: Timeline::new(),
            clients,
            ws: Vec::new(),
            http: Vec::new(),
            cancel_secs: BTreeSet::new(),
        }
    }

    fn run(&mut self, rng: &mut SplitMix64) {
        for c in 0..self.clients.len() {
            // Two streams per client: the schedule, and the traffic/ids inside it,
            // so tuning API traffic does not move the drops.
            let mut sched = rng.fork();
            let mut traffic = rng.fork();
            if self.clients[c].user == WIZARD {
                self.wizard_client(c, &mut sched, &mut traffic);
            } else {
                let first = match self.clients[c].profile {
                    Profile::Desk => self.tl.w0 - dur(&mut sched, 0, 120 * MIN),
                    Profile::Mobile => self.tl.w0 - dur(&mut sched, 0, 10 * MIN),
                };
                self.forward(c, first, false, &mut sched, &mut traffic);
            }
        }
        for (k, &at) in self.tl.manual_retries.clone().iter().enumerate() {
            // wizard reloads his main tab: the page request itself dies at serve.
            let mut r = rng.fork();
            let at = at + dur(&mut r, 0, 900 * MS) + k as i64;
            let d = dur(&mut r, 5 * MS, 900 * MS);
            let port = r.range(32_768, 61_000) as u16;
            self.push_http(
                0,
                at,
                d,
                "GET",
                "/".into(),
                502,
                0,
                Some(Upstream::Reset(port)),
                &mut r,
            );
        }
        // Keep what the capture window shows: events that ended inside it.
        let (lo, hi) = (self.tl.w0 + SEC, self.tl.w1 - SEC);
        self.ws.retain(|w| (lo..hi).contains(&w.end));
        self.http.retain(|h| (lo..hi).contains(&h.end));
    }

    /// `end` moved by `step` (later or earlier) until no other cancel is logged
    /// within a second of it.
    fn clear_second(&self, mut end: i64, step: i64) -> i64 {
        while (end.div_euclid(SEC) - 1..=end.div_euclid(SEC) + 1)
            .any(|s| self.cancel_secs.contains(&s))
        {
            end += step;
        }
        end
    }

    /// One session draw for a client: (duration, cause, truth).
    fn draw_session(&self, c: usize, r: &mut SplitMix64) -> (i64, Cause, Truth) {
        match self.clients[c].profile {
            Profile::Desk => {
                let cause = if r.chance(0.6) {
                    Cause::Graceful
                } else {
                    Cause::DownstreamClosed
                };
                (dur(r, 10 * MIN, 120 * MIN), cause, Truth::Healthy)
            }
            Profile::Mobile => {
                let d = if r.chance(0.55) {
                    dur(r, 2 * SEC, 110 * SEC)
                } else {
                    dur(r, 3 * MIN, 25 * MIN)
                };
                (d, Cause::DownstreamClosed, Truth::LastMile)
            }
        }
    }

    /// The gap before the next session, and whether it starts with a page load.
    fn draw_gap(&self, c: usize, cause: Cause, r: &mut SplitMix64) -> (i64, bool) {
        match (cause, self.clients[c].profile) {
            // Tab closed or reloaded: it comes back with a page load.
            (Cause::Graceful, _) => (dur(r, 2 * SEC, 20 * MIN), true),
            // The heartbeat watchdog reconnects within a few seconds.
            (_, Profile::Mobile) => (dur(r, 400 * MS, 4 * SEC), false),
            (_, Profile::Desk) if r.chance(0.7) => (dur(r, SEC, 30 * SEC), false),
            // Laptop went to sleep.
            (_, Profile::Desk) => (dur(r, 5 * MIN, 40 * MIN), false),
        }
    }

    /// Sessions of a client from `t` to the end of the window.
    fn forward(
        &mut self,
        c: usize,
        mut t: i64,
        mut page: bool,
        s: &mut SplitMix64,
        tr: &mut SplitMix64,
    ) {
        let user = self.clients[c].user;
        while t < self.tl.w1 {
            if user == BRAM && (self.tl.restart..self.tl.restart_up).contains(&t) {
                t = self.refused_retries(c, t, s, tr);
                page = false;
                continue;
            }
            if page {
                t = self.page_load(c, t, tr);
            }
            let (d, cause, truth) = self.draw_session(c, s);
            let mut end = t + d;
            if cause == Cause::DownstreamClosed {
                end = self.clear_second(end, 1_300 * MS);
            }
            if user == BRAM && t < self.tl.restart && end > self.tl.restart {
                // serve exits under the socket: a clean EOF, so no proxy error line.
                let end = self.tl.restart + dur(s, 0, 40 * MS);
                self.session(c, t, end, Cause::UpstreamClosed, Truth::ServeRestart, tr);
                t = self.refused_retries(c, end, s, tr);
                page = false;
                continue;
            }
            self.session(c, t, end, cause, truth, tr);
            let (gap, p) = self.draw_gap(c, cause, s);
            t = end + gap;
            page = p;
        }
    }

    /// Sessions of a client that ended before `next_start`, generated backwards.
    fn backward(&mut self, c: usize, mut next_start: i64, s: &mut SplitMix64, tr: &mut SplitMix64) {
        loop {
            let (d, cause, truth) = self.draw_session(c, s);
            let (gap, page) = self.draw_gap(c, cause, s);
            let mut end = next_start - gap;
            if cause == Cause::DownstreamClosed {
                end = self.clear_second(end, -1_300 * MS);
            }
            if end < self.tl.w0 - 30 * MIN {
                break;
            }
            if page {
                // The reload that opened the following session.
                let at = next_start - dur(tr, 600 * MS, 1_500 * MS);
                self.page_load(c, at, tr);
            }
            let start = end - d;
            self.session(c, start, end, cause, truth, tr);
            next_start = start;
        }
    }

    /// A wizard client: healthy until the stall, cancelled in a burst, a reconnect
    /// storm against the starved serve, silence, and a reload after the kill.
    fn wizard_client(&mut self, c: usize, s: &mut SplitMix64, tr: &mut SplitMix64) {
        let tl = self.tl.clone();
        let second = if c < FIRST_BURST_CLIENTS {
            tl.bursts[0]
        } else {
            tl.bursts[1]
        };
        // Inside the second, clear of its edges, so the other layers (which see the
        // cancel a few ms apart) count it in the same second too.
        let end = second + dur(s, 100 * MS, 900 * MS);
        // Every fourth tab had reconnected shortly before the stall: those are short
        // sockets inside the bursts.
        let d = if c % 4 == 1 {
            dur(s, 30 * SEC, 115 * SEC)
        } else {
            dur(s, 8 * MIN, 110 * MIN)
        };
        let start = end - d;
        self.push_ws(
            c,
            start,
            end,
            Cause::DownstreamClosed,
            Truth::StallCancel,
            tr,
        );
        self.api_calls(c, start, tl.stall, tr);
        self.backward(c, start, s, tr);
        self.storm(c, end, s, tr);
        let back = tl.kill + dur(s, 25 * SEC, 4 * MIN);
        self.forward(c, back, true, s, tr);
    }

    /// Reconnect attempts with exponential backoff until the client gives up.
    fn storm(&mut self, c: usize, from: i64, s: &mut SplitMix64, tr: &mut SplitMix64) {
        let give_up = self.tl.storm_end + dur(s, 0, 10 * SEC);
        let mut t = from + dur(s, 300 * MS, 1_500 * MS);
        let mut backoff = SEC;
        let mut attempt = 0;
        while t < give_up {
            if NON_101_ATTEMPTS.contains(&(c, attempt)) {
                let d = dur(s, 4 * SEC, 9 * SEC);
                self.push_http(
                    c,
                    t,
                    d,
                    "GET",
                    "/ws".into(),
                    503,
                    0,
                    Some(Upstream::Non101),
                    tr,
                );
                t += d;
            } else if s.chance(0.72) {
                // serve got a slice of CPU, completed the upgrade, then reset.
                let d = dur(s, 300 * MS, 8 * SEC);
                self.push_ws(c, t, t + d, Cause::UpstreamClosed, Truth::StallReset, tr);
                t += d;
            } else {
                // Reset during the handshake: dispatch answers 502.
                let d = dur(s, 3 * MS, 2_500 * MS);
                let port = tr.range(32_768, 61_000) as u16;
                self.push_http(
                    c,
                    t,
                    d,
                    "GET",
                    "/ws".into(),
                    502,
                    0,
                    Some(Upstream::Reset(port)),
                    tr,
                );
                t += d;
            }
            t += pct(backoff, s, 80, 120);
            backoff = (backoff * 2).min(30 * SEC);
            attempt += 1;
        }
    }

    /// bram's client redialling while his serve is down; returns when it connects.
    fn refused_retries(
        &mut self,
        c: usize,
        from: i64,
        s: &mut SplitMix64,
        tr: &mut SplitMix64,
    ) -> i64 {
        let mut t = from + dur(s, 300 * MS, 800 * MS);
        let mut backoff = SEC;
        while t < self.tl.restart_up {
            let d = dur(s, MS, 3 * MS);
            self.push_http(
                c,
                t,
                d,
                "GET",
                "/ws".into(),
                502,
                0,
                Some(Upstream::Refused),
                tr,
            );
            t += d + pct(backoff, s, 80, 120);
            backoff *= 2;
        }
        t
    }

    /// A session and the API traffic inside it.
    fn session(
        &mut self,
        c: usize,
        start: i64,
        end: i64,
        cause: Cause,
        truth: Truth,
        tr: &mut SplitMix64,
    ) {
        self.push_ws(c, start, end, cause, truth, tr);
        self.api_calls(c, start, end, tr);
    }

    fn push_ws(
        &mut self,
        c: usize,
        start: i64,
        end: i64,
        cause: Cause,
        truth: Truth,
        r: &mut SplitMix64,
    ) {
        if cause == Cause::DownstreamClosed {
            self.cancel_secs.insert(end.div_euclid(SEC));
        }
        self.ws.push(Ws {
            client: c,
            start,
            end,
            cause,
            truth,
            conn: *r.pick(&REQUEST_CONNS),
            ray: r.hex(16),
            eport: r.range(32_768, 61_000) as u16,
            traefik_lead: dur(r, 300, 2_500),
            traefik_lag: dur(r, 100, 1_500),
        });
    }

    #[allow(clippy::too_many_arguments)] // one flat record, built in a handful of places
    fn push_http(
        &mut self,
        c: usize,
        start: i64,
        d: i64,
        method: &'static str,
        path: String,
        status: u16,
        size: u64,
        err: Option<Upstream>,
        r: &mut SplitMix64,
    ) {
        if err == Some(Upstream::Canceled) {
            self.cancel_secs.insert((start + d).div_euclid(SEC));
        }
        self.http.push(Http {
            client: c,
            start,
            end: start + d,
            method,
            path,
            status,
            size,
            err,
            conn: *r.pick(&REQUEST_CONNS),
            ray: r.hex(16),
        });
    }

    /// The requests of a (re)loaded tab; returns when its WebSocket opens.
    fn page_load(&mut self, c: usize, t0: i64, r: &mut SplitMix64) -> i64 {
        if self.clients[c].via == Via::Direct {
            return t0;
        }
        let d0 = dur(r, 4 * MS, 30 * MS);
        self.push_http(c, t0, d0, "GET", "/".into(), 200, 1_873, None, r);
        let t1 = t0 + d0 + dur(r, 5 * MS, 40 * MS);
        let fresh = r.chance(0.2); // cold cache: assets download in full
        let mut assets: Vec<(&str, u16, u64)> = vec![
            (
                APP_JS,
                if fresh { 200 } else { 304 },
                if fresh { 482_113 } else { 0 },
            ),
            (
                APP_CSS,
                if fresh { 200 } else { 304 },
                if fresh { 31_877 } else { 0 },
            ),
            (
                "/favicon.svg",
                if fresh { 200 } else { 304 },
                if fresh { 1_206 } else { 0 },
            ),
            ("/manifest.webmanifest", 200, 412),
        ];
        if self.clients[c].profile == Profile::Mobile {
            // iOS asks for it whatever the page says; the app has none.
            assets.push(("/apple-touch-icon.png", 404, 19));
        }
        let mut last = t1;
        for (path, status, size) in assets {
            let start = t1 + dur(r, 0, 15 * MS);
            let d = if size > 100_000 {
                dur(r, 40 * MS, 400 * MS)
            } else {
                dur(r, 2 * MS, 15 * MS)
            };
            self.push_http(c, start, d, "GET", path.into(), status, size, None, r);
            last = last.max(start + d);
        }
        last + dur(r, 30 * MS, 250 * MS)
    }

    /// API calls a client makes while its socket is open.
    fn api_calls(&mut self, c: usize, from: i64, to: i64, r: &mut SplitMix64) {
        if self.clients[c].via == Via::Direct {
            return;
        }
        let every = self.clients[c].api_every;
        // Nothing before this can reach the window; skip the work.
        let mut t = from.max(self.tl.w0 - 2 * MIN);
        loop {
            t += pct(every, r, 20, 180);
            if t >= to {
                break;
            }
            let roll = r.below(100);
            let (method, path, status, size, d): (&str, String, u16, u64, i64) = match roll {
                0..=54 => (
                    "POST",
                    "/api/rpc".into(),
                    200,
                    r.range(40, 6_000),
                    dur(r, 3 * MS, 180 * MS),
                ),
                55..=69 => (
                    "GET",
                    "/api/projects".into(),
                    200,
                    r.range(800, 3_000),
                    dur(r, 4 * MS, 40 * MS),
                ),
                70..=84 => (
                    "GET",
                    "/api/git/status".into(),
                    200,
                    r.range(60, 1_200),
                    dur(r, 20 * MS, 900 * MS),
                ),
                85..=94 => {
                    let path = format!("/api/threads/{}", r.hex(8));
                    if r.chance(0.1) {
                        ("GET", path, 404, 19, dur(r, 2 * MS, 10 * MS))
                    } else {
                        (
                            "GET",
                            path,
                            200,
                            r.range(2_000, 60_000),
                            dur(r, 5 * MS, 120 * MS),
                        )
                    }
                }
                _ => (
                    "GET",
                    "/api/settings".into(),
                    304,
                    0,
                    dur(r, 2 * MS, 12 * MS),
                ),
            };
            if method == "POST" && r.chance(0.004) {
                // The browser gave up on a slow call (tab closed, navigation).
                let d = self.clear_second(t + dur(r, 800 * MS, 12 * SEC), 700 * MS) - t;
                self.push_http(c, t, d, method, path, 499, 0, Some(Upstream::Canceled), r);
            } else {
                self.push_http(c, t, d, method, path, status, size, None, r);
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Rendering: the same events as each layer logs them.

/// A dispatch journal record before the journal header is assigned.
struct DispatchRec {
    /// When dispatch logged it.
    t: i64,
    priority: u8,
    /// MESSAGE after the Go `log` timestamp prefix.
    body: Vec<u8>,
}

/// A rendered dispatch entry, kept for counting.
struct DispatchOut {
    realtime: i64,
    message: Vec<u8>,
}

/// Messages as dispatch prints them (after the `2026/07/02 15:42:01 ` prefix).
const MSG_CANCELED: &str = "http: proxy error: context canceled";

fn msg_reset(eport: u16, port: u16) -> String {
    format!(
        "http: proxy error: read tcp 127.0.0.1:{eport}->127.0.0.1:{port}: read: connection reset by peer"
    )
}

fn msg_refused(port: u16) -> String {
    format!("http: proxy error: dial tcp 127.0.0.1:{port}: connect: connection refused")
}

fn msg_non101(port: u16) -> Vec<u8> {
    // Read with bufio.ReadString('\n') and trimmed of the '\n' only: the '\r' stays.
    format!("ws upgrade: upstream 127.0.0.1:{port} sent non-101 status: HTTP/1.1 503 Service Unavailable\r").into_bytes()
}

fn msg_close(dur_ms: i64, cause: Cause, user: &str) -> String {
    format!(
        "ws close dur_ms={dur_ms} cause={} user={user}",
        cause.as_str()
    )
}

fn dispatch_records(sim: &Sim) -> Vec<DispatchRec> {
    let mut recs = Vec::new();
    for w in &sim.ws {
        let (user, port) = USERS[sim.clients[w.client].user];
        match (w.cause, w.truth) {
            (Cause::DownstreamClosed, _) => {
                recs.push(DispatchRec {
                    t: w.end,
                    priority: 3,
                    body: MSG_CANCELED.into(),
                });
            }
            (Cause::UpstreamClosed, Truth::StallReset) => {
                recs.push(DispatchRec {
                    t: w.end,
                    priority: 3,
                    body: msg_reset(w.eport, port).into(),
                });
            }
            // bram's serve exited cleanly (EOF), graceful closes: no error line.
            _ => {}
        }
        let body = msg_close((w.end - w.start) / MS, w.cause, user).into_bytes();
        recs.push(DispatchRec {
            t: w.end + 20,
            priority: 6,
            body,
        });
    }
    for h in &sim.http {
        let port = USERS[sim.clients[h.client].user].1;
        let body = match h.err {
            None => continue,
            Some(Upstream::Canceled) => MSG_CANCELED.into(),
            Some(Upstream::Reset(eport)) => msg_reset(eport, port).into_bytes(),
            Some(Upstream::Refused) => msg_refused(port).into_bytes(),
            Some(Upstream::Non101) => msg_non101(port),
        };
        // dispatch fails the request a moment before Traefik finishes logging it.
        recs.push(DispatchRec {
            t: h.end - 300,
            priority: 3,
            body,
        });
    }
    // Stable sort: an error line stays before the close line it explains.
    recs.sort_by_key(|r| r.t);
    recs
}

/// The journald export of `t3-dispatch.service`, and the rendered entries.
fn render_dispatch(sim: &Sim, rng: &mut SplitMix64) -> io::Result<(Vec<u8>, Vec<DispatchOut>)> {
    let boot_id = rng.hex(32);
    let seqnum_id = rng.hex(32);
    let mut seqnum = 0x2_41c3_u64 + rng.below(0x1000);
    let mut prev = i64::MIN;
    let mut data = Vec::new();
    let mut outs = Vec::new();
    for rec in dispatch_records(sim) {
        // journald receives the line a little after the program wrote it; stay in
        // the same second so the Go timestamp and the journal agree.
        let in_second = SEC - 1 - rec.t.rem_euclid(SEC);
        let delay = dur(rng, 40, 900).min(in_second.max(0));
        let realtime = (rec.t + delay).max(prev + 1);
        prev = realtime;
        // Other units share the system journal: the sequence number skips.
        seqnum += rng.range(1, 60);
        let cursor = Cursor {
            seqnum_id: seqnum_id.clone(),
            seqnum,
            boot_id: boot_id.clone(),
            monotonic_us: (realtime - sim.tl.devvm_boot) as u64,
            realtime_us: realtime as u64,
            xor_hash: rng.next_u64(),
        };
        let mut message = format!("{} ", time::go_log(realtime)).into_bytes();
        message.extend_from_slice(&rec.body);
        let mut e = Entry::with_header(&cursor, &boot_id);
        e.push("PRIORITY", rec.priority.to_string())
            .push("SYSLOG_FACILITY", "3")
            .push("_UID", "997")
            .push("_GID", "997")
            .push("_PID", "1187")
            .push("_COMM", "t3-dispatch")
            .push("_EXE", "/usr/local/bin/t3-dispatch")
            .push("_SYSTEMD_UNIT", "t3-dispatch.service")
            .push("_TRANSPORT", "stdout")
            .push("SYSLOG_IDENTIFIER", "t3-dispatch")
            .push("_HOSTNAME", DEVVM)
            .push("MESSAGE", message.clone());
        e.write_to(&mut data)?;
        outs.push(DispatchOut { realtime, message });
    }
    Ok((data, outs))
}

/// A rendered Traefik access-log line, kept for counting.
struct TraefikOut {
    start: i64,
    path: String,
    status: u16,
    dur_ms: i64,
}

fn render_traefik(sim: &Sim, rng: &mut SplitMix64) -> (Vec<u8>, Vec<TraefikOut>) {
    struct Req<'a> {
        start: i64,
        end: i64,
        method: &'a str,
        path: &'a str,
        status: u16,
        size: u64,
    }
    let mut reqs: Vec<Req> = Vec::new();
    for w in sim
        .ws
        .iter()
        .filter(|w| sim.clients[w.client].via == Via::Tunnel)
    {
        let (start, end) = (w.start - w.traefik_lead, w.end + w.traefik_lag);
        reqs.push(Req {
            start,
            end,
            method: "GET",
            path: "/ws",
            status: 101,
            size: 0,
        });
    }
    for h in sim
        .http
        .iter()
        .filter(|h| sim.clients[h.client].via == Via::Tunnel)
    {
        let (start, end) = (h.start, h.end);
        reqs.push(Req {
            start,
            end,
            method: h.method,
            path: &h.path,
            status: h.status,
            size: h.size,
        });
    }
    // RequestCount is taken when a request arrives and counts every router's
    // traffic; this log is filtered to the t3 router, hence the gaps.
    reqs.sort_by_key(|r| r.start);
    let mut count = 1_204_233 + rng.below(1_000);
    let mut counts = Vec::with_capacity(reqs.len());
    for _ in &reqs {
        count += 1 + rng.below(4);
        counts.push(count);
    }
    // ...but the line is written when the request ends.
    let mut order: Vec<usize> = (0..reqs.len()).collect();
    order.sort_by_key(|&i| reqs[i].end);
    let mut data = Vec::new();
    let mut outs = Vec::new();
    for i in order {
        let r = &reqs[i];
        let dur_ms = (r.end - r.start) / MS;
        let _ = writeln!(
            Lines(&mut data),
            "{CLOUDFLARED_POD_IP} - - [{}] \"{} {} HTTP/1.1\" {} {} \"-\" \"-\" {} \"{ROUTER}\" \"{DISPATCH_URL}\" {dur_ms}ms",
            time::clf(r.start),
            r.method,
            r.path,
            r.status,
            r.size,
            counts[i],
        );
        outs.push(TraefikOut {
            start: r.start,
            path: r.path.to_owned(),
            status: r.status,
            dur_ms,
        });
    }
    (data, outs)
}

/// `fmt::Write` into a byte buffer (the lines are ASCII).
struct Lines<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Lines<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// A rendered cloudflared line, kept for counting.
struct CloudflaredOut {
    t: i64,
    line: String,
}

fn render_cloudflared(sim: &Sim, rng: &mut SplitMix64) -> (Vec<u8>, Vec<CloudflaredOut>) {
    let tl = &sim.tl;
    // (time, text after the timestamp); a stable sort keeps same-time lines in order.
    let mut lines: Vec<(i64, String)> = Vec::new();
    let t0 = tl.cloudflared_start;
    let startup = [
        format!("INF Starting tunnel tunnelID={}", rng.uuid()),
        format!("INF Version 2025.6.1 (Checksum {})", rng.hex(64)),
        "INF GOOS: linux, GOVersion: go1.24.2, GoArch: amd64".to_owned(),
        "INF Settings: map[metrics:0.0.0.0:2000 no-autoupdate:true]".to_owned(),
        format!("INF Generated Connector ID: {}", rng.uuid()),
        "INF Initial protocol quic".to_owned(),
        format!("INF ICMP proxy will use {CLOUDFLARED_POD_IP} as source for IPv4"),
        "INF Starting metrics server on [::]:2000/metrics".to_owned(),
    ];
    for l in startup {
        lines.push((t0, l));
    }
    let registered = |conn: usize, reg: usize, uuid: String| {
        let (ip, loc) = EDGES[conn][reg];
        format!(
            "INF Registered tunnel connection connIndex={conn} connection={uuid} event=0 ip={ip} location={loc} protocol=quic"
        )
    };
    for conn in 0..4 {
        let at = t0 + SEC + dur(rng, 0, 900 * MS) + conn as i64 * 300 * MS;
        lines.push((at, registered(conn, 0, rng.uuid())));
    }
    // QUIC idle timeouts on connection 1; the others stay up, hence WRN not ERR.
    for (k, &at) in tl.churn.iter().enumerate() {
        let (ip, _) = EDGES[1][k];
        let err = "error=\"timeout: no recent network activity\"";
        lines.push((at, format!("WRN Connection terminated {err} connIndex=1")));
        lines.push((
            at,
            format!("INF Unregistered tunnel connection connIndex=1 event=0 ip={ip}"),
        ));
        lines.push((
            at,
            format!("WRN Failed to serve quic connection {err} connIndex=1 event=0 ip={ip}"),
        ));
        lines.push((
            at,
            format!("WRN Serve tunnel error {err} connIndex=1 event=0 ip={ip}"),
        ));
        lines.push((
            at,
            format!("INF Retrying connection in up to 1s connIndex=1 event=0 ip={ip}"),
        ));
        let back = at + dur(rng, 900 * MS, 1_800 * MS);
        lines.push((back, registered(1, k + 1, rng.uuid())));
    }
    let abrupt = "error=\"Incoming request ended abruptly: context canceled\"";
    let mut failed = |t: i64, ray: &str, conn: u8, path: &str, kind: &str| {
        let ip = EDGES[conn as usize][0].0;
        lines.push((
            t,
            format!("ERR  {abrupt} cfRay={ray}-LHR event=1 originService={ORIGIN_SERVICE}"),
        ));
        lines.push((
            t,
            format!("ERR Request failed {abrupt} connIndex={conn} dest=https://{HOST}{path} event=0 ip={ip} type={kind}"),
        ));
    };
    for w in &sim.ws {
        // Only a browser-side hang-up shows here; a socket serve killed ends
        // normally as far as the tunnel is concerned.
        if w.cause == Cause::DownstreamClosed && sim.clients[w.client].via == Via::Tunnel {
            // The edge notices first; dispatch hears of it a few ms later.
            let t = w.end - 2 * MS - (w.eport as i64 % 50) * MS;
            failed(t, &w.ray, w.conn, "/ws", "ws");
        }
    }
    for h in &sim.http {
        if h.err == Some(Upstream::Canceled) {
            failed(h.end - 2 * MS, &h.ray, h.conn, &h.path, "http");
        }
    }
    lines.sort_by_key(|(t, _)| *t);
    let mut data = Vec::new();
    let mut outs = Vec::new();
    for (t, text) in lines {
        let line = format!("{} {text}", time::rfc3339(t));
        data.extend_from_slice(line.as_bytes());
        data.push(b'\n');
        outs.push(CloudflaredOut { t, line });
    }
    (data, outs)
}

// ---------------------------------------------------------------------------------
// Counting what was written.

/// Everything the README and expected.json state, counted from the rendered files.
#[derive(Debug, Default)]
struct Stats {
    dispatch_entries: u64,
    dispatch_binary: u64,
    ws_close: BTreeMap<&'static str, u64>,
    ws_close_short: BTreeMap<&'static str, u64>,
    dispatch_sig: BTreeMap<&'static str, u64>,
    ws_close_direct: u64,
    traefik_lines: u64,
    traefik_status: BTreeMap<u16, u64>,
    traefik_ws: u64,
    traefik_ws_101: u64,
    traefik_ws_short: u64,
    traefik_ws_101_short: u64,
    traefik_ws_failed: u64,
    cloudflared_lines: u64,
    cloudflared_sig: BTreeMap<&'static str, u64>,
    cloudflared_failed_ws: u64,
    cloudflared_failed_http: u64,
    cloudflared_churn: u64,
    bursts: Vec<Burst>,
    truth: BTreeMap<&'static str, u64>,
    truth_short: BTreeMap<&'static str, u64>,
    /// Short `downstream_closed` dispatch sockets in a burst second / outside.
    short_downstream_in_burst: u64,
    short_downstream_outside_burst: u64,
    /// StallCancel sockets per burst second (µs of the second).
    stall_cancels: BTreeMap<i64, u64>,
    users: u64,
    clients: u64,
    wizard_clients: u64,
    mobile_clients: u64,
    direct_clients: u64,
    storm_handshake_resets: u64,
    storm_non101: u64,
    manual_retry_502: u64,
    refused_dials: u64,
    client_aborts: u64,
}

fn count(
    sim: &Sim,
    dispatch: &[DispatchOut],
    traefik: &[TraefikOut],
    cloudflared: &[CloudflaredOut],
) -> Stats {
    let mut st = Stats::default();
    let contains = crate::common::contains;
    let mut bursts = Bursts::default();

    for d in dispatch {
        st.dispatch_entries += 1;
        if !crate::journald::is_text_value(&d.message) {
            st.dispatch_binary += 1;
        }
        for sig in crate::common::TEXT_SIGNATURES {
            if contains(&d.message, sig) {
                *st.dispatch_sig.entry(sig).or_default() += 1;
            }
        }
        bursts.text(DISPATCH_FILE, d.realtime, &d.message);
    }
    for cause in Cause::ALL {
        st.ws_close.insert(cause.as_str(), 0);
        st.ws_close_short.insert(cause.as_str(), 0);
    }
    for t in Truth::ALL {
        st.truth.insert(t.as_str(), 0);
        st.truth_short.insert(t.as_str(), 0);
    }
    for t in traefik {
        st.traefik_lines += 1;
        *st.traefik_status.entry(t.status).or_default() += 1;
        if t.path == "/ws" {
            st.traefik_ws += 1;
            let short = (t.dur_ms as u64) < SHORT_MS;
            st.traefik_ws_short += u64::from(short);
            if t.status == 101 {
                st.traefik_ws_101 += 1;
                st.traefik_ws_101_short += u64::from(short);
            } else {
                st.traefik_ws_failed += 1;
            }
        }
        bursts.status(TRAEFIK_FILE, t.start, t.status);
    }
    for c in cloudflared {
        st.cloudflared_lines += 1;
        for sig in crate::common::TEXT_SIGNATURES {
            if c.line.contains(sig) {
                *st.cloudflared_sig.entry(sig).or_default() += 1;
            }
        }
        bursts.text(CLOUDFLARED_FILE, c.t, c.line.as_bytes());
        if c.line.contains(" Request failed ") {
            if c.line.ends_with(" type=ws") {
                st.cloudflared_failed_ws += 1;
            } else if c.line.ends_with(" type=http") {
                st.cloudflared_failed_http += 1;
            }
        }
        if c.line.contains(" Connection terminated ") {
            st.cloudflared_churn += 1;
        }
    }

    st.bursts = bursts.finish();

    // Dispatch-side socket facts come from the ws close lines as rendered.
    let dispatch_burst_secs: Vec<(i64, u64)> = st
        .bursts
        .iter()
        .filter(|b| b.source == DISPATCH_FILE && b.signature == "context canceled")
        .map(|b| (b.start, b.seconds))
        .collect();
    let in_burst = |t: i64| {
        dispatch_burst_secs
            .iter()
            .any(|&(s, n)| (s..s + n as i64 * SEC).contains(&(t.div_euclid(SEC) * SEC)))
    };
    for d in dispatch {
        let Some((dur_ms, cause)) = parse_close(&d.message) else {
            continue;
        };
        *st.ws_close.get_mut(cause).expect("known cause") += 1;
        if dur_ms < SHORT_MS {
            *st.ws_close_short.get_mut(cause).expect("known cause") += 1;
            if cause == "downstream_closed" {
                if in_burst(d.realtime) {
                    st.short_downstream_in_burst += 1;
                } else {
                    st.short_downstream_outside_burst += 1;
                }
            }
        }
    }

    // Ground truth, from the events.
    for w in &sim.ws {
        let short = ((w.end - w.start) / MS) < SHORT_MS as i64;
        *st.truth.get_mut(w.truth.as_str()).expect("known truth") += 1;
        if short {
            *st.truth_short
                .get_mut(w.truth.as_str())
                .expect("known truth") += 1;
        }
        if w.truth == Truth::StallCancel {
            *st.stall_cancels
                .entry(w.end.div_euclid(SEC) * SEC)
                .or_default() += 1;
        }
        if sim.clients[w.client].via == Via::Direct {
            st.ws_close_direct += 1;
        }
    }
    for h in &sim.http {
        let wizard = sim.clients[h.client].user == WIZARD;
        match h.err {
            Some(Upstream::Reset(_)) if h.path == "/ws" && wizard => st.storm_handshake_resets += 1,
            Some(Upstream::Reset(_)) if wizard => st.manual_retry_502 += 1,
            Some(Upstream::Non101) => st.storm_non101 += 1,
            Some(Upstream::Refused) => st.refused_dials += 1,
            Some(Upstream::Canceled) => st.client_aborts += 1,
            _ => {}
        }
    }
    st.users = USERS.len() as u64;
    st.clients = sim.clients.len() as u64;
    st.wizard_clients = sim.clients.iter().filter(|c| c.user == WIZARD).count() as u64;
    st.mobile_clients = sim
        .clients
        .iter()
        .filter(|c| c.profile == Profile::Mobile)
        .count() as u64;
    st.direct_clients = sim.clients.iter().filter(|c| c.via == Via::Direct).count() as u64;
    st
}

/// `(dur_ms, cause)` of a rendered `ws close` MESSAGE.
fn parse_close(message: &[u8]) -> Option<(u64, &'static str)> {
    let text = std::str::from_utf8(message).ok()?;
    let rest = text.split_once(" ws close dur_ms=")?.1;
    let (dur, rest) = rest.split_once(" cause=")?;
    let cause = rest.split(' ').next()?;
    let cause = Cause::ALL
        .iter()
        .map(|c| c.as_str())
        .find(|c| *c == cause)?;
    Some((dur.parse().ok()?, cause))
}

// ---------------------------------------------------------------------------------
// The story (`t3-drop.md`) and `t3-drop.expected.json`.

fn get<K: Ord>(m: &BTreeMap<K, u64>, k: &K) -> u64 {
    m.get(k).copied().unwrap_or(0)
}

fn sum<K>(m: &BTreeMap<K, u64>) -> u64 {
    m.values().sum()
}

fn expected_json(st: &Stats, tl: &Timeline) -> String {
    let stall: BTreeMap<String, u64> = st
        .stall_cancels
        .iter()
        .map(|(k, v)| (time::rfc3339(*k), *v))
        .collect();
    format!(
        r#"{{
  "sample": {name},
  "note": "Generated by coroner-gen (crates/gen/src/t3_drop.rs); counted from the files. Burst end is exclusive.",
  "window": {{"start": {w0}, "end": {w1}}},
  "incident": {{"start": {stall}, "end": {kill}, "user": "wizard", "serve_port": 3773}},
  "short_ms": {short_ms},
  "burst_threshold": {threshold},
  "sources": {{
    {df}: {{"format": "journald-export", "compression": "none", "records": {de}, "binary_messages": {db}}},
    {tf}: {{"format": "plain/traefik-clf", "compression": "gzip", "records": {tlines}}},
    {cf}: {{"format": "plain/cloudflared", "compression": "zstd", "records": {clines}}}
  }},
  "dispatch": {{
    "ws_close": {ws_close},
    "ws_close_total": {ws_close_total},
    "ws_close_short": {ws_close_short},
    "ws_close_short_total": {ws_close_short_total},
    "ws_close_without_traefik_line": {direct},
    "signatures": {dsig}
  }},
  "traefik": {{
    "lines": {tlines},
    "status": {tstatus},
    "ws_lines": {tws},
    "ws_101": {tws101},
    "ws_not_upgraded": {twsfail},
    "ws_short": {twsshort},
    "ws_101_short": {tws101short}
  }},
  "cloudflared": {{
    "lines": {clines},
    "signatures": {csig},
    "request_failed_ws": {cfws},
    "request_failed_http": {cfhttp},
    "quic_connection_terminated": {churn}
  }},
  "bursts": [
{bursts}
  ],
  "drops": {{
    "short_ws_close": {ws_close_short_total},
    "short_downstream_closed_in_burst": {sdin},
    "short_downstream_closed_outside_burst": {sdout},
    "short_upstream_closed": {sup},
    "last_mile": {last_mile}
  }},
  "truth": {{
    "ws_close": {truth},
    "ws_close_short": {truth_short},
    "stall_cancels_per_second": {stall_secs},
    "storm_handshake_resets": {hs},
    "storm_non_101": {non101},
    "manual_retry_502": {manual},
    "refused_dials": {refused},
    "client_aborted_requests": {aborts}
  }}
}}
"#,
        name = json_str(NAME),
        w0 = json_str(&time::rfc3339(tl.w0)),
        w1 = json_str(&time::rfc3339(tl.w1)),
        stall = json_str(&time::rfc3339(tl.stall)),
        kill = json_str(&time::rfc3339(tl.kill)),
        short_ms = SHORT_MS,
        threshold = BURST_THRESHOLD,
        df = json_str(DISPATCH_FILE),
        tf = json_str(TRAEFIK_FILE),
        cf = json_str(CLOUDFLARED_FILE),
        de = st.dispatch_entries,
        db = st.dispatch_binary,
        tlines = st.traefik_lines,
        clines = st.cloudflared_lines,
        ws_close = json_counts(&st.ws_close),
        ws_close_total = sum(&st.ws_close),
        ws_close_short = json_counts(&st.ws_close_short),
        ws_close_short_total = sum(&st.ws_close_short),
        direct = st.ws_close_direct,
        dsig = json_counts(&st.dispatch_sig),
        tstatus = json_counts(&st.traefik_status),
        tws = st.traefik_ws,
        tws101 = st.traefik_ws_101,
        twsfail = st.traefik_ws_failed,
        twsshort = st.traefik_ws_short,
        tws101short = st.traefik_ws_101_short,
        csig = json_counts(&st.cloudflared_sig),
        cfws = st.cloudflared_failed_ws,
        cfhttp = st.cloudflared_failed_http,
        churn = st.cloudflared_churn,
        bursts = crate::common::bursts_json(&st.bursts),
        sdin = st.short_downstream_in_burst,
        sdout = st.short_downstream_outside_burst,
        sup = get(&st.ws_close_short, &"upstream_closed"),
        last_mile = get(&st.truth_short, &"last_mile"),
        truth = json_counts(&st.truth),
        truth_short = json_counts(&st.truth_short),
        stall_secs = json_counts(&stall),
        hs = st.storm_handshake_resets,
        non101 = st.storm_non101,
        manual = st.manual_retry_502,
        refused = st.refused_dials,
        aborts = st.client_aborts,
    )
}

fn readme(st: &Stats, tl: &Timeline) -> String {
    let mut s = String::new();
    let hms = time::hms;
    let bursts_of = |source: &str, sig: &str| -> String {
        let v: Vec<String> = st
            .bursts
            .iter()
            .filter(|b| b.source == source && b.signature == sig)
            .map(|b| {
                if b.seconds == 1 {
                    format!("{} ({} events)", hms(b.start), b.events)
                } else {
                    format!(
                        "{}–{} ({} s, {} events, peak {})",
                        hms(b.start),
                        hms(b.start + (b.seconds as i64 - 1) * SEC),
                        b.seconds,
                        b.events,
                        b.peak
                    )
                }
            })
            .collect();
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    let stall_cancels: Vec<String> = st
        .stall_cancels
        .iter()
        .map(|(t, n)| format!("{n} at {}", hms(*t)))
        .collect();
    let _ = write!(
        s,
        r#"# `t3-drop`: is it infra or my network? (2026-07-02)

Generated by `coroner-gen samples` from `crates/gen/src/t3_drop.rs`. Do not edit by
hand: change the generator and regenerate. Every number below is counted from the files by
the generator, so it is true of these exact bytes; `t3-drop.expected.json` (next to this
file) holds the same numbers for tests. The directory `t3-drop/` holds only the log files.

It reproduces the t3 drop-attribution runbook: one user's `t3 serve` is livelocked by a
memory hog, every socket of that user dies in the same second, the reconnects die against the
starved server, while other users' phones drop one socket at a time on bad networks. The
question coroner has to answer: which short sockets were the last mile, and which were the
server?

## Files

| file | what it is | records |
|---|---|---|
| `{DISPATCH_FILE}` | `journalctl -u t3-dispatch -o export` on the devvm (`_HOSTNAME={DEVVM}`): the Go reverse proxy in front of every user's `t3 serve`; stdout lines with the Go `log` prefix. {binary} MESSAGEs are binary (trailing `\r`). | {de} entries |
| `{TRAEFIK_FILE}` | Traefik v3 access log, CLF "common" format, filtered to router `{ROUTER}`; client is the cloudflared pod `{CLOUDFLARED_POD_IP}`; line time = request start, lines in the order written (request end); `RequestCount` has gaps (other routers). | {tl} lines |
| `{CLOUDFLARED_FILE}` | `kubectl logs` of the single cloudflared pod (console text, UTC seconds): the pod's startup at {cfstart} (before the window), then the window. | {cl} lines |

Path: browser → Cloudflare edge → cloudflared → Traefik → `t3-dispatch` (`{DISPATCH_URL}`) →
the user's `t3 serve` on `127.0.0.1:37xx` (wizard: 3773). {users} users, {clients} clients
(browser tabs, phones): wizard {wizard} (tabs on two machines, a phone and a tablet),
{mobile} phones on flaky networks in all, {direct} tailnet clients attached straight to dispatch
(no Cloudflare, no Traefik).

## Story (UTC, window {w0}–{w1})

- All along: long healthy sessions (10–120 min) end `graceful` or `downstream_closed`;
  phones on bad networks drop one socket at a time (`downstream_closed`, often short): the
  **last-mile drops**; a few API calls are aborted by the browser (Traefik 499, dispatch
  `context canceled`, cloudflared `type=http`).
- {stall}: an agent's `ugrep` plateaus inside `t3-serve@wizard`'s MemoryHigh..MemoryMax
  band; wizard's `t3 serve` (port 3773) stops answering. Nothing is logged at that moment.
- 20–30 s later every wizard tab's heartbeat watchdog fires: **same-second mass cancel** at
  dispatch ({stall_cancels}), each with the cloudflared `ended abruptly` pair.
- Then the reconnect storm until about {storm}: upgrades that serve completes and then resets
  (`upstream_closed` + `connection reset by peer`, short), {hs} handshakes reset outright
  (Traefik `GET /ws` 502, no `ws close`), {non101} answered `503` (dispatch logs the raw
  status line with its `\r`: the binary MESSAGEs). Then wizard's clients give up.
- {retries}: wizard reloads a tab by hand: `GET /` 502 + a reset line ({manual} in all).
- {churn}: QUIC idle timeouts of tunnel connection 1 (WRN, then re-registered): no request
  rides an idle connection, so no drop.
- {restart}: bram's `t3 serve` restarts (unrelated): his open sockets end `upstream_closed`
  with no error line (clean EOF), then {refused} dials are refused (Traefik `GET /ws` 502) until it is back.
- {kill}: the hog is SIGKILLed; wizard reloads his tabs over the next minutes.

## What a correct analysis finds

Short = under {short_s} s (`--short-ms {SHORT_MS}`); burst = a maximal run of seconds each with
at least {BURST_THRESHOLD} matches of one signature (a burst's time is the record's own time:
journal `__REALTIME_TIMESTAMP`, Traefik's start stamp, cloudflared's stamp).

**dispatch `ws close`**: {wc_total} in all: {wc_down} `downstream_closed`, {wc_up} `upstream_closed`,
{wc_grace} `graceful`. Short: {sh_total} ({sh_down} `downstream_closed`, {sh_up} `upstream_closed`,
{sh_grace} `graceful`). {direct_closes} of them have no Traefik line (tailnet clients).

**dispatch proxy errors**: {d_cancel} `context canceled`, {d_reset} `connection reset by peer`,
{d_refused} `connection refused`.

**Traefik**: {tl} lines; {tws} `GET /ws` lines, {tws101} upgraded (101), {twsfail} not
upgraded (502/503); short `/ws`: {twsshort} of all, {tws101short} of the 101s. Status counts: {tstatus}.

**cloudflared**: {cl} lines; {cfws} `Request failed ... type=ws` (each paired with an
`ERR  error="Incoming request ended abruptly: context canceled"` line, so {c_cancel} lines
contain `context canceled`), {cfhttp} `type=http`, {churn_n} `Connection terminated` (QUIC churn).
cloudflared logs no duration.

**Bursts**:
- dispatch `context canceled`: {b_dc}
- cloudflared `context canceled`: {b_cc}
- dispatch `connection reset by peer`: {b_dr}
- Traefik 502: {b_t502}
- all sources, `context canceled`: {b_all}

(`t3-drop.expected.json` lists every burst of every built-in signature, per source and `*`.)

**Drops** (short dispatch sockets, {sh_total}):
- {sdin} short `downstream_closed` inside the cancel bursts: wizard's tabs that had reconnected
  shortly before the stall (cause: the serve stall, shared by the whole burst);
- {sdout} short `downstream_closed` outside any burst: the **last-mile drops** (ground truth:
  {lm} phone drops);
- {sh_up} short `upstream_closed`: {sr_short} of them the serve stall (wizard's reconnect storm,
  port 3773), {rs_short} bram's serve restart.

Ground truth per socket (`truth` in `t3-drop.expected.json`): {truth}; short: {truth_short}.

## Exact wordings

dispatch MESSAGE (after the `2026/07/02 15:42:17 ` Go `log` prefix):
```
ws close dur_ms=<ms> cause=<downstream_closed|upstream_closed|graceful> user=<user>
http: proxy error: context canceled
http: proxy error: read tcp 127.0.0.1:<port>->127.0.0.1:<serve port>: read: connection reset by peer
http: proxy error: dial tcp 127.0.0.1:<serve port>: connect: connection refused
ws upgrade: upstream 127.0.0.1:<serve port> sent non-101 status: HTTP/1.1 503 Service Unavailable<CR>
```
Traefik:
```
{CLOUDFLARED_POD_IP} - - [<start>] "GET /ws HTTP/1.1" 101 0 "-" "-" <count> "{ROUTER}" "{DISPATCH_URL}" <lifetime>ms
```
cloudflared (note the two spaces after the first `ERR`):
```
<time> ERR  error="Incoming request ended abruptly: context canceled" cfRay=<16 hex>-LHR event=1 originService={ORIGIN_SERVICE}
<time> ERR Request failed error="Incoming request ended abruptly: context canceled" connIndex=<n> dest=https://{HOST}/ws event=0 ip=<edge ip> type=ws
```
"#,
        binary = st.dispatch_binary,
        de = st.dispatch_entries,
        tl = st.traefik_lines,
        cl = st.cloudflared_lines,
        cfstart = time::rfc3339(tl.cloudflared_start),
        users = st.users,
        clients = st.clients,
        wizard = st.wizard_clients,
        mobile = st.mobile_clients,
        direct = st.direct_clients,
        w0 = hms(tl.w0),
        w1 = hms(tl.w1),
        stall = hms(tl.stall),
        stall_cancels = stall_cancels.join(", "),
        storm = hms(tl.storm_end),
        hs = st.storm_handshake_resets,
        non101 = st.storm_non101,
        retries = tl
            .manual_retries
            .iter()
            .map(|t| hms(*t)[..5].to_owned())
            .collect::<Vec<_>>()
            .join(", "),
        manual = st.manual_retry_502,
        churn = tl
            .churn
            .iter()
            .map(|t| hms(*t))
            .collect::<Vec<_>>()
            .join(", "),
        restart = hms(tl.restart),
        refused = st.refused_dials,
        kill = hms(tl.kill),
        short_s = SHORT_MS / 1000,
        wc_total = sum(&st.ws_close),
        wc_down = get(&st.ws_close, &"downstream_closed"),
        wc_up = get(&st.ws_close, &"upstream_closed"),
        wc_grace = get(&st.ws_close, &"graceful"),
        sh_total = sum(&st.ws_close_short),
        sh_down = get(&st.ws_close_short, &"downstream_closed"),
        sh_up = get(&st.ws_close_short, &"upstream_closed"),
        sh_grace = get(&st.ws_close_short, &"graceful"),
        direct_closes = st.ws_close_direct,
        d_cancel = get(&st.dispatch_sig, &"context canceled"),
        d_reset = get(&st.dispatch_sig, &"connection reset by peer"),
        d_refused = get(&st.dispatch_sig, &"connection refused"),
        tws = st.traefik_ws,
        tws101 = st.traefik_ws_101,
        twsfail = st.traefik_ws_failed,
        twsshort = st.traefik_ws_short,
        tws101short = st.traefik_ws_101_short,
        tstatus = st
            .traefik_status
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        cfws = st.cloudflared_failed_ws,
        c_cancel = get(&st.cloudflared_sig, &"context canceled"),
        cfhttp = st.cloudflared_failed_http,
        churn_n = st.cloudflared_churn,
        b_dc = bursts_of(DISPATCH_FILE, "context canceled"),
        b_cc = bursts_of(CLOUDFLARED_FILE, "context canceled"),
        b_dr = bursts_of(DISPATCH_FILE, "connection reset by peer"),
        b_t502 = bursts_of(TRAEFIK_FILE, "http 502"),
        b_all = bursts_of("*", "context canceled"),
        sdin = st.short_downstream_in_burst,
        sdout = st.short_downstream_outside_burst,
        lm = get(&st.truth_short, &"last_mile"),
        sr_short = get(&st.truth_short, &"stall_reset"),
        rs_short = get(&st.truth_short, &"serve_restart"),
        truth = st
            .truth
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        truth_short = st
            .truth_short
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    s
}

// ---------------------------------------------------------------------------------

/// Generates the whole sample in memory.
pub fn build() -> io::Result<Bundle> {
    let mut rng = SplitMix64::new(SEED);
    let mut sim_rng = rng.fork();
    let mut dispatch_rng = rng.fork();
    let mut traefik_rng = rng.fork();
    let mut cloudflared_rng = rng.fork();

    let mut sim = Sim::new(&mut sim_rng);
    sim.run(&mut sim_rng);

    let (dispatch, d_out) = render_dispatch(&sim, &mut dispatch_rng)?;
    let (traefik, t_out) = render_traefik(&sim, &mut traefik_rng);
    let (cloudflared, c_out) = render_cloudflared(&sim, &mut cloudflared_rng);
    let stats = count(&sim, &d_out, &t_out, &c_out);

    Ok(Bundle {
        files: vec![
            (DISPATCH_FILE, dispatch),
            (TRAEFIK_FILE, out::gzip(&traefik)?),
            (CLOUDFLARED_FILE, out::zstd(&cloudflared, 3)?),
        ],
        story: readme(&stats, &sim.tl),
        expected: expected_json(&stats, &sim.tl),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journald::reference;
    use std::io::Read;

    fn bundle() -> Bundle {
        build().expect("build")
    }

    fn traefik_text(b: &Bundle) -> String {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(b.file(TRAEFIK_FILE).unwrap())
            .read_to_string(&mut s)
            .expect("gzip of valid UTF-8");
        s
    }

    fn cloudflared_text(b: &Bundle) -> String {
        let raw = zstd::stream::decode_all(b.file(CLOUDFLARED_FILE).unwrap()).expect("zstd");
        String::from_utf8(raw).expect("UTF-8")
    }

    /// A number in expected.json by its key path, found textually (the JSON is ours).
    fn expected_u64(json: &str, section: &str, key: &str) -> u64 {
        let sec = json
            .split_once(&format!("\"{section}\": {{"))
            .expect(section)
            .1;
        let v = sec.split_once(&format!("\"{key}\": ")).expect(key).1;
        v.chars()
            .take_while(|c| c.is_ascii_digit())
            .collect::<String>()
            .parse()
            .unwrap()
    }

    /// `CLIENT - - [dd/Mon/yyyy:hh:mm:ss +0000] "METHOD path HTTP/1.1" status size "-" "-" count "router" "url" Nms`
    fn clf_fields(line: &str) -> Option<(&str, &str, u16, u64)> {
        let (client, rest) = line.split_once(" - - [")?;
        if !client.starts_with("10.") {
            return None;
        }
        let (ts, rest) = rest.split_once("] \"")?;
        let b = ts.as_bytes();
        let ok_ts = ts.len() == 26
            && b[2] == b'/'
            && b[6] == b'/'
            && b[11] == b':'
            && ts.ends_with(" +0000")
            && b[..2].iter().chain(&b[7..11]).all(u8::is_ascii_digit);
        if !ok_ts {
            return None;
        }
        let (req, rest) = rest.split_once("\" ")?;
        let mut req = req.split(' ');
        let (method, path, proto) = (req.next()?, req.next()?, req.next()?);
        if req.next().is_some() || proto != "HTTP/1.1" || !path.starts_with('/') {
            return None;
        }
        let mut f = rest.split(' ');
        let status: u16 = f.next()?.parse().ok()?;
        let size: u64 = f.next()?.parse().ok()?;
        if f.next()? != "\"-\"" || f.next()? != "\"-\"" {
            return None;
        }
        let _count: u64 = f.next()?.parse().ok()?;
        if f.next()? != format!("\"{ROUTER}\"") || f.next()? != format!("\"{DISPATCH_URL}\"") {
            return None;
        }
        f.next()?.strip_suffix("ms")?.parse::<u64>().ok()?;
        if f.next().is_some() {
            return None;
        }
        Some((method, path, status, size))
    }

    #[test]
    fn traefik_lines_are_clf_and_sorted_by_end() {
        let b = bundle();
        let text = traefik_text(&b);
        assert!(text.ends_with('\n'));
        let mut n = 0;
        let mut ws = 0;
        for line in text.lines() {
            let (_, path, status, _) =
                clf_fields(line).unwrap_or_else(|| panic!("not CLF: {line}"));
            assert!(
                [101, 200, 304, 404, 499, 502, 503].contains(&status),
                "{line}"
            );
            ws += u64::from(path == "/ws");
            n += 1;
        }
        let json = b.expected.clone();
        assert_eq!(n, expected_u64(&json, "traefik", "lines"));
        assert_eq!(ws, expected_u64(&json, "traefik", "ws_lines"));
        assert!(n > 1_000, "a few thousand lines expected, got {n}");
    }

    #[test]
    fn cloudflared_lines_shape() {
        let b = bundle();
        let text = cloudflared_text(&b);
        let mut prev = String::new();
        for line in text.lines() {
            let (ts, rest) = line.split_once(' ').unwrap();
            assert_eq!(ts.len(), 20, "{line}");
            assert!(ts.starts_with("2026-07-02T") && ts.ends_with('Z'), "{line}");
            assert!(ts >= prev.as_str(), "out of order: {line}");
            prev = ts.to_owned();
            let lvl = &rest[..4];
            assert!(["INF ", "WRN ", "ERR "].contains(&lvl), "{line}");
        }
        assert!(
            text.contains(
                " ERR  error=\"Incoming request ended abruptly: context canceled\" cfRay="
            )
        );
        assert!(text.contains(" type=ws\n"));
    }

    #[test]
    fn export_parses_and_agrees_with_go_timestamps() {
        let b = bundle();
        let entries = reference::parse(b.file(DISPATCH_FILE).unwrap()).expect("well-formed export");
        let json = b.expected.clone();
        assert_eq!(
            entries.len() as u64,
            expected_u64(&json, DISPATCH_FILE, "records")
        );
        let mut prev = 0;
        let mut binary = 0;
        for e in &entries {
            let names: Vec<&str> = e.fields().iter().take(4).map(|(n, _)| n.as_str()).collect();
            assert_eq!(
                names,
                [
                    "__CURSOR",
                    "__REALTIME_TIMESTAMP",
                    "__MONOTONIC_TIMESTAMP",
                    "_BOOT_ID"
                ]
            );
            let msg = e.get("MESSAGE").expect("MESSAGE in every entry");
            binary += u64::from(!crate::journald::is_text_value(msg));
            let rt: i64 = std::str::from_utf8(e.get("__REALTIME_TIMESTAMP").unwrap())
                .unwrap()
                .parse()
                .unwrap();
            assert!(rt > prev, "entries in time order");
            prev = rt;
            assert!(
                msg.starts_with(time::go_log(rt).as_bytes()),
                "{:?}",
                String::from_utf8_lossy(msg)
            );
            let cursor = std::str::from_utf8(e.get("__CURSOR").unwrap()).unwrap();
            assert!(cursor.contains(&format!(";t={rt:x};")), "{cursor}");
        }
        assert!(binary >= 1);
        assert_eq!(
            binary,
            expected_u64(&json, DISPATCH_FILE, "binary_messages")
        );
    }

    #[test]
    fn story_numbers_hold() {
        let b = bundle();
        let json = b.expected.clone();
        // The mass cancel: two dispatch bursts of context canceled, >= 8 in one second.
        let dispatch_cancel_bursts: Vec<&str> = json
            .lines()
            .filter(|l| {
                l.contains(&format!(
                    "\"source\": \"{DISPATCH_FILE}\", \"signature\": \"context canceled\""
                ))
            })
            .collect();
        assert_eq!(
            dispatch_cancel_bursts.len(),
            2,
            "{dispatch_cancel_bursts:?}"
        );
        assert!(dispatch_cancel_bursts[0].contains("\"start\": \"2026-07-02T15:42:17Z\""));
        assert!(dispatch_cancel_bursts[1].contains("\"start\": \"2026-07-02T15:42:23Z\""));
        for l in &dispatch_cancel_bursts {
            let peak: u64 = l
                .split("\"peak\": ")
                .nth(1)
                .unwrap()
                .trim_end_matches(['}', ','])
                .parse()
                .unwrap();
            assert!(peak >= 8, "{l}");
        }
        // Every ws close via the tunnel has its Traefik line; the extra /ws lines are
        // the failed upgrades.
        let closes = expected_u64(&json, "dispatch", "ws_close_total");
        let direct = expected_u64(&json, "dispatch", "ws_close_without_traefik_line");
        assert!(direct >= 1);
        assert_eq!(closes - direct, expected_u64(&json, "traefik", "ws_101"));
        assert!(expected_u64(&json, "drops", "last_mile") >= 10);
        assert!(expected_u64(&json, "drops", "short_upstream_closed") >= 20);
    }
}
