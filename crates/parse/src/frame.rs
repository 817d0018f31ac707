//! Framing: where one record ends and the next begins, for each envelope.
//!
//! A record is a line for line formats; a line plus its indented continuation lines for
//! journalctl text (`-- Boot … --` separators are *meta* lines, not records); a whole entry
//! for journald export, whose binary fields may hold `\n\n` and so can only be framed by
//! reading their length prefixes. Damaged export data is a *malformed* span that ends where
//! the stream resynchronises (the next `__CURSOR=` line, or the blank line that ends the
//! damaged entry), so one bad length never swallows the rest of the file.
//!
//! Every byte of a buffer lands in exactly one span, which is what lets `sources.parquet`
//! account for every byte. The same framer decides where a chunk may be cut
//! ([`complete_prefix`], [`cut_after`]), so cutting a source into chunks anywhere gives the
//! same records as reading it whole.
//!
//! ```
//! use coroner_parse::frame::{Frames, Framing, SpanKind};
//! let text = b"Mar 13 15:23:02 host app[1]: one\n-- Boot 0123 --\nMar 13 15:23:03 host app[1]: two\n  continued\n";
//! let kinds: Vec<_> = Frames::new(Framing::Syslog, text, true, 1 << 20)
//!     .map(|s| s.unwrap().kind)
//!     .collect();
//! assert_eq!(kinds, [SpanKind::Record, SpanKind::Meta, SpanKind::Record]);
//! ```

use memchr::{memchr, memmem, memrchr};

use crate::detect::is_export_field_name;
use crate::format::Envelope;

/// How records are delimited in a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// One record per line (`\n`-terminated; a last line without `\n` is still a record).
    Lines,
    /// journalctl text: a line plus following lines that start with a space; `-- … --` lines
    /// are meta.
    Syslog,
    /// journald export entries.
    JournaldExport,
    /// Binary data: no records, every byte is unparsed.
    Opaque,
}

impl Framing {
    pub fn for_envelope(envelope: Envelope) -> Framing {
        match envelope {
            Envelope::Syslog => Framing::Syslog,
            Envelope::JournaldExport => Framing::JournaldExport,
            Envelope::JournaldFile | Envelope::Binary => Framing::Opaque,
            _ => Framing::Lines,
        }
    }
}

/// What a span of bytes is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// A record (line, journal entry).
    Record,
    /// Bytes that carry no record by design: journalctl separators, blank lines between
    /// journald export entries.
    Meta,
    /// Bytes that should have been a record but are damaged (export garbage, binary data).
    Malformed,
}

/// `buf[start..end]`, of one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: SpanKind,
}

impl Span {
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// A record longer than the cap starts at this offset of the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong {
    pub start: usize,
}

/// Iterator over the spans of a buffer that starts at a record boundary.
///
/// With `eof == false` the iterator stops (returns `None`) before a record that may continue
/// past the end of the buffer; [`Frames::pos`] then tells how much was framed.
pub struct Frames<'a> {
    framing: Framing,
    buf: &'a [u8],
    pos: usize,
    eof: bool,
    max_record: usize,
    /// A malformed span found while framing an export entry, returned after the entry.
    pending: Option<Span>,
    failed: bool,
    /// Whether export entries of text fields are found 64 bytes at a time
    /// ([`crate::export_scan`]); the tests turn it off for the field-by-field reference.
    fast_export: bool,
}

impl<'a> Frames<'a> {
    pub fn new(framing: Framing, buf: &'a [u8], eof: bool, max_record: usize) -> Self {
        Frames {
            framing,
            buf,
            pos: 0,
            eof,
            max_record: max_record.max(1),
            pending: None,
            failed: false,
            fast_export: true,
        }
    }

    /// Bytes framed so far (a record boundary).
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn emit(&mut self, end: usize, kind: SpanKind) -> Option<Result<Span, TooLong>> {
        let span = Span {
            start: self.pos,
            end,
            kind,
        };
        self.pos = end;
        Some(Ok(span))
    }

