//! Traefik JSON access log (`accessLog.format=json`): logrus `JSONFormatter` output, one
//! object per line, keys sorted by logrus.
//!
//! ```text
//! {"ClientAddr":"192.0.2.10:63261","ClientHost":"192.0.2.10","ClientPort":"63261","ClientUsername":"-","DownstreamContentSize":287,"DownstreamStatus":207,"Duration":8184335,"OriginDuration":7349966,"OriginStatus":207,"Overhead":834369,"RequestMethod":"REPORT","RequestPath":"/dav.php/calendars/","RequestPort":"-","RequestProtocol":"HTTP/2.0","RouterName":"https-bk@docker","ServiceName":"bk-bk@docker","ServiceURL":"http://192.0.2.2:8111","StartLocal":"2024-12-29T12:42:47.503803974+01:00","StartUTC":"2024-12-29T11:42:47.503803974Z","level":"info","msg":"","time":"2024-12-29T12:42:47+01:00"}
//! ```
//!
//! Grammar in brief: one JSON object ([`json`](crate::formats::json)). Core keys (Traefik's
//! `logdata.go`) are CamelCase: `StartUTC`, `StartLocal` (RFC 3339 with nanoseconds),
//! `Duration`, `OriginDuration`, `Overhead` (integers, **nanoseconds**), `DownstreamStatus`,
//! `OriginStatus`, `*ContentSize`, `RetryAttempts`, `RequestCount`, `Router/ServiceName`,
//! `ServiceURL`, `ServiceAddr`, `Client{Addr,Host,Port,Username}`, `Request{Addr,Host,Port,
//! Method,Path,Protocol,Scheme}`, `TLSVersion`, `TLSCipher`; logrus adds `level`, `msg`
//! (always `""`) and `time` (end of the request, seconds, local offset). Kept headers are
//! `request_<Header>`, `origin_<Header>`, `downstream_<Header>`.
//!
//! Units: durations are kept as **u64 nanoseconds** (`duration_ns`, exact, as written);
//! [`TraefikJsonRecord::duration_ms`] converts. Times are µs UTC ([`Micros`]).
//!
//! Traps handled:
//! - Durations are ns in JSON but ms in Traefik's CLF: the field names say `_ns`.
//! - `StartUTC` and `StartLocal` carry nanoseconds (truncated to µs) and the same instant;
//!   either may be dropped by `fields.names`: `start` takes `StartUTC`, else `StartLocal`
//!   (its offset applied). `time` is only second-precision and is the *end* of the request.
//! - Any field may be absent (`fields.defaultMode=drop`, older releases): every field is an
//!   `Option`, and a line is accepted as long as one core key is there.
//! - `OriginStatus` is `0` or absent when Traefik answered itself (redirect, no router,
//!   middleware): kept as written; [`TraefikJsonRecord::from_origin`] tells.
//! - `ClientUsername` and `RequestPort` are `"-"` when empty: read as `None`.
//! - Go's JSON encoder escapes `<`, `>`, `&` as `\u003c`, `\u003e`, `\u0026` (logrus keeps
//!   HTML escaping on), so a path with a query string is `/a?x=1\u0026y=2` in the raw bytes:
//!   string fields are [`RawStr`]; unescape on demand.
//! - Values with newlines (user agents) are JSON-escaped `\n`: still one line.
//! - Headers are dropped by default; when kept, all of them come, cookies included, which
//!   makes lines long: they are not collected in the record, only found on demand by
//!   [`TraefikJsonRecord::header`] (case-insensitive, as HTTP header names are).
//! - Key order is not relied upon (logrus sorts, other shippers re-order).
//! - Numbers written as strings (re-encoded by a shipper) are accepted.
//! - Traefik v3's *application* log in JSON (zerolog: `level`, `error`, `time`, `message`)
//!   shares stdout with the access log: no core key, so [`parse`] rejects it and it can go to
//!   the zerolog parser.
//!
//! ```
//! use coroner_parse::formats::traefik_json::parse;
//!
//! let line = br#"{"DownstreamStatus":502,"Duration":30001234567,"OriginStatus":0,"RequestMethod":"GET","RequestPath":"/api?a=1\u0026b=2","StartUTC":"2024-12-29T11:42:47.503803974Z","time":"2024-12-29T12:43:17+01:00"}"#;
//! let r = parse(line).unwrap();
//! assert_eq!(r.downstream_status, Some(502));
//! assert_eq!(r.duration_ns, Some(30_001_234_567));
//! assert_eq!(r.duration_ms(), Some(30_001.234567));
//! assert_eq!(r.start, Some(1_735_472_567_503_803));
//! assert_eq!(r.end, Some(1_735_472_597_000_000));
//! assert!(!r.from_origin());
//! let mut path = Vec::new();
//! r.request_path.unwrap().unescape_into(&mut path);
//! assert_eq!(path, b"/api?a=1&b=2");
//! ```

