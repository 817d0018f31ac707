//! journald Journal Export Format (`journalctl -o export`): one framed entry to its fields and
//! to the handful of fields a record keeps.
//!
//! # Grammar (systemd `docs/JOURNAL_EXPORT_FORMATS.md`)
//! ```text
//! entry  = field* "\n"                      ; the blank line ends the entry
//! field  = text / binary
//! text   = NAME "=" value "\n"              ; value: printable UTF-8, no "\n"
//! binary = NAME "\n" u64le(len) value "\n"  ; value: any bytes, "\n" and "\n\n" included
//! NAME   = [A-Z0-9_]+                       ; no leading digit, at most 64 bytes
//! ```
//! ```text
//! __CURSOR=s=…;i=191;b=68f2…;m=3dce1a;t=5bd6c979f361b;x=7666…
//! __REALTIME_TIMESTAMP=1615648981464603
//! _BOOT_ID=68f2e61d061247d8a8ba0b8d53a97a52
//! SYSLOG_IDENTIFIER=systemd-timesyncd
//! MESSAGE=System clock time unset or jumped backwards, …
//! _PID=190
//! ```
//! The framer ([`crate::frame::Frames`] with `Framing::JournaldExport`) cuts the stream into
//! entries; [`parse`] reads one of them in a single pass, [`fields`] walks all its fields.
//! [`Entries`] does both at once: it gives exactly the framer's spans (records, meta blank
//! lines, malformed stretches, the too-long error), parsing clean entries while it frames them
//! ([`parse_framed`]) and handing anything unusual to the framer, so a stream is read once
//! instead of twice (about twice the throughput of framing then parsing).
//!
//! # Traps handled
//! - A binary field's value may hold `\n` and `\n\n`: values are skipped by their length
//!   prefix, never by looking for a blank line.
//! - The length is little-endian u64 and is never trusted: above [`MAX_FIELD_LEN`] (64 MiB)
//!   or beyond the end of the entry it is an error, and nothing is ever allocated from it.
//! - A binary field has no `=`: a bare `NAME` line is a binary header only if `NAME` is a
//!   valid field name; any other line (a syslog line wedged into the stream, `++Dodgy=x`) is a
//!   *stray* line, skipped and counted ([`Fields::stray`], [`ExportRecord::stray`]).
//! - Field order is undefined and differs between entries; fields may repeat (the first
//!   occurrence of a kept field wins, as `sd_journal_get_data` does).
//! - `MESSAGE` may be absent ([`ExportRecord::has_message`] is false) and `__` metadata may
//!   be absent (files not written by journalctl): `ts` is then `None`.
//! - `__REALTIME_TIMESTAMP` (receive time) is the record time; `_SOURCE_REALTIME_TIMESTAMP`
//!   (what the client claims) is kept apart in `source_ts`, since the two can be a year apart.
//! - Values can be empty (`INVOCATION_ID=`); unknown `__` fields are skipped.
//!
//! ```
//! use coroner_parse::formats::journald_export::{fields, parse, Transport};
//!
//! let mut entry = b"__REALTIME_TIMESTAMP=1615648981464603\n_TRANSPORT=stdout\n\
//!                   SYSLOG_IDENTIFIER=app\n_PID=190\nMESSAGE\n".to_vec();
//! entry.extend(7u64.to_le_bytes());
//! entry.extend(b"foo\nbar\n\n");
//!
//! let rec = parse(&entry).unwrap();
//! assert_eq!(rec.ts, Some(1_615_648_981_464_603));
//! assert_eq!(rec.identifier, Some(&b"app"[..]));
//! assert_eq!(rec.pid, Some(190));
//! assert_eq!(rec.transport, Some(Transport::Stdout));
//! assert_eq!(rec.message, b"foo\nbar");
//! assert!(rec.message_binary && rec.has_message);
//!
//! let names: Vec<&[u8]> = fields(&entry).map(|f| f.unwrap().name).collect();
//! assert_eq!(names.len(), 5);
//!
//! // A stream: two entries with garbage between them.
//! use coroner_parse::formats::journald_export::Entries;
//! use coroner_parse::frame::SpanKind;
//! let stream = b"MESSAGE=one\n\nnot a field\n\nMESSAGE=two\n\n";
//! let got: Vec<_> = Entries::new(stream, true, 1 << 20).map(|e| e.unwrap()).collect();
//! assert_eq!(got[1].0.kind, SpanKind::Malformed);
//! assert_eq!(got[2].1.unwrap().unwrap().message, b"two");
//! ```

use memchr::memchr;

use crate::error::ParseError;
use crate::frame::{Frames, Framing, Span, SpanKind, TooLong};
use crate::timestamp::Micros;

/// Largest binary field value [`fields`] and [`parse`] accept (64 MiB): far beyond any
/// message a log holds, so a larger length is taken for damage, never as a size to read or
/// allocate. [`Fields::with_cap`] sets another bound ([`Entries`] uses the record cap).
pub const MAX_FIELD_LEN: u64 = 64 << 20;

/// The message of a record: borrowed from the entry, never copied or validated as UTF-8.
pub type Message<'a> = &'a [u8];

/// One field of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
    /// Written in the length-prefixed binary form.
    pub binary: bool,
}

/// Iterator over the fields of one entry, see [`fields`]. Fused: after an error or the
/// blank line that ends the entry it yields `None`.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    entry: &'a [u8],
    pos: usize,
    stray: u32,
    cap: u64,
    done: bool,
}

