//! One record as every analysis sees it: the envelope's view, the parsed payload, and
//! where it sits in its source, with the few derived facts several analyses share
//! (is it an error, its HTTP status, its latency).
//!
//! An [`Event`] borrows everything from the chunk being folded; nothing is copied unless an
//! analysis decides to keep a row (a finding, a socket end).

use coroner_parse::formats::{cloudflared, gunicorn, kernel, nginx_error, npmlog, pino};
use coroner_parse::literal::Literal;
use coroner_parse::payload::{Parsed, Request};
use coroner_parse::timestamp::Micros;

/// One record of a source, after envelope and payload parsing.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a, 'p> {
    /// The record's time (envelope time, else the payload's own), UTC µs.
    pub ts: Option<Micros>,
    /// Offset of the record in its source's (decompressed) bytes: the evidence pointer.
    pub offset: u64,
    /// Length of the record in bytes, terminator included.
    pub len: u64,
    /// The message, unescaped for JSON envelopes, without its line terminator.
    pub message: &'a [u8],
    pub parsed: &'p Parsed<'a>,
    /// `parsed.request()`, taken once per record (several analyses ask for it).
    pub request: Option<Request<'a>>,
    /// journald `PRIORITY`, when the envelope stores it.
    pub priority: Option<u8>,
    /// journald identifier or syslog tag; empty when unknown.
    pub ident: &'a [u8],
}

impl Event<'_, '_> {
    /// The HTTP status of an access-log record (nginx, apache, Traefik, Rails lograge,
    /// pino request logs).
    pub fn status(&self) -> Option<u16> {
        if let Some(r) = self.request {
            return r.status;
        }
        match self.parsed {
            Parsed::RailsLograge(r) => match &r.event {
                coroner_parse::formats::lograge::Event::Request(q) => q.status,
                _ => None,
            },
            Parsed::MastodonStreamingJson(r) => r.status,
            _ => None,
        }
    }

    /// Request latency in milliseconds where the format logs one: Traefik's duration,
    /// nginx `$request_time` (a `--nginx-format` field, or an `rt=`/`request_time=` suffix
    /// after `combined`), lograge `duration`, pino `responseTime`.
    pub fn latency_ms(&self) -> Option<f64> {
        match self.parsed {
            Parsed::TraefikClf(r) => r.duration_ms.map(|d| d as f64),
            Parsed::TraefikJson(r) => r.duration_ms(),
            Parsed::NginxCustom(r) => r.request_time().map(|us| us as f64 / 1000.0),
            Parsed::NginxAccess(r) => suffix_request_time_ms(r.rest),
            Parsed::RailsLograge(r) => match &r.event {
                coroner_parse::formats::lograge::Event::Request(q) => q.duration_ms,
                _ => None,
            },
            Parsed::MastodonStreamingJson(r) => r.response_time_ms,
            _ => None,
        }
    }

    /// An error record: journald priority <= 3 (err), a level of error or worse, or an HTTP
    /// status >= 500.
    pub fn is_error(&self) -> bool {
        self.is_error_given(self.status())
    }

