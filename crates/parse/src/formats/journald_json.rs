//! `journalctl -o json` (and `json-seq`, whose lines start with RS 0x1E): one journal entry
//! per line as a JSON object whose values are all strings, even numbers.
//!
//! ```text
//! {"_PID":"190","PRIORITY":"6","SYSLOG_IDENTIFIER":"systemd-timesyncd","MESSAGE":"System clock time unset","__REALTIME_TIMESTAMP":"1615648981464603","_BOOT_ID":"68f2…"}
//! ```
//!
//! Traps handled:
//! - Key order is hash order and changes between journalctl runs: one pass over the members
//!   matching keys, never positions.
//! - Old systemd wrote spaced JSON (`{ "__CURSOR" : "…", … }`): accepted by [`json`].
//! - A value that is not printable UTF-8 (a trailing `\r`, an ANSI escape) is an **array of
//!   byte numbers** ([`Message::Bytes`]); a field set several times is an **array of values**
//!   ([`Message::Multi`]). Both are arrays: the first element's type tells them apart.
//! - A field of 4096 bytes or more is `null` without `journalctl -a`: the record is kept and
//!   [`JournalJsonRecord::is_truncated`] says so.
//! - `_COMM` is cut to 15 bytes by the kernel, so `SYSLOG_IDENTIFIER` is preferred.
//! - Timestamps are not unique (several entries share a µs): order by cursor or file order.
//! - Numbers are strings (`"_PID":"190"`); bare JSON numbers are accepted too.
//!
//! ```
//! use coroner_parse::formats::journald_json::{parse, Message};
//!
//! let line = br#"{"_PID":"190","MESSAGE":[72,105,13],"__REALTIME_TIMESTAMP":"1615648981464603","_COMM":"systemd-timesyn"}"#;
//! let r = parse(line).unwrap();
//! assert_eq!(r.ts, Some(1_615_648_981_464_603));
//! assert_eq!(r.pid, Some(190));
//! assert_eq!(r.identifier, Some(&b"systemd-timesyn"[..]));
//! assert!(matches!(r.message, Message::Bytes(_)));
//! let mut out = Vec::new();
//! r.message.decode_into(&mut out);
//! assert_eq!(out, b"Hi\r");
//! ```

use crate::error::ParseError;
use crate::formats::json::{self, Object, RawArray, RawStr, Value};
use crate::timestamp::Micros;