    fn too_long(&mut self) -> Option<Result<Span, TooLong>> {
        self.failed = true;
        Some(Err(TooLong { start: self.pos }))
    }

    fn next_line(&mut self) -> Option<Result<Span, TooLong>> {
        let rest = &self.buf[self.pos..];
        // Look no further than the cap: a runaway line costs max_record bytes of reading,
        // not the rest of a mapped file.
        match memchr(b'\n', window(rest, self.max_record)) {
            Some(i) => self.emit(self.pos + i + 1, SpanKind::Record),
            None if rest.len() > self.max_record => self.too_long(),
            None if self.eof => self.emit(self.buf.len(), SpanKind::Record),
            None => None,
        }
    }

    fn next_syslog(&mut self) -> Option<Result<Span, TooLong>> {
        let rest = &self.buf[self.pos..];
        let Some(first) = memchr(b'\n', window(rest, self.max_record)) else {
            return if rest.len() > self.max_record {
                self.too_long()
            } else if self.eof {
                let kind = if is_separator(rest) {
                    SpanKind::Meta
                } else {
                    SpanKind::Record
                };
                self.emit(self.buf.len(), kind)
            } else {
                None
            };
        };
        if is_separator(&rest[..first]) {
            return self.emit(self.pos + first + 1, SpanKind::Meta);
        }
        // Extend over continuation lines (journalctl indents them to the message column).
        let mut end = first + 1;
        loop {
            if end > self.max_record {
                return self.too_long();
            }
            match rest.get(end) {
                Some(b' ') => match memchr(b'\n', window(&rest[end..], self.max_record - end)) {
                    Some(i) => end += i + 1,
                    None if rest.len() > self.max_record => return self.too_long(),
                    None if self.eof => end = rest.len(),
                    None => return None,
                },
                Some(_) => break,
                None if self.eof => break,
                // The next line may be a continuation: wait for more bytes.
                None => return None,
            }
        }
        if end > self.max_record {
            return self.too_long();
        }
        self.emit(self.pos + end, SpanKind::Record)
    }

    fn next_export(&mut self) -> Option<Result<Span, TooLong>> {
        if let Some(span) = self.pending.take() {
            self.pos = span.end;
            return Some(Ok(span));
        }
        let buf = self.buf;
        let start = self.pos;
        // Blank lines between entries are meta.
        if buf[start] == b'\n' {
            let n = buf[start..].iter().take_while(|&&b| b == b'\n').count();
            if start + n == buf.len() && !self.eof {
                return None;
            }
            return self.emit(start + n, SpanKind::Meta);
        }
        // Nearly every entry is text fields only: found 64 bytes at a time. The rest (a
        // binary field, damage, an entry at the buffer's end) is read field by field.
        if self.fast_export
            && let Some(end) = crate::export_scan::text_entry_end(buf, start, self.max_record)
        {
            return self.emit(end, SpanKind::Record);
        }
        let mut at = start;
        loop {
            if at - start > self.max_record {
                return self.too_long();
            }
            if at == buf.len() {
                // The stream ended inside an entry without its blank line: still a record.
                return if self.eof {
                    self.emit(at, SpanKind::Record)
                } else {
                    None
                };
            }
            if buf[at] == b'\n' {
                return self.emit(at + 1, SpanKind::Record);
            }
            // What the cap leaves for this entry (checked above: at - start <= max_record).
            let budget = self.max_record - (at - start);
            let Some(nl) = memchr(b'\n', window(&buf[at..], budget + 1)) else {
                if buf.len() - at > budget {
                    return self.too_long();
                }
                if !self.eof {
                    return None;
                }
                // A last field without newline: a record if the field is well formed.
                return match field_shape(&buf[at..]) {
                    FieldShape::Text => self.emit(buf.len(), SpanKind::Record),
                    _ => self.malformed_from(at),
                };
            };
            let line = &buf[at..at + nl];
            match field_shape(line) {
                FieldShape::Text => at += nl + 1,
                FieldShape::Binary => {
                    let len_at = at + nl + 1;
                    let Some(len_bytes) = buf.get(len_at..len_at + 8) else {
                        return if self.eof {
                            self.malformed_from(at)
                        } else {
                            None
                        };
                    };
                    let len = u64::from_le_bytes(len_bytes.try_into().unwrap_or([0xff; 8]));
                    // Never trust a length field: bound it by the cap and what is there.
                    let remaining = (buf.len() - (len_at + 8)) as u64;
                    if len > self.max_record as u64 || (len >= remaining && self.eof) {
                        return self.malformed_from(at);
                    }
                    if len >= remaining {
                        return None;
                    }
                    let value_end = len_at + 8 + len as usize;
                    if buf[value_end] != b'\n' {
                        return self.malformed_from(at);
                    }
                    at = value_end + 1;
                }
                FieldShape::Invalid => return self.malformed_from(at),
            }
        }
    }