    /// [`Event::is_error`] for a caller that already holds `status` (`self.status()`):
    /// the timeline asks both of every record.
    #[inline]
    pub fn is_error_given(&self, status: Option<u16>) -> bool {
        debug_assert_eq!(status, self.status());
        if self.priority.is_some_and(|p| p <= 3) {
            return true;
        }
        if status.is_some_and(|s| s >= 500) {
            return true;
        }
        // An access line's error is its status, checked above; none of its payloads has
        // a level.
        if self.request.is_some() {
            return false;
        }
        match self.parsed {
            Parsed::Cloudflared(r) => matches!(
                r.level,
                cloudflared::Level::Error | cloudflared::Level::Fatal | cloudflared::Level::Panic
            ),
            Parsed::CloudflaredJson(r) => matches!(
                r.level,
                cloudflared::Level::Error | cloudflared::Level::Fatal | cloudflared::Level::Panic
            ),
            Parsed::NginxError(r) => r.level <= nginx_error::Level::Error,
            Parsed::MastodonStreaming(r) => r.level == npmlog::Level::Error,
            Parsed::MastodonStreamingJson(r) => {
                matches!(r.level, pino::Level::Error | pino::Level::Fatal)
            }
            Parsed::RailsLograge(r) => matches!(r.severity, Some(b'E' | b'F')),
            Parsed::Gunicorn(r) => {
                matches!(r.level, gunicorn::Level::Error | gunicorn::Level::Critical)
            }
            Parsed::Kernel(r) => {
                r.level.is_some_and(|l| l <= 3)
                    || matches!(
                        r.kind,
                        kernel::KernelKind::OomKill(_) | kernel::KernelKind::NoSpace(_)
                    )
            }
            Parsed::Logfmt(r) => r.level.is_some_and(|l| {
                let l = l.trim_ascii();
                [
                    &b"error"[..],
                    b"err",
                    b"fatal",
                    b"crit",
                    b"critical",
                    b"panic",
                ]
                .iter()
                .any(|w| l.eq_ignore_ascii_case(w))
            }),
            _ => false,
        }
    }
}

/// nginx access lines in `combined` followed by timings: `rt=0.123`, `request_time=0.123`
/// (the common `key=value` suffixes), or a bare seconds number right after the quoted user
/// agent (`... "curl/8" 0.123`). Seconds with a fraction, as nginx writes them.
#[inline]
pub fn suffix_request_time_ms(rest: &[u8]) -> Option<f64> {
    // Most access lines end at the user agent (apache's and nginx's `combined`): nothing
    // to read, and no call for it on every line.
    if rest.is_empty() {
        return None;
    }
    suffix_request_time_ms_in(rest)
}

#[inline(never)]
fn suffix_request_time_ms_in(rest: &[u8]) -> Option<f64> {
    let rest = rest.trim_ascii();
    if rest.is_empty() {
        return None;
    }
    // nginx's `rt=` first (Mastodon's `log_format`): the search below would find it at 0
    // and take it, so this is the same answer without setting up two searches per line.
    if let Some(value) = rest.strip_prefix(b"rt=") {
        return timing_ms(value);
    }
    suffix_by_search(rest)
}

/// The suffix's request time found by searching for its keys (`rest` trimmed, not empty).
fn suffix_by_search(rest: &[u8]) -> Option<f64> {
    // Built once: `memmem::find` would build a searcher per call, per record (perf showed it).
    static KEYS: [Literal; 2] = [Literal::new(b"rt="), Literal::new(b"request_time=")];
    for finder in &KEYS {
        let key = finder.bytes();
        let mut from = 0;
        while let Some(i) = finder.find(&rest[from..]) {
            let at = from + i;
            from = at + key.len();
            // A whole key: at the start or after a space (not `urt=`).
            if at == 0 || rest[at - 1] == b' ' {
                return timing_ms(&rest[at + key.len()..]);
            }
        }
    }
    let first = rest.split(|&b| b == b' ').next()?;
    if first.contains(&b'.') {
        return seconds_ms(first);
    }
    None
}

/// The number after a timing key (an optional opening quote, then digits and dots) as
/// [`seconds_ms`] reads it: this runs on every nginx line that logs `rt=`.
#[inline]
fn timing_ms(value: &[u8]) -> Option<f64> {
    let v = value.strip_prefix(b"\"").unwrap_or(value);
    leading_seconds_ms(v).1
}

/// `10^k` for the `k <= 15` decimals [`leading_seconds_ms`] reads: each exact in an `f64`,
/// so the same bits `10f64.powi(k)` gives (its squarings and products are exact too),
/// without its call per line.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// `0.123` seconds to milliseconds; digits and one dot only (see [`leading_seconds_ms`]).
fn seconds_ms(v: &[u8]) -> Option<f64> {
    match leading_seconds_ms(v) {
        (end, ms) if end == v.len() => ms,
        _ => None,
    }
}