use crate::error::ParseError;
use crate::formats::json::{Object, RawStr, Value};
use crate::timestamp::{Micros, TimeCache, parse_rfc3339};

/// Which side of the proxy a kept header belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderSide {
    /// `request_<Header>`: what the client sent.
    Request,
    /// `origin_<Header>`: what the backend answered.
    Origin,
    /// `downstream_<Header>`: what Traefik sent back to the client.
    Downstream,
}

/// One access-log line. String fields are raw JSON string contents (escapes in place).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraefikJsonRecord<'a> {
    /// The whole object, for any other key (`TLSVersion`, `TraceId`, `GzipRatio`, ...).
    pub object: Object<'a>,
    /// Start of the request, µs UTC: `StartUTC`, else `StartLocal`.
    pub start: Option<Micros>,
    /// logrus `time`: end of the request (second precision), µs UTC.
    pub end: Option<Micros>,
    /// `Duration`, nanoseconds: total time Traefik spent on the request.
    pub duration_ns: Option<u64>,
    /// `OriginDuration`, nanoseconds: time the backend took.
    pub origin_duration_ns: Option<u64>,
    /// `Overhead`, nanoseconds: `Duration - OriginDuration`.
    pub overhead_ns: Option<u64>,
    /// `DownstreamStatus`: what the client got (499: the client went away).
    pub downstream_status: Option<u16>,
    /// `OriginStatus` as written: `0` (or absent) when Traefik answered itself.
    pub origin_status: Option<u16>,
    pub downstream_content_size: Option<u64>,
    pub origin_content_size: Option<u64>,
    pub request_content_size: Option<u64>,
    pub retry_attempts: Option<u32>,
    /// `RequestCount`: per-process counter, resets on restart.
    pub request_count: Option<u64>,
    pub router_name: Option<RawStr<'a>>,
    pub service_name: Option<RawStr<'a>>,
    pub service_url: Option<RawStr<'a>>,
    pub service_addr: Option<RawStr<'a>>,
    /// `entryPointName` (`web`, `websecure`, ...).
    pub entry_point: Option<RawStr<'a>>,
    pub client_host: Option<RawStr<'a>>,
    /// `host:port` (`[2001:db8::1]:5555` for IPv6).
    pub client_addr: Option<RawStr<'a>>,
    /// `None` when Traefik wrote `"-"`.
    pub client_username: Option<RawStr<'a>>,
    pub request_method: Option<RawStr<'a>>,
    pub request_host: Option<RawStr<'a>>,
    /// `None` when Traefik wrote `"-"` (no port in the Host header).
    pub request_port: Option<RawStr<'a>>,
    /// Path and query, still JSON-escaped (`\u0026` for `&`).
    pub request_path: Option<RawStr<'a>>,
    pub request_protocol: Option<RawStr<'a>>,
    pub request_scheme: Option<RawStr<'a>>,
}

/// Parses one JSON access-log line.
pub fn parse(line: &[u8]) -> Result<TraefikJsonRecord<'_>, ParseError> {
    parse_inner(line, |t| parse_rfc3339(t, 0))
}

/// Same as [`parse`], with a [`TimeCache`] shared across the lines of one file: consecutive
/// requests share their second, so the calendar math is skipped.
pub fn parse_cached<'a>(
    line: &'a [u8],
    cache: &mut TimeCache,
) -> Result<TraefikJsonRecord<'a>, ParseError> {
    parse_inner(line, |t| cache.rfc3339(t, 0))
}