    /// The entry so far (if any) is a record; from `bad` to the resync point is malformed.
    fn malformed_from(&mut self, bad: usize) -> Option<Result<Span, TooLong>> {
        let end = match resync(&self.buf[bad..]) {
            Some(n) => bad + n,
            None if self.eof => self.buf.len(),
            // The damage may continue past this buffer. With a bounded look-ahead the
            // caller cuts here anyway rather than buffering without bound.
            None if self.buf.len() - bad > self.max_record => self.buf.len(),
            None => return None,
        };
        let bad_span = Span {
            start: bad,
            end,
            kind: SpanKind::Malformed,
        };
        if bad > self.pos {
            self.pending = Some(bad_span);
            self.emit(bad, SpanKind::Record)
        } else {
            self.pos = end;
            Some(Ok(bad_span))
        }
    }
}

impl Iterator for Frames<'_> {
    type Item = Result<Span, TooLong>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.pending.is_none() && self.pos >= self.buf.len() {
            return None;
        }
        match self.framing {
            Framing::Lines => self.next_line(),
            Framing::Syslog => self.next_syslog(),
            Framing::JournaldExport => self.next_export(),
            Framing::Opaque => self.emit(self.buf.len(), SpanKind::Malformed),
        }
    }
}

/// `-- Boot 0123… --`, `-- No entries --`, `-- Logs begin at … --`, `-- Reboot --`.
fn is_separator(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.len() >= 5 && line.starts_with(b"-- ") && line.ends_with(b" --")
}

enum FieldShape {
    Text,
    Binary,
    Invalid,
}

/// A journald export line: `NAME=value` (text), `NAME` (binary follows), or garbage.
fn field_shape(line: &[u8]) -> FieldShape {
    match memchr(b'=', line) {
        Some(eq) if is_export_field_name(&line[..eq]) => FieldShape::Text,
        Some(_) => FieldShape::Invalid,
        None if is_export_field_name(line) => FieldShape::Binary,
        None => FieldShape::Invalid,
    }
}

/// Length of the damaged part starting at a bad line: up to (not including) the next line
/// starting with `__CURSOR=`, or through the next blank line, whichever comes first.
///
/// The `__CURSOR=` search stops at the blank line: searching the whole rest of the buffer
/// for every damaged span made a run of small damaged spans quadratic (found while fuzzing:
/// 64 KiB of `x\n\n` after an entry took 4 s, 1 MiB over a minute). A cursor match cannot
/// straddle the blank line (its only `\n` is its first byte), so the result is the same.
fn resync(bytes: &[u8]) -> Option<usize> {
    let blank = memmem::find(bytes, b"\n\n").map(|i| i + 2);
    let before_blank = &bytes[..blank.unwrap_or(bytes.len())];
    let cursor = memmem::find(before_blank, b"\n__CURSOR=").map(|i| i + 1);
    cursor.or(blank)
}

/// The first `cap` bytes of `buf` (all of it when shorter).
fn window(buf: &[u8], cap: usize) -> &[u8] {
    &buf[..buf.len().min(cap)]
}