/// The fields of one entry, in order. A stray line is skipped (see [`Fields::stray`]); a
/// binary field whose length does not fit is an error, after which iteration stops.
pub fn fields(entry: &[u8]) -> Fields<'_> {
    Fields::with_cap(entry, MAX_FIELD_LEN)
}

impl<'a> Fields<'a> {
    /// Like [`fields`] with another cap on binary field lengths.
    pub fn with_cap(entry: &'a [u8], cap: u64) -> Self {
        Fields {
            entry,
            pos: 0,
            stray: 0,
            cap,
            done: false,
        }
    }

    /// Lines skipped so far because they are not fields.
    pub fn stray(&self) -> u32 {
        self.stray
    }

    /// Offset of the next unread byte in the entry.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn fail(&mut self, expected: &'static str, at: usize) -> Option<Result<Field<'a>, ParseError>> {
        self.done = true;
        Some(Err(ParseError::new(expected, at)))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, ParseError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.entry;
        loop {
            if self.done {
                return None;
            }
            let at = self.pos;
            let rest = entry.get(at..).unwrap_or_default();
            if rest.is_empty() || rest[0] == b'\n' {
                // End of input, or the blank line that ends the entry.
                self.done = true;
                return None;
            }
            // One pass over the name both validates it and finds what ends it, so a text
            // field costs this short loop plus one memchr for its value's end.
            let mut n = 0;
            while n < rest.len() && n <= MAX_NAME && NAME_BYTE[usize::from(rest[n])] {
                n += 1;
            }
            let name_ok = n > 0 && n <= MAX_NAME && !rest[0].is_ascii_digit();
            match rest.get(n) {
                Some(b'=') if name_ok => {
                    let value = &rest[n + 1..];
                    let (value, next) = match find_newline(value) {
                        Some(nl) => (&value[..nl], at + n + 1 + nl + 1),
                        None => (value, entry.len()),
                    };
                    self.pos = next;
                    return Some(Ok(Field {
                        name: &rest[..n],
                        value,
                        binary: false,
                    }));
                }
                Some(b'\n') if name_ok => {}
                None if name_ok => {
                    return self.fail("'\\n' after a binary field name", entry.len());
                }
                _ => {
                    // Text that is no field (a syslog line wedged between entries): it carries
                    // nothing for this entry, and reporting damage is the framer's job.
                    self.pos = match memchr(b'\n', rest) {
                        Some(nl) => at + nl + 1,
                        None => entry.len(),
                    };
                    self.stray = self.stray.saturating_add(1);
                    continue;
                }
            }
            let line = &rest[..n];
            let next = at + n + 1;
            let Some(len_bytes) = entry.get(next..next.saturating_add(8)) else {
                return self.fail("an 8-byte binary field length", next);
            };
            let mut le = [0u8; 8];
            le.copy_from_slice(len_bytes);
            let len = u64::from_le_bytes(le);
            let value_at = next + 8;
            let avail = (entry.len() - value_at) as u64;
            // Never trust a length field: bound it by the cap and by what is there.
            if len > self.cap || len > avail {
                return self.fail("a binary field length within the entry", next);
            }
            let value_end = value_at + len as usize;
            match entry.get(value_end) {
                Some(b'\n') => self.pos = value_end + 1,
                // The last field of an unterminated entry: accept, as the framer does for
                // text fields.
                None => self.pos = value_end,
                Some(_) => return self.fail("'\\n' after a binary field value", value_end),
            }
            return Some(Ok(Field {
                name: line,
                value: &entry[value_at..value_end],
                binary: true,
            }));
        }
    }
}

impl std::iter::FusedIterator for Fields<'_> {}

/// `_TRANSPORT`: how the entry reached journald.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport<'a> {
    /// Native protocol (`sd_journal_send`), also PID 1's own messages.
    Journal,
    /// A service's stdout/stderr.
    Stdout,
    Syslog,
    /// Kernel ring buffer (`/dev/kmsg`).
    Kernel,
    /// journald's own messages.
    Driver,
    Audit,
    Other(&'a [u8]),
}

impl<'a> Transport<'a> {
    pub fn from_bytes(b: &'a [u8]) -> Self {
        match b {
            b"journal" => Transport::Journal,
            b"stdout" => Transport::Stdout,
            b"syslog" => Transport::Syslog,
            b"kernel" => Transport::Kernel,
            b"driver" => Transport::Driver,
            b"audit" => Transport::Audit,
            other => Transport::Other(other),
        }
    }
}

/// The fields of one entry a record keeps. Everything borrows from the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportRecord<'a> {
    /// `__REALTIME_TIMESTAMP`: when journald received the entry, the record time.
    pub ts: Option<Micros>,
    /// `_SOURCE_REALTIME_TIMESTAMP`: when the client says the event happened.
    pub source_ts: Option<Micros>,
    /// `__MONOTONIC_TIMESTAMP`: µs since boot (of `boot_id`).
    pub monotonic: Option<u64>,
    /// `_BOOT_ID`.
    pub boot_id: Option<&'a [u8]>,
    /// `__CURSOR`.
    pub cursor: Option<&'a [u8]>,
    /// `__SEQNUM` (systemd ≥ 254 only).
    pub seqnum: Option<u64>,
    /// `SYSLOG_IDENTIFIER`, else `_COMM`.
    pub identifier: Option<&'a [u8]>,
    /// `_PID`, else `SYSLOG_PID`.
    pub pid: Option<u32>,
    /// `PRIORITY` (0 emerg … 7 debug).
    pub priority: Option<u8>,
    /// `_SYSTEMD_UNIT`: the unit that logged.
    pub unit: Option<&'a [u8]>,
    /// `UNIT`: the unit PID 1 (or a user manager) is talking *about*.
    pub object_unit: Option<&'a [u8]>,
    /// `_SYSTEMD_USER_UNIT`: the unit of a user manager that logged.
    pub user_unit: Option<&'a [u8]>,
    pub transport: Option<Transport<'a>>,
    /// `_HOSTNAME`.
    pub hostname: Option<&'a [u8]>,
    /// `MESSAGE`, empty when absent.
    pub message: Message<'a>,
    /// `MESSAGE` was a binary field (multi-line, control bytes or invalid UTF-8).
    pub message_binary: bool,
    pub has_message: bool,
    /// Lines skipped because they are not fields.
    pub stray: u32,
}

