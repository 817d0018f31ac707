//! The envelope view of one record: its time and the message inside the wrapper, found
//! without allocating and without a full parse (the complete parsers build on this).
//!
//! ```
//! use coroner_parse::envelope::view;
//! use coroner_parse::format::Envelope;
//! use coroner_parse::timestamp::{TimeContext, YearHint};
//! let ctx = TimeContext { offset_secs: 0, year: YearHint::EndsAt { year: 2021, month: 12 } };
//! let v = view(Envelope::Syslog, b"2021-03-13T15:23:01.592206+0000 rpi kernel: hello\n", &ctx);
//! assert_eq!(v.message, b"hello");
//! assert_eq!(v.ts, Some(1_615_648_981_592_206));
//! ```

use memchr::{memchr, memmem};

use crate::detect::parse_syslog_line;
use crate::format::Envelope;
use crate::timestamp::{Micros, TimeContext, parse_rfc3339};

/// What the envelope says about one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// The envelope's own time of the record, if it has one (journald, syslog, docker).
    pub ts: Option<Micros>,
    /// The message: the payload to detect and parse (the whole line for plain files). For
    /// JSON envelopes this is the raw, still escaped string value.
    pub message: &'a [u8],
    /// False when the record does not have the envelope's grammar (an unparsed record).
    pub parsed: bool,
    /// journald `PRIORITY` (0 emerg .. 7 debug), when the envelope stores it.
    pub priority: Option<u8>,
    /// Who logged it: journald `SYSLOG_IDENTIFIER` (else `_COMM`), the syslog tag; empty
    /// when the envelope does not say.
    pub ident: &'a [u8],
}

impl<'a> RecordView<'a> {
    fn new(ts: Option<Micros>, message: &'a [u8], parsed: bool) -> Self {
        RecordView {
            ts,
            message,
            parsed,
            priority: None,
            ident: b"",
        }
    }
}

/// Strip the record terminator(s): `\n`, and a `\r` before it (CRLF files).
pub fn trim_newline(mut rec: &[u8]) -> &[u8] {
    if let [rest @ .., b'\n'] = rec {
        rec = rest;
    }
    if let [rest @ .., b'\r'] = rec {
        rec = rest;
    }
    rec
}

/// The envelope view of one framed record (with its terminator).
pub fn view<'a>(envelope: Envelope, record: &'a [u8], ctx: &TimeContext) -> RecordView<'a> {
    let line = trim_newline(record);
    match envelope {
        Envelope::Syslog => match parse_syslog_line(line, ctx) {
            Some(s) => RecordView {
                ident: s.ident,
                ..RecordView::new(s.ts, s.message, true)
            },
            None => RecordView::new(None, line, false),
        },
        Envelope::JournaldExport => export_view(record),
        Envelope::JournaldJson => {
            json_view(line, b"\"MESSAGE\"", b"\"__REALTIME_TIMESTAMP\"", true)
        }
        Envelope::DockerJson => json_view(line, b"\"log\"", b"\"time\"", false),
        _ => RecordView::new(None, line, true),
    }
}

/// journald export entry: `__REALTIME_TIMESTAMP=` and `MESSAGE` (text or binary).
fn export_view(entry: &[u8]) -> RecordView<'_> {
    let mut ts = None;
    let mut message: &[u8] = b"";
    let mut priority = None;
    let (mut ident, mut comm): (&[u8], &[u8]) = (b"", b"");
    let mut at = 0;
    while at < entry.len() {
        let Some(nl) = memchr(b'\n', &entry[at..]) else {
            break;
        };
        let line = &entry[at..at + nl];
        if line.is_empty() {
            break;
        }
        if let Some(eq) = memchr(b'=', line) {
            let (name, value) = (&line[..eq], &line[eq + 1..]);
            if name == b"__REALTIME_TIMESTAMP" {
                ts = parse_decimal(value);
            } else if name == b"MESSAGE" {
                message = value;
            } else if name == b"PRIORITY" {
                priority = parse_priority(value);
            } else if name == b"SYSLOG_IDENTIFIER" {
                ident = value;
            } else if name == b"_COMM" {
                comm = value;
            }
            at += nl + 1;
        } else {
            // Binary field: name, u64 LE length, value, `\n`. The framer checked the bounds;
            // check again rather than trust them.
            let len_at = at + nl + 1;
            let Some(len) = entry.get(len_at..len_at + 8) else {
                break;
            };
            let len = u64::from_le_bytes(len.try_into().unwrap_or([0xff; 8]));
            let value_at = len_at + 8;
            let Some(value_end) = usize::try_from(len)
                .ok()
                .and_then(|l| value_at.checked_add(l))
            else {
                break;
            };
            let Some(value) = entry.get(value_at..value_end) else {
                break;
            };
            if line == b"MESSAGE" {
                message = value;
            }
            at = value_end + 1;
        }
    }
    RecordView {
        priority,
        ident: if ident.is_empty() { comm } else { ident },
        ..RecordView::new(ts, message, ts.is_some())
    }
}