/// The run of digits and dots `v` starts with: its length, and its value read as seconds
/// to milliseconds (`None` for an empty run, one over 20 bytes, or one the parse declines,
/// such as `1.2.3`), in one pass over its bytes.
///
/// This runs on every access line that logs a request time. The usual value (at most 15
/// digits, one dot) is read as an integer `m` and a count `k` of decimals, and `m / 10^k`
/// is one division: with `m < 2^53` and `k <= 22` both are exact in an `f64` and the
/// quotient is correctly rounded, which is exactly what `str::parse::<f64>` returns
/// (Clinger's fast path), so the result is the same to the bit (a proptest holds it to
/// the parse). Anything else takes the parse.
#[inline]
fn leading_seconds_ms(v: &[u8]) -> (usize, Option<f64>) {
    // nginx writes `$request_time` as `%d.%03d`: a one-digit second is read without the
    // loop (same `m`, same division, so the same bits).
    if let [a, b'.', x, y, z, rest @ ..] = v
        && !matches!(rest.first(), Some(b'0'..=b'9' | b'.'))
    {
        let d = [a, x, y, z].map(|c| u64::from(c.wrapping_sub(b'0')));
        if d.iter().all(|&d| d <= 9) {
            let m = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3];
            return (5, Some(m as f64 / POW10[3] * 1000.0));
        }
    }
    let (mut m, mut digits, mut decimals, mut dots) = (0u64, 0u32, 0usize, 0u32);
    let mut end = 0;
    for &b in v {
        match b {
            b'0'..=b'9' => {
                // Wrapping: past 15 digits `m` is not used (20 digits overflowed it).
                m = m.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
                digits += 1;
                decimals += usize::from(dots == 1);
            }
            b'.' => dots += 1,
            _ => break,
        }
        end += 1;
    }
    if end == 0 || end > 20 {
        return (end, None);
    }
    if dots <= 1 && (1..=15).contains(&digits) {
        // `decimals <= digits <= 15`.
        return (end, Some(m as f64 / POW10[decimals] * 1000.0));
    }
    (end, seconds_ms_parsed(&v[..end]))
}

