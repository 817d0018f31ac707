//! pino NDJSON lines, first of all the Mastodon streaming server of the pino era (Mastodon
//! >= 4.3, format id `mastodon-streaming-json`); other pino apps parse too.
//!
//! ```text
//! {"level":"info","time":1728729237552,"pid":1,"hostname":"8b2e0532bdce","name":"streaming","req":{"id":"6530d8c7-c062-4158-8a4c-3debbfa59d96"},"account":{"id":"109367497985816347"},"channelIds":["timeline:109367497985816347"],"msg":"Starting stream"}
//! ```
//!
//! Grammar in brief: one JSON object ([`json`](crate::formats::json)). `level` is a string
//! label in Mastodon (its formatter overrides pino's number) and a number (`10` trace, `20`
//! debug, `30` info, `40` warn, `50` error, `60` fatal) in stock pino; `time` is epoch
//! **milliseconds**; then `pid`, `hostname`, `name`, `msg`. Request context is pino-http's
//! `req:{id, method, url, headers, remoteAddress, remotePort}`, `res:{statusCode}`,
//! `responseTime` (ms); errors are `err:{type, message, stack}` (`error` in one place).
//!
//! The record mirrors the npmlog era's [`NpmlogRecord`]: a level, the message as raw bytes,
//! [`PinoRecord::request_id`], and [`PinoRecord::kind`] returning the same [`Kind`] for the
//! same event, so an analysis can read 4.2 and 4.3 logs alike ([`Level::to_npmlog`] maps the
//! levels the way Mastodon maps `LOG_LEVEL`).
//!
//! Traps handled:
//! - Level as a string *or* a number; custom numeric levels fall into the band below them
//!   (35 is [`Level::Info`]); unknown labels are [`Level::Unknown`].
//! - `time` in ms, not s (and not RFC 3339): µs = ms × 1000. Other pino apps' time functions
//!   (`unixTime` seconds, `isoTime` strings) are accepted too.
//! - Messages changed wording from npmlog (`Starting stream` has no `from ...`, the channels
//!   are in `channelIds`; `Websocket subscription error`; `Redis Client Error!` is the
//!   message, not a prefix): [`PinoRecord::kind`] knows both.
//! - Failed upgrades log the error text itself as `msg` (`Invalid access token`) with
//!   `res.statusCode` and `err`: [`Kind::Error`].
//! - Stack traces and multi-line errors are one record here (JSON-escaped `\n`), unlike
//!   npmlog's line-per-line dump.
//! - `req.id` is a UUID in Mastodon but a number in stock pino-http: both are read, raw.
//! - Redacted values (`"[Redacted]"`, `access_token=[Redacted]` in `url`) are kept as written.
//! - Several `Ending stream` records at the same millisecond (one per channel set) are
//!   distinct records: nothing is deduplicated here.
//!
//! ```
//! use coroner_parse::formats::npmlog::Kind;
//! use coroner_parse::formats::pino::{self, Level};
//!
//! let line = br#"{"level":"error","time":1728729594783,"pid":1,"hostname":"8b2e0532bdce","name":"streaming","req":{"id":"36307019-16a2-4c46-b346-2ac392b3767f"},"msg":"Tried writing to closed socket"}"#;
//! let r = pino::parse(line).unwrap();
//! assert_eq!(r.level, Level::Error);
//! assert_eq!(r.time, Some(1_728_729_594_783_000));
//! assert_eq!(r.request_id(), Some(&b"36307019-16a2-4c46-b346-2ac392b3767f"[..]));
//! assert_eq!(r.message, b"Tried writing to closed socket");
//! assert_eq!(r.kind(), Kind::TriedWritingToClosedSocket);
//! ```

use crate::error::ParseError;
use crate::formats::cloudflared_json::epoch_to_micros;
use crate::formats::json::{Object, RawArray, RawStr, Value};
use crate::formats::npmlog::{self, Kind, NpmlogRecord};
use crate::timestamp::{Micros, parse_rfc3339};