/// An RFC 3339 string value that is a time and nothing else.
fn time_of(
    v: Value<'_>,
    time: &mut impl FnMut(&[u8]) -> Option<(Micros, usize)>,
) -> Option<Micros> {
    let raw = v.as_str()?.raw();
    // Trailing bytes mean this is not the time we think it is: no time beats a wrong one.
    time(raw).filter(|&(_, n)| n == raw.len()).map(|(t, _)| t)
}

fn num<T: TryFrom<u64>>(v: Value<'_>) -> Option<T> {
    T::try_from(v.as_u64_lenient()?).ok()
}

/// A string that is not Traefik's "empty" placeholder `-`.
fn not_dash(v: Value<'_>) -> Option<RawStr<'_>> {
    v.as_str().filter(|s| s.raw() != b"-")
}

fn parse_inner<'a>(
    line: &'a [u8],
    mut time: impl FnMut(&[u8]) -> Option<(Micros, usize)>,
) -> Result<TraefikJsonRecord<'a>, ParseError> {
    let object = Object::parse(line)?;
    let mut r = TraefikJsonRecord {
        object,
        start: None,
        end: None,
        duration_ns: None,
        origin_duration_ns: None,
        overhead_ns: None,
        downstream_status: None,
        origin_status: None,
        downstream_content_size: None,
        origin_content_size: None,
        request_content_size: None,
        retry_attempts: None,
        request_count: None,
        router_name: None,
        service_name: None,
        service_url: None,
        service_addr: None,
        entry_point: None,
        client_host: None,
        client_addr: None,
        client_username: None,
        request_method: None,
        request_host: None,
        request_port: None,
        request_path: None,
        request_protocol: None,
        request_scheme: None,
    };
    let mut start_local = None;
    let mut core = false;
    // One pass over the members. Keys compare raw: Traefik's key names hold no escapable
    // byte. First occurrence wins, like `Object::get` (logrus never repeats a key).
    for (key, v) in object.iter() {
        let mut is_core = true;
        match key {
            b"StartUTC" if r.start.is_none() => r.start = time_of(v, &mut time),
            b"StartLocal" if start_local.is_none() => start_local = time_of(v, &mut time),
            b"Duration" => r.duration_ns = r.duration_ns.or(num(v)),
            b"OriginDuration" => r.origin_duration_ns = r.origin_duration_ns.or(num(v)),
            b"Overhead" => r.overhead_ns = r.overhead_ns.or(num(v)),
            b"DownstreamStatus" => r.downstream_status = r.downstream_status.or(num(v)),
            b"OriginStatus" => r.origin_status = r.origin_status.or(num(v)),
            b"DownstreamContentSize" => {
                r.downstream_content_size = r.downstream_content_size.or(num(v))
            }
            b"OriginContentSize" => r.origin_content_size = r.origin_content_size.or(num(v)),
            b"RequestContentSize" => r.request_content_size = r.request_content_size.or(num(v)),
            b"RetryAttempts" => r.retry_attempts = r.retry_attempts.or(num(v)),
            b"RequestCount" => r.request_count = r.request_count.or(num(v)),
            b"RouterName" => r.router_name = r.router_name.or(v.as_str()),
            b"ServiceName" => r.service_name = r.service_name.or(v.as_str()),
            b"ServiceURL" => r.service_url = r.service_url.or(v.as_str()),
            b"ServiceAddr" => r.service_addr = r.service_addr.or(v.as_str()),
            b"ClientHost" => r.client_host = r.client_host.or(v.as_str()),
            b"ClientAddr" => r.client_addr = r.client_addr.or(v.as_str()),
            b"ClientUsername" => r.client_username = r.client_username.or(not_dash(v)),
            b"RequestMethod" => r.request_method = r.request_method.or(v.as_str()),
            b"RequestHost" => r.request_host = r.request_host.or(v.as_str()),
            b"RequestPort" => r.request_port = r.request_port.or(not_dash(v)),
            b"RequestPath" => r.request_path = r.request_path.or(v.as_str()),
            b"RequestProtocol" => r.request_protocol = r.request_protocol.or(v.as_str()),
            b"RequestScheme" => r.request_scheme = r.request_scheme.or(v.as_str()),
            b"ClientPort" | b"RequestAddr" | b"GzipRatio" | b"TLSVersion" | b"TLSCipher"
            | b"TLSClientSubject" | b"StartUTC" | b"StartLocal" => {}
            _ => {
                is_core = false;
                match key {
                    b"time" if r.end.is_none() => r.end = time_of(v, &mut time),
                    b"entryPointName" => r.entry_point = r.entry_point.or(v.as_str()),
                    _ => {}
                }
            }
        }
        core |= is_core;
    }
    if !core {
        return Err(ParseError::new(
            "a Traefik access-log key (DownstreamStatus, RequestPath, StartUTC, ...)",
            0,
        ));
    }
    r.start = r.start.or(start_local);
    Ok(r)
}

