//! A writer for the systemd Journal Export Format (`journalctl -o export`).
//!
//! Format (systemd `docs/JOURNAL_EXPORT_FORMATS.md`, `logs-show.c:output_export()`):
//! an entry is a sequence of fields and is followed by one empty line, so the stream
//! ends in `\n\n`. A field whose value is valid UTF-8 with no control character other
//! than TAB is written as text, `NAME=value\n`; anything else (a `\n`, a `\r`, ANSI
//! escapes, invalid UTF-8) is written in the binary form `NAME\n`, the value's length
//! as a little-endian `u64`, the raw bytes, `\n`. A binary value may itself contain
//! `\n\n`, which is exactly what trips parsers that split on blank lines first, so
//! the samples deliberately include some.
//!
//! journalctl writes `__CURSOR`, `__REALTIME_TIMESTAMP`, `__MONOTONIC_TIMESTAMP` and
//! `_BOOT_ID` first (from the entry header) and the stored fields after them;
//! [`Entry::with_header`] builds entries in that order.

use std::fmt;
use std::io::{self, Write};

/// One journal entry: fields in the order they are written. Names may repeat, as
/// they can in real journals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    fields: Vec<(String, Vec<u8>)>,
}

impl Entry {
    /// An entry with no fields (producers other than journalctl may omit the
    /// `__` header fields entirely).
    pub fn new() -> Self {
        Self::default()
    }

    /// An entry that starts with the four header fields in journalctl's order.
    pub fn with_header(cursor: &Cursor, boot_id: &str) -> Self {
        let mut e = Self::new();
        e.push("__CURSOR", cursor.to_string())
            .push("__REALTIME_TIMESTAMP", cursor.realtime_us.to_string())
            .push("__MONOTONIC_TIMESTAMP", cursor.monotonic_us.to_string())
            .push("_BOOT_ID", boot_id);
        e
    }

    /// Appends a field. `name` must be a valid journal field name (`A-Z0-9_`).
    pub fn push(&mut self, name: &str, value: impl Into<Vec<u8>>) -> &mut Self {
        debug_assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
            "invalid journal field name {name:?}"
        );
        self.fields.push((name.to_owned(), value.into()));
        self
    }

    /// The fields, in write order.
    pub fn fields(&self) -> &[(String, Vec<u8>)] {
        &self.fields
    }

    /// The value of the first field called `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Writes the entry and the empty line that ends it.
    pub fn write_to<W: Write>(&self, w: &mut W) -> io::Result<()> {
        for (name, value) in &self.fields {
            if is_text_value(value) {
                w.write_all(name.as_bytes())?;
                w.write_all(b"=")?;
                w.write_all(value)?;
                w.write_all(b"\n")?;
            } else {
                w.write_all(name.as_bytes())?;
                w.write_all(b"\n")?;
                w.write_all(&(value.len() as u64).to_le_bytes())?;
                w.write_all(value)?;
                w.write_all(b"\n")?;
            }
        }
        w.write_all(b"\n")
    }
}

/// Whether journalctl would print this value as `NAME=value` (valid UTF-8, no
/// control characters except TAB), rather than in the binary form.
pub fn is_text_value(value: &[u8]) -> bool {
    match std::str::from_utf8(value) {
        Ok(s) => s.chars().all(|c| c == '\t' || !c.is_control()),
        Err(_) => false,
    }
}

/// The parts of a journal cursor, formatted the way journalctl prints it:
/// `s=<seqnum id>;i=<seqnum>;b=<boot id>;m=<monotonic>;t=<realtime>;x=<xor hash>`,
/// numbers in lowercase hex without padding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// 32 hex digits identifying the journal file's sequence-number space.
    pub seqnum_id: String,
    pub seqnum: u64,
    /// 32 hex digits.
    pub boot_id: String,
    pub monotonic_us: u64,
    pub realtime_us: u64,
    /// journald's XOR of the entry's field hashes; any 64-bit value looks right.
    pub xor_hash: u64,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "s={};i={:x};b={};m={:x};t={:x};x={:016x}",
            self.seqnum_id,
            self.seqnum,
            self.boot_id,
            self.monotonic_us,
            self.realtime_us,
            self.xor_hash
        )
    }
}

/// A tiny, strict reader of the export format, used by the tests of this crate to
/// check what the writer produced. Not a product parser: it has no recovery.
#[cfg(test)]
pub(crate) mod reference {
    use super::Entry;

