//! cloudflared `--logfile` / `--log-directory` lines (always raw zerolog JSON, whatever the
//! console shows) and `--output json` (2025.6.1+). Traefik v3's `log.format=json`
//! application log is the same zerolog shape and parses here too.
//!
//! ```text
//! {"level":"info","tunnelID":"…","time":"2023-11-08T18:37:51Z","message":"Starting tunnel"}
//! {"level":"error","connIndex":0,"connIndex":0,"error":"timeout: no recent network activity","time":"2024-07-08T10:00:33Z","message":"Connection terminated"}
//! ```
//!
//! Grammar in brief: one JSON object ([`json`](crate::formats::json)). `level` is zerolog's
//! name (`trace` `debug` `info` `warn` `error` `fatal` `panic`), `time` RFC 3339 UTC in
//! seconds, `message` the text, `error` the error string; the other members are the fields
//! the console form prints as `key=value` (`connIndex`, `event`, `ip`, `location`, `dest`,
//! `type`, `cfRay`, `originService`, `ingressRule`, `connection`, `protocol`, ...).
//!
//! The record mirrors [`cloudflared::CloudflaredRecord`]: same [`Level`], and [`kind`] /
//! [`cause`] give the same [`Kind`] / [`Cause`] as the console line of the same event (they
//! reuse the console parser's classification, so the two cannot drift apart).
//!
//! Traps handled:
//! - Insertion order, not sorted (`level`, context fields, `time`, `message`): nothing
//!   depends on positions. `--output json` sorts keys: same result.
//! - **Duplicate keys** (cloudflared#1033: `newTCPLogger` adds `connIndex` twice): the first
//!   wins, [`Object::iter`] still yields both.
//! - The proxy logger's empty message (`.Err(err).Send()`): zerolog then writes **no
//!   `message` key at all**; `message` is empty and [`kind`] classifies by `error`, exactly as
//!   the console's `ERR  error=...` line.
//! - The same failed request logged twice (proxy line with `event:1`, `Request failed` with
//!   `event:0`): different [`Kind`]s, same [`Cause`].
//! - WRN vs ERR for the same event (level flip): compare [`kind`], not the level.
//! - `event`, `connIndex` absent in old versions; numbers as JSON numbers or as strings.
//! - A line with no `level` (zerolog `Log()`): [`Level::Unknown`].
//! - Messages and values are JSON-escaped (`\"`, `\n`): raw in the record, unescaped on
//!   demand; the classification phrases hold no escapable byte, so raw matching is exact.
//! - `time` as epoch seconds/ms/µs numbers (zerolog `TimeFieldFormat` set to a Unix format by
//!   a non-cloudflared zerolog app) is accepted, by magnitude.
//!
//! ```
//! use coroner_parse::formats::cloudflared::{Cause, Kind, Level};
//! use coroner_parse::formats::cloudflared_json::parse;
//!
//! let line = br#"{"level":"error","connIndex":0,"connIndex":0,"error":"Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: dial tcp 192.0.2.180:3000: i/o timeout","event":1,"ingressRule":4,"originService":"http://192.0.2.180:3000","time":"2024-07-10T17:08:33Z"}"#;
//! let r = parse(line).unwrap();
//! assert_eq!(r.level, Level::Error);
//! assert_eq!(r.time, Some(1_720_631_313_000_000));
//! assert_eq!(r.message.raw(), b"");
//! assert_eq!(r.kind(), Kind::UnableToReachOrigin);
//! assert_eq!(r.cause(), Some(Cause::OriginUnreachable));
//! assert_eq!((r.conn_index, r.event), (Some(0), Some(1)));
//! ```
//!
//! [`kind`]: CloudflaredJsonRecord::kind
//! [`cause`]: CloudflaredJsonRecord::cause

use crate::error::ParseError;
use crate::formats::cloudflared::{self, Cause, CloudflaredRecord, ConnType, Kind, Level};
use crate::formats::json::{Object, RawStr, Value};
use crate::timestamp::{Micros, TimeCache, parse_rfc3339};

