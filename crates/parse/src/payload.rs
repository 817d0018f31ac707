//! One record's message to a parsed payload: [`detect_payload`](crate::detect::detect_payload)'s
//! cheap guess, confirmed by the full parser of that format. (After an access line, the next
//! is parsed as one first and detection's remaining tests are read off the record: the same
//! result, the line read once.)
//!
//! A record *is* of payload X when X's full parser accepts it. Detection only looks at the
//! shape of the first bytes, so a truncated access line or a cloudflared line without its
//! level is detected as X but refused by the parser: it then counts as [`Payload::Text`]
//! and keeps its bytes as free text (inside journald a free-text message is normal; in a
//! plain file dominated by one payload it is an unparsed record, see `sources.parquet`).
//!
//! The parser keeps what a run of records from one source shares: the last timestamps
//! parsed ([`TimeCache`]), the assumed UTC offset for formats without a zone, and the
//! compiled `--nginx-format`. It allocates nothing per record.
//!
//! ```
//! use coroner_parse::format::Payload;
//! use coroner_parse::payload::{Parsed, PayloadParser};
//!
//! let mut parser = PayloadParser::new(0, None);
//! let line = br#"192.0.2.7 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.5.0""#;
//! let (payload, parsed) = parser.parse(line);
//! assert_eq!(payload, Payload::NginxAccess);
//! let Parsed::NginxAccess(rec) = parsed else { panic!() };
//! assert_eq!(rec.status, Some(200));
//! assert_eq!(parsed.time(), Some(1_728_568_536_000_000));
//!
//! // Shaped like an access line, but cut before its status: free text.
//! let (payload, _) = parser.parse(br#"192.0.2.7 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 2"#);
//! assert_eq!(payload, Payload::Text);
//! ```

use crate::detect::{confirms_access, confirms_traefik, later_payload, leading_payload};
use crate::format::Payload;
use crate::formats::{
    clf, cloudflared, cloudflared_json, golog, gunicorn, kernel, logfmt, lograge, nginx_error,
    nginx_format, npmlog, pino, systemd, traefik_json,
};
use crate::timestamp::{Micros, TimeCache, TimeContext, leading_time};