/// [`seconds_ms`] the plain way: the reference, and the way for what the fast one declines.
fn seconds_ms_parsed(v: &[u8]) -> Option<f64> {
    std::str::from_utf8(v)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite())
        .map(|s| s * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use coroner_parse::payload::PayloadParser;

    fn event<'a, 'p>(message: &'a [u8], parsed: &'p Parsed<'a>) -> Event<'a, 'p> {
        Event {
            ts: None,
            offset: 0,
            len: message.len() as u64 + 1,
            message,
            parsed,
            request: parsed.request(),
            priority: None,
            ident: b"",
        }
    }

    #[test]
    fn request_time_suffixes() {
        assert_eq!(
            suffix_request_time_ms(b" rt=0.250 uct=\"0.000\" urt=\"0.240\""),
            Some(250.0)
        );
        assert_eq!(suffix_request_time_ms(b" urt=\"0.240\""), None);
        assert_eq!(
            suffix_request_time_ms(b"request_time=\"1.5\" x=1"),
            Some(1500.0)
        );
        assert_eq!(suffix_request_time_ms(b" 0.004 0.003"), Some(4.0));
        assert_eq!(suffix_request_time_ms(b" \"-\""), None);
        assert_eq!(suffix_request_time_ms(b""), None);
    }

    #[test]
    fn errors_status_and_latency_from_parsed_records() {
        let mut p = PayloadParser::new(0, None);
        let line: &[u8] = br#"192.0.2.7 - - [13/Dec/2022:18:59:01 +0000] "GET /api/v1/timelines/home HTTP/1.1" 504 160 "-" "Mastodon/4.0" rt=60.001 urt="60.000""#;
        let (_, parsed) = p.parse(line);
        let e = event(line, &parsed);
        assert_eq!(e.status(), Some(504));
        assert_eq!(e.latency_ms(), Some(60_001.0));
        assert!(e.is_error());

        let ok: &[u8] =
            br#"192.0.2.7 - - [13/Dec/2022:18:59:01 +0000] "GET / HTTP/1.1" 200 1 "-" "-""#;
        let (_, parsed) = p.parse(ok);
        assert!(!event(ok, &parsed).is_error());

        let cf: &[u8] = b"2026-07-02T15:42:17Z ERR  error=\"Incoming request ended abruptly: context canceled\" event=1";
        let (_, parsed) = p.parse(cf);
        assert!(event(cf, &parsed).is_error());

        let text = Parsed::Text;
        let mut e = event(b"hello", &text);
        assert!(!e.is_error());
        e.priority = Some(3);
        assert!(e.is_error());
        e.priority = Some(4);
        assert!(!e.is_error());
    }

    /// Twenty digits overflowed the fast reading's integer (a panic in a debug build):
    /// past fifteen the value is parsed.
    #[test]
    fn twenty_digits_are_parsed() {
        for v in [&b"99999999999999999999"[..], b"18446744073709551616"] {
            assert_eq!(seconds_ms(v), seconds_ms_parsed(v));
            assert_eq!(timing_ms(v), seconds_ms_parsed(v));
        }
        assert_eq!(seconds_ms(b"99999999999999999999"), Some(1e20 * 1000.0));
    }

    proptest::proptest! {
        /// The `rt=` shortcut answers what the search for the keys answers.
        #[test]
        fn the_rt_shortcut_is_the_search(
            tail in r#"[0-9.]{0,8}"?( [a-z_]{1,13}="?[0-9.]{0,6}"?){0,4} ?"#,
        ) {
            let rest = format!("rt={tail}");
            proptest::prop_assert_eq!(
                suffix_request_time_ms(rest.as_bytes()).map(f64::to_bits),
                suffix_by_search(rest.trim().as_bytes()).map(f64::to_bits)
            );
        }

        /// Reading a timing key's value in one pass gives what finding its end and then
        /// reading it gives.
        #[test]
        fn timing_ms_is_the_value_read(v in r#""?[0-9.]{0,24}([ "a-z][0-9 .a-z]{0,4})?"#) {
            let v = v.as_bytes();
            let plain = {
                let value = v.strip_prefix(b"\"").unwrap_or(v);
                let end = value
                    .iter()
                    .position(|&b| !(b.is_ascii_digit() || b == b'.'))
                    .unwrap_or(value.len());
                seconds_ms(&value[..end])
            };
            proptest::prop_assert_eq!(timing_ms(v).map(f64::to_bits), plain.map(f64::to_bits));
        }

        /// nginx's own shape (`0.058`), read without the loop, is the parse's value to the
        /// bit, and what follows it ends it only when it is no digit or dot.
        #[test]
        fn nginx_request_time_equals_the_parse(v in r#"[0-9]\.[0-9]{3}[ .0-9a-z"]{0,3}"#) {
            let v = v.as_bytes();
            let end = v
                .iter()
                .position(|&b| !(b.is_ascii_digit() || b == b'.'))
                .unwrap_or(v.len());
            let (n, ms) = leading_seconds_ms(v);
            proptest::prop_assert_eq!(n, end);
            proptest::prop_assert_eq!(
                ms.map(f64::to_bits),
                seconds_ms_parsed(&v[..end]).map(f64::to_bits)
            );
        }

        /// The fast reading gives the parse's value to the bit, and declines (None) the
        /// same strings (`.`, `1.2.3`, empty digits).
        #[test]
        fn seconds_ms_equals_the_parse(v in "[0-9.]{1,20}") {
            let v = v.as_bytes();
            let fast = seconds_ms(v).map(f64::to_bits);
            let parsed = seconds_ms_parsed(v).map(f64::to_bits);
            proptest::prop_assert_eq!(fast, parsed);
        }
    }
}