/// pino's levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// No `level` label we know (a custom string label).
    Unknown,
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    /// The npmlog level of the same severity, as Mastodon maps `LOG_LEVEL` (`silly` is
    /// trace, `verbose` is debug); fatal has no npmlog counterpart and maps to error.
    pub fn to_npmlog(self) -> Option<npmlog::Level> {
        Some(match self {
            Level::Unknown => return None,
            Level::Trace => npmlog::Level::Silly,
            Level::Debug => npmlog::Level::Verbose,
            Level::Info => npmlog::Level::Info,
            Level::Warn => npmlog::Level::Warn,
            Level::Error | Level::Fatal => npmlog::Level::Error,
        })
    }
}

/// One pino line. Byte slices are raw JSON string contents (escapes in place).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PinoRecord<'a> {
    /// The whole object, for any other member (`account`, `channelIds`, `req.url`, ...).
    pub object: Object<'a>,
    pub level: Level,
    /// `time`, µs UTC.
    pub time: Option<Micros>,
    /// `msg`, escapes in place; empty when absent. Decode with [`PinoRecord::message_into`].
    pub message: &'a [u8],
    pub pid: Option<u32>,
    pub hostname: Option<&'a [u8]>,
    /// `name` (`streaming` for Mastodon).
    pub name: Option<&'a [u8]>,
    /// `req`, pino-http's request serializer.
    pub req: Option<Object<'a>>,
    /// `res.statusCode`.
    pub status: Option<u16>,
    /// `responseTime`, milliseconds (pino-http `request completed`).
    pub response_time_ms: Option<f64>,
    /// `err` (pino's error serializer: `type`, `message`, `stack`), else `error`.
    pub err: Option<Value<'a>>,
}

/// Parses one pino line.
pub fn parse(line: &[u8]) -> Result<PinoRecord<'_>, ParseError> {
    let object = Object::parse(line)?;
    let mut r = PinoRecord {
        object,
        level: Level::Unknown,
        time: None,
        message: b"",
        pid: None,
        hostname: None,
        name: None,
        req: None,
        status: None,
        response_time_ms: None,
        err: None,
    };
    let mut level = None;
    let mut error = None;
    let (mut seen_time, mut seen_msg) = (false, false);
    // One pass; keys compare raw (pino's key names hold no escapable byte). The first of
    // duplicate keys wins, like `Object::get` (pino writes a child's bindings before the
    // call's own fields, so duplicates do happen when both set one).
    for (key, v) in object.iter() {
        match key {
            b"level" if level.is_none() => level = Some(level_of(v)),
            b"time" if !seen_time => {
                seen_time = true;
                r.time = time_of(v);
            }
            b"msg" if !seen_msg => {
                seen_msg = true;
                r.message = v.as_str().map_or(b"", |s| s.raw());
            }
            b"pid" if r.pid.is_none() => r.pid = v.as_u64().and_then(|n| u32::try_from(n).ok()),
            b"hostname" if r.hostname.is_none() => r.hostname = v.as_str().map(|s| s.raw()),
            b"name" if r.name.is_none() => r.name = v.as_str().map(|s| s.raw()),
            b"req" if r.req.is_none() => r.req = v.as_object(),
            b"res" if r.status.is_none() => {
                r.status = v
                    .as_object()
                    .and_then(|o| o.get(b"statusCode"))
                    .and_then(|s| s.as_u64_lenient())
                    .and_then(|n| u16::try_from(n).ok())
            }
            b"responseTime" if r.response_time_ms.is_none() => r.response_time_ms = v.as_f64(),
            b"err" if r.err.is_none() => r.err = Some(v),
            b"error" if error.is_none() => error = Some(v),
            _ => {}
        }
    }
    // pino always writes `level`: without it this is some other JSON.
    r.level = level.ok_or(ParseError::new("a pino \"level\" member", 0))?;
    r.err = r.err.or(error);
    Ok(r)
}