/// A journald `PRIORITY` value: one digit 0-7.
fn parse_priority(v: &[u8]) -> Option<u8> {
    match v {
        [d @ b'0'..=b'7'] => Some(d - b'0'),
        _ => None,
    }
}

/// One JSON object per line: the raw string value of `msg_key` (or the raw array / null
/// text when the value is not a string) and a time from `ts_key`, either decimal µs in a
/// string (journald) or an RFC 3339 string (docker).
fn json_view<'a>(
    line: &'a [u8],
    msg_key: &[u8],
    ts_key: &[u8],
    ts_is_micros: bool,
) -> RecordView<'a> {
    let body = line.strip_prefix(b"\x1e").unwrap_or(line);
    let body = trim_ascii_start(body);
    if !body.starts_with(b"{") {
        return RecordView::new(None, line, false);
    }
    let message = json_value(body, msg_key).map_or(&b""[..], |v| {
        v.strip_prefix(b"\"")
            .map_or(v, |s| s.strip_suffix(b"\"").unwrap_or(s))
    });
    let ts = json_value(body, ts_key).and_then(|v| {
        let v = v.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
        if ts_is_micros {
            parse_decimal(v)
        } else {
            parse_rfc3339(v, 0).map(|(t, _)| t)
        }
    });
    let mut view = RecordView::new(ts, message, ts.is_some());
    if ts_is_micros {
        // journald JSON: PRIORITY is a string ("3"), identifiers plain strings.
        let unquote = |v: &'a [u8]| v.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\""));
        view.priority = json_value(body, b"\"PRIORITY\"")
            .and_then(unquote)
            .and_then(parse_priority);
        view.ident = json_value(body, b"\"SYSLOG_IDENTIFIER\"")
            .or_else(|| json_value(body, b"\"_COMM\""))
            .and_then(unquote)
            .unwrap_or(b"");
    }
    view
}

/// The raw value after `"key"` `:` in a JSON object line: a string with its quotes, or the
/// bytes up to the next `,`/`}` at depth 0 for other values (arrays included).
fn json_value<'a>(body: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut from = 0;
    while let Some(i) = memmem::find(&body[from..], key) {
        let after = from + i + key.len();
        from = after;
        let rest = trim_ascii_start(&body[after..]);
        let Some(rest) = rest.strip_prefix(b":") else {
            continue;
        };
        let rest = trim_ascii_start(rest);
        let start = body.len() - rest.len();
        let value = &body[start..start + value_len(rest)];
        return Some(value.trim_ascii_end());
    }
    None
}