/// The longest prefix of `buf` (which starts at a record boundary) made of whole records,
/// i.e. where a producer may cut a stream. With `eof` the whole buffer is complete.
pub fn complete_prefix(framing: Framing, buf: &[u8], eof: bool, max_record: usize) -> usize {
    if eof {
        return buf.len();
    }
    match framing {
        Framing::Lines => memrchr(b'\n', buf).map_or(0, |i| i + 1),
        Framing::Syslog => {
            // Cut after a newline whose next line is not a continuation.
            let mut end = buf.len();
            while let Some(i) = memrchr(b'\n', &buf[..end]) {
                if buf.get(i + 1).is_some_and(|&b| b != b' ') {
                    return i + 1;
                }
                end = i;
            }
            0
        }
        Framing::JournaldExport => {
            let mut frames = Frames::new(framing, buf, false, max_record);
            while let Some(Ok(_)) = frames.next() {}
            frames.pos()
        }
        Framing::Opaque => buf.len(),
    }
}

/// A record boundary at or after `target` in a whole, in-memory source that starts at a
/// record: where a mapped file may be cut into chunks. `None` when the rest must stay one
/// chunk: there is no boundary, or none within `max_record` of the target, in which case
/// the record there is too long and framing the chunk ends the source at it. Either way no
/// more than `max_record` bytes past the target are looked at.
pub fn cut_after(framing: Framing, buf: &[u8], target: usize, max_record: usize) -> Option<usize> {
    if target >= buf.len() {
        return None;
    }
    let max_record = max_record.max(1);
    let limit = buf.len().min(target.saturating_add(max_record));
    match framing {
        Framing::Lines => memchr(b'\n', &buf[target..limit]).map(|i| target + i + 1),
        Framing::Syslog => {
            let mut from = target;
            while let Some(i) = memchr(b'\n', &buf[from..limit]) {
                let cut = from + i + 1;
                match buf.get(cut) {
                    Some(b' ') => from = cut,
                    Some(_) => return Some(cut),
                    None => return None,
                }
            }
            None
        }
        // Entries can only be found by framing from the start (a binary field may hold
        // "\n\n"), and `buf` starts at one (the previous cut, or the file's start): frame
        // until past the target. The producer pays one framing pass; a mapped export then
        // costs memory for the chunks in flight, not the whole file.
        Framing::JournaldExport => {
            let mut frames = Frames::new(framing, buf, false, max_record);
            loop {
                match frames.next() {
                    Some(Ok(_)) if frames.pos() < target => continue,
                    Some(Ok(_)) => break Some(frames.pos()),
                    _ => break None,
                }
            }
        }
        Framing::Opaque => Some(target),
    }
    .filter(|&cut| cut < buf.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: usize = 1 << 20;

    fn spans(framing: Framing, buf: &[u8]) -> Vec<(SpanKind, Vec<u8>)> {
        Frames::new(framing, buf, true, CAP)
            .map(|s| {
                let s = s.unwrap();
                (s.kind, buf[s.start..s.end].to_vec())
            })
            .collect()
    }

    fn export_binary(name: &str, value: &[u8]) -> Vec<u8> {
        let mut v = format!("{name}\n").into_bytes();
        v.extend_from_slice(&(value.len() as u64).to_le_bytes());
        v.extend_from_slice(value);
        v.push(b'\n');
        v
    }

    #[test]
    fn lines_keep_a_last_line_without_newline() {
        let got = spans(Framing::Lines, b"a\n\nb");
        assert_eq!(got.len(), 3);
        assert_eq!(got[2].1, b"b");
        assert!(spans(Framing::Lines, b"").is_empty());
    }

    #[test]
    fn syslog_joins_continuations_and_marks_separators() {
        let text = b"-- Boot 27acae2f --\nMar 13 15:23:07 h nm[225]: wpad => '\n                    '\nMar 13 15:23:08 h k: x\n-- No entries --";
        let got = spans(Framing::Syslog, text);
        let kinds: Vec<_> = got.iter().map(|g| g.0).collect();
        assert_eq!(
            kinds,
            [
                SpanKind::Meta,
                SpanKind::Record,
                SpanKind::Record,
                SpanKind::Meta
            ]
        );
        assert!(got[1].1.ends_with(b"'\n"));
    }

    #[test]
    fn export_binary_field_may_hold_blank_lines() {
        let mut e = b"__CURSOR=s=1\n__REALTIME_TIMESTAMP=1\n".to_vec();
        e.extend(export_binary("MESSAGE", b"foo\n\nbar"));
        e.extend(export_binary("_SELINUX_CONTEXT", b"unconfined\n"));
        e.extend(b"PRIORITY=6\n\n");
        let mut two = e.clone();
        two.extend(&e);
        let got = spans(Framing::JournaldExport, &two);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().all(|g| g.0 == SpanKind::Record && g.1 == e));
    }

    #[test]
    fn export_garbage_resyncs_at_the_next_cursor() {
        let entry = b"__CURSOR=s=1\nMESSAGE=hello\n\n".to_vec();
        let mut buf = entry.clone();
        // Stray syslog lines wedged between entries: the first has no `=`, so a naive
        // reader would take it as a binary field name and read a huge length.
        buf.extend(b"Sep 17 11:26:36 Debian12 kernel: Linux version 6.1.0\n");
        buf.extend(b"Sep 17 11:26:36 Debian12 kernel: Command line: BOOT_IMAGE=/vmlinuz\n");
        buf.extend(&entry);
        let got = spans(Framing::JournaldExport, &buf);
        let kinds: Vec<_> = got.iter().map(|g| g.0).collect();
        assert_eq!(
            kinds,
            [SpanKind::Record, SpanKind::Malformed, SpanKind::Record]
        );
        assert_eq!(got[2].1, entry);
    }

    /// Fuzzing regression (issue #7): an export head, then many tiny damaged spans each
    /// ended by a blank line, with no `__CURSOR=` after them. `resync` searched the whole
    /// rest of the buffer for a cursor at every span: quadratic, minutes for this 1 MiB (the
    /// test would time CI out); linear now.
    #[test]
    fn export_many_small_damaged_spans_frame_in_linear_time() {
        let head = b"__CURSOR=s=1\n__REALTIME_TIMESTAMP=1\nMESSAGE=hi\n\n";
        let mut buf = head.to_vec();
        buf.extend(b"x\n\n".repeat(350_000));
        let got = Frames::new(Framing::JournaldExport, &buf, true, CAP)
            .map(Result::unwrap)
            .collect::<Vec<_>>();
        assert_eq!(got.len(), 1 + 350_000);
        assert_eq!((got[0].kind, got[0].end), (SpanKind::Record, head.len()));
        assert!(
            got[1..]
                .iter()
                .all(|s| s.kind == SpanKind::Malformed && s.len() == 3)
        );
        // A cursor before the blank line still wins; one right after it does not.
        assert_eq!(resync(b"x\n__CURSOR=s\n\n"), Some(2));
        assert_eq!(resync(b"x\n\n__CURSOR=s\n"), Some(3));
        assert_eq!(resync(b"x\ny\n"), None);
    }

    #[test]
    fn export_huge_length_is_malformed_not_an_allocation() {
        let mut buf = b"__CURSOR=s=1\nMESSAGE\n".to_vec();
        buf.extend(u64::MAX.to_le_bytes());
        buf.extend(b"xx\n\n__CURSOR=s=2\nMESSAGE=ok\n\n");
        let got = spans(Framing::JournaldExport, &buf);
        let kinds: Vec<_> = got.iter().map(|g| g.0).collect();
        assert_eq!(
            kinds,
            [SpanKind::Record, SpanKind::Malformed, SpanKind::Record]
        );
        assert_eq!(got[2].1, b"__CURSOR=s=2\nMESSAGE=ok\n\n");
    }

    #[test]
    fn overlong_lines_are_reported_at_their_start() {
        let buf = b"short\nthis line is long\nx\n";
        let got: Vec<_> = Frames::new(Framing::Lines, buf, true, 10).collect();
        assert_eq!(got[0].unwrap().end, 6);
        assert_eq!(got[1], Err(TooLong { start: 6 }));
        assert_eq!(got.len(), 2);
    }

    /// The naive reading of the line cap: split at every newline, and the first line longer
    /// than the cap (newline included) ends framing at its start.
    fn naive_lines(buf: &[u8], cap: usize) -> Vec<Result<(usize, usize), usize>> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < buf.len() {
            let end = buf[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(buf.len(), |i| start + i + 1);
            if end - start > cap {
                out.push(Err(start));
                break;
            }
            out.push(Ok((start, end)));
            start = end;
        }
        out
    }

    proptest::proptest! {
        /// The framer and the cutter look no further than the cap, and still agree with the
        /// naive reading: bounded search changes cost, never results.
        #[test]
        fn bounded_line_search_agrees_with_the_naive_reading(
            buf in proptest::collection::vec(proptest::sample::select(b"ab \n".to_vec()), 0..80),
            cap in 1usize..24,
            target in 0usize..80,
        ) {
            let got: Vec<_> = Frames::new(Framing::Lines, &buf, true, cap)
                .map(|r| r.map(|s| (s.start, s.end)).map_err(|e| e.start))
                .collect();
            proptest::prop_assert_eq!(got, naive_lines(&buf, cap));
            // The cut: the first boundary at or after the target, if the line holding the
            // target ends within the cap of it.
            let naive_cut = buf
                .iter()
                .enumerate()
                .skip(target)
                .find(|&(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1)
                .filter(|&cut| cut - target <= cap && cut < buf.len());
            let want = if target >= buf.len() { None } else { naive_cut };
            proptest::prop_assert_eq!(cut_after(Framing::Lines, &buf, target, cap), want);
        }
    }

    /// Cutting anywhere with `complete_prefix` and framing the pieces gives the same
    /// spans as framing the whole: the invariant the chunked pipeline rests on.
    #[test]
    fn piecewise_framing_equals_whole_framing() {
        let mut export = Vec::new();
        for i in 0..20 {
            export.extend(format!("__CURSOR=s={i}\nMESSAGE=m{i}\n").bytes());
            if i % 3 == 0 {
                export.extend(export_binary("MESSAGE", b"a\n\nb"));
            }
            if i % 7 == 0 {
                export.extend(b"garbage line\n");
            }
            export.push(b'\n');
        }
        let syslog = b"Mar 13 15:23:07 h a[1]: x\n   cont\n-- Boot 1 --\nMar 13 15:23:08 h a[1]: y\nMar 13 15:23:09 h a[1]: z\n  c1\n  c2\n".repeat(5);
        let lines = b"a\nbb\n\nccc\nd".repeat(7);
        for (framing, buf) in [
            (Framing::JournaldExport, export),
            (Framing::Syslog, syslog),
            (Framing::Lines, lines),
        ] {
            let whole: Vec<_> = Frames::new(framing, &buf, true, CAP)
                .map(|s| s.unwrap())
                .map(|s| (s.kind, buf[s.start..s.end].to_vec()))
                .collect();
            for step in [1usize, 2, 3, 5, 8, 13, 64] {
                let mut got = Vec::new();
                let mut base = 0;
                let mut end = 0;
                while base < buf.len() {
                    end = (end + step).min(buf.len()).max(base);
                    let eof = end == buf.len();
                    let piece = &buf[base..end];
                    let cut = complete_prefix(framing, piece, eof, CAP);
                    if cut == 0 {
                        continue;
                    }
                    for s in Frames::new(framing, &piece[..cut], true, CAP) {
                        let s = s.unwrap();
                        got.push((s.kind, piece[s.start..s.end].to_vec()));
                    }
                    base += cut;
                }
                assert_eq!(got, whole, "{framing:?} step {step}");
            }
        }
    }

    /// A random export: entries of text fields (names valid or not), binary fields,
    /// garbage lines, blank lines, entries without their blank line.
    fn arbitrary_export() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let name =
            proptest::collection::vec(proptest::sample::select(b"AZ_09MESAGx=".to_vec()), 0..70);
        let value = proptest::collection::vec(
            prop_oneof![
                8 => proptest::sample::select(b"ab =\x00\xff9".to_vec()),
                1 => Just(b'\n'),
            ],
            0..150,
        );
        let field = prop_oneof![
            6 => (name.clone(), value.clone()).prop_map(|(n, v)| {
                let mut f = n;
                f.push(b'=');
                // A text value has no newline.
                f.extend(v.into_iter().filter(|&b| b != b'\n'));
                f.push(b'\n');
                f
            }),
            1 => (name, value.clone()).prop_map(|(n, v)| {
                let mut f = n.into_iter().filter(|&b| b != b'=').collect::<Vec<u8>>();
                f.push(b'\n');
                f.extend((v.len() as u64).to_le_bytes());
                f.extend(v);
                f.push(b'\n');
                f
            }),
            1 => value.prop_map(|mut v| {
                v.push(b'\n');
                v
            }),
        ];
        let entry = (proptest::collection::vec(field, 0..12), 0u8..8).prop_map(|(fields, end)| {
            let mut e = fields.concat();
            match end {
                0 => {}
                1 => e.extend(b"\n\n"),
                _ => e.push(b'\n'),
            }
            e
        });
        proptest::collection::vec(entry, 0..8).prop_map(|e| e.concat())
    }

    fn export_spans(buf: &[u8], eof: bool, cap: usize, fast: bool) -> Vec<Result<Span, TooLong>> {
        let mut frames = Frames::new(Framing::JournaldExport, buf, eof, cap);
        frames.fast_export = fast;
        let mut spans: Vec<_> = frames.by_ref().collect();
        // Where an unfinished buffer stopped: part of what a producer acts on.
        spans.push(Err(TooLong {
            start: frames.pos(),
        }));
        spans
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Entries found 64 bytes at a time are the entries the field-by-field framer
        /// finds, on any export, finished or not, under any cap.
        #[test]
        fn fast_export_entries_equal_field_by_field_framing(
            buf in arbitrary_export(),
            eof: bool,
            cap in proptest::prop_oneof![proptest::strategy::Just(CAP), 1usize..400],
        ) {
            proptest::prop_assert_eq!(
                export_spans(&buf, eof, cap, true),
                export_spans(&buf, eof, cap, false)
            );
        }
    }

    #[test]
    fn cut_after_lands_on_record_boundaries() {
        let syslog = b"Mar 1 h a: x\n  c\nMar 1 h a: y\n";
        assert_eq!(cut_after(Framing::Syslog, syslog, 2, CAP), Some(17));
        assert_eq!(cut_after(Framing::Lines, b"ab\ncd\n", 1, CAP), Some(3));
        assert_eq!(cut_after(Framing::Lines, b"ab\ncd\n", 4, CAP), None);
        // After the first whole entry past the target; never inside a binary field that
        // holds a blank line.
        assert_eq!(
            cut_after(Framing::JournaldExport, b"A=1\n\nB=2\n\n", 1, CAP),
            Some(5)
        );
        assert_eq!(
            cut_after(Framing::JournaldExport, b"A=1\n\nB=2\n\n", 6, CAP),
            None
        );
        let mut binary = b"MESSAGE\n".to_vec();
        binary.extend(4u64.to_le_bytes());
        binary.extend(b"x\n\ny\nA=1\n\nB=2\n\n");
        assert_eq!(
            cut_after(Framing::JournaldExport, &binary, 1, CAP),
            Some(binary.len() - 5)
        );
    }
}
