//! Docker's `json-file` log driver (`/var/lib/docker/containers/<id>/<id>-json.log`): one
//! JSON object per line, written by dockerd for every line the container printed.
//!
//! ```text
//! {"log":"192.0.2.7 - - [10/Oct/2024:13:55:36 +0000] \"GET / HTTP/1.1\" 200 612\n","stream":"stdout","time":"2024-10-10T13:55:36.123456789Z"}
//! ```
//!
//! Keys: `log` (the line, JSON-escaped, with its `\n`), `stream` (`stdout`/`stderr`), `time`
//! (RFC 3339 with nanoseconds, UTC), optionally `attrs` (labels/env from `--log-opt`).
//!
//! Traps handled:
//! - `log` ends with the escaped newline `\n` (two bytes `\` `n` in the raw text) when the
//!   line was complete; dockerd splits lines longer than 16 KiB into pieces **without** it.
//!   [`DockerRecord::log`] drops that escape only when it really is one (an odd run of
//!   backslashes before the `n`; `\\n` is a literal backslash then `n`), and
//!   [`DockerRecord::partial`] is true when there was none.
//! - `log` often holds another JSON object or a CLF line, escaped: [`DockerRecord::log_unescaped_into`]
//!   gives the payload bytes to hand to the next parser.
//! - Nanosecond times are truncated to µs.
//! - Key order is not relied upon.
//!
//! ```
//! use coroner_parse::formats::docker_json::parse;
//!
//! let r = parse(br#"{"log":"{\"level\":\"info\"}\n","stream":"stderr","time":"2024-10-10T13:55:36.123456789Z"}"#).unwrap();
//! assert_eq!(r.stream, Some(&b"stderr"[..]));
//! assert_eq!(r.ts, Some(1_728_568_536_123_456));
//! assert!(!r.partial);
//! let mut out = Vec::new();
//! r.log_unescaped_into(&mut out);
//! assert_eq!(out, br#"{"level":"info"}"#);
//! ```

use crate::error::ParseError;
use crate::formats::json::{Object, RawStr, Value};
use crate::timestamp::{Micros, TimeCache, parse_rfc3339};

/// One json-file line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DockerRecord<'a> {
    /// The logged line, escapes in place, without its trailing escaped `\n`.
    pub log: RawStr<'a>,
    /// True when `log` did not end with `\n`: a piece of a line longer than 16 KiB (or the
    /// last output of a process that exited mid-line).
    pub partial: bool,
    /// `stdout` or `stderr`.
    pub stream: Option<&'a [u8]>,
    /// `time`, µs UTC.
    pub ts: Option<Micros>,
    /// `attrs`, when `--log-opt labels=/env=` put some there.
    pub attrs: Option<Object<'a>>,
    /// The whole line's object.
    pub object: Object<'a>,
}

impl DockerRecord<'_> {
    /// Appends the unescaped log line (without the trailing newline) to `out`.
    pub fn log_unescaped_into(&self, out: &mut Vec<u8>) {
        self.log.unescape_into(out);
    }
}

/// Splits off a trailing escaped `\n`: (contents without it, whether it was there).
fn strip_escaped_newline(raw: &[u8]) -> (&[u8], bool) {
    let Some(body) = raw.strip_suffix(b"n") else {
        return (raw, false);
    };
    let slashes = body.iter().rev().take_while(|&&c| c == b'\\').count();
    if slashes % 2 == 1 {
        (body.get(..body.len() - 1).unwrap_or_default(), true)
    } else {
        (raw, false)
    }
}

/// Parses one json-file line.
pub fn parse(line: &[u8]) -> Result<DockerRecord<'_>, ParseError> {
    parse_inner(line, |t| parse_rfc3339(t, 0))
}

/// Same as [`parse`], with a [`TimeCache`] shared across the lines of one file.
pub fn parse_cached<'a>(
    line: &'a [u8],
    cache: &mut TimeCache,
) -> Result<DockerRecord<'a>, ParseError> {
    parse_inner(line, |t| cache.rfc3339(t, 0))
}