/// One zerolog JSON line. String fields are raw JSON string contents (escapes in place).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CloudflaredJsonRecord<'a> {
    /// The whole object, for any other field ([`CloudflaredJsonRecord::field`]).
    pub object: Object<'a>,
    /// `time`, µs UTC.
    pub time: Option<Micros>,
    pub level: Level,
    /// `message`; empty when absent (the proxy logger's empty message).
    pub message: RawStr<'a>,
    /// `error`, when a string.
    pub error: Option<RawStr<'a>>,
    /// `connIndex` (0..=3, one per HA connection); the first of duplicates.
    pub conn_index: Option<u32>,
    /// `event` (0 = cloudflared, 1 = HTTP, 2 = TCP...; absent before 2022).
    pub event: Option<u32>,
}

/// Parses one zerolog JSON line.
pub fn parse(line: &[u8]) -> Result<CloudflaredJsonRecord<'_>, ParseError> {
    parse_inner(line, |t| parse_rfc3339(t, 0))
}

/// Same as [`parse`], with a [`TimeCache`] shared across the lines of one file (seconds-only
/// times: many lines share one).
pub fn parse_cached<'a>(
    line: &'a [u8],
    cache: &mut TimeCache,
) -> Result<CloudflaredJsonRecord<'a>, ParseError> {
    parse_inner(line, |t| cache.rfc3339(t, 0))
}

/// zerolog's level names, and its numeric levels (`-1` trace ..= `5` panic) for apps that
/// set `LevelFieldMarshalFunc` to numbers.
fn level_of(v: Value<'_>) -> Level {
    match v {
        Value::Str(s) => match s.raw() {
            b"trace" => Level::Trace,
            b"debug" => Level::Debug,
            b"info" => Level::Info,
            b"warn" => Level::Warn,
            b"error" => Level::Error,
            b"fatal" => Level::Fatal,
            b"panic" => Level::Panic,
            _ => Level::Unknown,
        },
        Value::Number(b"-1") => Level::Trace,
        Value::Number(b"0") => Level::Debug,
        Value::Number(b"1") => Level::Info,
        Value::Number(b"2") => Level::Warn,
        Value::Number(b"3") => Level::Error,
        Value::Number(b"4") => Level::Fatal,
        Value::Number(b"5") => Level::Panic,
        _ => Level::Unknown,
    }
}

/// An epoch number to µs: seconds below 1e11 (year 5138), ms below 1e14, µs below 1e17,
/// else ns. Recent times in any unit are far from those bounds.
pub(crate) fn epoch_to_micros(v: Value<'_>) -> Option<Micros> {
    if let Some(n) = v.as_i64() {
        let a = n.unsigned_abs();
        return if a < 100_000_000_000 {
            n.checked_mul(1_000_000)
        } else if a < 100_000_000_000_000 {
            n.checked_mul(1000)
        } else if a < 100_000_000_000_000_000 {
            Some(n)
        } else {
            Some(n / 1000)
        };
    }
    // A fraction (`1728729237.552`): same bands, computed in f64 (µs precision holds).
    let f = v.as_f64()?;
    let a = f.abs();
    let us = if a < 1e11 {
        f * 1e6
    } else if a < 1e14 {
        f * 1e3
    } else if a < 1e17 {
        f
    } else {
        f / 1e3
    };
    // `as` saturates and maps NaN to 0; finite is checked first so that cannot mislead.
    us.is_finite().then_some(us as Micros)
}