/// A message parsed by the parser of its payload.
#[derive(Debug, Clone)]
pub enum Parsed<'a> {
    TraefikClf(clf::TraefikRecord<'a>),
    TraefikJson(traefik_json::TraefikJsonRecord<'a>),
    Cloudflared(cloudflared::CloudflaredRecord<'a>),
    CloudflaredJson(cloudflared_json::CloudflaredJsonRecord<'a>),
    NginxAccess(clf::AccessRecord<'a>),
    /// An access line read through the user's `--nginx-format`.
    NginxCustom(nginx_format::NginxRecord<'a>),
    NginxError(nginx_error::NginxErrorRecord<'a>),
    MastodonStreaming(npmlog::NpmlogRecord<'a>),
    MastodonStreamingJson(pino::PinoRecord<'a>),
    RailsLograge(lograge::RailsRecord<'a>),
    Gunicorn(gunicorn::GunicornRecord<'a>),
    Kernel(kernel::KernelRecord<'a>),
    Systemd(systemd::SystemdRecord<'a>),
    Logfmt(logfmt::LogfmtRecord<'a>),
    GoLog(golog::GoLogRecord<'a>),
    /// Free text: no parser claimed it.
    Text,
}

impl Parsed<'_> {
    /// The time the payload itself states, if it has one (npmlog, kernel and systemd lines
    /// carry none: their envelope's time is the record's).
    pub fn time(&self) -> Option<Micros> {
        match self {
            Parsed::TraefikClf(r) => r.clf.time,
            Parsed::TraefikJson(r) => r.when(),
            Parsed::CloudflaredJson(r) => r.time,
            Parsed::MastodonStreamingJson(r) => r.time,
            Parsed::Cloudflared(r) => r.time,
            Parsed::NginxAccess(r) => r.time,
            Parsed::NginxCustom(r) => r.time(),
            Parsed::NginxError(r) => r.time,
            Parsed::RailsLograge(r) => r.time,
            Parsed::Gunicorn(r) => r.time,
            Parsed::Logfmt(r) => r.time,
            Parsed::GoLog(r) => r.time,
            Parsed::MastodonStreaming(_) | Parsed::Kernel(_) | Parsed::Systemd(_) => None,
            Parsed::Text => None,
        }
    }
}

/// The request of an access-log record: what per-endpoint analyses and templates key on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// `None` when the request line was not `METHOD target PROTOCOL` (a probe, `-`).
    pub method: Option<&'a [u8]>,
    /// Path and query as written (Traefik JSON: still JSON-escaped).
    pub target: Option<&'a [u8]>,
    pub status: Option<u16>,
}

impl<'a> Parsed<'a> {
    /// The request, for the access-log payloads (nginx, apache, Traefik CLF and JSON).
    pub fn request(&self) -> Option<Request<'a>> {
        let (method, target, status) = match self {
            Parsed::NginxAccess(r) => (r.method, r.target, r.status),
            Parsed::TraefikClf(r) => (r.clf.method, r.clf.target, r.clf.status),
            Parsed::NginxCustom(r) => (r.method(), r.target(), r.status()),
            Parsed::TraefikJson(r) => (
                r.request_method.map(|m| m.raw()),
                r.request_path.map(|p| p.raw()),
                r.downstream_status,
            ),
            _ => return None,
        };
        Some(Request {
            method,
            target,
            status,
        })
    }
}

/// Parses the messages of one source, in order (see the module docs).
#[derive(Debug, Clone)]
pub struct PayloadParser<'f> {
    cache: TimeCache,
    offset_secs: i32,
    nginx: Option<&'f nginx_format::NginxFormat>,
    /// What the previous message was detected as: after an access line (nginx/apache or
    /// Traefik CLF) the next is tried as one first.
    previous: Payload,
}

impl<'f> PayloadParser<'f> {
    /// `offset_secs`: the UTC offset assumed for payloads that write local time without a
    /// zone (nginx error log, gunicorn, Rails, Go `log`). `nginx`: a compiled
    /// `--nginx-format`, tried on every record before detection.
    pub fn new(offset_secs: i32, nginx: Option<&'f nginx_format::NginxFormat>) -> Self {
        PayloadParser {
            cache: TimeCache::new(),
            offset_secs,
            nginx,
            previous: Payload::Text,
        }
    }

    /// The payload of `message` and its parse; `(Payload::Text, Parsed::Text)` when no
    /// parser accepts it.
    pub fn parse<'a>(&mut self, message: &'a [u8]) -> (Payload, Parsed<'a>)
    where
        'f: 'a,
    {
        if let Some(format) = self.nginx
            && let Ok(r) = format.parse(message)
        {
            return (Payload::NginxAccess, Parsed::NginxCustom(r));
        }
        let payload = match leading_payload(message) {
            Some(p) => p,
            None => {
                // After an access line the next is most likely one too: parse it as one and
                // check detection's remaining tests on the record, rather than read the
                // line twice (detection's CLF checks were a quarter of an access line's
                // cost). Other sources never pay for the attempt. The tests hold this to
                // detect_payload-then-parse.
                match self.previous {
                    Payload::NginxAccess => {
                        if let Ok(r) = clf::parse_cached(message, &mut self.cache)
                            && confirms_access(message, &r)
                        {
                            return (Payload::NginxAccess, Parsed::NginxAccess(r));
                        }
                    }
                    Payload::TraefikClf => {
                        if let Ok(r) = clf::parse_traefik_cached(message, &mut self.cache)
                            && confirms_traefik(message, &r)
                        {
                            return (Payload::TraefikClf, Parsed::TraefikClf(r));
                        }
                    }
                    _ => {}
                }
                later_payload(message)
            }
        };
        self.previous = payload;
        let off = self.offset_secs;
        let parsed = match payload {
            Payload::TraefikClf => clf::parse_traefik_cached(message, &mut self.cache)
                .ok()
                .map(Parsed::TraefikClf),
            Payload::TraefikJson => traefik_json::parse_cached(message, &mut self.cache)
                .ok()
                .map(Parsed::TraefikJson),
            Payload::Cloudflared => cloudflared::parse_cached(message, &mut self.cache)
                .ok()
                .map(Parsed::Cloudflared),
            Payload::CloudflaredJson => cloudflared_json::parse_cached(message, &mut self.cache)
                .ok()
                .map(Parsed::CloudflaredJson),
            Payload::NginxAccess => clf::parse_cached(message, &mut self.cache)
                .ok()
                .map(Parsed::NginxAccess),
            Payload::NginxError => nginx_error::parse(message, off)
                .ok()
                .map(Parsed::NginxError),
            Payload::MastodonStreaming => {
                npmlog::parse(message).ok().map(Parsed::MastodonStreaming)
            }
            Payload::MastodonStreamingJson => {
                pino::parse(message).ok().map(Parsed::MastodonStreamingJson)
            }
            Payload::RailsLograge => lograge::parse(message, off).ok().map(Parsed::RailsLograge),
            Payload::Gunicorn => gunicorn::parse(message, off).ok().map(Parsed::Gunicorn),
            Payload::Kernel => kernel::parse(message).ok().map(Parsed::Kernel),
            Payload::Systemd => systemd::parse(message).ok().map(Parsed::Systemd),
            Payload::Logfmt => logfmt::parse(message, off).ok().map(Parsed::Logfmt),
            Payload::GoLog => golog::parse(message, off).ok().map(Parsed::GoLog),
            Payload::Text => None,
        };
        match parsed {
            Some(p) => (payload, p),
            None => (Payload::Text, Parsed::Text),
        }
    }
}

/// The time a message gives its record when the envelope gives none: the payload's own
/// ([`Parsed::time`]), else a time leading the text (free text, `dmesg -T` kernel lines, a
/// logfmt line without a time key).
pub fn record_time(parsed: &Parsed<'_>, message: &[u8], ctx: &TimeContext) -> Option<Micros> {
    parsed.time().or_else(|| leading_time(message, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::json::RawStr;
    use crate::timestamp::YearHint;

    const UTC: TimeContext = TimeContext {
        offset_secs: 0,
        year: YearHint::FirstRecord {
            year: 2021,
            first_month: 1,
        },
    };

    fn s(secs: i64) -> Micros {
        secs * 1_000_000
    }

    #[test]
    fn record_times_of_every_payload() {
        let ctx = UTC;
        let plus2 = TimeContext {
            offset_secs: 7200,
            ..UTC
        };
        let cases: &[(Payload, &str, &TimeContext, Option<Micros>)] = &[
            // `date -u -d '2000-10-10 13:55:36 -0700' +%s` = 971211336
            (
                Payload::NginxAccess,
                r#"192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "-""#,
                &ctx,
                Some(s(971_211_336)),
            ),
            (
                Payload::NginxAccess,
                r#"10.0.0.2, 10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5"#,
                &ctx,
                Some(s(971_211_336)),
            ),
            (
                Payload::TraefikClf,
                r#"10.0.0.1 - - [10/Nov/2009:23:00:00 +0000] "GET / HTTP/1.1" 200 0 "-" "-" 1 "r@file" "http://127.0.0.1:8080" 1ms"#,
                &ctx,
                Some(s(1_257_894_000)),
            ),
            (
                Payload::TraefikClf,
                r#"- - - [-] "- - -" - - "-" "-" - "-" "-" 0ms"#,
                &ctx,
                None,
            ),
            // `date -u -d '2024-07-10 17:08:33 UTC' +%s` = 1720631313
            (
                Payload::Cloudflared,
                "2024-07-10T17:08:33Z ERR Request failed connIndex=0",
                &ctx,
                Some(s(1_720_631_313)),
            ),
            // `date -u -d '2016-10-25 14:49:34 UTC' +%s` = 1477406974: nginx error is local time.
            (
                Payload::NginxError,
                "2016/10/25 16:49:34 [error] 54053#0: *1 open() failed",
                &plus2,
                Some(s(1_477_406_974)),
            ),
            (
                Payload::GoLog,
                "2016/10/25 14:49:34 listening on :8080",
                &ctx,
                Some(s(1_477_406_974)),
            ),
            // `date -u -d '2024-07-05 09:13:44 +0200' +%s` = 1720163624: the zone is in the text.
            (
                Payload::Gunicorn,
                "[2024-07-05 09:13:44 +0200] [3129704] [CRITICAL] WORKER TIMEOUT (pid:3129714)",
                &ctx,
                Some(s(1_720_163_624)),
            ),
            (
                Payload::Gunicorn,
                "[2024-07-05 09:13:44 +0200] [1] [INFO] x",
                &plus2,
                Some(s(1_720_163_624)),
            ),
            (
                Payload::Gunicorn,
                "2024-07-05 09:13:44 [5869] [CRITICAL] WORKER TIMEOUT (pid:5870)",
                &plus2,
                Some(s(1_720_163_624)),
            ),
            (
                Payload::Gunicorn,
                "[2024-07-05 09:13:44.5 +0200] [1] [INFO] x",
                &ctx,
                Some(s(1_720_163_624) + 500_000),
            ),
            // A zone already read is not replaced by a second one after a space.
            (
                Payload::Gunicorn,
                "[2024-07-05T09:13:44+02:00 +0500] [1] [INFO] x",
                &ctx,
                Some(s(1_720_163_624)),
            ),
            // `date -u -d '2024-08-30 07:37:25 UTC' +%s` = 1725003445
            (
                Payload::RailsLograge,
                "I, [2024-08-30T07:37:25.298827 #18754]  INFO -- : [1d856421-3410-4ab7-bcee-298fecc5de03] method=GET path=/ status=200",
                &ctx,
                Some(s(1_725_003_445) + 298_827),
            ),
            (
                Payload::RailsLograge,
                "[1d856421-3410-4ab7-bcee-298fecc5de03] method=GET path=/ status=200",
                &ctx,
                None,
            ),
            // pino epoch ms; `date -u -d '2024-10-12 10:33:57 UTC' +%s` = 1728729237
            (
                Payload::MastodonStreamingJson,
                r#"{"level":"info","time":1728729237552,"pid":1,"hostname":"h","name":"streaming","msg":"Starting stream"}"#,
                &ctx,
                Some(s(1_728_729_237) + 552_000),
            ),
            (
                Payload::MastodonStreamingJson,
                r#"{\"level\":\"info\",\"time\":1728729237552,\"name\":\"streaming\"}\n"#,
                &ctx,
                Some(s(1_728_729_237) + 552_000),
            ),
            (
                Payload::MastodonStreaming,
                "verb 4ee00430-d397-478f-8f8d-46151d8f05cf Starting stream",
                &ctx,
                None,
            ),
            // `date -u -d '2023-11-08 18:37:51 UTC' +%s` = 1699468671
            (
                Payload::CloudflaredJson,
                r#"{"level":"info","time":"2023-11-08T18:37:51Z","message":"Starting tunnel"}"#,
                &ctx,
                Some(s(1_699_468_671)),
            ),
            (
                Payload::CloudflaredJson,
                r#"{"level":"info", "time" : "2023-11-08T18:37:51Z","message":"x"}"#,
                &ctx,
                Some(s(1_699_468_671)),
            ),
            (
                Payload::CloudflaredJson,
                r#"{"level":"info","time":1699468671,"message":"x"}"#,
                &ctx,
                Some(s(1_699_468_671)),
            ),
            // `date -u -d '2024-12-29 11:42:47 UTC' +%s` = 1735472567: StartUTC wins over time.
            (
                Payload::TraefikJson,
                r#"{"ClientHost":"192.0.2.1","StartLocal":"2024-12-29T12:42:47.503803974+01:00","StartUTC":"2024-12-29T11:42:47.503803974Z","time":"2024-12-29T12:42:47+01:00"}"#,
                &ctx,
                Some(s(1_735_472_567) + 503_803),
            ),
            (
                Payload::TraefikJson,
                r#"{"DownstreamStatus":200,"time":"2024-12-29T12:42:47+01:00"}"#,
                &ctx,
                Some(s(1_735_472_567)),
            ),
            // `date -u -d '2023-01-08 12:28:57 UTC' +%s` = 1673180937
            (
                Payload::Logfmt,
                r#"time="2023-01-08T12:28:57Z" level=error msg="x" providerName=docker"#,
                &ctx,
                Some(s(1_673_180_937)),
            ),
            (
                Payload::Logfmt,
                "level=info ts=2023-01-08T12:28:57.5Z caller=main.go:1 msg=up",
                &ctx,
                Some(s(1_673_180_937) + 500_000),
            ),
            (
                Payload::Logfmt,
                "level=info datetime=2023-01-08T12:28:57Z ts=1673180937.25 msg=up",
                &ctx,
                Some(s(1_673_180_937) + 250_000),
            ),
            (Payload::Logfmt, "level=info msg=up id=3", &ctx, None),
            (
                Payload::Text,
                "2023-01-08T12:28:57Z something",
                &ctx,
                Some(s(1_673_180_937)),
            ),
            (
                Payload::Text,
                "2023-01-08 14:28:57,000 INFO python",
                &plus2,
                Some(s(1_673_180_937)),
            ),
            (
                Payload::Text,
                "[2023-01-08 12:28:57] app.INFO: x",
                &ctx,
                Some(s(1_673_180_937)),
            ),
            (
                Payload::Text,
                "2023/01/08 12:28:57 x",
                &ctx,
                Some(s(1_673_180_937)),
            ),
            (
                Payload::Text,
                "Jan 08 12:28:57 host x",
                &TimeContext {
                    offset_secs: 0,
                    year: YearHint::EndsAt {
                        year: 2023,
                        month: 1,
                    },
                },
                Some(s(1_673_180_937)),
            ),
            (Payload::Text, "no time here", &ctx, None),
            (Payload::Text, "", &ctx, None),
            // `date -u -d '2023-05-15 23:09:30 UTC' +%s` = 1684192170
            (
                Payload::Kernel,
                "[Mon May 15 23:09:30 2023] Out of memory: Killed process 1 (x)",
                &ctx,
                Some(s(1_684_192_170)),
            ),
            // PHP's error log; `date -u -d '2021-03-11 10:09:27 UTC' +%s` = 1615457367.
            (
                Payload::Text,
                "[11-Mar-2021 10:09:27 UTC] PHP Warning:  Redis::connect(): connect() failed",
                &ctx,
                Some(s(1_615_457_367)),
            ),
            // A named zone PHP prints cannot be resolved: the assumed zone (UTC here).
            (
                Payload::Text,
                "[11-Mar-2021 10:09:27 Europe/Berlin] PHP Notice:  x",
                &ctx,
                Some(s(1_615_457_367)),
            ),
            (Payload::Text, "[11-Mar-2021 10:09:27] x", &ctx, None),
            (
                Payload::Kernel,
                "[  518.050606] Out of memory: Killed process 1 (x)",
                &ctx,
                None,
            ),
            (
                Payload::Systemd,
                "foo.service: Deactivated successfully.",
                &ctx,
                None,
            ),
        ];
        for &(p, text, ctx, want) in cases {
            // A JSON envelope's message arrives escaped; the pipeline unescapes it first.
            let mut unescaped = Vec::new();
            let message = if text.starts_with("{\\\"") {
                RawStr::from_raw(text.as_bytes()).unescape_into(&mut unescaped);
                unescaped.strip_suffix(b"\n").unwrap_or(&unescaped)
            } else {
                text.as_bytes()
            };
            // `p` names the kind of line; detection may file it finer (`2023/01/08 …` is
            // Go's log prefix), the time must not change.
            let (_, parsed) = PayloadParser::new(ctx.offset_secs, None).parse(message);
            assert_eq!(record_time(&parsed, message, ctx), want, "{p:?} {text}");
        }
    }

    /// The fused access paths (a parser that just saw an access or Traefik line) give what detection
    /// followed by the parser gives (a fresh parser), on real access lines, lines built to
    /// sit on each of detection's tests, and every one of those mutated.
    #[test]
    fn access_shortcut_equals_detect_then_parse() {
        let apache = include_str!("../../../tests/fixtures/elastic-examples/apache_logs");
        let long_client = format!(
            r#"{} - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "-""#,
            "10.0.0.1, ".repeat(60)
        );
        let mut seeds: Vec<String> = apache.lines().take(400).map(str::to_string).collect();
        seeds.extend(
            [
                r#"192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "-""#,
                r#"192.0.2.7 - alice [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5"#,
                r#"192.0.2.7 x alice [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5"#,
                r#"192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 - "-" "-""#,
                r#"192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" %!d(<nil>) 5 "-" "-""#,
                r#"192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 2000 5 "-" "-""#,
                r#"192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 %!d(<nil>) "-" "-""#,
                r#"192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] "GET /"q" HTTP/1.1" 200 5 "-" "-""#,
                r#"192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 5"#,
                r#"192.0.2.7 - - [10/Oct/2000:25:55:36 -0700] "GET / HTTP/1.1" 200 5"#,
                r#"192.0.2.7 - - [-] "GET / HTTP/1.1" 200 5 "-" "-" 1 "r@file" - 1ms"#,
                r#"192.0.2.7 - - [x] "GET / HTTP/1.1" 200 5 "-" "-" 1 "r@file" - 1ms"#,
                r#"192.0.2.7 - bob [-] "GET / HTTP/1.1" 200 5 "-" "-" 1 "r@file" - 1ms"#,
                r#"192.0.2.1 - - [13/Mar/2020:18:49:07 +0000] "GET /ping HTTP/1.1" 200 2 "-" "-" 1 "ping@internal" - 0ms"#,
                r#"192.0.2.4 - - [02/Jul/2026:15:42:02 +0000] "POST /api/v1/statuses HTTP/2.0" 200 7 "https://example.org/" "Tusky/25.0" 9 "websecure-mastodon@docker" "http://172.18.0.4:3000" 12ms"#,
                r#"192.0.2.5 - - [02/Jul/2026:15:42:01 +0000] "GET /api/v1/streaming/?stream=user HTTP/1.1" 101 0 "-" "Mozilla/5.0 (X11; Linux x86_64)" 3 "websecure-mastodon-streaming@docker" "http://172.18.0.5:4000" 5ms"#,
                r#"192.0.2.5 - - [02/Jul/2026:15:42:01 +0000] "GET / HTTP/1.1" 200 0 "-" "ua "quoted" inside" 3 "r" - 5ms"#,
                r#"10.0.0.1 - - [10/Nov/2009:23:00:00 +0000] "GET / HTTP/1.1" 200 0 "-" "-" 1 "r@file" "http://127.0.0.1:8080" 1ms"#,
                r#"web_1  | 192.0.2.23 - - [10/Oct/2000:13:55:36 -0700] "GET /x HTTP/1.1" 200 5 "-" "curl/8.0""#,
                r#"[10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5"#,
                "2024/01/02 03:04:05 [error] 12#12: *1 open() failed",
                "mastodon-web.service: Main process exited, code=killed, status=9/KILL",
                "level=info msg=\"x [y] z\" status=200",
                "plain text with [brackets] and \"quotes\" 200 5",
            ]
            .map(str::to_string),
        );
        seeds.push(long_client);
        let check = |m: &[u8]| {
            let want = PayloadParser::new(0, None).parse(m);
            for previous in [Payload::NginxAccess, Payload::TraefikClf] {
                let mut primed = PayloadParser::new(0, None);
                primed.previous = previous;
                let got = primed.parse(m);
                assert_eq!(
                    format!("{got:?}"),
                    format!("{want:?}"),
                    "after {previous:?}: {}",
                    String::from_utf8_lossy(m)
                );
            }
        };
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        for seed in &seeds {
            check(seed.as_bytes());
            for _ in 0..40 {
                let mut m = seed.clone().into_bytes();
                for _ in 0..1 + next(3) {
                    let at = next(m.len());
                    m[at] = b" \"-[]0123456789xms\\"[next(19)];
                }
                check(&m);
            }
        }
    }
}