/// The `MESSAGE` field in its four JSON shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// A JSON string (escapes still in place).
    Text(RawStr<'a>),
    /// An array of byte values: content that is not printable UTF-8.
    Bytes(RawArray<'a>),
    /// An array of values (strings, byte arrays, nulls): the field was set more than once.
    Multi(RawArray<'a>),
    /// `null`: the value was 4096 bytes or more and journalctl ran without `-a`.
    Null,
    /// No `MESSAGE` key.
    Absent,
    /// A number, bool or object: not something journalctl writes, kept rather than dropped.
    Other(Value<'a>),
}

/// One journal entry. Slices are raw JSON string contents (still escaped; journald's
/// well-known fields never contain escapes in practice).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JournalJsonRecord<'a> {
    /// The whole entry, for any other field.
    pub object: Object<'a>,
    /// `__REALTIME_TIMESTAMP`: when journald received the entry, µs UTC.
    pub ts: Option<Micros>,
    /// `_SOURCE_REALTIME_TIMESTAMP`: when the sender says it happened (clocks jump).
    pub source_ts: Option<Micros>,
    /// `__MONOTONIC_TIMESTAMP`, µs since boot.
    pub monotonic: Option<u64>,
    pub boot_id: Option<&'a [u8]>,
    pub cursor: Option<&'a [u8]>,
    /// `SYSLOG_IDENTIFIER`, else `_COMM`.
    pub identifier: Option<&'a [u8]>,
    /// `_PID`, else `SYSLOG_PID` (what journalctl prints in brackets).
    pub pid: Option<u32>,
    /// `PRIORITY`, 0 (emerg) ..= 7 (debug).
    pub priority: Option<u8>,
    pub unit: Option<&'a [u8]>,
    pub transport: Option<&'a [u8]>,
    pub hostname: Option<&'a [u8]>,
    pub message: Message<'a>,
}

impl<'a> JournalJsonRecord<'a> {
    /// Whether `MESSAGE` (or one of its values) was replaced by `null` for being >= 4096 bytes.
    pub fn is_truncated(&self) -> bool {
        match self.message {
            Message::Null => true,
            Message::Multi(a) => a.iter().any(|v| v.is_null()),
            _ => false,
        }
    }

    /// Any other field by name, e.g. `get(b"_SYSTEMD_CGROUP")`.
    pub fn get(&self, key: &[u8]) -> Option<Value<'a>> {
        self.object.get(key)
    }
}

/// Whether an array holds byte values (binary content) rather than several values.
fn is_byte_array(a: RawArray<'_>) -> bool {
    matches!(a.iter().next(), Some(Value::Number(_)))
}

/// Appends the bytes of a byte-value array; values outside 0..=255 are skipped.
fn push_bytes(a: RawArray<'_>, out: &mut Vec<u8>) {
    out.extend(
        a.iter()
            .filter_map(|v| v.as_u64().and_then(|n| u8::try_from(n).ok())),
    );
}

impl<'a> Message<'a> {
    /// Appends the message bytes to `out`: a string unescaped, a byte array as its bytes.
    ///
    /// A multi-valued field is **joined with `\n`** in order (nulls skipped): every value
    /// was logged, and a forensic view must not hide the later ones. Null and Absent append
    /// nothing; Other appends the value's JSON text.
    pub fn decode_into(&self, out: &mut Vec<u8>) {
        match *self {
            Message::Text(s) => s.unescape_into(out),
            Message::Bytes(a) => push_bytes(a, out),
            Message::Multi(a) => {
                let mut first = true;
                for v in a.iter() {
                    let start = out.len();
                    if !first {
                        out.push(b'\n');
                    }
                    match v {
                        Value::Str(s) => s.unescape_into(out),
                        Value::Array(b) => push_bytes(b, out),
                        _ => {
                            out.truncate(start);
                            continue;
                        }
                    }
                    first = false;
                }
            }
            Message::Null | Message::Absent => {}
            Message::Other(v) => match v {
                Value::Number(n) => out.extend_from_slice(n),
                Value::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
                Value::Object(o) => out.extend_from_slice(o.raw()),
                Value::Array(a) => out.extend_from_slice(a.raw()),
                Value::Str(s) => s.unescape_into(out),
                Value::Null => {}
            },
        }
    }
}

/// The raw bytes of a string or number value; for a multi-valued field, its first string.
fn first_scalar<'a>(v: Value<'a>) -> Option<&'a [u8]> {
    match v {
        Value::Array(a) if !is_byte_array(a) => a.iter().find_map(|e| e.scalar_raw()),
        _ => v.scalar_raw(),
    }
}

fn number<T: TryFrom<u64>>(v: Value<'_>) -> Option<T> {
    T::try_from(json::parse_u64(first_scalar(v)?)?).ok()
}