/// Parse one framed entry (with or without its terminating blank line) in one pass.
///
/// Errors: a binary field whose length is over the cap, past the end of the entry, or not
/// followed by `\n`; an entry with no field at all.
pub fn parse(entry: &[u8]) -> Result<ExportRecord<'_>, ParseError> {
    gather(&mut fields(entry))
}

/// Frame and parse in one pass: the entry at the start of `buf` (a record boundary) and the
/// length of the record span [`Frames`] would give it, or `None` when anything is not
/// plainly well-formed (blank lines first, a stray or damaged line, a length over
/// `max_record`, no terminating blank line in `buf`) and the framer's rules must decide.
/// [`Entries`] falls back to [`Frames`] in that case.
pub fn parse_framed(buf: &[u8], max_record: usize) -> Option<(ExportRecord<'_>, usize)> {
    let mut it = Fields::with_cap(buf, max_record as u64);
    let rec = gather(&mut it).ok()?;
    let end = it.offset();
    // The framer ends a record at the blank line only; the other endings (end of input,
    // damage) are its business.
    (rec.stray == 0 && buf.get(end) == Some(&b'\n') && end < max_record).then_some((rec, end + 1))
}

/// The spans of an export stream as [`Frames`] cuts them, each `Record` parsed: the clean
/// entries in one pass ([`parse_framed`]), anything else span by span through [`Frames`], so
/// spans and errors are exactly the framer's (see the `entries_match_the_framer` test).
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    buf: &'a [u8],
    pos: usize,
    eof: bool,
    max_record: usize,
    done: bool,
}

/// A span and, for a `Record`, its parse.
pub type Entry<'a> = (Span, Option<Result<ExportRecord<'a>, ParseError>>);

impl<'a> Entries<'a> {
    /// Same arguments as [`Frames::new`].
    pub fn new(buf: &'a [u8], eof: bool, max_record: usize) -> Self {
        Entries {
            buf,
            pos: 0,
            eof,
            max_record: max_record.max(1),
            done: false,
        }
    }

    /// Bytes framed so far (a record boundary).
    pub fn pos(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, TooLong>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.pos..];
        if let Some((rec, len)) = parse_framed(rest, self.max_record) {
            let span = Span {
                start: self.pos,
                end: self.pos + len,
                kind: SpanKind::Record,
            };
            self.pos += len;
            return Some(Ok((span, Some(Ok(rec)))));
        }
        // Restarting the framer at one of its own span boundaries gives the same spans, so
        // one span from a fresh framer is what a framer over the whole buffer gives here.
        let got = Frames::new(Framing::JournaldExport, rest, self.eof, self.max_record).next();
        match got {
            Some(Ok(s)) => {
                let span = Span {
                    start: self.pos + s.start,
                    end: self.pos + s.end,
                    kind: s.kind,
                };
                self.pos = span.end;
                let rec = (s.kind == SpanKind::Record).then(|| parse(&rest[s.start..s.end]));
                Some(Ok((span, rec)))
            }
            Some(Err(e)) => {
                self.done = true;
                Some(Err(TooLong {
                    start: self.pos + e.start,
                }))
            }
            None => {
                self.done = true;
                None
            }
        }
    }
}

/// One pass over the fields: the kept ones into a record.
fn gather<'a>(it: &mut Fields<'a>) -> Result<ExportRecord<'a>, ParseError> {
    let mut rec = ExportRecord::default();
    let mut comm = None;
    let mut syslog_pid = None;
    let mut any = false;
    for field in it.by_ref() {
        let Field {
            name,
            value,
            binary,
        } = field?;
        any = true;
        // Dispatch on the length first: most names of a real entry match no arm at all and
        // cost one jump, the rest one short compare.
        match name.len() {
            7 if name == b"MESSAGE" && !rec.has_message => {
                rec.message = value;
                rec.message_binary = binary;
                rec.has_message = true;
            }
            4 if name == b"_PID" => set(&mut rec.pid, || dec_u32(value)),
            4 if name == b"UNIT" => set(&mut rec.object_unit, || Some(value)),
            5 if name == b"_COMM" => set(&mut comm, || Some(value)),
            8 if name == b"__CURSOR" => set(&mut rec.cursor, || Some(value)),
            8 if name == b"_BOOT_ID" => set(&mut rec.boot_id, || Some(value)),
            8 if name == b"PRIORITY" => set(&mut rec.priority, || dec_u8(value)),
            8 if name == b"__SEQNUM" => set(&mut rec.seqnum, || dec_u64(value)),
            9 if name == b"_HOSTNAME" => set(&mut rec.hostname, || Some(value)),
            10 if name == b"_TRANSPORT" => {
                set(&mut rec.transport, || Some(Transport::from_bytes(value)))
            }
            10 if name == b"SYSLOG_PID" => set(&mut syslog_pid, || dec_u32(value)),
            13 if name == b"_SYSTEMD_UNIT" => set(&mut rec.unit, || Some(value)),
            17 if name == b"SYSLOG_IDENTIFIER" => set(&mut rec.identifier, || Some(value)),
            18 if name == b"_SYSTEMD_USER_UNIT" => set(&mut rec.user_unit, || Some(value)),
            20 if name == b"__REALTIME_TIMESTAMP" => set(&mut rec.ts, || dec_micros(value)),
            21 if name == b"__MONOTONIC_TIMESTAMP" => set(&mut rec.monotonic, || dec_u64(value)),
            26 if name == b"_SOURCE_REALTIME_TIMESTAMP" => {
                set(&mut rec.source_ts, || dec_micros(value))
            }
            _ => {}
        }
    }
    rec.stray = it.stray();
    if !any {
        return Err(ParseError::new("an export field (NAME=value)", 0));
    }
    // An empty SYSLOG_IDENTIFIER says nothing; the process name does.
    if rec.identifier.is_none_or(<[u8]>::is_empty) {
        rec.identifier = comm.or(rec.identifier);
    }
    if rec.pid.is_none() {
        rec.pid = syslog_pid;
    }
    Ok(rec)
}

