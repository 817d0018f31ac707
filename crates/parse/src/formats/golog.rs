//! Go's standard `log` package lines (`log.Printf`, `net/http`'s `ErrorLog`,
//! `httputil.ReverseProxy`): a local time with no zone, then optional caller, then the text.
//!
//! ```text
//! line    = [prefix] date " " time ["." 6DIGIT] " " [file ":" line ": "] message
//! date    = YYYY "/" MM "/" DD          ; Ldate
//! time    = HH ":" MM ":" SS            ; Ltime (+ Lmicroseconds)
//! file    = path ending in ".go" (Llongfile) or a base name (Lshortfile), or "???"
//! ```
//!
//! Example: `2026/07/02 15:42:01 http: proxy error: dial tcp 192.0.2.10:8080: connect:
//! connection refused`.
//!
//! Traps handled:
//! - No zone: Go writes local time unless `LUTC`; the caller passes the zone it assumes
//!   (`assumed_offset_secs`).
//! - `Lmicroseconds` (`15:42:01.123456`).
//! - `Lshortfile`/`Llongfile` (`main.go:42: `, `/src/app/main.go:42: `, `???:0: `) into `file`
//!   and `line_no`; a message merely starting with `word:` is not taken for a file, because a
//!   file must end in `.go` and be followed by `:<digits>: `.
//! - A prefix set with `log.SetPrefix` and without `Lmsgprefix` comes *before* the date
//!   (`[proxy] 2026/07/02 ...`): the date is searched within the first 128 bytes and what is
//!   before it is `prefix`. With `Lmsgprefix` the prefix is the start of `message`: only the
//!   program's configuration knows its length, so it is left there.
//! - Not handled: `Ltime` without `Ldate` (no date to anchor on) and `Ldate` without `Ltime`;
//!   [`parse`] rejects them.
//!
//! ```
//! use coroner_parse::formats::golog;
//! let r = golog::parse(b"2026/07/02 15:42:01.250000 main.go:42: http: proxy error: EOF", 0).unwrap();
//! assert_eq!(r.time, Some(1_783_006_921_250_000));
//! assert_eq!((r.file, r.line_no), (Some(&b"main.go"[..]), Some(42)));
//! assert_eq!(r.message, b"http: proxy error: EOF");
//! ```

use memchr::{memchr, memchr_iter};

use crate::error::ParseError;
use crate::timestamp::{Micros, parse_slash_datetime};

/// One Go `log` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoLogRecord<'a> {
    /// UTC µs (local time made UTC with the assumed offset).
    pub time: Option<Micros>,
    /// `log.SetPrefix` text before the date (default flags), trailing space included.
    pub prefix: Option<&'a [u8]>,
    /// `Lshortfile` / `Llongfile` caller.
    pub file: Option<&'a [u8]>,
    pub line_no: Option<u32>,
    pub message: &'a [u8],
}

/// How far into the line a `SetPrefix` prefix may push the date.
const MAX_PREFIX: usize = 128;

/// Parse one line. `assumed_offset_secs`: the zone of the process that wrote it.
pub fn parse(line: &[u8], assumed_offset_secs: i32) -> Result<GoLogRecord<'_>, ParseError> {
    let (start, (time, n)) = match parse_slash_datetime(line, assumed_offset_secs) {
        Some(t) => (0, t),
        None => find_date(line, assumed_offset_secs)
            .ok_or(ParseError::new("a YYYY/MM/DD HH:MM:SS time", 0))?,
    };
    let mut i = start + n;
    match line.get(i) {
        Some(b' ') => i += 1,
        None => {}
        Some(_) => return Err(ParseError::new("' ' after the time", i)),
    }
    let mut rest = &line[i..];
    let mut file = None;
    let mut line_no = None;
    if let Some((f, l, skip)) = caller(rest) {
        file = Some(f);
        line_no = Some(l);
        rest = &rest[skip..];
    }
    Ok(GoLogRecord {
        time: Some(time),
        prefix: (start > 0).then(|| &line[..start]),
        file,
        line_no,
        message: rest,
    })
}

/// The first `YYYY/MM/DD HH:MM:SS` after a prefix: (offset, (time, length)).
fn find_date(line: &[u8], off: i32) -> Option<(usize, (Micros, usize))> {
    let head = &line[..line.len().min(MAX_PREFIX + 10)];
    memchr_iter(b'/', head)
        .filter(|&s| s >= 4)
        .find_map(|s| parse_slash_datetime(&line[s - 4..], off).map(|t| (s - 4, t)))
}