impl<'a> TraefikJsonRecord<'a> {
    /// `Duration` in milliseconds (what the CLF form prints).
    pub fn duration_ms(&self) -> Option<f64> {
        self.duration_ns.map(|ns| ns as f64 / 1e6)
    }

    /// `OriginDuration` in milliseconds.
    pub fn origin_duration_ms(&self) -> Option<f64> {
        self.origin_duration_ns.map(|ns| ns as f64 / 1e6)
    }

    /// Whether a backend answered: `OriginStatus` present and not 0. False when Traefik
    /// answered itself (redirect, 404 without a router, middleware) or the field was dropped.
    pub fn from_origin(&self) -> bool {
        self.origin_status.is_some_and(|s| s != 0)
    }

    /// Start of the request when known, else its end (`time`, seconds): the best single
    /// instant for a timeline when `fields.names` dropped the start times.
    pub fn when(&self) -> Option<Micros> {
        self.start.or(self.end)
    }

    /// Any other key by name, e.g. `get(b"TLSVersion")`.
    pub fn get(&self, key: &[u8]) -> Option<Value<'a>> {
        self.object.get(key)
    }

    /// The kept headers, in line order: (side, header name as written, value). Empty when
    /// headers are dropped (the default).
    pub fn headers(&self) -> impl Iterator<Item = (HeaderSide, &'a [u8], RawStr<'a>)> + use<'a> {
        self.object.iter().filter_map(|(key, v)| {
            let (side, name) = header_key(key)?;
            Some((side, name, v.as_str()?))
        })
    }

    /// The first kept header of `side` whose name equals `name` ignoring ASCII case
    /// (`header(HeaderSide::Request, b"user-agent")` finds `request_User-Agent`).
    pub fn header(&self, side: HeaderSide, name: &[u8]) -> Option<RawStr<'a>> {
        self.headers()
            .find(|(s, n, _)| *s == side && n.eq_ignore_ascii_case(name))
            .map(|(_, _, v)| v)
    }

    /// `request_User-Agent`, when headers are kept.
    pub fn user_agent(&self) -> Option<RawStr<'a>> {
        self.header(HeaderSide::Request, b"User-Agent")
    }

    /// `request_Referer`, when headers are kept.
    pub fn referer(&self) -> Option<RawStr<'a>> {
        self.header(HeaderSide::Request, b"Referer")
    }
}