/// First occurrence wins; a later copy of a field costs nothing.
#[inline(always)]
fn set<T>(slot: &mut Option<T>, value: impl FnOnce() -> Option<T>) {
    if slot.is_none() {
        *slot = value();
    }
}

/// First `\n` in `b`. Most values are a few dozen bytes, where memchr's vector set-up costs
/// more than the search: the first 32 bytes are checked a word at a time.
#[inline]
fn find_newline(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while i + 8 <= b.len() && i < 32 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        let x = u64::from_le_bytes(w) ^ (LO * u64::from(b'\n'));
        // Exact for the lowest matching byte, which is the one wanted.
        let hit = x.wrapping_sub(LO) & !x & HI;
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    memchr(b'\n', &b[i..]).map(|j| i + j)
}

/// systemd's limit on field names (`journal_field_valid`), also the framer's.
const MAX_NAME: usize = 64;

/// `[A-Z0-9_]`: the bytes of a field name.
static NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_';
        c += 1;
    }
    t
};

#[cfg(test)]
/// `[A-Z0-9_]+`, no leading digit, at most 64 bytes: the same rule as
/// [`crate::detect::is_export_field_name`] without the optional trailing `=`.
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name[0].is_ascii_digit()
        && name.iter().all(|&c| NAME_BYTE[usize::from(c)])
}

fn dec_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

fn dec_micros(b: &[u8]) -> Option<Micros> {
    dec_u64(b).and_then(|n| i64::try_from(n).ok())
}

fn dec_u32(b: &[u8]) -> Option<u32> {
    dec_u64(b).and_then(|n| u32::try_from(n).ok())
}

