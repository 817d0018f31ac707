//! One record's message to a parsed payload: [`detect_payload`]'s cheap guess, confirmed by
//! the full parser of that format.
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

use crate::detect::detect_payload;
use crate::format::Payload;
use crate::formats::{
    clf, cloudflared, cloudflared_json, golog, gunicorn, kernel, logfmt, lograge, nginx_error,
    nginx_format, npmlog, pino, systemd, traefik_json,
};
use crate::timestamp::{Micros, TimeCache};

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
        let payload = detect_payload(message);
        let off = self.offset_secs;
        let parsed = match payload {
            Payload::TraefikClf => clf::parse_traefik(message).ok().map(Parsed::TraefikClf),
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