fn level_of(v: Value<'_>) -> Level {
    if let Some(n) = v.as_u64() {
        return match n {
            0..20 => Level::Trace,
            20..30 => Level::Debug,
            30..40 => Level::Info,
            40..50 => Level::Warn,
            50..60 => Level::Error,
            _ => Level::Fatal,
        };
    }
    match v.as_str().map(|s| s.raw()) {
        Some(b"trace") => Level::Trace,
        Some(b"debug") => Level::Debug,
        Some(b"info") => Level::Info,
        Some(b"warn") => Level::Warn,
        Some(b"error") => Level::Error,
        Some(b"fatal") => Level::Fatal,
        _ => Level::Unknown,
    }
}

/// Epoch milliseconds (pino's default), other epoch units by magnitude, or an ISO string.
fn time_of(v: Value<'_>) -> Option<Micros> {
    match v {
        Value::Str(s) => parse_rfc3339(s.raw(), 0)
            .filter(|&(_, n)| n == s.raw().len())
            .map(|(t, _)| t),
        _ => epoch_to_micros(v),
    }
}

/// Leading text of Mastodon's streaming messages in the pino era that npmlog worded
/// differently (the rest, `Subscribe ...`, `Error parsing message from ...`, `Received binary
/// data`, `Streaming API now listening on ...`, is worded the same and left to npmlog).
const PINO_KINDS: &[(&[u8], Kind<'static>)] = &[
    (b"Redis Client Error", Kind::RedisError),
    (b"Websocket subscription error", Kind::SubscriptionError),
    (b"Websocket unsubscribe error", Kind::SubscriptionError),
    (b"Eventsource subscription error", Kind::SubscriptionError),
    // Failed upgrades and errorMiddleware log the error text itself.
    (b"Invalid access token", Kind::Error),
    (b"Missing access token", Kind::Error),
    (
        b"Access token does not have the required scopes",
        Kind::Error,
    ),
    (b"Unknown channel requested", Kind::Error),
    (b"List not found", Kind::Error),
    (b"AuthenticationError: ", Kind::Error),
    (b"RequestError: ", Kind::Error),
];

impl<'a> PinoRecord<'a> {
    /// `req.id`: Mastodon's request id (UUID, also in `X-Request-Id`); a number in stock
    /// pino-http, returned as its digits.
    pub fn request_id(&self) -> Option<&'a [u8]> {
        self.req?.get(b"id")?.scalar_raw()
    }

    /// Appends the unescaped message to `out`.
    pub fn message_into(&self, out: &mut Vec<u8>) {
        RawStr::from_raw(self.message).unescape_into(out);
    }

    /// `err.message` (or a plain string `err`), escapes in place.
    pub fn err_message(&self) -> Option<RawStr<'a>> {
        match self.err? {
            Value::Str(s) => Some(s),
            Value::Object(o) => o.get(b"message")?.as_str(),
            _ => None,
        }
    }

    /// `account.id` (Mastodon), as written.
    pub fn account_id(&self) -> Option<&'a [u8]> {
        self.object.get_path(&[b"account", b"id"])?.scalar_raw()
    }

    /// `channelIds` (Mastodon `Starting stream` / `Ending stream`).
    pub fn channel_ids(&self) -> Option<RawArray<'a>> {
        self.object.get(b"channelIds")?.as_array()
    }

    /// What the line is about, in the npmlog era's terms (see the module docs).
    pub fn kind(&self) -> Kind<'a> {
        let m = self.message;
        // Exact: `Starting stream from ...` in npmlog, bare here (channels in channelIds).
        match m {
            b"Starting stream" => return Kind::StartingStream,
            b"Ending stream" => return Kind::EndingStream,
            _ => {}
        }
        for (text, kind) in PINO_KINDS {
            if m.starts_with(text) {
                return *kind;
            }
        }
        // Same wordings as npmlog: classify with its rules. npmlog's prefix is the request
        // id or `socket` here carried elsewhere; its kind() only reads the message then.
        NpmlogRecord {
            level: self.level.to_npmlog().unwrap_or(npmlog::Level::Info),
            prefix: None,
            message: m,
        }
        .kind()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::json::tests::assert_never_panics;
    use proptest::prelude::*;

    /// Modelled on mastodon#32437 and Mastodon.py#399 (formats.md §5.2), hosts and
    /// addresses replaced; the rest follow streaming/index.js's calls.
    const FIXTURES: &[&[u8]] = &[
        // 0
        br#"{"level":"info","time":1728729237552,"pid":1,"hostname":"8b2e0532bdce","name":"streaming","req":{"id":"6530d8c7-c062-4158-8a4c-3debbfa59d96"},"account":{"id":"109367497985816347"},"channelIds":["timeline:109367497985816347","timeline:109367497985816347:notifications"],"msg":"Starting stream"}"#,
        // 1
        br#"{"level":"info","time":1728729594783,"pid":1,"hostname":"8b2e0532bdce","name":"streaming","req":{"id":"36307019-16a2-4c46-b346-2ac392b3767f"},"account":{"id":"109367497985816347"},"channelIds":["timeline:access_token:718"],"accountId":"109367497985816347","msg":"Ending stream"}"#,
        // 2
        br#"{"level":"info","time":1728729237537,"pid":1,"hostname":"8b2e0532bdce","name":"streaming","req":{"id":"6530d8c7-c062-4158-8a4c-3debbfa59d96","method":"GET","url":"/api/v1/streaming/?access_token=[Redacted]","headers":{"host":"social.example.org","x-real-ip":"192.0.2.102","x-forwarded-for":"192.0.2.102","upgrade":"websocket","user-agent":"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0","sec-websocket-protocol":"[Redacted]","sec-websocket-key":"[Redacted]","cookie":"[Redacted]"},"remoteAddress":"192.0.2.1","remotePort":49648},"msg":"Authenticated request & upgraded to WebSocket connection"}"#,
        // 3
        br#"{"level":"info","time":1741261177788,"pid":2235,"hostname":"vps-example","name":"streaming","msg":"Streaming API now listening on 127.0.0.1:4000"}"#,
        // 4: failed upgrade: the error text is the message, with res and err.
        br#"{"level":"error","time":1728729238000,"pid":1,"hostname":"8b2e0532bdce","name":"streaming","req":{"id":"0f0e0d0c-0000-4000-8000-000000000002","method":"GET","url":"/api/v1/streaming"},"err":{"type":"AuthenticationError","message":"Invalid access token","stack":"AuthenticationError: Invalid access token\n    at accountFromToken (file:///opt/mastodon/streaming/index.js:358:13)","status":401},"res":{"statusCode":401,"headers":{"Connection":"close","X-Error-Message":"Invalid access token"}},"msg":"Invalid access token"}"#,
        // 5: Redis error: one record, stack escaped.
        br#"{"level":"error","time":1728729239000,"pid":1,"hostname":"8b2e0532bdce","name":"streaming","err":{"type":"Error","message":"connect ECONNREFUSED 127.0.0.1:6379","stack":"Error: connect ECONNREFUSED 127.0.0.1:6379\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1247:16)","errno":-111,"code":"ECONNREFUSED"},"msg":"Redis Client Error!"}"#,
        // 6: debug, no request.
        br#"{"level":"debug","time":1728729240000,"pid":1,"hostname":"8b2e0532bdce","name":"streaming","msg":"Subscribe timeline:109367497985816347"}"#,
        // 7: pino-http completion for an EventSource request.
        br#"{"level":"info","time":1728729241000,"pid":1,"hostname":"8b2e0532bdce","name":"streaming","req":{"id":"aa57c0c1-0000-4000-8000-000000000003","method":"GET","url":"/api/v1/streaming/public"},"res":{"statusCode":200},"responseTime":60012,"msg":"request completed"}"#,
        // 8: stock pino: numeric level, numeric req id, no name.
        br#"{"level":30,"time":1728729242000,"pid":4242,"hostname":"api-1","req":{"id":17,"method":"POST","url":"/login"},"res":{"statusCode":500},"responseTime":3.5,"msg":"request errored","err":{"type":"Error","message":"boom"}}"#,
        // 9: socket error logged under `error`, message with escapes.
        br#"{"level":"error","time":1728729243000,"pid":1,"hostname":"8b2e0532bdce","name":"streaming","error":{"type":"Error","message":"read ECONNRESET"},"msg":"read ECONNRESET \"x\"\nnext"}"#,
    ];

    fn p(line: &[u8]) -> PinoRecord<'_> {
        parse(line).unwrap()
    }

    #[test]
    fn string_level_ms_time_envelope_fields() {
        let r = p(FIXTURES[0]);
        assert_eq!(r.level, Level::Info);
        assert_eq!(r.time, Some(1_728_729_237_552_000));
        assert_eq!(r.pid, Some(1));
        assert_eq!(r.hostname, Some(&b"8b2e0532bdce"[..]));
        assert_eq!(r.name, Some(&b"streaming"[..]));
        assert_eq!(
            r.request_id(),
            Some(&b"6530d8c7-c062-4158-8a4c-3debbfa59d96"[..])
        );
        assert_eq!(r.account_id(), Some(&b"109367497985816347"[..]));
        assert_eq!(r.channel_ids().unwrap().iter().count(), 2);
        assert_eq!(r.status, None);
        assert_eq!(r.err, None);
    }

    #[test]
    fn kinds_match_the_npmlog_era() {
        let k = |i: usize| p(FIXTURES[i]).kind();
        assert_eq!(k(0), Kind::StartingStream);
        assert_eq!(k(1), Kind::EndingStream);
        assert_eq!(k(2), Kind::Other);
        assert_eq!(k(3), Kind::ServerStarting);
        assert_eq!(k(4), Kind::Error);
        assert_eq!(k(5), Kind::RedisError);
        assert_eq!(
            k(6),
            Kind::Subscribe {
                channel: b"timeline:109367497985816347"
            }
        );
        // The same event in both eras gives the same kind.
        let pairs: [(&[u8], &[u8]); 6] = [
            (
                br#"{"level":"error","time":1,"req":{"id":"4ee00430-d397-478f-8f8d-46151d8f05cf"},"msg":"Tried writing to closed socket"}"#,
                b"ERR! 4ee00430-d397-478f-8f8d-46151d8f05cf Tried writing to closed socket",
            ),
            (
                br#"{"level":"error","err":{"message":"x"},"msg":"Failed to send to websocket"}"#,
                b"ERR! 4ee00430-d397-478f-8f8d-46151d8f05cf Failed to send to websocket: x",
            ),
            (
                br#"{"level":"warn","msg":"Received binary data, closing connection"}"#,
                b"WARN socket Received binary data, closing connection",
            ),
            (
                br#"{"level":"error","msg":"Error parsing message from user 1081"}"#,
                b"WARN 4ee00430-d397-478f-8f8d-46151d8f05cf Error parsing message from user 1081: x",
            ),
            (
                br#"{"level":"debug","msg":"Closing connection for 1081 due to expired access token"}"#,
                b"verb 4ee00430-d397-478f-8f8d-46151d8f05cf Closing connection for 1081 due to expired access token",
            ),
            (
                br#"{"level":"debug","msg":"Unsubscribe timeline:1081"}"#,
                b"verb Unsubscribe timeline:1081",
            ),
        ];
        for (pino_line, npm_line) in pairs {
            let a = p(pino_line);
            let b = npmlog::parse(npm_line).unwrap();
            assert_eq!(a.kind(), b.kind(), "{}", String::from_utf8_lossy(npm_line));
            assert!(a.level.to_npmlog().is_some());
        }
        assert_eq!(
            p(br#"{"level":"error","msg":"Websocket subscription error"}"#).kind(),
            Kind::SubscriptionError
        );
        assert_eq!(
            p(br#"{"level":"error","msg":"Eventsource subscription error"}"#).kind(),
            Kind::SubscriptionError
        );
        assert_eq!(
            p(br#"{"level":"error","msg":"Error: Missing access token"}"#).kind(),
            Kind::Error
        );
        // "Starting stream" is exact: longer texts are something else.
        assert_eq!(
            p(br#"{"level":"info","msg":"Starting streamer"}"#).kind(),
            Kind::Other
        );
    }

    #[test]
    fn failed_upgrade_error_text_as_message_with_status() {
        let r = p(FIXTURES[4]);
        assert_eq!(r.level, Level::Error);
        assert_eq!(r.message, b"Invalid access token");
        assert_eq!(r.status, Some(401));
        assert_eq!(
            r.err_message().map(|s| s.raw()),
            Some(&b"Invalid access token"[..])
        );
        assert_eq!(r.level.to_npmlog(), Some(npmlog::Level::Error));
    }

    #[test]
    fn multi_line_error_is_one_record() {
        let r = p(FIXTURES[5]);
        assert_eq!(r.kind(), Kind::RedisError);
        let stack = r.err.unwrap().as_object().unwrap().get(b"stack").unwrap();
        let mut out = Vec::new();
        stack.as_str().unwrap().unescape_into(&mut out);
        assert_eq!(out.iter().filter(|&&c| c == b'\n').count(), 1);
        assert_eq!(
            r.err_message().map(|s| s.raw()),
            Some(&b"connect ECONNREFUSED 127.0.0.1:6379"[..])
        );
    }

    #[test]
    fn request_completed_status_and_response_time() {
        let r = p(FIXTURES[7]);
        assert_eq!(r.status, Some(200));
        assert_eq!(r.response_time_ms, Some(60012.0));
        assert_eq!(r.message, b"request completed");
    }

    #[test]
    fn redacted_values_kept() {
        let r = p(FIXTURES[2]);
        let req = r.req.unwrap();
        let url = req.get(b"url").unwrap().as_str().unwrap();
        assert_eq!(url.raw(), b"/api/v1/streaming/?access_token=[Redacted]");
        let key = r
            .object
            .get_path(&[b"req", b"headers", b"sec-websocket-key"])
            .unwrap();
        assert_eq!(key.as_str().unwrap().raw(), b"[Redacted]");
        assert_eq!(
            req.get(b"remoteAddress").unwrap().as_str().unwrap().raw(),
            b"192.0.2.1"
        );
    }

    #[test]
    fn stock_pino_numeric_level_and_request_id() {
        let r = p(FIXTURES[8]);
        assert_eq!(r.level, Level::Info);
        assert_eq!(r.request_id(), Some(&b"17"[..]));
        assert_eq!(r.name, None);
        assert_eq!(r.status, Some(500));
        assert_eq!(r.response_time_ms, Some(3.5));
        assert_eq!(r.err_message().map(|s| s.raw()), Some(&b"boom"[..]));
        for (n, want) in [
            (10, Level::Trace),
            (20, Level::Debug),
            (35, Level::Info),
            (40, Level::Warn),
            (50, Level::Error),
            (60, Level::Fatal),
            (100, Level::Fatal),
        ] {
            let l = format!(r#"{{"level":{n},"time":0,"msg":"x"}}"#);
            assert_eq!(parse(l.as_bytes()).unwrap().level, want, "{n}");
        }
        assert_eq!(p(br#"{"level":"http"}"#).level, Level::Unknown);
        assert_eq!(p(br#"{"level":-1}"#).level, Level::Unknown);
        assert_eq!(Level::Trace.to_npmlog(), Some(npmlog::Level::Silly));
        assert_eq!(Level::Debug.to_npmlog(), Some(npmlog::Level::Verbose));
        assert_eq!(Level::Fatal.to_npmlog(), Some(npmlog::Level::Error));
        assert_eq!(Level::Unknown.to_npmlog(), None);
        assert!(Level::Warn > Level::Info && Level::Fatal > Level::Error);
    }

    #[test]
    fn error_key_and_escaped_message() {
        let r = p(FIXTURES[9]);
        assert_eq!(
            r.err_message().map(|s| s.raw()),
            Some(&b"read ECONNRESET"[..])
        );
        assert_eq!(r.message, br#"read ECONNRESET \"x\"\nnext"#);
        let mut out = Vec::new();
        r.message_into(&mut out);
        assert_eq!(out, b"read ECONNRESET \"x\"\nnext");
        // `err` beats `error` when both are there.
        let r = p(br#"{"level":50,"error":"b","err":"a"}"#);
        assert_eq!(r.err_message().map(|s| s.raw()), Some(&b"a"[..]));
    }

    #[test]
    fn time_units() {
        let t = |l: &'static [u8]| p(l).time;
        assert_eq!(
            t(br#"{"level":30,"time":1741261177788}"#),
            Some(1_741_261_177_788_000)
        );
        // pino.stdTimeFunctions.unixTime / isoTime.
        assert_eq!(
            t(br#"{"level":30,"time":1741261177}"#),
            Some(1_741_261_177_000_000)
        );
        assert_eq!(
            t(br#"{"level":30,"time":"2025-03-06T11:39:37.788Z"}"#),
            Some(1_741_261_177_788_000)
        );
        assert_eq!(t(br#"{"level":30,"time":"yesterday"}"#), None);
        assert_eq!(t(br#"{"level":30}"#), None);
        assert_eq!(t(br#"{"level":30,"time":-1e999}"#), None);
    }

    #[test]
    fn same_millisecond_records_stay_distinct() {
        let a = p(FIXTURES[1]);
        let b = p(br#"{"level":"info","time":1728729594783,"pid":1,"hostname":"8b2e0532bdce","name":"streaming","req":{"id":"36307019-16a2-4c46-b346-2ac392b3767f"},"account":{"id":"109367497985816347"},"channelIds":["timeline:system:109367497985816347"],"accountId":"109367497985816347","msg":"Ending stream"}"#);
        assert_eq!((a.time, a.kind()), (b.time, b.kind()));
        assert_ne!(a.channel_ids(), b.channel_ids());
    }

    #[test]
    fn rejects_non_pino() {
        assert_eq!(
            parse(br#"{"msg":"x","time":1}"#).unwrap_err().expected,
            "a pino \"level\" member"
        );
        assert!(parse(b"verb Subscribe timeline:1").is_err());
        assert!(parse(&FIXTURES[0][1..]).is_err());
    }

    fn exercise(l: &[u8]) {
        if let Ok(r) = parse(l) {
            let _ = (r.kind(), r.request_id(), r.err_message(), r.account_id());
            let _ = r.channel_ids().map(|a| a.iter().count());
            let mut out = Vec::new();
            r.message_into(&mut out);
        }
    }

    #[test]
    fn never_panics() {
        assert_never_panics(FIXTURES, exercise);
    }

    proptest! {
        #[test]
        fn never_panics_random(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            exercise(&bytes);
        }

        #[test]
        fn never_panics_spliced(i in 0usize..10, at in 0usize..1200, junk in proptest::collection::vec(any::<u8>(), 0..16)) {
            let f = FIXTURES[i % FIXTURES.len()];
            let at = at.min(f.len());
            let mut l = f[..at].to_vec();
            l.extend_from_slice(&junk);
            l.extend_from_slice(&f[at..]);
            exercise(&l);
        }
    }
}