/// `file.go:123: ` at the start: (file, line, bytes to skip).
fn caller(rest: &[u8]) -> Option<(&[u8], u32, usize)> {
    let sp = memchr(b' ', rest)?;
    let word = rest.get(..sp)?.strip_suffix(b":")?;
    let colon = memchr::memrchr(b':', word)?;
    let (file, digits) = (&word[..colon], &word[colon + 1..]);
    if !(file.ends_with(b".go") || file == b"???") || digits.is_empty() || digits.len() > 9 {
        return None;
    }
    let n = digits.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })?;
    Some((file, n, sp + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &[&[u8]] = &[
        b"2026/07/02 15:42:01 http: proxy error: dial tcp 192.0.2.10:8080: connect: connection refused",
        b"2024/08/15 14:30:54.123456 http: TLS handshake error from 198.51.100.1:5555: EOF",
        b"2026/07/02 15:42:01 main.go:42: listening on :8080",
        b"2026/07/02 15:42:01.000001 /src/app/cmd/server/main.go:107: http: panic serving [2001:db8::1]:4444: runtime error",
        b"[proxy] 2026/07/02 15:42:01 upstream gone",
        b"2026/07/02 15:42:01 ???:0: lost caller",
        b"2026/07/02 15:42:01 note: config.go:1 is not a caller",
        b"2026/07/02 15:42:01",
    ];

    fn p(line: &[u8]) -> GoLogRecord<'_> {
        parse(line, 0).unwrap()
    }

    #[test]
    fn plain_std_flags() {
        let r = p(FIXTURES[0]);
        // `date -u -d '2026-07-02 15:42:01Z' +%s` = 1783006921
        assert_eq!(r.time, Some(1_783_006_921_000_000));
        assert_eq!((r.prefix, r.file, r.line_no), (None, None, None));
        assert!(r.message.starts_with(b"http: proxy error: dial tcp"));
    }

    #[test]
    fn microseconds_and_assumed_offset() {
        let r = parse(FIXTURES[1], -4 * 3600).unwrap();
        // `date -u -d '2024-08-15 14:30:54 -0400' +%s` = 1723746654
        assert_eq!(r.time, Some(1_723_746_654_123_456));
        assert_eq!(
            r.message,
            b"http: TLS handshake error from 198.51.100.1:5555: EOF"
        );
    }

    #[test]
    fn short_and_long_file() {
        let r = p(FIXTURES[2]);
        assert_eq!((r.file, r.line_no), (Some(&b"main.go"[..]), Some(42)));
        assert_eq!(r.message, b"listening on :8080");
        let r = p(FIXTURES[3]);
        assert_eq!(r.file, Some(&b"/src/app/cmd/server/main.go"[..]));
        assert_eq!(r.line_no, Some(107));
        assert_eq!(r.time, Some(1_783_006_921_000_001));
        let r = p(FIXTURES[5]);
        assert_eq!((r.file, r.line_no), (Some(&b"???"[..]), Some(0)));
    }

    #[test]
    fn message_with_colon_is_not_a_file() {
        let r = p(FIXTURES[6]);
        assert_eq!(r.file, None);
        assert_eq!(r.message, b"note: config.go:1 is not a caller");
        assert_eq!(p(b"2026/07/02 15:42:01 http: x").file, None);
    }

    #[test]
    fn prefix_before_date() {
        let r = p(FIXTURES[4]);
        assert_eq!(r.prefix, Some(&b"[proxy] "[..]));
        assert_eq!(r.time, Some(1_783_006_921_000_000));
        assert_eq!(r.message, b"upstream gone");
    }

    #[test]
    fn time_only_and_rejects() {
        assert_eq!(p(FIXTURES[7]).message, b"");
        assert!(parse(b"15:42:01 only a time", 0).is_err());
        assert!(parse(b"2026/13/02 15:42:01 bad month", 0).is_err());
        assert_eq!(
            parse(b"2026/07/02 15:42:01x", 0).unwrap_err(),
            ParseError::new("' ' after the time", 19)
        );
    }

    #[test]
    fn never_panics() {
        for line in FIXTURES {
            for cut in 0..=line.len() {
                let _ = parse(&line[..cut], 0);
            }
            for i in 0..line.len() {
                for b in [0u8, b'"', b'=', b' ', b'\\', 0xff, b':', b'/'] {
                    let mut l = line.to_vec();
                    l[i] = b;
                    let _ = parse(&l, 3600);
                }
            }
        }
        let _ = parse(b"2026/07/02 15:42:01 a.go:99999999999: x", 0);
    }
}