/// Parses one `journalctl -o json` / `json-seq` line.
pub fn parse(line: &[u8]) -> Result<JournalJsonRecord<'_>, ParseError> {
    let object = Object::parse(line)?;
    let mut r = JournalJsonRecord {
        object,
        ts: None,
        source_ts: None,
        monotonic: None,
        boot_id: None,
        cursor: None,
        identifier: None,
        pid: None,
        priority: None,
        unit: None,
        transport: None,
        hostname: None,
        message: Message::Absent,
    };
    let mut comm = None;
    let mut syslog_pid = None;
    for (key, v) in object.iter() {
        // Journal field names are [A-Z0-9_] only, so raw keys compare exactly.
        match key {
            b"MESSAGE" => {
                r.message = match v {
                    Value::Str(s) => Message::Text(s),
                    Value::Array(a) if is_byte_array(a) => Message::Bytes(a),
                    Value::Array(a) => Message::Multi(a),
                    Value::Null => Message::Null,
                    other => Message::Other(other),
                }
            }
            b"__REALTIME_TIMESTAMP" => r.ts = number::<i64>(v),
            b"_SOURCE_REALTIME_TIMESTAMP" => r.source_ts = number::<i64>(v),
            b"__MONOTONIC_TIMESTAMP" => r.monotonic = number(v),
            b"_BOOT_ID" => r.boot_id = first_scalar(v),
            b"__CURSOR" => r.cursor = first_scalar(v),
            b"SYSLOG_IDENTIFIER" => r.identifier = first_scalar(v),
            b"_COMM" => comm = first_scalar(v),
            b"_PID" => r.pid = number(v),
            b"SYSLOG_PID" => syslog_pid = number(v),
            b"PRIORITY" => r.priority = number::<u8>(v).filter(|p| *p <= 7),
            b"_SYSTEMD_UNIT" => r.unit = first_scalar(v),
            b"_TRANSPORT" => r.transport = first_scalar(v),
            b"_HOSTNAME" => r.hostname = first_scalar(v),
            _ => {}
        }
    }
    // As journalctl and the export parser: an empty SYSLOG_IDENTIFIER says nothing, and a
    // message relayed by syslog() carries its sender's pid in SYSLOG_PID only.
    if r.identifier.is_none_or(<[u8]>::is_empty) {
        r.identifier = comm.or(r.identifier);
    }
    if r.pid.is_none() {
        r.pid = syslog_pid;
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::json::tests::assert_never_panics;

    const RPI4: &[u8] = include_bytes!("../../../../tests/fixtures/kjournald/rpi4-journal.json");
    const LNAV: &[u8] = include_bytes!("../../../../tests/fixtures/lnav/logfile_journald.json");

    fn lines(f: &[u8]) -> impl Iterator<Item = &[u8]> {
        f.split(|&c| c == b'\n').filter(|l| !l.is_empty())
    }

    fn decoded(m: Message) -> Vec<u8> {
        let mut v = Vec::new();
        m.decode_into(&mut v);
        v
    }

    #[test]
    fn rpi4_fixture_all_records() {
        let recs: Vec<_> = lines(RPI4).map(|l| parse(l).unwrap()).collect();
        assert_eq!(recs.len(), 2202);
        let first = &recs[0];
        assert_eq!(first.ts, Some(1_615_648_981_464_603));
        assert_eq!(first.source_ts, Some(1_581_090_654_326_448));
        assert_eq!(first.monotonic, Some(4_050_458));
        assert_eq!(first.identifier, Some(&b"systemd-timesyncd"[..]));
        assert_eq!(first.pid, Some(190));
        assert_eq!(first.priority, Some(6));
        assert_eq!(first.unit, Some(&b"systemd-timesyncd.service"[..]));
        assert_eq!(first.transport, Some(&b"journal"[..]));
        assert_eq!(first.hostname, Some(&b"raspberrypi4"[..]));
        assert_eq!(
            first.boot_id,
            Some(&b"68f2e61d061247d8a8ba0b8d53a97a52"[..])
        );
        assert!(
            first
                .cursor
                .unwrap()
                .starts_with(b"s=c485fef5d17c4272a4a539c4e4708f9e;i=191;")
        );
        assert_eq!(
            decoded(first.message),
            b"System clock time unset or jumped backwards, restoring from recorded timestamp: Sat 2021-03-13 15:23:01 UTC"
        );
        let last = recs.last().unwrap();
        assert_eq!(last.ts, Some(1_615_650_078_253_072));
        assert_eq!(last.identifier, Some(&b"systemd"[..]));
        assert_eq!(last.pid, Some(1));
        assert_eq!(last.unit, Some(&b"init.scope"[..]));
        assert_eq!(
            decoded(last.message),
            b"systemd-hostnamed.service: Succeeded."
        );
        assert!(recs.iter().all(|r| r.ts.is_some() && !r.is_truncated()));
        // `grep -c '"_PID"'` is 2,063; of the 139 others, 14 relayed by syslog() carry
        // SYSLOG_PID (`grep -v '"_PID"' | grep -vc '"SYSLOG_PID"'` is 125, kernel lines).
        assert_eq!(recs.iter().filter(|r| r.pid.is_none()).count(), 125);
    }

    #[test]
    fn old_spaced_style() {
        let recs: Vec<_> = lines(LNAV).map(|l| parse(l).unwrap()).collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].ts, Some(1_534_860_261_221_373));
        // Timestamps are not unique: both lnav entries share them.
        assert_eq!(recs[0].ts, recs[1].ts);
        assert_eq!(recs[0].priority, Some(1));
        assert_eq!(recs[0].identifier, Some(&b"python"[..]));
        assert_eq!(recs[0].pid, Some(184));
        assert_eq!(recs[0].hostname, Some(&b"imx6ul-medusa"[..]));
        assert_eq!(recs[0].unit, Some(&b"medusa-GpsLocator.service"[..]));
        let spaced = br#"{ "__REALTIME_TIMESTAMP" : "1534860261221373" , "MESSAGE" : "GPS Reference longitude: 7.358143333" , "_PID" : "184" }"#;
        let r = parse(spaced).unwrap();
        assert_eq!(decoded(r.message), b"GPS Reference longitude: 7.358143333");
    }

    #[test]
    fn byte_array_message() {
        let r = parse(br#"{"_SYSTEMD_UNIT":"badunit.service","MESSAGE":[194,191,72,101,108,108,111,63],"PRIORITY":"5"}"#).unwrap();
        assert!(matches!(r.message, Message::Bytes(_)));
        assert_eq!(decoded(r.message), "¿Hello?".as_bytes());
        // Trailing CR (CRLF apps) and old systemd's spaced byte arrays.
        let r = parse(br#"{"MESSAGE":[ 32, 32, 121, 13 ]}"#).unwrap();
        assert_eq!(decoded(r.message), b"  y\r");
        // An ANSI escape from a docker TTY.
        let r = parse(br#"{"MESSAGE":[27,91,63,50,53,104]}"#).unwrap();
        assert_eq!(decoded(r.message), b"\x1b[?25h");
    }

    #[test]
    fn multi_valued_joined_with_newline() {
        let r = parse(br#"{"MESSAGE":["first","second\tx",[104,105],null],"SYSLOG_FACILITY":["DHCP4","DHCP6"]}"#).unwrap();
        assert!(matches!(r.message, Message::Multi(_)));
        assert_eq!(decoded(r.message), b"first\nsecond\tx\nhi");
        // A null among the values is a truncated one.
        assert!(r.is_truncated());
        let r = parse(br#"{"_PID":["12","13"],"SYSLOG_IDENTIFIER":["a","b"]}"#).unwrap();
        assert_eq!(r.pid, Some(12));
        assert_eq!(r.identifier, Some(&b"a"[..]));
    }

    #[test]
    fn null_message_is_truncated_not_dropped() {
        let r = parse(br#"{"__REALTIME_TIMESTAMP":"1700000000000000","MESSAGE":null,"_PID":"42"}"#)
            .unwrap();
        assert_eq!(r.message, Message::Null);
        assert!(r.is_truncated());
        assert_eq!(r.ts, Some(1_700_000_000_000_000));
        assert_eq!(r.pid, Some(42));
        let r = parse(br#"{"_PID":"42"}"#).unwrap();
        assert_eq!(r.message, Message::Absent);
        assert!(!r.is_truncated());
    }

    #[test]
    fn key_order_irrelevant() {
        let a = parse(
            br#"{"SYSLOG_IDENTIFIER":"node","_PID":"7","MESSAGE":"m","__REALTIME_TIMESTAMP":"5"}"#,
        )
        .unwrap();
        let b = parse(
            br#"{"__REALTIME_TIMESTAMP":"5","MESSAGE":"m","_PID":"7","SYSLOG_IDENTIFIER":"node"}"#,
        )
        .unwrap();
        assert_eq!((a.ts, a.pid, a.identifier), (b.ts, b.pid, b.identifier));
        assert_eq!(decoded(a.message), decoded(b.message));
    }

    #[test]
    fn comm_fallback_and_escaped_newlines() {
        let r = parse(br#"{"_COMM":"systemd-timesyn","MESSAGE":"<info>  option wpad => '\n'"}"#)
            .unwrap();
        assert_eq!(r.identifier, Some(&b"systemd-timesyn"[..]));
        assert_eq!(decoded(r.message), b"<info>  option wpad => '\n'");
    }

    #[test]
    fn json_seq_and_bare_numbers() {
        let r = parse(b"\x1e{\"_PID\":190,\"PRIORITY\":9,\"__REALTIME_TIMESTAMP\":\"x\"}").unwrap();
        assert_eq!(r.pid, Some(190));
        assert_eq!(r.priority, None);
        assert_eq!(r.ts, None);
        assert!(parse(b"{\"MESSAGE\":\"a\"").is_err());
    }

    #[test]
    fn never_panics() {
        let first = lines(RPI4).next().unwrap();
        let fixtures: [&[u8]; 4] = [
            first,
            br#"{"MESSAGE":[194,191,72],"_PID":"1"}"#,
            br#"{"MESSAGE":["a",[104],null],"_PID":["1","2"]}"#,
            b"\x1e{ \"MESSAGE\" : null }",
        ];
        assert_never_panics(&fixtures, |l| {
            if let Ok(r) = parse(l) {
                decoded(r.message);
                r.is_truncated();
            }
        });
    }

    #[test]
    #[ignore]
    fn throughput() {
        let mut data = Vec::new();
        while data.len() < 300 << 20 {
            data.extend_from_slice(RPI4);
        }
        let t = std::time::Instant::now();
        let mut n = 0usize;
        for l in lines(&data) {
            n += usize::from(parse(l).is_ok_and(|r| r.ts.is_some()));
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "journald_json: {n} records, {:.0} MB/s",
            data.len() as f64 / s / 1e6
        );
    }
}