fn parse_inner<'a>(
    line: &'a [u8],
    mut time: impl FnMut(&[u8]) -> Option<(Micros, usize)>,
) -> Result<CloudflaredJsonRecord<'a>, ParseError> {
    let object = Object::parse(line)?;
    let mut r = CloudflaredJsonRecord {
        object,
        time: None,
        level: Level::Unknown,
        message: RawStr::from_raw(b""),
        error: None,
        conn_index: None,
        event: None,
    };
    let (mut seen_level, mut seen_message, mut seen_time) = (false, false, false);
    // One pass; keys compare raw (zerolog field names hold no escapable byte). The first of
    // duplicate keys wins, like `Object::get`.
    for (key, v) in object.iter() {
        match key {
            b"level" if !seen_level => {
                seen_level = true;
                r.level = level_of(v);
            }
            b"message" if !seen_message => {
                seen_message = true;
                if let Some(s) = v.as_str() {
                    r.message = s;
                }
            }
            b"time" if !seen_time => {
                seen_time = true;
                r.time = match v {
                    Value::Str(s) => time(s.raw())
                        .filter(|&(_, n)| n == s.raw().len())
                        .map(|(t, _)| t),
                    _ => epoch_to_micros(v),
                };
            }
            b"error" if r.error.is_none() => r.error = v.as_str(),
            b"connIndex" if r.conn_index.is_none() => {
                r.conn_index = v.as_u64_lenient().and_then(|n| u32::try_from(n).ok())
            }
            b"event" if r.event.is_none() => {
                r.event = v.as_u64_lenient().and_then(|n| u32::try_from(n).ok())
            }
            _ => {}
        }
    }
    if !seen_level && !seen_message {
        return Err(ParseError::new(
            "a zerolog \"level\" or \"message\" member",
            0,
        ));
    }
    Ok(r)
}