    /// Parses a whole export stream into entries; `Err` names the byte offset of
    /// the first thing that is not well-formed.
    pub(crate) fn parse(mut data: &[u8]) -> Result<Vec<Entry>, String> {
        let total = data.len();
        let mut entries = Vec::new();
        let mut current = Entry::new();
        while !data.is_empty() {
            let at = total - data.len();
            let nl = data
                .iter()
                .position(|&b| b == b'\n')
                .ok_or_else(|| format!("unterminated line at byte {at}"))?;
            let line = &data[..nl];
            data = &data[nl + 1..];
            if line.is_empty() {
                // The empty line that ends an entry.
                if current.fields().is_empty() {
                    return Err(format!("empty entry at byte {at}"));
                }
                entries.push(std::mem::take(&mut current));
            } else if let Some(eq) = line.iter().position(|&b| b == b'=') {
                let name = std::str::from_utf8(&line[..eq]).map_err(|e| e.to_string())?;
                current.push(name, &line[eq + 1..]);
            } else {
                let name = std::str::from_utf8(line).map_err(|e| e.to_string())?;
                if data.len() < 8 {
                    return Err(format!("short binary length at byte {at}"));
                }
                let len = u64::from_le_bytes(data[..8].try_into().expect("8 bytes")) as usize;
                data = &data[8..];
                if data.len() < len + 1 || data[len] != b'\n' {
                    return Err(format!("bad binary field {name} at byte {at}"));
                }
                current.push(name, &data[..len]);
                data = &data[len + 1..];
            }
        }
        if !current.fields().is_empty() {
            return Err("last entry not followed by an empty line".into());
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor() -> Cursor {
        Cursor {
            seqnum_id: "0123456789abcdef0123456789abcdef".into(),
            seqnum: 0x4ece7,
            boot_id: "fedcba9876543210fedcba9876543210".into(),
            monotonic_us: 21_415_215_982,
            realtime_us: 1_783_006_921_000_001,
            xor_hash: 0xd3e5_6106_8109_8c10,
        }
    }

    #[test]
    fn text_entry_exact_bytes() {
        let c = cursor();
        let mut e = Entry::with_header(&c, &c.boot_id);
        e.push("PRIORITY", "6")
            .push("MESSAGE", "hello\tworld")
            .push("EMPTY", "");
        let mut out = Vec::new();
        e.write_to(&mut out).unwrap();
        let want = "__CURSOR=s=0123456789abcdef0123456789abcdef;i=4ece7;\
                    b=fedcba9876543210fedcba9876543210;m=4fc72436e;t=655a2a6288441;x=d3e5610681098c10\n\
                    __REALTIME_TIMESTAMP=1783006921000001\n\
                    __MONOTONIC_TIMESTAMP=21415215982\n\
                    _BOOT_ID=fedcba9876543210fedcba9876543210\n\
                    PRIORITY=6\n\
                    MESSAGE=hello\tworld\n\
                    EMPTY=\n\n";
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }

    #[test]
    fn binary_entry_exact_bytes() {
        let mut e = Entry::new();
        e.push("MESSAGE", "foo\n\nbar").push("A", "b");
        let mut out = Vec::new();
        e.write_to(&mut out).unwrap();
        let mut want = b"MESSAGE\n".to_vec();
        want.extend_from_slice(&8u64.to_le_bytes());
        want.extend_from_slice(b"foo\n\nbar\nA=b\n\n");
        assert_eq!(out, want);
    }

    #[test]
    fn text_or_binary() {
        assert!(is_text_value(b"plain ascii"));
        assert!(is_text_value("caf\u{e9} \t tab".as_bytes()));
        assert!(is_text_value(b""));
        for v in [
            &b"a\nb"[..],
            b"trailing\r",
            b"\x1b[31mred",
            b"nul\0",
            b"\xff\xfe",
            b"del\x7f",
        ] {
            assert!(!is_text_value(v), "{v:?}");
        }
        // C1 controls are control characters too.
        assert!(!is_text_value("x\u{85}y".as_bytes()));
    }

    #[test]
    fn round_trip_through_reference_reader() {
        let c = cursor();
        let mut entries = Vec::new();
        let mut a = Entry::with_header(&c, &c.boot_id);
        a.push("MESSAGE", "first");
        entries.push(a);
        let mut b = Entry::with_header(&c, &c.boot_id);
        // A blank line inside a binary value, and one at its very end, followed by
        // another field: a blank-line splitter would cut this entry in three.
        b.push("MESSAGE", &b"panic: boom\n\ngoroutine 1 [running]:\n\n"[..])
            .push("_SELINUX_CONTEXT", "unconfined\n")
            .push("RAW", &b"\xff\x00\x01"[..])
            .push("_PID", "42");
        entries.push(b);
        let mut c2 = Entry::new();
        c2.push("MESSAGE", "dup").push("MESSAGE", "dup again");
        entries.push(c2);

        let mut out = Vec::new();
        for e in &entries {
            e.write_to(&mut out).unwrap();
        }
        assert!(out.ends_with(b"\n\n"));
        let parsed = reference::parse(&out).unwrap();
        assert_eq!(parsed, entries);
        assert_eq!(
            parsed[1].get("MESSAGE").unwrap(),
            b"panic: boom\n\ngoroutine 1 [running]:\n\n"
        );
        assert_eq!(parsed[2].fields().len(), 2);
    }
}