fn dec_u8(b: &[u8]) -> Option<u8> {
    dec_u64(b).and_then(|n| u8::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RPI4: &[u8] = include_bytes!("../../../../tests/fixtures/kjournald/rpi4-journal.export");
    const BINARY: &[u8] = include_bytes!(
        "../../../../tests/fixtures/kjournald/journalexportformat_binary_example.export"
    );
    const TEXT: &[u8] =
        include_bytes!("../../../../tests/fixtures/kjournald/journalexportformat_example.export");

    fn binary(name: &str, value: &[u8]) -> Vec<u8> {
        let mut v = name.as_bytes().to_vec();
        v.push(b'\n');
        v.extend((value.len() as u64).to_le_bytes());
        v.extend(value);
        v.push(b'\n');
        v
    }

    fn records(buf: &[u8]) -> Vec<&[u8]> {
        Frames::new(Framing::JournaldExport, buf, true, 64 << 20)
            .map(|s| s.unwrap())
            .filter(|s| s.kind == SpanKind::Record)
            .map(|s| &buf[s.start..s.end])
            .collect()
    }

    #[test]
    fn every_rpi4_entry_parses() {
        let recs = records(RPI4);
        assert_eq!(recs.len(), 2202);
        let parsed: Vec<_> = recs.iter().map(|r| parse(r).unwrap()).collect();
        assert!(parsed.iter().all(|r| r.stray == 0 && r.ts.is_some()));

        let first = &parsed[0];
        assert_eq!(first.ts, Some(1_615_648_981_464_603));
        assert_eq!(first.source_ts, Some(1_581_090_654_326_448));
        assert_eq!(first.monotonic, Some(4_050_458));
        assert_eq!(first.identifier, Some(&b"systemd-timesyncd"[..]));
        assert_eq!(first.pid, Some(190));
        assert_eq!(first.priority, Some(6));
        assert_eq!(first.transport, Some(Transport::Journal));
        assert_eq!(first.unit, Some(&b"systemd-timesyncd.service"[..]));
        assert_eq!(first.hostname, Some(&b"raspberrypi4"[..]));
        assert_eq!(
            first.boot_id,
            Some(&b"68f2e61d061247d8a8ba0b8d53a97a52"[..])
        );
        assert!(first.cursor.unwrap().starts_with(b"s=c485fef5d17c4272"));
        assert_eq!(
            first.message,
            b"System clock time unset or jumped backwards, restoring from recorded timestamp: Sat 2021-03-13 15:23:01 UTC"
        );

        let last = &parsed[2201];
        assert_eq!(last.ts, Some(1_615_650_078_253_072));
        assert_eq!(last.identifier, Some(&b"systemd"[..]));
        assert_eq!(last.pid, Some(1));
        assert_eq!(last.unit, Some(&b"init.scope"[..]));
        assert_eq!(last.object_unit, Some(&b"systemd-hostnamed.service"[..]));
        assert_eq!(last.message, b"systemd-hostnamed.service: Succeeded.");

        // The kernel entry has no _PID and no _COMM.
        assert_eq!(parsed[1].transport, Some(Transport::Kernel));
        assert_eq!(parsed[1].identifier, Some(&b"kernel"[..]));
        assert_eq!(parsed[1].pid, None);

        // The two NetworkManager `option wpad => '\n'` messages are binary, 74 bytes.
        let bin: Vec<_> = parsed.iter().filter(|r| r.message_binary).collect();
        assert_eq!(bin.len(), 2);
        assert!(
            bin.iter()
                .all(|r| r.message.len() == 74 && r.message.ends_with(b"'\n'"))
        );
    }

    #[test]
    fn rpi4_agrees_with_the_json_export() {
        // The same journal as `-o json`, one object per line in the same order (keys in
        // random order). Compare the kept fields as `"KEY":"value"` substrings.
        let json = include_str!("../../../../tests/fixtures/kjournald/rpi4-journal.json");
        let recs = records(RPI4);
        assert_eq!(json.lines().count(), recs.len());
        let mut checked_messages = 0;
        for (line, rec) in json.lines().zip(&recs) {
            let rec = parse(rec).unwrap();
            let has = |key: &str, value: &[u8]| {
                let value = std::str::from_utf8(value).unwrap();
                line.contains(&format!("\"{key}\":\"{value}\""))
            };
            assert!(has(
                "__REALTIME_TIMESTAMP",
                rec.ts.unwrap().to_string().as_bytes()
            ));
            assert!(has("__CURSOR", rec.cursor.unwrap()));
            if let Some(pid) = rec.pid {
                assert!(
                    has("_PID", pid.to_string().as_bytes())
                        || has("SYSLOG_PID", pid.to_string().as_bytes())
                );
            }
            let m = rec.message;
            if !m.iter().any(|&c| c == b'"' || c == b'\\' || c < 0x20) {
                assert!(has("MESSAGE", m), "{line}");
                checked_messages += 1;
            } else if rec.message_binary {
                // JSON escapes the newline: `'\n'` at the end.
                assert!(line.contains("'\\n'\""), "{line}");
            }
        }
        assert!(checked_messages > 2000, "{checked_messages}");
    }

    #[test]
    fn rpi4_agrees_with_short_iso_precise() {
        // journalctl short shows the *source* time when present; the first line is 2020.
        let text =
            include_str!("../../../../tests/fixtures/kjournald/rpi4-journal.short-iso-precise.txt");
        let first = text.lines().next().unwrap();
        assert!(first.starts_with(
            "2020-02-07T15:50:54.326448+0000 raspberrypi4 systemd-timesyncd[190]: System clock"
        ));
        let rec = parse(records(RPI4)[0]).unwrap();
        assert_eq!(rec.source_ts, Some(1_581_090_654_326_448));
        let last = text.lines().last().unwrap();
        assert!(last.ends_with("systemd[1]: systemd-hostnamed.service: Succeeded."));
    }

    #[test]
    fn binary_example_message_is_foo_newline_bar() {
        let recs = records(BINARY);
        assert_eq!(recs.len(), 1);
        let rec = parse(recs[0]).unwrap();
        assert_eq!(rec.message, b"foo\nbar");
        assert!(rec.message_binary);
        assert_eq!(rec.identifier, Some(&b"python3"[..]));
        assert_eq!(rec.pid, Some(19336));
        assert_eq!(rec.unit, Some(&b"user@1000.service"[..]));
        assert_eq!(rec.hostname, Some(&b"behemoth"[..]));
        // `_SELINUX_CONTEXT` is binary only for its trailing newline, giving a `\n\n`
        // mid-entry: the field after it must still be read.
        let f: Vec<_> = fields(recs[0]).map(|f| f.unwrap()).collect();
        let se = f.iter().find(|f| f.name == b"_SELINUX_CONTEXT").unwrap();
        assert_eq!((se.value, se.binary), (&b"unconfined\n"[..], true));
        let i = f
            .iter()
            .position(|f| f.name == b"_SELINUX_CONTEXT")
            .unwrap();
        assert_eq!(f[i + 1].name, b"_AUDIT_LOGINUID");
        assert_eq!(f.last().unwrap().name, b"_SOURCE_REALTIME_TIMESTAMP");
    }

    #[test]
    fn spec_example_identifier_with_stray_bracket_and_syslog_pid() {
        let recs = records(TEXT);
        assert_eq!(recs.len(), 2);
        let a = parse(recs[0]).unwrap();
        assert_eq!(a.identifier, Some(&b"gdm-password]"[..]));
        assert_eq!(a.transport, Some(Transport::Syslog));
        assert_eq!(a.priority, Some(4));
        assert_eq!(a.ts, Some(1_342_540_861_416_409));
        let b = parse(recs[1]).unwrap();
        assert_eq!(b.identifier, Some(&b"/USR/SBIN/CROND"[..]));
        assert_eq!(b.message, b"(root) CMD (run-parts /etc/cron.hourly)");
        assert_eq!(b.pid, Some(8278));
    }

    #[test]
    fn newer_metadata_and_shuffled_order() {
        // Shaped like journalctl 254+ output: `__SEQNUM*` after the timestamps, `_PID` after
        // `MESSAGE`, no `_COMM`.
        let e = b"__CURSOR=s=f431;i=ce4d7;b=39d6;m=275144d4;t=63f042ebb410b;x=2e90\n\
                  __REALTIME_TIMESTAMP=1758137056706827\n__MONOTONIC_TIMESTAMP=659637460\n\
                  __SEQNUM=845015\n__SEQNUM_ID=f4312f4fd48c4d80a6db32a1a624c277\n\
                  _BOOT_ID=39d613e5dd9e4cc28164e818d4f49565\nPRIORITY=6\n_HOSTNAME=host1.example.com\n\
                  _TRANSPORT=stdout\nSYSLOG_IDENTIFIER=test-1\nMESSAGE=[ 1] log entry\n_PID=7136\n\n";
        let rec = parse(e).unwrap();
        assert_eq!(rec.seqnum, Some(845_015));
        assert_eq!(rec.ts, Some(1_758_137_056_706_827));
        assert_eq!(rec.monotonic, Some(659_637_460));
        assert_eq!(rec.hostname, Some(&b"host1.example.com"[..]));
        assert_eq!(
            (rec.identifier, rec.pid),
            (Some(&b"test-1"[..]), Some(7136))
        );
        assert_eq!(rec.message, b"[ 1] log entry");
        assert!(!rec.message_binary);
    }

    #[test]
    fn last_field_without_newline() {
        let rec = parse(b"_PID=4\nMESSAGE=tail").unwrap();
        assert_eq!((rec.pid, rec.message), (Some(4), &b"tail"[..]));
        let mut e = b"MESSAGE\n".to_vec();
        e.extend(3u64.to_le_bytes());
        e.extend(b"a\nb");
        assert_eq!(parse(&e).unwrap().message, b"a\nb");
        // A binary header with nothing after it.
        assert_eq!(
            parse(b"_PID=4\nMESSAGE"),
            Err(ParseError::new("'\\n' after a binary field name", 14))
        );
    }

    #[test]
    fn binary_value_may_hold_blank_lines() {
        let mut e = b"__REALTIME_TIMESTAMP=1700000000000000\n".to_vec();
        e.extend(binary("MESSAGE", b"line one\n\nline three\n"));
        e.extend(b"PRIORITY=3\n\n");
        let rec = parse(&e).unwrap();
        assert_eq!(rec.message, b"line one\n\nline three\n");
        assert_eq!(rec.priority, Some(3));
    }

    #[test]
    fn field_order_is_free_and_first_copy_wins() {
        let e = b"_UDEV_DEVLINK=/dev/a\nMESSAGE=first\n_PID=7\n_UDEV_DEVLINK=/dev/b\n\
                  MESSAGE=second\n__REALTIME_TIMESTAMP=5\n\n";
        let rec = parse(e).unwrap();
        assert_eq!(
            (rec.message, rec.pid, rec.ts),
            (&b"first"[..], Some(7), Some(5))
        );
        let links: Vec<_> = fields(e)
            .map(|f| f.unwrap())
            .filter(|f| f.name == b"_UDEV_DEVLINK")
            .map(|f| f.value)
            .collect();
        assert_eq!(links, [&b"/dev/a"[..], b"/dev/b"]);
    }

    #[test]
    fn no_message_and_no_metadata_still_parse() {
        let rec = parse(b"_TRANSPORT=driver\nINVOCATION_ID=\n_COMM=journald\n\n").unwrap();
        assert!(!rec.has_message);
        assert_eq!(rec.message, b"");
        assert_eq!(rec.ts, None);
        assert_eq!(rec.cursor, None);
        assert_eq!(rec.identifier, Some(&b"journald"[..]));
        assert_eq!(rec.transport, Some(Transport::Driver));
        let empty = fields(b"INVOCATION_ID=\n").next().unwrap().unwrap();
        assert_eq!(empty.value, b"");
    }

    #[test]
    fn identifier_and_pid_fall_back() {
        let rec = parse(b"_COMM=nginx\nSYSLOG_PID=42\nMESSAGE=x\n").unwrap();
        assert_eq!((rec.identifier, rec.pid), (Some(&b"nginx"[..]), Some(42)));
        let rec = parse(b"SYSLOG_IDENTIFIER=\n_COMM=nginx\n").unwrap();
        assert_eq!(rec.identifier, Some(&b"nginx"[..]));
        let rec = parse(b"SYSLOG_IDENTIFIER=\nMESSAGE=x\n").unwrap();
        assert_eq!(rec.identifier, Some(&b""[..]));
        let rec = parse(b"_COMM=nginx\nSYSLOG_IDENTIFIER=web\n_PID=9\nSYSLOG_PID=42\n").unwrap();
        assert_eq!((rec.identifier, rec.pid), (Some(&b"web"[..]), Some(9)));
    }

    #[test]
    fn source_time_is_kept_apart_from_receive_time() {
        let rec = parse(
            b"__REALTIME_TIMESTAMP=1615648981464603\n_SOURCE_REALTIME_TIMESTAMP=1581090654326448\n",
        )
        .unwrap();
        assert_eq!(rec.ts, Some(1_615_648_981_464_603));
        assert_eq!(rec.source_ts, Some(1_581_090_654_326_448));
    }

    #[test]
    fn stray_lines_are_skipped_and_counted() {
        // Syslog lines wedged into the stream: the first has no `=` (a naive reader takes
        // it as a binary name and reads `Sep 17 1` as a length), the second has one.
        let e = b"MESSAGE=ok\nSep 17 11:26:36 host1 kernel: Linux version 6.1.0\n\
                  Sep 17 11:26:36 host1 kernel: Command line: BOOT_IMAGE=/vmlinuz\n\
                  ++Dodgy=record\n_PID=3\n\n";
        let rec = parse(e).unwrap();
        assert_eq!(rec.stray, 3);
        assert_eq!((rec.message, rec.pid), (&b"ok"[..], Some(3)));
        let mut it = fields(e);
        assert_eq!(it.by_ref().count(), 2);
        assert_eq!(it.stray(), 3);
    }

    #[test]
    fn huge_or_short_lengths_are_errors_not_allocations() {
        let mut e = b"MESSAGE\n".to_vec();
        e.extend(u64::MAX.to_le_bytes());
        e.extend(b"xx\n\n");
        assert_eq!(
            parse(&e),
            Err(ParseError::new("a binary field length within the entry", 8))
        );
        // Over the cap even though the bytes are there.
        let mut e = b"MESSAGE\n".to_vec();
        e.extend(8u64.to_le_bytes());
        e.extend(b"12345678\n");
        let mut it = Fields::with_cap(&e, 4);
        assert!(it.next().unwrap().is_err());
        assert_eq!(it.next(), None);
        assert_eq!(parse(&e).unwrap().message, b"12345678");
        // Length prefix cut short.
        assert_eq!(
            parse(b"_PID=1\nMESSAGE\n\x07\0\0"),
            Err(ParseError::new("an 8-byte binary field length", 15))
        );
        // Value not followed by its newline: the length is wrong.
        let mut e = b"MESSAGE\n".to_vec();
        e.extend(2u64.to_le_bytes());
        e.extend(b"foo\nbar\n");
        assert_eq!(
            parse(&e),
            Err(ParseError::new("'\\n' after a binary field value", 18))
        );
    }

    #[test]
    fn length_is_little_endian() {
        let mut e = b"MESSAGE\n".to_vec();
        e.extend([2, 0, 0, 0, 0, 0, 0, 0]);
        e.extend(b"hi\n");
        assert_eq!(parse(&e).unwrap().message, b"hi");
        let mut e = b"MESSAGE\n".to_vec();
        e.extend([0, 0, 0, 0, 0, 0, 0, 2]);
        e.extend(b"hi\n");
        assert!(parse(&e).is_err());
    }

    #[test]
    fn blank_line_ends_the_entry_and_empty_is_an_error() {
        let rec = parse(b"MESSAGE=a\n\nMESSAGE=b\n").unwrap();
        assert_eq!(rec.message, b"a");
        assert_eq!(
            parse(b"\n"),
            Err(ParseError::new("an export field (NAME=value)", 0))
        );
        assert!(parse(b"").is_err());
        assert!(parse(b"not a field\n").is_err());
    }

    #[test]
    fn bad_numbers_are_absent_not_fatal() {
        let rec =
            parse(b"__REALTIME_TIMESTAMP=99999999999999999999\nPRIORITY=300\n_PID=-1\nMESSAGE=m\n")
                .unwrap();
        assert_eq!((rec.ts, rec.priority, rec.pid), (None, None, None));
        assert_eq!(rec.message, b"m");
    }

    #[test]
    fn newline_search_agrees_with_memchr() {
        let mut b = vec![b'a'; 80];
        assert_eq!(find_newline(&b), None);
        for at in 0..80 {
            b[at] = b'\n';
            assert_eq!(find_newline(&b[..]), Some(at));
            for start in 0..at.min(12) {
                assert_eq!(find_newline(&b[start..]), memchr(b'\n', &b[start..]));
            }
            // A 0x0b (newline + 1) or 0x8a byte before it must not fool the word test.
            if at > 0 {
                b[at - 1] = 0x0b;
                assert_eq!(find_newline(&b), Some(at));
                b[at - 1] = 0x8a;
                assert_eq!(find_newline(&b), Some(at));
                b[at - 1] = b'a';
            }
            b[at] = b'a';
        }
    }

    fn damaged_stream() -> Vec<u8> {
        let recs = records(RPI4);
        let mut buf = Vec::new();
        for r in &recs[..30] {
            buf.extend(*r);
        }
        buf.extend(b"\n\n\n");
        buf.extend(BINARY);
        buf.extend(b"Sep 17 11:26:36 host1 kernel: Linux version 6.1.0\n");
        buf.extend(b"Sep 17 11:26:36 host1 kernel: Command line: BOOT_IMAGE=/vmlinuz\n");
        buf.extend(recs[30]);
        buf.extend(b"__CURSOR=s=1\nMESSAGE\n");
        buf.extend(u64::MAX.to_le_bytes());
        buf.extend(b"xx\n\n");
        buf.extend(b"_PID=1\n++Dodgy=record\nMESSAGE=after\n\n");
        let mut big = b"__CURSOR=s=2\n".to_vec();
        big.extend(binary("MESSAGE", &[b'x'; 300]));
        big.extend(b"\n");
        buf.extend(&big);
        buf.extend(recs[31]);
        buf.extend(b"_PID=2\nMESSAGE=no blank line at the end");
        buf
    }

    #[test]
    fn entries_match_the_framer() {
        let buf = damaged_stream();
        for max in [1 << 20, 200] {
            for eof in [true, false] {
                let cuts = (0..buf.len()).step_by(97).chain([buf.len(), buf.len() - 5]);
                for cut in cuts {
                    let part = &buf[..cut];
                    let frames: Vec<_> =
                        Frames::new(Framing::JournaldExport, part, eof, max).collect();
                    let mut it = Entries::new(part, eof, max);
                    let entries: Vec<_> = it.by_ref().collect();
                    assert_eq!(entries.len(), frames.len(), "max {max} eof {eof} cut {cut}");
                    for (e, f) in entries.iter().zip(&frames) {
                        match (e, f) {
                            (Ok((span, rec)), Ok(fs)) => {
                                assert_eq!(span, fs);
                                let want = (fs.kind == SpanKind::Record)
                                    .then(|| parse(&part[fs.start..fs.end]));
                                assert_eq!(rec, &want);
                            }
                            (Err(a), Err(b)) => assert_eq!(a, b),
                            other => panic!("{other:?}"),
                        }
                    }
                }
            }
        }
        // The whole stream, and what the spans say.
        let all: Vec<_> = Entries::new(&buf, true, 1 << 20)
            .map(|e| e.unwrap())
            .collect();
        let kinds = |k| all.iter().filter(|(s, _)| s.kind == k).count();
        assert_eq!(kinds(SpanKind::Malformed), 3);
        assert_eq!(kinds(SpanKind::Meta), 1);
        let msgs: Vec<_> = all
            .iter()
            .filter_map(|(_, r)| r.as_ref().map(|r| r.as_ref().unwrap().message))
            .collect();
        assert_eq!(msgs.len(), 37);
        assert_eq!(msgs[30], b"foo\nbar");
        assert_eq!(*msgs.last().unwrap(), b"no blank line at the end");
    }

    #[test]
    fn names_agree_with_the_framer() {
        for name in [
            &b"A"[..],
            b"_PID",
            b"__CURSOR",
            b"9A",
            b"a",
            b"A-B",
            b"",
            &[b'A'; 65],
        ] {
            assert_eq!(
                valid_name(name),
                crate::detect::is_export_field_name(name),
                "{name:?}"
            );
        }
    }

    #[test]
    fn never_panics() {
        let mut fixtures: Vec<Vec<u8>> = vec![BINARY.to_vec(), TEXT.to_vec()];
        fixtures.extend(records(RPI4).iter().take(40).map(|r| r.to_vec()));
        let mut e = b"__CURSOR=s=1\n".to_vec();
        e.extend(binary("MESSAGE", b"a\n\nb"));
        e.extend(b"_PID=1\n\n");
        fixtures.push(e);
        for f in &fixtures {
            for i in 0..=f.len() {
                let _ = parse(&f[..i]);
                let _ = fields(&f[..i]).count();
            }
            let mut m = f.clone();
            for i in 0..m.len() {
                let orig = m[i];
                for b in [0u8, b'\n', b'=', b'(', b' ', 0xff] {
                    m[i] = b;
                    let _ = parse(&m);
                    let _ = fields(&m).count();
                }
                m[i] = orig;
            }
        }
    }

    #[test]
    #[ignore]
    fn throughput() {
        let mut buf = Vec::new();
        while buf.len() < 256 << 20 {
            buf.extend_from_slice(RPI4);
        }
        let mut best = f64::MAX;
        for _ in 0..7 {
            let t = std::time::Instant::now();
            let mut bytes = 0usize;
            for e in Entries::new(&buf, true, 64 << 20) {
                if let (_, Some(rec)) = e.unwrap() {
                    bytes += rec.unwrap().message.len();
                }
            }
            std::hint::black_box(bytes);
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "journald export Entries (one pass): {:.0} MB/s",
            buf.len() as f64 / best / 1e6
        );
        let mut best = f64::MAX;
        for _ in 0..7 {
            let t = std::time::Instant::now();
            let (mut n, mut bytes) = (0usize, 0usize);
            for span in Frames::new(Framing::JournaldExport, &buf, true, 64 << 20) {
                let span = span.unwrap();
                if span.kind == SpanKind::Record {
                    let rec = parse(&buf[span.start..span.end]).unwrap();
                    n += 1;
                    bytes += rec.message.len();
                }
            }
            std::hint::black_box((n, bytes));
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "journald export frame+parse: {:.0} MB/s ({} MB)",
            buf.len() as f64 / best / 1e6,
            buf.len() >> 20
        );
        // The framer alone, and the parser alone over pre-cut spans: the first line is
        // bounded by both.
        let mut best = f64::MAX;
        for _ in 0..7 {
            let t = std::time::Instant::now();
            let n = Frames::new(Framing::JournaldExport, &buf, true, 64 << 20).count();
            std::hint::black_box(n);
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "journald export frame only: {:.0} MB/s",
            buf.len() as f64 / best / 1e6
        );
        let spans: Vec<_> = Frames::new(Framing::JournaldExport, &buf, true, 64 << 20)
            .map(|s| s.unwrap())
            .filter(|s| s.kind == SpanKind::Record)
            .collect();
        let mut best = f64::MAX;
        for _ in 0..7 {
            let t = std::time::Instant::now();
            let mut bytes = 0usize;
            for s in &spans {
                bytes += parse(&buf[s.start..s.end]).unwrap().message.len();
            }
            std::hint::black_box(bytes);
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "journald export parse only: {:.0} MB/s",
            buf.len() as f64 / best / 1e6
        );
    }
}