impl<'a> CloudflaredJsonRecord<'a> {
    /// The console parser's view of this line (message only, no fields): its `kind()` and
    /// `cause()` read nothing else when the message is not empty and there is no `error`.
    fn console(&self) -> CloudflaredRecord<'a> {
        CloudflaredRecord {
            time: self.time,
            level: self.level,
            caller: None,
            message: self.message.raw(),
            fields_text: b"",
        }
    }

    /// What the line is about: the same [`Kind`] as the console line of the same event.
    pub fn kind(&self) -> Kind {
        match self.error {
            // The console parser classifies an empty message by its `error=` field, which
            // this line has as a JSON member instead: same mapping, same `cause` function.
            Some(e) if self.message.raw().is_empty() => match cloudflared::cause(e.raw()) {
                Cause::OriginUnreachable => Kind::UnableToReachOrigin,
                Cause::RequestEndedAbruptly => Kind::RequestEndedAbruptly,
                Cause::StreamCanceled => Kind::StreamCanceled,
                _ => Kind::ProxyError,
            },
            _ => self.console().kind(),
        }
    }

    /// The cause in `error` (or in the message when there is no `error`), as the console's.
    pub fn cause(&self) -> Option<Cause> {
        match self.error {
            Some(e) => Some(cloudflared::cause(e.raw())),
            None => self.console().cause(),
        }
    }

    /// Any member by name (the first of duplicates).
    pub fn field(&self, key: &[u8]) -> Option<Value<'a>> {
        self.object.get(key)
    }

    fn str_field(&self, key: &[u8]) -> Option<RawStr<'a>> {
        self.field(key).and_then(|v| v.as_str())
    }

    /// `ip`: the Cloudflare edge address, not the client's.
    pub fn ip(&self) -> Option<&'a [u8]> {
        self.str_field(b"ip").map(|s| s.raw())
    }

    /// `location`: the colo (`lhr10`; older versions: uppercase IATA `SEA`).
    pub fn location(&self) -> Option<&'a [u8]> {
        self.str_field(b"location").map(|s| s.raw())
    }

    /// `type`.
    pub fn type_(&self) -> Option<ConnType> {
        self.str_field(b"type").map(|t| match t.raw() {
            b"http" => ConnType::Http,
            b"ws" => ConnType::Ws,
            b"tcp" => ConnType::Tcp,
            _ => ConnType::Other,
        })
    }

    /// `dest` (escapes in place).
    pub fn dest(&self) -> Option<RawStr<'a>> {
        self.str_field(b"dest")
    }

    /// `cfRay` (`7e0bcf1fbfe63daa-SIN`).
    pub fn cf_ray(&self) -> Option<&'a [u8]> {
        self.str_field(b"cfRay").map(|s| s.raw())
    }

    /// `originService` (escapes in place).
    pub fn origin_service(&self) -> Option<RawStr<'a>> {
        self.str_field(b"originService")
    }

    /// `connection`: the connection UUID of `Registered tunnel connection`.
    pub fn connection(&self) -> Option<&'a [u8]> {
        self.str_field(b"connection").map(|s| s.raw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::json::tests::assert_never_panics;
    use proptest::prelude::*;

    /// Modelled on the console lines of formats.md §3.4, as `--logfile` writes them
    /// (insertion order: level, context fields, time, message), addresses replaced.
    const FIXTURES: &[&[u8]] = &[
        // 0: cloudflared#1033, verbatim shape (tunnelID as context field).
        br#"{"level":"info","tunnelID":"5f0c2a9e-0000-4000-8000-000000000001","time":"2023-11-08T18:37:51Z","message":"Starting tunnel"}"#,
        // 1: proxy logger: no message key at all, duplicate connIndex.
        br#"{"level":"error","connIndex":0,"connIndex":0,"error":"Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: dial tcp 192.0.2.180:3000: i/o timeout","event":1,"ingressRule":4,"originService":"http://192.0.2.180:3000","time":"2024-07-10T17:08:33Z"}"#,
        // 2: the connection logger's half of the same failure.
        br#"{"level":"error","connIndex":0,"connIndex":0,"event":0,"ip":"198.51.100.47","type":"http","dest":"https://graphs.example.org/?a=1&b=2","error":"Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: dial tcp 192.0.2.180:3000: i/o timeout","time":"2024-07-10T17:08:33Z","message":"Request failed"}"#,
        // 3: idle timeout, WRN.
        br#"{"level":"warn","connIndex":3,"error":"timeout: no recent network activity","time":"2024-07-08T10:00:33Z","message":"Connection terminated"}"#,
        // 4: registration.
        br#"{"level":"info","connIndex":3,"connection":"63309d36-92f2-43af-a47d-c9cb553177f2","event":0,"ip":"198.51.100.193","location":"bru01","protocol":"quic","time":"2023-11-17T22:24:27Z","message":"Registered tunnel connection"}"#,
        // 5: RPC error with the cause only in the message.
        br#"{"level":"error","time":"2023-11-17T22:24:58Z","message":"writing call: timeout: no recent network activity"}"#,
        // 6: backoff.
        br#"{"level":"info","connIndex":0,"event":0,"ip":"198.51.100.13","time":"2024-12-13T03:10:06Z","message":"Retrying connection in up to 1m4s"}"#,
        // 7: graceful shutdown, no error.
        br#"{"level":"error","connIndex":1,"time":"2026-07-15T18:38:42Z","message":"Connection terminated"}"#,
        // 8: --output json: sorted keys, numbers as written, stream reset, no message.
        br#"{"connIndex":1,"error":"stream 5081 canceled by remote with error code 0","event":1,"ingressRule":4,"level":"error","originService":"https://192.0.2.45:5001","time":"2025-06-21T01:16:24Z"}"#,
        // 9: client abort, cfRay, 2021-style without connIndex.
        br#"{"level":"error","cfRay":"7e0bcf1fbfe63daa-SIN","error":"Incoming request ended abruptly: context canceled","event":1,"originService":"http://127.0.0.1:5000","time":"2023-07-03T02:48:53Z"}"#,
        // 10: old wording, uppercase colo, no event.
        br#"{"level":"info","connIndex":0,"location":"SEA","time":"2021-09-01T14:33:20Z","message":"Connection c0a8d328-a652-461d-bfc8-535d9c91e56d registered"}"#,
        // 11: escapes in message and a quoted config value.
        br#"{"level":"info","config":"{\"ingress\":[{\"service\":\"http://192.0.2.9:8080\"}]}","version":3,"time":"2024-07-10T17:08:33Z","message":"Updated to new configuration"}"#,
    ];

    /// The console lines of the same events (cloudflared.rs fixtures and formats.md §3.4).
    const CONSOLE: &[&str] = &[
        "2023-11-08T18:37:51Z INF Starting tunnel tunnelID=5f0c2a9e-0000-4000-8000-000000000001",
        r#"2024-07-10T17:08:33Z ERR  error="Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: dial tcp 192.0.2.180:3000: i/o timeout" connIndex=0 event=1 ingressRule=4 originService=http://192.0.2.180:3000"#,
        r#"2024-07-10T17:08:33Z ERR Request failed error="Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: dial tcp 192.0.2.180:3000: i/o timeout" connIndex=0 dest=https://graphs.example.org/?a=1&b=2 event=0 ip=198.51.100.47 type=http"#,
        r#"2024-07-08T10:00:33Z WRN Connection terminated error="timeout: no recent network activity" connIndex=3"#,
        "2023-11-17T22:24:27Z INF Registered tunnel connection connIndex=3 connection=63309d36-92f2-43af-a47d-c9cb553177f2 event=0 ip=198.51.100.193 location=bru01 protocol=quic",
        "2023-11-17T22:24:58Z ERR writing call: timeout: no recent network activity",
        "2024-12-13T03:10:06Z INF Retrying connection in up to 1m4s connIndex=0 event=0 ip=198.51.100.13",
        "2026-07-15T18:38:42Z ERR Connection terminated connIndex=1",
        r#"2025-06-21T01:16:24Z ERR  error="stream 5081 canceled by remote with error code 0" connIndex=1 event=1 ingressRule=4 originService=https://192.0.2.45:5001"#,
        r#"2023-07-03T02:48:53Z ERR  error="Incoming request ended abruptly: context canceled" cfRay=7e0bcf1fbfe63daa-SIN event=1 originService=http://127.0.0.1:5000"#,
        "2021-09-01T14:33:20Z INF Connection c0a8d328-a652-461d-bfc8-535d9c91e56d registered connIndex=0 location=SEA",
        r#"2024-07-10T17:08:33Z INF Updated to new configuration config="{\"ingress\":[{\"service\":\"http://192.0.2.9:8080\"}]}" version=3"#,
    ];

    fn p(line: &[u8]) -> CloudflaredJsonRecord<'_> {
        parse(line).unwrap()
    }

    #[test]
    fn same_kind_cause_level_time_as_console() {
        assert_eq!(FIXTURES.len(), CONSOLE.len());
        for (j, c) in FIXTURES.iter().zip(CONSOLE) {
            let j = p(j);
            let c = cloudflared::parse(c.as_bytes()).unwrap();
            assert_eq!(j.kind(), c.kind(), "{c:?}");
            assert_eq!(j.cause(), c.cause(), "{c:?}");
            assert_eq!(j.level, c.level, "{c:?}");
            assert_eq!(j.time, c.time, "{c:?}");
            assert_eq!(j.conn_index, c.conn_index(), "{c:?}");
            assert_eq!(j.event, c.event(), "{c:?}");
            assert_eq!(j.ip(), c.ip(), "{c:?}");
            assert_eq!(j.location(), c.location(), "{c:?}");
            assert_eq!(j.cf_ray(), c.cf_ray(), "{c:?}");
            assert_eq!(j.type_(), c.type_(), "{c:?}");
        }
    }

    #[test]
    fn insertion_order_line_from_issue_1033() {
        let r = p(FIXTURES[0]);
        assert_eq!(r.level, Level::Info);
        assert_eq!(r.time, Some(1_699_468_671_000_000));
        assert_eq!(r.message.raw(), b"Starting tunnel");
        assert_eq!(r.kind(), Kind::StartingTunnel);
        assert!(r.field(b"tunnelID").is_some());
        let r =
            p(br#"{"level":"info","time":"2023-11-08T18:37:51Z","message":"Version 2023.10.0"}"#);
        assert_eq!(r.kind(), Kind::Version);
    }

    #[test]
    fn duplicate_conn_index_first_wins() {
        let r = p(FIXTURES[1]);
        assert_eq!(r.conn_index, Some(0));
        let n = r.object.iter().filter(|(k, _)| *k == b"connIndex").count();
        assert_eq!(n, 2);
        // If the two ever disagree, the first is the one reported (as Object::get does).
        let r = p(
            br#"{"level":"warn","connIndex":2,"connIndex":3,"message":"Connection terminated"}"#,
        );
        assert_eq!(r.conn_index, Some(2));
        assert_eq!(r.field(b"connIndex").and_then(|v| v.as_u64()), Some(2));
    }

    #[test]
    fn missing_message_is_the_empty_proxy_message() {
        let r = p(FIXTURES[1]);
        assert_eq!(r.message.raw(), b"");
        assert_eq!(r.kind(), Kind::UnableToReachOrigin);
        assert_eq!(r.event, Some(1));
        assert_eq!(
            r.origin_service().map(|s| s.raw()),
            Some(&b"http://192.0.2.180:3000"[..])
        );
        assert_eq!(p(FIXTURES[8]).kind(), Kind::StreamCanceled);
        assert_eq!(p(FIXTURES[9]).kind(), Kind::RequestEndedAbruptly);
        let other = p(br#"{"level":"error","error":"EOF","time":"2024-07-10T17:08:33Z"}"#);
        assert_eq!(other.kind(), Kind::ProxyError);
        assert_eq!(other.cause(), Some(Cause::Other));
        // An explicit empty message reads the same way.
        let r = p(br#"{"level":"error","error":"stream 1 canceled by remote with error code 0","message":""}"#);
        assert_eq!(r.kind(), Kind::StreamCanceled);
    }

    #[test]
    fn double_logged_failure_same_cause_different_kind() {
        let proxy = p(FIXTURES[1]);
        let conn = p(FIXTURES[2]);
        assert_eq!(conn.kind(), Kind::RequestFailed);
        assert_ne!(proxy.kind(), conn.kind());
        assert_eq!(proxy.cause(), conn.cause());
        assert_eq!(conn.event, Some(0));
        assert_eq!(conn.type_(), Some(ConnType::Http));
        assert_eq!(
            conn.dest().map(|s| s.raw()),
            Some(&b"https://graphs.example.org/?a=1&b=2"[..])
        );
    }

    #[test]
    fn level_flip_same_kind() {
        let warn = p(FIXTURES[3]);
        let err = p(br#"{"level":"error","connIndex":3,"error":"timeout: no recent network activity","time":"2024-07-08T10:00:33Z","message":"Connection terminated"}"#);
        assert_eq!((warn.level, err.level), (Level::Warn, Level::Error));
        assert_eq!(warn.kind(), err.kind());
        assert_eq!(warn.cause(), Some(Cause::IdleTimeout));
        // Graceful shutdown: no error, no cause.
        let r = p(FIXTURES[7]);
        assert_eq!((r.kind(), r.cause()), (Kind::ConnectionTerminated, None));
        // The cause only in the message.
        let r = p(FIXTURES[5]);
        assert_eq!(
            (r.kind(), r.cause()),
            (Kind::IdleTimeout, Some(Cause::IdleTimeout))
        );
    }

    #[test]
    fn old_versions_without_event() {
        let r = p(FIXTURES[10]);
        assert_eq!(r.kind(), Kind::RegisteredConnection);
        assert_eq!(r.event, None);
        assert_eq!(r.location(), Some(&b"SEA"[..]));
        let r = p(FIXTURES[4]);
        assert_eq!(
            r.connection(),
            Some(&b"63309d36-92f2-43af-a47d-c9cb553177f2"[..])
        );
        assert_eq!(
            p(FIXTURES[6]).kind(),
            Kind::RetryingConnection {
                backoff_secs: Some(64)
            }
        );
    }

    #[test]
    fn escaped_values_decode_on_demand() {
        let r = p(FIXTURES[11]);
        assert_eq!(r.kind(), Kind::UpdatedConfiguration);
        let mut out = Vec::new();
        r.field(b"config")
            .unwrap()
            .as_str()
            .unwrap()
            .unescape_into(&mut out);
        assert_eq!(out, br#"{"ingress":[{"service":"http://192.0.2.9:8080"}]}"#);
        let r = p(br#"{"level":"error","message":"failed to parse \"a=b c\"\nsecond line"}"#);
        let mut out = Vec::new();
        r.message.unescape_into(&mut out);
        assert_eq!(out, b"failed to parse \"a=b c\"\nsecond line");
        assert_eq!(r.time, None);
    }

    #[test]
    fn levels_and_times_in_other_shapes() {
        for (l, want) in [
            (&br#"{"level":"trace"}"#[..], Level::Trace),
            (br#"{"level":"debug"}"#, Level::Debug),
            (br#"{"level":"fatal"}"#, Level::Fatal),
            (br#"{"level":"panic"}"#, Level::Panic),
            (br#"{"level":"notice"}"#, Level::Unknown),
            (br#"{"level":-1}"#, Level::Trace),
            (br#"{"level":3}"#, Level::Error),
            (br#"{"level":7}"#, Level::Unknown),
            (br#"{"message":"no level (Log())"}"#, Level::Unknown),
        ] {
            assert_eq!(p(l).level, want, "{}", String::from_utf8_lossy(l));
        }
        let t = |l: &'static [u8]| p(l).time;
        assert_eq!(
            t(br#"{"level":"info","time":1720631313}"#),
            Some(1_720_631_313_000_000)
        );
        assert_eq!(
            t(br#"{"level":"info","time":1720631313123}"#),
            Some(1_720_631_313_123_000)
        );
        assert_eq!(
            t(br#"{"level":"info","time":1720631313123456}"#),
            Some(1_720_631_313_123_456)
        );
        assert_eq!(
            t(br#"{"level":"info","time":1720631313123456789}"#),
            Some(1_720_631_313_123_456)
        );
        assert_eq!(
            t(br#"{"level":"info","time":1720631313.5}"#),
            Some(1_720_631_313_500_000)
        );
        assert_eq!(t(br#"{"level":"info","time":1e400}"#), None);
        assert_eq!(
            t(br#"{"level":"info","time":"2024-07-10T17:08:33Zx"}"#),
            None
        );
        assert_eq!(t(br#"{"level":"info","time":null}"#), None);
        // Traefik v3 app log in JSON (zerolog), offset time.
        let r = p(br#"{"level":"error","error":"accept tcp [::]:443: use of closed network connection","time":"2024-12-29T12:42:47+01:00","message":"Error while starting server"}"#);
        assert_eq!(r.time, Some(1_735_472_567_000_000));
        assert_eq!(r.kind(), Kind::Other);
    }

    #[test]
    fn rejects_non_zerolog() {
        assert_eq!(
            parse(br#"{"DownstreamStatus":200}"#).unwrap_err().expected,
            "a zerolog \"level\" or \"message\" member"
        );
        assert!(parse(CONSOLE[3].as_bytes()).is_err());
        assert!(parse(b"").is_err());
    }

    #[test]
    fn cached_matches_uncached() {
        let mut cache = TimeCache::new();
        for _ in 0..2 {
            for f in FIXTURES {
                assert_eq!(parse_cached(f, &mut cache), parse(f));
            }
        }
    }

    fn exercise(l: &[u8]) {
        if let Ok(r) = parse(l) {
            let _ = (
                r.kind(),
                r.cause(),
                r.type_(),
                r.ip(),
                r.dest(),
                r.location(),
            );
            let mut out = Vec::new();
            r.message.unescape_into(&mut out);
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
        fn never_panics_spliced(i in 0usize..12, at in 0usize..400, junk in proptest::collection::vec(any::<u8>(), 0..16)) {
            let f = FIXTURES[i % FIXTURES.len()];
            let at = at.min(f.len());
            let mut l = f[..at].to_vec();
            l.extend_from_slice(&junk);
            l.extend_from_slice(&f[at..]);
            exercise(&l);
        }
    }
}