/// `request_X` / `origin_X` / `downstream_X` to (side, `X`).
fn header_key(key: &[u8]) -> Option<(HeaderSide, &[u8])> {
    let (side, name) = if let Some(n) = key.strip_prefix(b"request_") {
        (HeaderSide::Request, n)
    } else if let Some(n) = key.strip_prefix(b"downstream_") {
        (HeaderSide::Downstream, n)
    } else {
        (HeaderSide::Origin, key.strip_prefix(b"origin_")?)
    };
    (!name.is_empty()).then_some((side, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::json::tests::assert_never_panics;
    use proptest::prelude::*;

    /// Modelled on goaccess-for-nginxproxymanager#108 (v3, WebDAV REPORT, TLS, headers kept
    /// with the UA only), addresses and hosts replaced.
    const FULL: &[u8] = br#"{"ClientAddr":"192.0.2.10:63261","ClientHost":"192.0.2.10","ClientPort":"63261","ClientUsername":"-","DownstreamContentSize":287,"DownstreamStatus":207,"Duration":8184335,"OriginContentSize":287,"OriginDuration":7349966,"OriginStatus":207,"Overhead":834369,"RequestAddr":"sub.example.org","RequestContentSize":366,"RequestCount":17348,"RequestHost":"sub.example.org","RequestMethod":"REPORT","RequestPath":"/dav.php/calendars/","RequestPort":"-","RequestProtocol":"HTTP/2.0","RequestScheme":"https","RetryAttempts":0,"RouterName":"https-bk@docker","ServiceAddr":"192.0.2.2:8111","ServiceName":"bk-bk@docker","ServiceURL":"http://192.0.2.2:8111","StartLocal":"2024-12-29T12:42:47.503803974+01:00","StartUTC":"2024-12-29T11:42:47.503803974Z","TLSCipher":"TLS_AES_128_GCM_SHA256","TLSVersion":"1.3","entryPointName":"https","level":"info","msg":"","request_User-Agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Cal/3.6.3 Chrome/120.0.6099.291 Electron/28.3.3 Safari/537.36 CalendarAgent","time":"2024-12-29T12:42:47+01:00"}"#;

    /// Traefik answered itself (no router): no origin, OriginStatus 0, headers kept
    /// (cookie redacted, a UA with an escaped newline, downstream content type).
    const SELF_404: &[u8] = br#"{"ClientAddr":"[2001:db8::7]:40126","ClientHost":"2001:db8::7","ClientPort":"40126","ClientUsername":"alice","DownstreamContentSize":19,"DownstreamStatus":404,"Duration":57012,"OriginContentSize":0,"OriginDuration":0,"OriginStatus":0,"Overhead":57012,"RequestHost":"nzbget.local.example.org","RequestMethod":"GET","RequestPath":"/search?q=a\u0026lang=\u003cen\u003e","RequestPort":"8443","RequestProtocol":"HTTP/1.1","RequestScheme":"https","RetryAttempts":0,"StartUTC":"2024-12-29T11:42:47.000000001Z","downstream_Content-Type":"text/plain; charset=utf-8","level":"info","msg":"","request_Cookie":"REDACTED","request_User-Agent":"curl/8.5.0\nX-Injected: 1","time":"2024-12-29T11:42:47Z"}"#;

    /// `fields.defaultMode=drop` with a few names kept, key order shuffled, numbers as
    /// strings (re-encoded by a shipper), client went away (499).
    const DROPPED: &[u8] = br#"{"time":"2024-12-29T12:42:48+01:00","RequestPath":"/events","DownstreamStatus":"499","Duration":"120000000000","StartLocal":"2024-12-29T12:40:48.25+01:00","RetryAttempts":2}"#;

    fn p(line: &[u8]) -> TraefikJsonRecord<'_> {
        parse(line).unwrap()
    }

    fn unesc(s: RawStr) -> Vec<u8> {
        let mut v = Vec::new();
        s.unescape_into(&mut v);
        v
    }

    #[test]
    fn full_line_fields_and_units() {
        let r = p(FULL);
        assert_eq!(r.downstream_status, Some(207));
        assert_eq!(r.origin_status, Some(207));
        assert!(r.from_origin());
        // Durations stay in ns, exactly as written.
        assert_eq!(r.duration_ns, Some(8_184_335));
        assert_eq!(r.origin_duration_ns, Some(7_349_966));
        assert_eq!(r.overhead_ns, Some(834_369));
        assert_eq!(r.duration_ms(), Some(8.184335));
        assert_eq!(r.origin_duration_ms(), Some(7.349966));
        assert_eq!(r.downstream_content_size, Some(287));
        assert_eq!(r.origin_content_size, Some(287));
        assert_eq!(r.request_content_size, Some(366));
        assert_eq!(r.request_count, Some(17348));
        assert_eq!(r.retry_attempts, Some(0));
        let raw = |s: Option<RawStr<'_>>| s.map(|s| s.raw().to_vec());
        assert_eq!(raw(r.router_name), Some(b"https-bk@docker".to_vec()));
        assert_eq!(raw(r.service_name), Some(b"bk-bk@docker".to_vec()));
        assert_eq!(raw(r.service_url), Some(b"http://192.0.2.2:8111".to_vec()));
        assert_eq!(raw(r.service_addr), Some(b"192.0.2.2:8111".to_vec()));
        assert_eq!(raw(r.entry_point), Some(b"https".to_vec()));
        assert_eq!(raw(r.client_host), Some(b"192.0.2.10".to_vec()));
        assert_eq!(raw(r.client_addr), Some(b"192.0.2.10:63261".to_vec()));
        assert_eq!(raw(r.request_method), Some(b"REPORT".to_vec()));
        assert_eq!(raw(r.request_host), Some(b"sub.example.org".to_vec()));
        assert_eq!(raw(r.request_path), Some(b"/dav.php/calendars/".to_vec()));
        assert_eq!(raw(r.request_protocol), Some(b"HTTP/2.0".to_vec()));
        assert_eq!(raw(r.request_scheme), Some(b"https".to_vec()));
        assert_eq!(
            r.get(b"TLSVersion")
                .and_then(|v| v.as_str())
                .map(|s| s.raw()),
            Some(&b"1.3"[..])
        );
    }

    #[test]
    fn start_nanoseconds_truncated_end_is_seconds() {
        let r = p(FULL);
        assert_eq!(r.start, Some(1_735_472_567_503_803));
        // `time` is the end of the request, local offset, whole seconds.
        assert_eq!(r.end, Some(1_735_472_567_000_000));
        assert_eq!(r.when(), r.start);
        let r = p(SELF_404);
        assert_eq!(r.start, Some(1_735_472_567_000_000));
    }

    #[test]
    fn start_local_alone_and_agreeing_with_utc() {
        let r = p(DROPPED);
        // 12:40:48.25+01:00 == 11:40:48.25Z
        assert_eq!(r.start, Some(1_735_472_448_250_000));
        let only_local =
            br#"{"DownstreamStatus":200,"StartLocal":"2024-12-29T12:42:47.503803974+01:00"}"#;
        let only_utc = br#"{"DownstreamStatus":200,"StartUTC":"2024-12-29T11:42:47.503803974Z"}"#;
        assert_eq!(p(only_local).start, p(only_utc).start);
        // StartUTC wins when both are there, whatever the order.
        let both = br#"{"StartLocal":"2024-12-29T12:42:48+01:00","StartUTC":"2024-12-29T11:42:47Z","Duration":1}"#;
        assert_eq!(p(both).start, Some(1_735_472_567_000_000));
    }

    #[test]
    fn start_dropped_falls_back_to_end() {
        let r = p(br#"{"DownstreamStatus":200,"time":"2024-12-29T12:42:47+01:00"}"#);
        assert_eq!(r.start, None);
        assert_eq!(r.when(), Some(1_735_472_567_000_000));
    }

    #[test]
    fn traefik_answered_itself() {
        let r = p(SELF_404);
        assert_eq!(r.downstream_status, Some(404));
        assert_eq!(r.origin_status, Some(0));
        assert!(!r.from_origin());
        assert_eq!(r.router_name, None);
        assert_eq!(r.service_url, None);
        // Absent OriginStatus (redirect middleware) reads the same way.
        let r = p(br#"{"DownstreamStatus":301,"RouterName":"web-redirect@file"}"#);
        assert_eq!(r.origin_status, None);
        assert!(!r.from_origin());
    }

    #[test]
    fn dash_placeholders_are_none() {
        let r = p(FULL);
        assert_eq!(r.client_username, None);
        assert_eq!(r.request_port, None);
        let r = p(SELF_404);
        assert_eq!(r.client_username.map(|s| s.raw()), Some(&b"alice"[..]));
        assert_eq!(r.request_port.map(|s| s.raw()), Some(&b"8443"[..]));
    }

    #[test]
    fn html_escaped_path_and_ipv6_client() {
        let r = p(SELF_404);
        let path = r.request_path.unwrap();
        assert_eq!(path.raw(), br"/search?q=a\u0026lang=\u003cen\u003e");
        assert_eq!(unesc(path), b"/search?q=a&lang=<en>");
        assert_eq!(r.client_host.map(|s| s.raw()), Some(&b"2001:db8::7"[..]));
        assert_eq!(
            r.client_addr.map(|s| s.raw()),
            Some(&b"[2001:db8::7]:40126"[..])
        );
    }

    #[test]
    fn headers_dropped_by_default_found_when_kept() {
        let r = p(DROPPED);
        assert_eq!(r.headers().count(), 0);
        assert_eq!(r.user_agent(), None);
        let r = p(SELF_404);
        let sides: Vec<_> = r.headers().map(|(s, n, _)| (s, n)).collect();
        assert_eq!(
            sides,
            [
                (HeaderSide::Downstream, &b"Content-Type"[..]),
                (HeaderSide::Request, &b"Cookie"[..]),
                (HeaderSide::Request, &b"User-Agent"[..]),
            ]
        );
        assert_eq!(
            r.header(HeaderSide::Request, b"cookie").map(|s| s.raw()),
            Some(&b"REDACTED"[..])
        );
        assert_eq!(r.header(HeaderSide::Origin, b"cookie"), None);
        assert_eq!(
            r.header(HeaderSide::Downstream, b"CONTENT-TYPE")
                .map(|s| s.raw()),
            Some(&b"text/plain; charset=utf-8"[..])
        );
        assert_eq!(r.referer(), None);
        // An escaped newline inside a value: one record, decoded on demand.
        assert_eq!(unesc(r.user_agent().unwrap()), b"curl/8.5.0\nX-Injected: 1");
        assert!(
            p(FULL)
                .user_agent()
                .unwrap()
                .raw()
                .ends_with(b"CalendarAgent")
        );
    }

    #[test]
    fn dropped_fields_shuffled_order_numbers_as_strings() {
        let r = p(DROPPED);
        assert_eq!(r.downstream_status, Some(499));
        assert_eq!(r.duration_ns, Some(120_000_000_000));
        assert_eq!(r.duration_ms(), Some(120_000.0));
        assert_eq!(r.retry_attempts, Some(2));
        assert_eq!(r.origin_status, None);
        assert_eq!(r.overhead_ns, None);
        assert_eq!(r.request_method, None);
        assert_eq!(r.end, Some(1_735_472_568_000_000));
        // Only one core key left: still an access-log line.
        let r = p(br#"{"RequestPath":"/"}"#);
        assert_eq!(r.request_path.map(|s| s.raw()), Some(&b"/"[..]));
    }

    #[test]
    fn bad_numbers_and_times_are_none_not_errors() {
        let r = p(
            br#"{"DownstreamStatus":70000,"Duration":-5,"OriginStatus":2.5e2,"RetryAttempts":"REDACTED","StartUTC":"2024-12-29T11:42:47Zjunk","time":17354725}"#,
        );
        assert_eq!(r.downstream_status, None);
        assert_eq!(r.duration_ns, None);
        assert_eq!(r.origin_status, None);
        assert_eq!(r.retry_attempts, None);
        assert_eq!(r.start, None);
        assert_eq!(r.end, None);
    }

    #[test]
    fn app_log_and_non_json_rejected() {
        let app = br#"{"level":"error","error":"accept tcp [::]:443: use of closed network connection","time":"2024-12-29T11:42:47Z","message":"Error while starting server"}"#;
        assert_eq!(
            parse(app).unwrap_err().expected,
            "a Traefik access-log key (DownstreamStatus, RequestPath, StartUTC, ...)"
        );
        assert!(parse(b"{}").is_err());
        // The CLF form is the clf parser's.
        assert!(
            parse(br#"192.0.2.10 - - [29/Dec/2024:11:42:47 +0000] "GET / HTTP/1.1" 200 5"#)
                .is_err()
        );
        assert!(parse(&FULL[..FULL.len() - 1]).is_err());
    }

    #[test]
    fn cached_matches_uncached() {
        let mut cache = TimeCache::new();
        for l in [FULL, SELF_404, DROPPED, FULL] {
            assert_eq!(parse_cached(l, &mut cache).unwrap(), parse(l).unwrap());
        }
    }

    fn exercise(l: &[u8]) {
        if let Ok(r) = parse(l) {
            let _ = (r.duration_ms(), r.from_origin(), r.when(), r.user_agent());
            let _ = r.headers().count();
            if let Some(p) = r.request_path {
                unesc(p);
            }
        }
    }

    #[test]
    fn never_panics() {
        assert_never_panics(&[FULL, SELF_404, DROPPED], exercise);
    }

    proptest! {
        #[test]
        fn never_panics_random(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            exercise(&bytes);
        }

        #[test]
        fn never_panics_spliced(at in 0usize..FULL.len(), junk in proptest::collection::vec(any::<u8>(), 0..16)) {
            let mut l = FULL[..at].to_vec();
            l.extend_from_slice(&junk);
            l.extend_from_slice(&FULL[at..]);
            exercise(&l);
        }
    }
}