/// Length of the JSON value at the start of `v` (a string with escapes, or a scalar/array).
fn value_len(v: &[u8]) -> usize {
    if v.first() == Some(&b'"') {
        let mut i = 1;
        while i < v.len() {
            match v[i] {
                b'\\' => i += 2,
                b'"' => return i + 1,
                _ => i += 1,
            }
        }
        return v.len();
    }
    let mut depth = 0usize;
    for (i, &b) in v.iter().enumerate() {
        match b {
            b'[' | b'{' => depth += 1,
            b']' | b'}' if depth > 0 => depth -= 1,
            b',' | b'}' if depth == 0 => return i,
            _ => {}
        }
    }
    v.len()
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// A decimal integer (journald's µs timestamps), None on anything else or overflow.
fn parse_decimal(v: &[u8]) -> Option<i64> {
    if v.is_empty() || v.len() > 18 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0i64, |n, &d| n * 10 + i64::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::YearHint;

    const CTX: TimeContext = TimeContext {
        offset_secs: 0,
        year: YearHint::EndsAt {
            year: 2021,
            month: 12,
        },
    };

    #[test]
    fn journald_json_message_and_time() {
        let line = br#"{"_PID":"190","MESSAGE":"System clock \"jumped\"","__REALTIME_TIMESTAMP":"1615648981464603"}"#;
        let v = view(Envelope::JournaldJson, line, &CTX);
        assert_eq!(v.ts, Some(1_615_648_981_464_603));
        assert_eq!(v.message, br#"System clock \"jumped\""#);
        assert!(v.parsed);
        // Old spaced style, byte-array message, null message.
        let spaced =
            br#"{ "__REALTIME_TIMESTAMP" : "1534860261221373", "MESSAGE" : [194,191,72] }"#;
        let v = view(Envelope::JournaldJson, spaced, &CTX);
        assert_eq!(
            (v.ts, v.message),
            (Some(1_534_860_261_221_373), &b"[194,191,72]"[..])
        );
        let null = br#"{"MESSAGE":null,"__REALTIME_TIMESTAMP":"1"}"#;
        assert_eq!(view(Envelope::JournaldJson, null, &CTX).message, b"null");
        assert!(!view(Envelope::JournaldJson, b"not json", &CTX).parsed);
    }

    #[test]
    fn export_text_and_binary_message() {
        let mut e =
            b"__CURSOR=s=1\n__REALTIME_TIMESTAMP=1342540861416409\n_PID=1\nMESSAGE\n".to_vec();
        e.extend(7u64.to_le_bytes());
        e.extend(b"foo\nbar\nPRIORITY=6\n\n");
        let v = view(Envelope::JournaldExport, &e, &CTX);
        assert_eq!(
            (v.ts, v.message),
            (Some(1_342_540_861_416_409), &b"foo\nbar"[..])
        );
        let t = view(
            Envelope::JournaldExport,
            b"MESSAGE=hi\n__REALTIME_TIMESTAMP=5\n\n",
            &CTX,
        );
        assert_eq!((t.ts, t.message), (Some(5), &b"hi"[..]));
        assert_eq!((v.priority, v.ident), (Some(6), &b""[..]));
    }

    #[test]
    fn priority_and_identifier_in_every_journal_rendering() {
        let export = b"__REALTIME_TIMESTAMP=5\n_COMM=sshd\nSYSLOG_IDENTIFIER=sshd-session\nPRIORITY=3\nMESSAGE=x\n\n";
        let v = view(Envelope::JournaldExport, export, &CTX);
        assert_eq!((v.priority, v.ident), (Some(3), &b"sshd-session"[..]));
        let comm_only = b"__REALTIME_TIMESTAMP=5\n_COMM=sshd\nPRIORITY=9\nMESSAGE=x\n\n";
        let v = view(Envelope::JournaldExport, comm_only, &CTX);
        assert_eq!((v.priority, v.ident), (None, &b"sshd"[..]));
        let json = br#"{"PRIORITY":"2","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"m","__REALTIME_TIMESTAMP":"1"}"#;
        let v = view(Envelope::JournaldJson, json, &CTX);
        assert_eq!((v.priority, v.ident), (Some(2), &b"kernel"[..]));
        let short = b"2021-03-13T15:23:01+0000 host node[42]: ERR! x\n";
        let v = view(Envelope::Syslog, short, &CTX);
        assert_eq!((v.priority, v.ident), (None, &b"node"[..]));
        // Docker has neither.
        let docker = br#"{"log":"x","time":"2019-03-01T10:00:00Z"}"#;
        let v = view(Envelope::DockerJson, docker, &CTX);
        assert_eq!((v.priority, v.ident), (None, &b""[..]));
    }

    #[test]
    fn docker_json_log_and_time() {
        let line =
            br#"{"log":"GET / 200\n","stream":"stdout","time":"2019-03-01T10:00:00.123456789Z"}"#;
        let v = view(Envelope::DockerJson, line, &CTX);
        assert_eq!(v.message, br"GET / 200\n");
        assert_eq!(v.ts, Some(1_551_434_400_123_456));
    }

    #[test]
    fn never_panics_on_truncations() {
        let mut e = b"__REALTIME_TIMESTAMP=1\nMESSAGE\n".to_vec();
        e.extend(u64::MAX.to_le_bytes());
        e.extend(b"xyz\n\n");
        let json = br#"{"MESSAGE":"a\"b","__REALTIME_TIMESTAMP":"99999999999999999999"}"#.to_vec();
        for sample in [e, json] {
            for n in 0..=sample.len() {
                for env in [
                    Envelope::JournaldExport,
                    Envelope::JournaldJson,
                    Envelope::DockerJson,
                    Envelope::Syslog,
                ] {
                    let _ = view(env, &sample[..n], &CTX);
                }
            }
        }
    }
}