fn parse_inner<'a>(
    line: &'a [u8],
    mut time: impl FnMut(&[u8]) -> Option<(Micros, usize)>,
) -> Result<DockerRecord<'a>, ParseError> {
    let object = Object::parse(line)?;
    let mut log = None;
    let mut r = DockerRecord {
        log: RawStr::from_raw(b""),
        partial: true,
        stream: None,
        ts: None,
        attrs: None,
        object,
    };
    for (key, v) in object.iter() {
        match (key, v) {
            (b"log", Value::Str(s)) if log.is_none() => log = Some(s),
            (b"stream", Value::Str(s)) => r.stream = Some(s.raw()),
            (b"time", Value::Str(s)) => r.ts = time(s.raw()).map(|(t, _)| t),
            (b"attrs", Value::Object(o)) => r.attrs = Some(o),
            _ => {}
        }
    }
    let log = log.ok_or(ParseError::new("a \"log\" string member", 0))?;
    let (body, newline) = strip_escaped_newline(log.raw());
    r.log = RawStr::from_raw(body);
    r.partial = !newline;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::json::tests::assert_never_panics;

    const CLF: &[u8] = br#"{"log":"192.0.2.7 - - [10/Oct/2024:13:55:36 +0000] \"GET /index.html HTTP/1.1\" 200 612 \"-\" \"curl/8.5.0\"\n","stream":"stdout","time":"2024-10-10T13:55:36.123456789Z"}"#;
    const NESTED: &[u8] = br#"{"log":"{\"level\":\"error\",\"msg\":\"dial tcp 198.51.100.4:5432: connect: connection refused\\n\"}\n","stream":"stderr","attrs":{"tag":"db.example.com"},"time":"2024-10-10T13:55:37.000000001Z"}"#;

    fn unesc(r: &DockerRecord) -> Vec<u8> {
        let mut v = Vec::new();
        r.log_unescaped_into(&mut v);
        v
    }

    #[test]
    fn clf_payload() {
        let r = parse(CLF).unwrap();
        assert_eq!(r.stream, Some(&b"stdout"[..]));
        assert_eq!(r.ts, Some(1_728_568_536_123_456));
        assert!(!r.partial);
        assert_eq!(
            unesc(&r),
            br#"192.0.2.7 - - [10/Oct/2024:13:55:36 +0000] "GET /index.html HTTP/1.1" 200 612 "-" "curl/8.5.0""#
        );
        assert_eq!(r.attrs, None);
    }

    #[test]
    fn nested_json_payload_and_attrs() {
        let r = parse(NESTED).unwrap();
        assert_eq!(r.stream, Some(&b"stderr"[..]));
        assert_eq!(r.ts, Some(1_728_568_537_000_000));
        let tag = r.attrs.unwrap().get(b"tag").unwrap().as_str().unwrap();
        assert_eq!(tag.raw(), b"db.example.com");
        let inner = unesc(&r);
        // The payload is itself a JSON line, whose own escaped newline stays escaped.
        let o = Object::parse(&inner).unwrap();
        assert_eq!(o.get(b"level").unwrap().as_str().unwrap().raw(), b"error");
        assert!(inner.ends_with(br#"refused\n"}"#));
    }

    #[test]
    fn split_long_line_is_partial() {
        let r =
            parse(br#"{"log":"aaaa","stream":"stdout","time":"2024-10-10T13:55:36Z"}"#).unwrap();
        assert!(r.partial);
        assert_eq!(r.log.raw(), b"aaaa");
    }

    #[test]
    fn escaped_backslash_before_n_is_not_a_newline() {
        // Raw `C:\\n`: a literal backslash followed by `n`, no newline.
        let r =
            parse(br#"{"log":"C:\\n","stream":"stdout","time":"2024-10-10T13:55:36Z"}"#).unwrap();
        assert!(r.partial);
        assert_eq!(unesc(&r), br"C:\n");
        // Raw `C:\\\n`: a literal backslash then the newline.
        let r =
            parse(br#"{"log":"C:\\\n","stream":"stdout","time":"2024-10-10T13:55:36Z"}"#).unwrap();
        assert!(!r.partial);
        assert_eq!(unesc(&r), br"C:\");
        // CRLF output keeps its \r: only the newline is the line terminator.
        let r =
            parse(br#"{"log":"x\r\n","stream":"stdout","time":"2024-10-10T13:55:36Z"}"#).unwrap();
        assert_eq!(unesc(&r), b"x\r");
    }

    #[test]
    fn missing_log_is_error_bad_time_is_none() {
        assert_eq!(
            parse(br#"{"stream":"stdout"}"#).unwrap_err().expected,
            "a \"log\" string member"
        );
        let r = parse(br#"{"time":"yesterday","log":"\n"}"#).unwrap();
        assert_eq!(r.ts, None);
        assert_eq!(r.stream, None);
        assert_eq!(r.log.raw(), b"");
        assert!(!r.partial);
    }

    #[test]
    fn cached_matches_uncached() {
        let mut cache = TimeCache::new();
        for l in [CLF, NESTED, CLF] {
            assert_eq!(parse_cached(l, &mut cache).unwrap(), parse(l).unwrap());
        }
    }

    #[test]
    fn never_panics() {
        assert_never_panics(&[CLF, NESTED], |l| {
            if let Ok(r) = parse(l) {
                unesc(&r);
            }
        });
    }

    #[test]
    #[ignore]
    fn throughput() {
        let mut data = Vec::new();
        while data.len() < 300 << 20 {
            data.extend_from_slice(CLF);
            data.push(b'\n');
            data.extend_from_slice(NESTED);
            data.push(b'\n');
        }
        let mut cache = TimeCache::new();
        let t = std::time::Instant::now();
        let mut n = 0usize;
        for l in data.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
            n += usize::from(parse_cached(l, &mut cache).is_ok_and(|r| r.ts.is_some()));
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "docker_json: {n} records, {:.0} MB/s",
            data.len() as f64 / s / 1e6
        );
    }
}
