//! Byte share per message template: the answer to "what fills this log?" for the guesses
//! nobody thought of.
//!
//! Drain-class mining in two steps, split so that the result does not depend on threads
//! or chunk sizes:
//!
//! 1. **Mask** (per record, in parallel, mergeable): the message is cut into tokens at
//!    spaces (a `"quoted string"` is one token) and every token that holds a digit, or is
//!    a long hex run, becomes `<*>`; in `key=value` tokens only the value is masked, so
//!    `dur_ms=<*>` keeps its key. Records with the same masked text share a *key*; each
//!    chunk counts records, bytes and times per key in a hash map (an allocation per new
//!    key, none per record), and maps merge by addition.
//! 2. **Cluster** (once per source, after the pass, over distinct keys rather than
//!    records): Drain's fixed-depth tree: keys are grouped by token count and first two
//!    tokens (so a leading unit or logger name gives a template per unit), and within a group each key joins the most similar cluster when at least
//!    [`SIMILARITY`] of its tokens agree position by position, the differing positions
//!    becoming `<*>` (`cause=<*>` for two values of one key); otherwise it starts a cluster. Keys are visited in a fixed order
//!    (bytes, then text), so the clusters are the same for every run of the same input.
//!
//! We wrote this rather than wrap `drain3` ports: those learn online, record by record, so
//! their templates depend on arrival order, which under rayon is not fixed; clustering
//! merged keys keeps 1 and N threads identical.
//!
//! Bounds: at most [`MAX_KEYS`] distinct keys per source (further new keys count in
//! `<other>`, which then depends on the order chunks meet the cap; below the cap results are
//! exact), and `--top N` rows per source plus `<other>`, so the sums always equal the totals.
//!
//! ```
//! use coroner_analyze::templates::{KeyCounts, mine};
//! let mut keys = KeyCounts::default();
//! let mut buf = Vec::new();
//! for (i, user) in ["alice", "bob", "carol"].iter().enumerate() {
//!     let msg = format!("session opened for user {user} by uid={i}");
//!     keys.add(msg.as_bytes(), msg.len() as u64 + 1, Some(i as i64), &mut buf);
//! }
//! let mined = mine(&keys, 10);
//! assert_eq!(mined[0].template, "session opened for user <*> by uid=<*>");
//! assert_eq!(mined[0].records, 3);
//! ```

use std::collections::HashMap;

use coroner_parse::timestamp::Micros;
use indexmap::IndexMap;
use memchr::memchr;

use crate::path_classes::PathClasses;
use crate::pipeline::{RunResult, SourceReport};
use crate::request_cache::{Lookup, Pending, RawRequest, RequestCache};
use crate::table::{self, Column};

/// Fraction of token positions that must agree for a key to join a cluster (drain3's
/// default `sim_th` is 0.4; 0.5 keeps `Started X` and `Stopped X` apart).
pub const SIMILARITY: f64 = 0.5;

/// Distinct masked messages remembered per source before new ones go to `<other>`.
pub const MAX_KEYS: usize = 100_000;

/// Messages longer than this are masked on their first part only (the key stays bounded).
const MAX_MESSAGE: usize = 4096;

/// Clusters per Drain group before new keys are forced into the closest one.
const MAX_CLUSTERS_PER_GROUP: usize = 1000;

/// The placeholder for a variable token.
pub const WILDCARD: &str = "<*>";

/// First byte of a key that is final (no clustering). [`mask_into`] never starts a key
/// with it, so the two kinds cannot collide.
const EXACT: u8 = 0x01;

/// Path segments kept in an access key; deeper paths end in `/...`.
const MAX_SEGMENTS: usize = 8;

/// Counts of one masked key (or of one mined template).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyStats {
    pub records: u64,
    pub bytes: u64,
    pub first_ts: Option<Micros>,
    pub last_ts: Option<Micros>,
    /// The first record seen with this key, cut to 512 bytes.
    pub example: Vec<u8>,
    /// Order of first appearance (chunk-local, then re-based on merge): keeps the example
    /// the earliest record's whatever the merge order.
    first_seen: u64,
}

impl KeyStats {
    /// Counts a [`RequestCache`] held for this key.
    fn add_pending(&mut self, p: Pending) {
        self.records += p.records;
        self.bytes += p.bytes;
        if let Some((first, last)) = p.time_range() {
            self.first_ts = Some(self.first_ts.map_or(first, |f| f.min(first)));
            self.last_ts = Some(self.last_ts.map_or(last, |l| l.max(last)));
        }
    }

    fn add(&mut self, bytes: u64, ts: Option<Micros>) {
        self.records += 1;
        self.bytes += bytes;
        if let Some(t) = ts {
            self.first_ts = Some(self.first_ts.map_or(t, |f| f.min(t)));
            self.last_ts = Some(self.last_ts.map_or(t, |l| l.max(t)));
        }
    }

    fn merge(&mut self, other: &KeyStats) {
        self.records += other.records;
        self.bytes += other.bytes;
        for t in [other.first_ts, other.last_ts].into_iter().flatten() {
            self.first_ts = Some(self.first_ts.map_or(t, |f| f.min(t)));
            self.last_ts = Some(self.last_ts.map_or(t, |l| l.max(t)));
        }
    }
}

/// Per-key counts of one chunk or one source. Merge chunks in source order.
#[derive(Clone, Debug, Default)]
pub struct KeyCounts {
    /// In order of first appearance; an entry's index never changes (nothing is removed),
    /// which is what a [`RequestCache`] remembers.
    keys: IndexMap<Box<[u8]>, KeyStats, foldhash::fast::FixedState>,
    /// Records whose key arrived after the map was full.
    pub other: KeyStats,
    /// Bytes that belong to no record (journalctl separators, blank lines between export
    /// entries, binary data): they get a row of their own so the bytes still add up.
    pub not_records: u64,
    seen: u64,
}

impl KeyCounts {
    /// Count one record: `message` is what gets mined, `bytes` what the record weighs in
    /// the source (its stored bytes, newline included). `buf` is scratch space reused
    /// between calls so masking does not allocate.
    pub fn add(&mut self, message: &[u8], bytes: u64, ts: Option<Micros>, buf: &mut Vec<u8>) {
        let n = mask_in_place(message, buf);
        self.add_key(&buf[..n], message, bytes, ts);
    }

    /// Count one record under a key that is already a template and must not be clustered
    /// further (an access log's `METHOD path-template status-class`, see [`access_key_into`]).
    /// `buf` holds the key; `example` is the record's message.
    /// Returns where it was counted, as [`KeyCounts::add_access`]'s cache remembers it.
    pub fn add_exact(
        &mut self,
        buf: &mut Vec<u8>,
        example: &[u8],
        bytes: u64,
        ts: Option<Micros>,
    ) -> Option<usize> {
        buf.insert(0, EXACT);
        self.add_key(buf, example, bytes, ts)
    }

    /// Count one access-log record under its [`access_key_into`] key, through `cache`: a
    /// request seen before in this chunk skips building and looking up its key, and is
    /// counted in the cache until [`KeyCounts::flush_cache`]; one seen in an earlier chunk
    /// (the cache outlives chunks: see [`RequestCache::begin_chunk`]) skips building it.
    /// After that flush the counts are the same as [`access_key_into`] then
    /// [`KeyCounts::add_exact`] would give.
    pub fn add_access(
        &mut self,
        cache: &mut RequestCache,
        (method, target, status): (Option<&[u8]>, Option<&[u8]>, Option<u16>),
        example: &[u8],
        bytes: u64,
        ts: Option<Micros>,
        buf: &mut Vec<u8>,
    ) {
        let raw = method
            .zip(target)
            .and_then(|(m, t)| RawRequest::new(m, t, status));
        let value = |at: Option<usize>| at.map_or(u32::MAX, |i| i as u32);
        if let Some(raw) = &raw {
            match cache.count(raw, bytes, ts) {
                Lookup::Counted => return,
                Lookup::Known(e) => {
                    // Seen in an earlier chunk: its key is known, not built again.
                    let at = self.add_key(cache.key(e), example, bytes, ts);
                    cache.renew(e, value(at));
                    return;
                }
                Lookup::Unknown => {}
            }
        }
        let masked = access_key_into(method, target, status, buf);
        let at = self.add_exact(buf, example, bytes, ts);
        // A path with an id is most likely seen once: cached, such paths filled the cache
        // and pushed its entries out of the CPU's caches, so that even a hit waited for
        // memory (a log of ids: 29 % of its paths once only; the hot ones are few). One
        // seen before is cached all the same: a static file whose name has digits
        // (`favicon-32x32.png`, `app.8f3a2b1c.js`) is asked for over and over.
        if let Some(raw) = &raw
            && (!masked || cache.seen_before(raw))
        {
            cache.put(raw, buf, value(at), |v, p| self.add_pending(v, p));
        }
    }

    /// Hand the counts waiting in `cache` to their keys: before this chunk's counts are
    /// read or merged.
    pub fn flush_cache(&mut self, cache: &mut RequestCache) {
        cache.flush(|v, p| self.add_pending(v, p));
    }

    fn add_pending(&mut self, at: u32, p: Pending) {
        match self.keys.get_index_mut(at as usize) {
            Some((_, s)) => s.add_pending(p),
            None => self.other.add_pending(p),
        }
    }

    /// Count a record under `key`; where it was counted: the key's index, or `None` for
    /// `<other>` (the map is full, and stays full for the rest of the chunk).
    fn add_key(
        &mut self,
        key: &[u8],
        message: &[u8],
        bytes: u64,
        ts: Option<Micros>,
    ) -> Option<usize> {
        if let Some((at, _, s)) = self.keys.get_full_mut(key) {
            s.add(bytes, ts);
            return Some(at);
        }
        if self.keys.len() >= MAX_KEYS {
            self.other.add(bytes, ts);
            return None;
        }
        let mut s = KeyStats {
            example: message[..message.len().min(512)].to_vec(),
            first_seen: self.seen,
            ..KeyStats::default()
        };
        self.seen += 1;
        s.add(bytes, ts);
        let (at, _) = self.keys.insert_full(key.into(), s);
        Some(at)
    }

    /// Count bytes that are not a record.
    pub fn add_not_record(&mut self, bytes: u64) {
        self.not_records += bytes;
    }

    /// Fold the next chunk of the same source (or another source, for `*`).
    pub fn merge(&mut self, later: &KeyCounts) {
        let base = self.seen;
        for (k, v) in &later.keys {
            if let Some(s) = self.keys.get_mut(k) {
                s.merge(v);
            } else if self.keys.len() >= MAX_KEYS {
                self.other.merge(v);
            } else {
                let mut v = v.clone();
                v.first_seen += base;
                self.keys.insert(k.clone(), v);
            }
        }
        self.other.merge(&later.other);
        self.not_records += later.not_records;
        self.seen += later.seen;
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.other.records == 0 && self.not_records == 0
    }

    /// Records and bytes counted, `<other>` and bytes outside records included.
    pub fn totals(&self) -> (u64, u64) {
        let (r, b) = self
            .keys
            .values()
            .chain(std::iter::once(&self.other))
            .fold((0, 0), |(r, b), s| (r + s.records, b + s.bytes));
        (r, b + self.not_records)
    }
}

/// An access log record's template: `METHOD path-template status-class`, e.g.
/// `GET /api/v1/accounts/<*>/statuses?<*> 2xx`. A path segment is variable when it holds two
/// digits or more (ids, dates, sizes like `200x200`; `v1` and `oauth2` stay) or is a long
/// hex run; a query string is `?<*>`. Without a parsed method (a probe sending junk) the key
/// is `<invalid request> status-class`.
///
/// Returns whether a segment of the path was variable (an id, most likely a path seen once).
pub fn access_key_into(
    method: Option<&[u8]>,
    target: Option<&[u8]>,
    status: Option<u16>,
    out: &mut Vec<u8>,
) -> bool {
    out.clear();
    let masked = match (method, target) {
        (Some(m), Some(t)) => {
            out.extend(
                m.iter()
                    .take(16)
                    .map(|b| if b.is_ascii_graphic() { *b } else { b'?' }),
            );
            out.push(b' ');
            push_path_template(t, out)
        }
        _ => {
            out.extend_from_slice(b"<invalid request>");
            false
        }
    };
    out.push(b' ');
    match status {
        Some(s @ 100..=599) => out.extend_from_slice(&[b'0' + (s / 100) as u8, b'x', b'x']),
        _ => out.push(b'-'),
    }
    masked
}

/// The path's template into `out`; whether a segment was masked.
fn push_path_template(target: &[u8], out: &mut Vec<u8>) -> bool {
    let (path, query) = match memchr(b'?', target) {
        Some(q) => (&target[..q], true),
        None => (target, false),
    };
    // An absolute-form target (proxy request): keep the path only. Origin-form targets
    // (nearly all) start with '/' and skip the search (a memmem searcher per record showed
    // in the profile).
    let scheme = if path.starts_with(b"/") {
        None
    } else {
        memchr::memmem::find(path, b"://")
    };
    let path = match scheme {
        Some(i) => path[i + 3..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(&b"/"[..], |p| &path[i + 3 + p..]),
        None => path,
    };
    let masked = push_segments(path, out);
    if query {
        out.extend_from_slice(b"?<*>");
    }
    masked
}

/// The path's segments into `out`, a segment with two digits or more (ids, dates, sizes like
/// `200x200`; `v1` and `oauth2` stay) or a long hex run as [`WILDCARD`], at most
/// [`MAX_SEGMENTS`] of them. This runs on every access line: a path of up to
/// [`MAX_PATH`](crate::path_classes::MAX_PATH) bytes is classified 16 bytes at a time into
/// bit masks, and each segment's rules are then a few bit operations; longer paths take
/// [`push_segments_bytewise`].
fn push_segments(path: &[u8], out: &mut Vec<u8>) -> bool {
    let Some(c) = PathClasses::of(path) else {
        return push_segments_bytewise(path, out);
    };
    let mut start = 0;
    let mut masked = false;
    for n in 0.. {
        let end = c.next_slash(start).unwrap_or(path.len());
        if n > 0 {
            out.push(b'/');
        }
        if n > MAX_SEGMENTS {
            out.extend_from_slice(b"...");
            return masked;
        }
        let len = end - start;
        let seg = c.segment(start, end);
        if seg.digit.count_ones() >= 2 || (len >= 8 && seg.not_hex == 0) {
            out.extend_from_slice(WILDCARD.as_bytes());
            masked = true;
        } else {
            // A masked path is at most 64 bytes, so the segment is kept whole.
            const _: () = assert!(crate::path_classes::MAX_PATH <= 64);
            push_kept_segment(&path[start..end], seg.not_clean == 0, out);
        }
        if end >= path.len() {
            return masked;
        }
        start = end + 1;
    }
    unreachable!("the loop returns at the path's last segment")
}

/// A segment kept in the template as it is, except that bytes that are not clean become `?`
/// (spaces would split the template into tokens, control bytes are hostile). `clean` says
/// none needs replacing, so the common case is one copy.
#[inline]
fn push_kept_segment(seg: &[u8], clean: bool, out: &mut Vec<u8>) {
    let at = out.len();
    out.extend_from_slice(seg);
    if !clean {
        for b in &mut out[at..] {
            if CLASS[*b as usize] & CLEAN == 0 {
                *b = b'?';
            }
        }
    }
}

/// [`push_segments`] one byte at a time through the class table: for paths too long for
/// the masks, and the reference the masked version is tested against.
fn push_segments_bytewise(path: &[u8], out: &mut Vec<u8>) -> bool {
    let mut start = 0;
    let mut masked = false;
    for n in 0.. {
        let mut end = start;
        let mut digits = 0u32;
        let mut all = 0xff;
        while let Some(&b) = path.get(end) {
            let c = CLASS[b as usize];
            if c & SLASH != 0 {
                break;
            }
            digits += u32::from(c & DIGIT);
            all &= c;
            end += 1;
        }
        if n > 0 {
            out.push(b'/');
        }
        if n > MAX_SEGMENTS {
            out.extend_from_slice(b"...");
            return masked;
        }
        let seg = &path[start..end];
        if digits >= 2 || (seg.len() >= 8 && all & HEX != 0) {
            out.extend_from_slice(WILDCARD.as_bytes());
            masked = true;
        } else {
            push_kept_segment(&seg[..seg.len().min(64)], all & CLEAN != 0, out);
        }
        if end >= path.len() {
            return masked;
        }
        start = end + 1;
    }
    unreachable!("the loop returns at the path's last segment")
}

/// Mask a message into `out`: see the module docs for the rules.
///
/// This runs on every free-text record (journald messages, application logs): 64 bytes at
/// a time through bit masks ([`crate::message_mask`]); the tests hold it to the plain
/// rule-by-rule reading (`tests::mask_naive`).
pub fn mask_into(message: &[u8], out: &mut Vec<u8>) {
    let n = mask_in_place(message, out);
    out.truncate(n);
}

/// [`mask_into`], the masked text being `out[..n]` for the `n` returned; `out` may be
/// longer (scratch room kept for the next record: see [`crate::message_mask`]).
fn mask_in_place(message: &[u8], out: &mut Vec<u8>) -> usize {
    let msg = &message[..message.len().min(MAX_MESSAGE)];
    if msg.iter().find(|&&b| b != b' ' && b != b'\t') == Some(&EXACT) {
        mask_bytewise(msg, out);
        return out.len();
    }
    crate::message_mask::mask_window_into(msg, out)
}

/// [`mask_into`] a byte at a time, each token read once through a class table: the path
/// for a message starting with [`EXACT`], whose first token is read by the plain rules.
fn mask_bytewise(msg: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < msg.len() {
        if msg[i] == b' ' || msg[i] == b'\t' {
            i += 1;
            continue;
        }
        let token = Token::scan(msg, i);
        if !out.is_empty() {
            out.push(b' ');
        }
        let text = &msg[i..token.end];
        if out.is_empty() && text[0] == EXACT {
            // Keep the exact-key marker unique (see EXACT): a message starting with 0x01.
            // Rare enough for the plain reading.
            push_masked(text, out);
        } else {
            token.push(text, out);
        }
        i = token.end;
    }
}

/// Byte classes, one table for both template scanners ([`Token::scan`] for messages,
/// [`push_segments`] for request paths); each reads only the bits its rules need.
const DIGIT: u8 = 1;
const HEX: u8 = 2;
/// Characters of a `key` in `key=value`: ASCII letters and digits, `_`, `.`, `-`.
const KEY: u8 = 4;
/// Kept as is in a path template (graphic ASCII or any byte of a UTF-8 sequence); the
/// others become `?`.
const CLEAN: u8 = 8;
/// Bytes a message token scan must stop at: space, tab, `"` and `=` (none of them is a
/// digit, hex or key character).
const STOP: u8 = 16;
/// The path segment separator.
const SLASH: u8 = 32;
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut k = 0;
        if c.is_ascii_digit() {
            k |= DIGIT;
        }
        if c.is_ascii_hexdigit() {
            k |= HEX;
        }
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-' {
            k |= KEY;
        }
        if c.is_ascii_graphic() || c >= 0x80 {
            k |= CLEAN;
        }
        if matches!(c, b' ' | b'\t' | b'"' | b'=') {
            k |= STOP;
        }
        if c == b'/' {
            k |= SLASH;
        }
        t[b] = k;
        b += 1;
    }
    t
};

/// What the masking rules need to know about one token, gathered in one pass.
pub(crate) struct Token {
    /// End of the token in the message (exclusive).
    pub(crate) end: usize,
    /// Offset of the first `=` in the token.
    eq: Option<usize>,
    /// Every byte before the first `=` is a key character.
    key_ok: bool,
    /// Class bits: OR (any) and AND (all) over the whole token, and over the value after
    /// the first `=`.
    any: u8,
    all: u8,
    value_any: u8,
    value_all: u8,
}

/// OR and AND of the classes of the bytes of one part of a token.
#[derive(Clone, Copy)]
struct Classes {
    any: u8,
    all: u8,
}

impl Classes {
    const EMPTY: Classes = Classes { any: 0, all: 0xff };

    /// A byte that is no digit, hex or key character (`"`, `=`, a space inside quotes).
    #[inline]
    fn plain_stop(&mut self) {
        self.all = 0;
    }
}

impl Token {
    /// The token starting at `start` (not a space): it ends at the next space or tab,
    /// except inside double quotes (a quoted value with spaces is one token); an unclosed
    /// quote ends at the next space.
    #[inline]
    pub(crate) fn scan(msg: &[u8], start: usize) -> Token {
        let mut key: Option<Classes> = None;
        let mut part = Classes::EMPTY;
        let mut eq = None;
        let mut end = msg.len();
        // No closing quote after this point: quotes are ordinary bytes from here on.
        let mut unclosed = false;
        let mut j = start;
        loop {
            // The common bytes: letters, digits, punctuation.
            while let Some(&b) = msg.get(j) {
                let c = CLASS[b as usize];
                if c & STOP != 0 {
                    break;
                }
                part.any |= c;
                part.all &= c;
                j += 1;
            }
            let Some(&b) = msg.get(j) else { break };
            match b {
                b' ' | b'\t' => {
                    end = j;
                    break;
                }
                b'=' if eq.is_none() => {
                    eq = Some(j - start);
                    key = Some(part);
                    part = Classes::EMPTY;
                    j += 1;
                }
                b'"' if !unclosed => match memchr(b'"', &msg[j + 1..]) {
                    Some(close) => {
                        // A quoted span: spaces do not end the token, and a first `=` may
                        // be inside it.
                        for &q in &msg[j..j + close + 2] {
                            let c = CLASS[q as usize];
                            if q == b'=' && eq.is_none() {
                                eq = Some(j - start);
                                key = Some(part);
                                part = Classes::EMPTY;
                            } else if c & STOP != 0 {
                                part.plain_stop();
                            } else {
                                part.any |= c;
                                part.all &= c;
                            }
                            j += 1;
                        }
                    }
                    None => {
                        unclosed = true;
                        part.plain_stop();
                        j += 1;
                    }
                },
                // A later `=`, or a quote with no closing one.
                _ => {
                    part.plain_stop();
                    j += 1;
                }
            }
        }
        match key {
            None => Token {
                end,
                eq,
                key_ok: true,
                any: part.any,
                all: part.all,
                value_any: 0,
                value_all: 0xff,
            },
            Some(key) => Token {
                end,
                eq,
                key_ok: key.all & KEY != 0,
                // The `=` itself is no digit, hex or key character.
                any: key.any | part.any,
                all: 0,
                value_any: part.any,
                value_all: part.all,
            },
        }
    }

    /// The masked token's parts (`text` is its bytes): what is kept as is, and whether
    /// the rest is `<*>` or kept too. The same rules as [`push_masked`].
    #[inline]
    fn parts<'t>(&self, text: &'t [u8]) -> (&'t [u8], &'t [u8], bool) {
        let variable =
            |any: u8, all: u8, len: usize| is_variable_by(any & DIGIT != 0, all & HEX != 0, len);
        if let Some(eq) = self.eq
            && eq > 0
            && self.key_ok
        {
            let (key, value) = text.split_at(eq + 1);
            (
                key,
                value,
                variable(self.value_any, self.value_all, value.len()),
            )
        } else {
            (&[], text, variable(self.any, self.all, text.len()))
        }
    }

    /// Push the masked token (`text` is its bytes).
    #[inline]
    fn push(&self, text: &[u8], out: &mut Vec<u8>) {
        let (kept, value, variable) = self.parts(text);
        out.extend_from_slice(kept);
        out.extend_from_slice(if variable { WILDCARD.as_bytes() } else { value });
    }

    /// Write the masked token at `out[o..]`, which has room for it (its length plus 3);
    /// returns the output length after it.
    pub(crate) fn write(&self, text: &[u8], out: &mut [u8], o: usize) -> usize {
        let (kept, value, variable) = self.parts(text);
        write_parts(kept, value, variable, out, o)
    }
}

/// A value is masked when it holds a digit (numbers, IPs, UUIDs, times, sizes, ids all
/// do), or is a hex run of 8 or more: the rule of [`is_variable`], from what a scanner
/// gathered about the value (any digit, all hex, its length).
#[inline(always)]
pub(crate) fn is_variable_by(any_digit: bool, all_hex: bool, len: usize) -> bool {
    any_digit || (len >= 8 && all_hex)
}

/// A character of a `key` in `key=value`: ASCII letters and digits, `_`, `.`, `-`.
#[inline]
pub(crate) fn is_key_byte(b: u8) -> bool {
    CLASS[usize::from(b)] & KEY != 0
}

/// Write a masked token at `out[o..]` (which has room): `kept` as is, then `<*>` when
/// `variable`, else `value`; the output length after it.
pub(crate) fn write_parts(
    kept: &[u8],
    value: &[u8],
    variable: bool,
    out: &mut [u8],
    o: usize,
) -> usize {
    let value = if variable { WILDCARD.as_bytes() } else { value };
    let at = o + kept.len();
    out[o..at].copy_from_slice(kept);
    out[at..at + value.len()].copy_from_slice(value);
    at + value.len()
}

/// The masking rules for one token, read rule by rule (the reference for [`Token`], and
/// the path for a message's first token when it starts with [`EXACT`]).
fn push_masked(token: &[u8], out: &mut Vec<u8>) {
    if out.is_empty() && token.first() == Some(&EXACT) {
        // Keep the exact-key marker unique (see EXACT): a message starting with 0x01.
        out.push(b'?');
        return push_masked(&token[1..], out);
    }
    // key=value: keep the key, mask the value on its own merits.
    if let Some(eq) = memchr(b'=', token)
        && eq > 0
        && token[..eq]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        out.extend_from_slice(&token[..=eq]);
        let value = &token[eq + 1..];
        if is_variable(value) {
            out.extend_from_slice(WILDCARD.as_bytes());
        } else {
            out.extend_from_slice(value);
        }
        return;
    }
    if is_variable(token) {
        out.extend_from_slice(WILDCARD.as_bytes());
    } else {
        out.extend_from_slice(token);
    }
}

/// Numbers, IPs, UUIDs, times, sizes, ids all carry a digit; long hex runs may not.
fn is_variable(token: &[u8]) -> bool {
    token.iter().any(u8::is_ascii_digit)
        || (token.len() >= 8 && token.iter().all(u8::is_ascii_hexdigit))
}

/// One mined template with its counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// Stable across runs and sources: a hash of the template text.
    pub id: u64,
    pub template: String,
    pub stats: KeyStats,
}

impl std::ops::Deref for Template {
    type Target = KeyStats;
    fn deref(&self) -> &KeyStats {
        &self.stats
    }
}

/// The template text of the `<other>` row.
pub const OTHER: &str = "<other>";

/// The template text of the row for bytes outside records.
pub const NOT_RECORDS: &str = "<not a record>";

/// Cluster the keys of one source into templates, biggest first, keeping `top` of them
/// and folding the rest (and the keys beyond [`MAX_KEYS`]) into one `<other>` row.
pub fn mine(counts: &KeyCounts, top: usize) -> Vec<Template> {
    let mut keys: Vec<(&[u8], &KeyStats)> = counts.keys.iter().map(|(k, v)| (&**k, v)).collect();
    keys.sort_unstable_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then_with(|| a.0.cmp(b.0)));

    struct Cluster {
        tokens: Vec<Vec<u8>>,
        stats: KeyStats,
        first_seen: u64,
    }
    let mut groups: HashMap<(usize, Vec<u8>, Vec<u8>), Vec<usize>> = HashMap::new();
    let mut clusters: Vec<Cluster> = Vec::new();
    for (key, stats) in keys {
        if let Some(exact) = key.strip_prefix(&[EXACT]) {
            // Already a template: its own cluster (same-text ones fold below).
            let mut s = stats.clone();
            s.first_seen = 0;
            clusters.push(Cluster {
                tokens: vec![exact.to_vec()],
                stats: s,
                first_seen: stats.first_seen,
            });
            continue;
        }
        let tokens: Vec<&[u8]> = if key.is_empty() {
            Vec::new()
        } else {
            key.split(|&b| b == b' ').collect()
        };
        let prefix = |i: usize| tokens.get(i).map_or(Vec::new(), |t| t.to_vec());
        let group = groups
            .entry((tokens.len(), prefix(0), prefix(1)))
            .or_default();
        let best = group
            .iter()
            .map(|&c| (c, similarity(&clusters[c].tokens, &tokens)))
            .fold(None::<(usize, f64)>, |best, (c, s)| match best {
                Some((_, bs)) if bs >= s => best,
                _ => Some((c, s)),
            });
        match best {
            Some((c, s)) if s >= SIMILARITY || group.len() >= MAX_CLUSTERS_PER_GROUP => {
                let cl = &mut clusters[c];
                for (t, k) in cl.tokens.iter_mut().zip(&tokens) {
                    if t.as_slice() != *k {
                        *t = generalize(t, k);
                    }
                }
                cl.stats.merge(stats);
                if stats.first_seen < cl.first_seen {
                    cl.first_seen = stats.first_seen;
                    cl.stats.example = stats.example.clone();
                }
            }
            _ => {
                group.push(clusters.len());
                let mut s = stats.clone();
                s.first_seen = 0;
                clusters.push(Cluster {
                    tokens: tokens.iter().map(|t| t.to_vec()).collect(),
                    stats: s,
                    first_seen: stats.first_seen,
                });
            }
        }
    }

    let mut out: Vec<Template> = clusters
        .into_iter()
        .map(|c| {
            let text = String::from_utf8_lossy(&c.tokens.join(&b' ')).into_owned();
            Template {
                id: template_id(&text),
                template: text,
                stats: c.stats,
            }
        })
        .collect();
    // Clusters of different keys can end with the same text: fold them.
    out.sort_by(|a, b| a.template.cmp(&b.template));
    out.dedup_by(|later, first| {
        if later.template == first.template {
            first.stats.merge(&later.stats);
            true
        } else {
            false
        }
    });
    out.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| a.template.cmp(&b.template))
    });
    let mut other = counts.other.clone();
    if out.len() > top {
        for t in out.drain(top..) {
            other.merge(&t.stats);
        }
    }
    if other.records > 0 {
        out.push(Template {
            id: template_id(OTHER),
            template: OTHER.into(),
            stats: KeyStats {
                example: Vec::new(),
                ..other
            },
        });
    }
    if counts.not_records > 0 {
        out.push(Template {
            id: template_id(NOT_RECORDS),
            template: NOT_RECORDS.into(),
            stats: KeyStats {
                bytes: counts.not_records,
                ..KeyStats::default()
            },
        });
    }
    out
}

/// The token that covers both: `cause=<*>` when both are `cause=...`, else `<*>`.
fn generalize(a: &[u8], b: &[u8]) -> Vec<u8> {
    if let (Some(i), Some(j)) = (memchr(b'=', a), memchr(b'=', b))
        && i > 0
        && a[..i] == b[..j]
    {
        let mut t = a[..=i].to_vec();
        t.extend_from_slice(WILDCARD.as_bytes());
        return t;
    }
    WILDCARD.as_bytes().to_vec()
}

/// Share of positions where the cluster's token equals the key's (a wildcard in the
/// cluster matches anything, as in Drain's seq_dist with parameters counted).
fn similarity(cluster: &[Vec<u8>], key: &[&[u8]]) -> f64 {
    if key.is_empty() {
        return 1.0;
    }
    let same = cluster
        .iter()
        .zip(key)
        .filter(|(c, k)| c.as_slice() == **k || is_wild(c, k))
        .count();
    same as f64 / key.len() as f64
}

/// Whether a template covers a masked message (same token count, each template token equal
/// or a wildcard for it): how a record is matched to its mined template.
pub fn covers(template: &str, masked: &[u8]) -> bool {
    let t: Vec<&[u8]> = template.as_bytes().split(|&b| b == b' ').collect();
    let m: Vec<&[u8]> = masked.split(|&b| b == b' ').collect();
    t.len() == m.len() && t.iter().zip(&m).all(|(a, b)| a == b || is_wild(a, b))
}

/// A cluster token that already covers the key's: `<*>`, or `cause=<*>` for `cause=x`.
fn is_wild(cluster: &[u8], key: &[u8]) -> bool {
    cluster == WILDCARD.as_bytes()
        || (cluster.ends_with(b"=<*>") && key.starts_with(&cluster[..cluster.len() - 3]))
}

/// FNV-1a of the template text: stable across runs, platforms and versions of std.
pub fn template_id(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One row of `templates.parquet`.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateRow {
    /// A source name, or `*` for all sources together.
    pub source: String,
    pub template: Template,
    /// The source's bytes: `share = bytes / total_bytes`.
    pub total_bytes: u64,
}

impl TemplateRow {
    pub fn share(&self) -> f64 {
        if self.total_bytes == 0 {
            0.0
        } else {
            self.template.bytes as f64 / self.total_bytes as f64
        }
    }
}

/// Templates of every source with records, then of all sources together (`*`, mined over
/// the union of their keys), each group biggest first. Archive rows get none.
pub fn template_rows(result: &RunResult, top: usize) -> Vec<TemplateRow> {
    let sources: Vec<&SourceReport> = result.streams().filter(|s| !s.keys.is_empty()).collect();
    let mut all = KeyCounts::default();
    let mut all_bytes = 0;
    for s in &sources {
        all.merge(&s.keys);
        all_bytes += s.stats.bytes;
    }
    let mut rows: Vec<TemplateRow> = Vec::new();
    if !sources.is_empty() {
        rows.extend(mine(&all, top).into_iter().map(|t| TemplateRow {
            source: "*".into(),
            template: t,
            total_bytes: all_bytes,
        }));
    }
    for s in sources {
        rows.extend(mine(&s.keys, top).into_iter().map(|t| TemplateRow {
            source: s.name.clone(),
            template: t,
            total_bytes: s.stats.bytes,
        }));
    }
    rows
}

/// The `templates.parquet` batch.
pub fn templates_batch(rows: &[TemplateRow]) -> Result<arrow_array::RecordBatch, String> {
    let examples: Vec<String> = rows
        .iter()
        .map(|r| String::from_utf8_lossy(&r.template.example).into_owned())
        .collect();
    table::batch(vec![
        Column::utf8("source", rows.iter().map(|r| Some(r.source.as_str()))),
        Column::u64("template_id", rows.iter().map(|r| Some(r.template.id))),
        Column::utf8(
            "template",
            rows.iter().map(|r| Some(r.template.template.as_str())),
        ),
        Column::u64("records", rows.iter().map(|r| Some(r.template.records))),
        Column::u64("bytes", rows.iter().map(|r| Some(r.template.bytes))),
        Column::f64("share", rows.iter().map(|r| Some(r.share()))),
        Column::timestamp("first_ts", rows.iter().map(|r| r.template.first_ts)),
        Column::timestamp("last_ts", rows.iter().map(|r| r.template.last_ts)),
        Column::utf8(
            "example",
            examples
                .iter()
                .zip(rows)
                .map(|(e, r)| (!r.template.example.is_empty()).then_some(e.as_str())),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(method: Option<&str>, target: Option<&str>, status: Option<u16>) -> String {
        let mut out = Vec::new();
        access_key_into(
            method.map(str::as_bytes),
            target.map(str::as_bytes),
            status,
            &mut out,
        );
        String::from_utf8(out).unwrap()
    }

    proptest::proptest! {
        /// Through the request cache or not, every record lands on the same key with the
        /// same counts, examples and order of first appearance (paths with ids take the
        /// uncached way, the others are cached), chunk by chunk with one cache kept across
        /// chunks, as a worker keeps it. (Eviction: `request_cache`'s own tests.)
        #[test]
        fn the_request_cache_changes_no_count(
            picks in proptest::collection::vec((0usize..6000, 0usize..8, 0u16..700), 1..3000),
            cuts in proptest::collection::vec(0usize..3000, 0..4),
        ) {
            let methods: [&[u8]; 4] = [b"GET", b"POST", b"PROPPATCH", b"G\x00T"];
            let target = |i: usize, v: usize| -> Vec<u8> {
                let long = "/deep".repeat(i % 40);
                match v {
                    0 => format!("/a/{i}").into_bytes(),
                    1 => format!("/a/{i}?q={v}").into_bytes(),
                    2 => format!("/b/{}?{}", i % 7, "x".repeat(i % 150)).into_bytes(),
                    3 => format!("{long}/{}", i % 3).into_bytes(),
                    4 => format!("http://h{i}/p/{}", i % 5).into_bytes(),
                    5 => format!("/c?{}", i % 2).into_bytes(),
                    6 => Vec::new(),
                    _ => format!("/\x01{}/", i % 9).into_bytes(),
                }
            };
            let (mut cached_all, mut plain_all) = (KeyCounts::default(), KeyCounts::default());
            let mut cache = RequestCache::new();
            let mut buf = Vec::new();
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c < picks.len()).collect();
            cuts.push(0);
            cuts.push(picks.len());
            cuts.sort_unstable();
            for chunk in cuts.windows(2) {
                cache.begin_chunk();
                let (mut cached, mut plain) = (KeyCounts::default(), KeyCounts::default());
                for (n, &(i, v, status)) in picks.iter().enumerate().take(chunk[1]).skip(chunk[0]) {
                    let t = target(i, v);
                    let method = (i % 11 != 0).then_some(methods[i % 4]);
                    let target = (i % 13 != 0).then_some(&t[..]);
                    let status = (status < 650).then_some(status);
                    let example = format!("line {n}");
                    let ts = Some(n as i64 * 1000);
                    cached.add_access(&mut cache, (method, target, status), example.as_bytes(), 100, ts, &mut buf);
                    access_key_into(method, target, status, &mut buf);
                    plain.add_exact(&mut buf, example.as_bytes(), 100, ts);
                }
                cached.flush_cache(&mut cache);
                proptest::prop_assert!(cache.is_flushed());
                proptest::prop_assert!(cached.keys.iter().eq(plain.keys.iter()));
                cached_all.merge(&cached);
                plain_all.merge(&plain);
            }
            proptest::prop_assert!(cached_all.keys.iter().eq(plain_all.keys.iter()));
            proptest::prop_assert_eq!(cached_all.totals(), plain_all.totals());
            proptest::prop_assert_eq!(cached_all.other, plain_all.other);
        }
    }

    #[test]
    fn access_keys_template_the_path_and_class_the_status() {
        let cases = [
            (
                (
                    Some("GET"),
                    Some("/api/v1/accounts/109348/statuses?limit=20"),
                    Some(200),
                ),
                "GET /api/v1/accounts/<*>/statuses?<*> 2xx",
            ),
            (
                (
                    Some("GET"),
                    Some("/image/60844/productModel/200x200"),
                    Some(304),
                ),
                "GET /image/<*>/productModel/<*> 3xx",
            ),
            (
                (Some("POST"), Some("/oauth2/token"), Some(401)),
                "POST /oauth2/token 4xx",
            ),
            (
                (Some("GET"), Some("/media/deadbeefcafe/x.png"), Some(404)),
                "GET /media/<*>/x.png 4xx",
            ),
            (
                (Some("GET"), Some("http://example.org/a/1234"), Some(502)),
                "GET /a/<*> 5xx",
            ),
            (
                (Some("GET"), Some("/a/b/c/d/e/f/g/h/i/j/k"), None),
                "GET /a/b/c/d/e/f/g/h/... -",
            ),
            ((None, None, Some(400)), "<invalid request> 4xx"),
            (
                (Some("GET"), Some("/a b\x1b[m"), Some(200)),
                "GET /a?b?[m 2xx",
            ),
        ];
        for ((m, t, st), want) in cases {
            assert_eq!(access(m, t, st), want, "{m:?} {t:?} {st:?}");
            // Masked: a segment of the path, not the query, became a wildcard.
            let mut out = Vec::new();
            let masked = access_key_into(m.map(str::as_bytes), t.map(str::as_bytes), st, &mut out);
            assert_eq!(masked, want.replace("?<*>", "").contains("<*>"), "{want}");
        }
    }

    #[test]
    fn exact_keys_are_not_clustered_and_cannot_be_forged() {
        let mut keys = KeyCounts::default();
        let mut buf = Vec::new();
        for (status, n) in [(200, 5), (404, 3)] {
            for i in 0..n {
                access_key_into(
                    Some(b"GET"),
                    Some(format!("/u/{i}00").as_bytes()),
                    Some(status),
                    &mut buf,
                );
                keys.add_exact(&mut buf, b"line", 10, None);
            }
        }
        // A free-text message that starts with the marker byte stays free text.
        keys.add(b"\x01GET /u/<*> 2xx", 10, None, &mut buf);
        let mined = mine(&keys, 10);
        let texts: Vec<(&str, u64)> = mined
            .iter()
            .map(|t| (t.template.as_str(), t.records))
            .collect();
        assert_eq!(
            texts,
            [
                ("GET /u/<*> 2xx", 5),
                ("GET /u/<*> 4xx", 3),
                ("?GET /u/<*> <*>", 1)
            ]
        );
    }

    /// The path segments as first written: the reference [`push_segments`] must equal.
    fn segments_naive(path: &[u8], out: &mut Vec<u8>) -> bool {
        let mut masked = false;
        for (n, seg) in path.split(|&b| b == b'/').enumerate() {
            if n > 0 {
                out.push(b'/');
            }
            if n > MAX_SEGMENTS {
                out.extend_from_slice(b"...");
                break;
            }
            let digits = seg.iter().filter(|b| b.is_ascii_digit()).count();
            if digits >= 2 || (seg.len() >= 8 && seg.iter().all(u8::is_ascii_hexdigit)) {
                out.extend_from_slice(WILDCARD.as_bytes());
                masked = true;
            } else {
                // Spaces would split the template into tokens, control bytes are hostile.
                out.extend(seg.iter().take(64).map(|&b| {
                    if b.is_ascii_graphic() || b >= 0x80 {
                        b
                    } else {
                        b'?'
                    }
                }));
            }
        }
        masked
    }

    proptest::proptest! {
        #[test]
        fn one_pass_segments_equal_the_naive_reading(
            path in proptest::collection::vec(
                proptest::sample::select(b"/ab0f9Z-. \x01\x7f\xc3\xa9".to_vec()),
                0..300,
            )
        ) {
            // Up to 128 bytes the masked reader, beyond it the bytewise one; both also
            // directly, whatever the length.
            let (mut fast, mut bytewise, mut slow) = (Vec::new(), Vec::new(), Vec::new());
            let masked = [
                push_segments(&path, &mut fast),
                push_segments_bytewise(&path, &mut bytewise),
            ];
            let naive_masked = segments_naive(&path, &mut slow);
            proptest::prop_assert_eq!(&fast, &slow);
            proptest::prop_assert_eq!(&bytewise, &slow);
            proptest::prop_assert_eq!(masked, [naive_masked; 2]);
        }
    }

    /// The masking as first written, rule by rule: the reference [`mask_into`] must equal.
    pub(super) fn mask_naive(message: &[u8], out: &mut Vec<u8>) {
        fn token_end(msg: &[u8], i: usize) -> usize {
            let mut j = i;
            while j < msg.len() {
                match msg[j] {
                    b' ' | b'\t' => return j,
                    b'"' => {
                        if let Some(close) = memchr(b'"', &msg[j + 1..]) {
                            j += close + 2;
                            continue;
                        }
                        let rest = &msg[j..];
                        return j + rest
                            .iter()
                            .position(|&b| b == b' ' || b == b'\t')
                            .unwrap_or(rest.len());
                    }
                    _ => j += 1,
                }
            }
            msg.len()
        }
        out.clear();
        let msg = &message[..message.len().min(MAX_MESSAGE)];
        let mut i = 0;
        while i < msg.len() {
            if msg[i] == b' ' || msg[i] == b'\t' {
                i += 1;
                continue;
            }
            let end = token_end(msg, i);
            if !out.is_empty() {
                out.push(b' ');
            }
            push_masked(&msg[i..end], out);
            i = end;
        }
    }

    proptest::proptest! {
        /// The one-pass masking equals the rule-by-rule reading on messages made of the
        /// bytes the rules care about.
        #[test]
        fn one_pass_mask_equals_the_naive_reading(
            msg in proptest::collection::vec(
                proptest::sample::select(b"ab0f9= \t\"_.-:/\x01\xffZ".to_vec()),
                0..60,
            )
        ) {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            mask_into(&msg, &mut fast);
            mask_naive(&msg, &mut slow);
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Long messages of tokens of every length (up to past a 64-byte window) apart by
        /// runs of spaces and tabs: the windowed masking equals the plain reading, and so
        /// does the byte-at-a-time one.
        #[test]
        fn window_mask_equals_the_naive_reading_across_windows(
            tokens in proptest::collection::vec(
                (
                    proptest::collection::vec(
                        proptest::sample::select(b"ab0f9=\"_.-:/\x01\xffZe".to_vec()),
                        0..200,
                    ),
                    proptest::collection::vec(proptest::sample::select(b" \t".to_vec()), 1..4),
                ),
                0..12,
            ),
            lead in 0usize..3,
        ) {
            let mut msg = vec![b' '; lead];
            for (word, gap) in tokens {
                msg.extend(word);
                msg.extend(gap);
            }
            let (mut fast, mut slow, mut bytewise) = (Vec::new(), Vec::new(), Vec::new());
            mask_into(&msg, &mut fast);
            mask_naive(&msg, &mut slow);
            mask_bytewise(&msg[..msg.len().min(MAX_MESSAGE)], &mut bytewise);
            proptest::prop_assert_eq!(&fast, &slow);
            proptest::prop_assert_eq!(&bytewise, &slow);
        }

        /// Any bytes at all, up to past the masking's length cap.
        #[test]
        fn window_mask_equals_the_naive_reading_on_any_bytes(
            msg in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
            long in proptest::collection::vec(proptest::sample::select(b"a1 =\"".to_vec()), 4000..4200),
        ) {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            for m in [&msg, &long] {
                mask_into(m, &mut fast);
                mask_naive(m, &mut slow);
                proptest::prop_assert_eq!(&fast, &slow);
            }
        }
    }

    /// Keys and values longer than a window, a non-key byte anywhere in the key (or
    /// none), quotes around the value: the windowed masking carries what it learns about a
    /// token from window to window as the plain reading does.
    #[test]
    fn tokens_longer_than_a_window_are_masked_as_the_naive_reading() {
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        for lead in [0, 1, 30, 63] {
            for key_len in (40..220).step_by(9) {
                for bad in (0..key_len).step_by(11).map(Some).chain([None]) {
                    for value in ["abc", "x1", "\"a b\" c", "deadbeefcafe", ""] {
                        let mut msg = vec![b'w'; lead];
                        msg.push(b' ');
                        let mut key = vec![b'k'; key_len];
                        if let Some(b) = bad {
                            key[b] = b':';
                        }
                        msg.extend(&key);
                        msg.push(b'=');
                        msg.extend(value.as_bytes());
                        msg.extend(b" tail 12");
                        mask_into(&msg, &mut fast);
                        mask_naive(&msg, &mut slow);
                        assert_eq!(fast, slow, "{}", String::from_utf8_lossy(&msg));
                    }
                }
            }
        }
    }

    fn masked(s: &str) -> String {
        let mut out = Vec::new();
        mask_into(s.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn masking_rules() {
        assert_eq!(
            masked("ws close dur_ms=1534 cause=downstream_closed"),
            "ws close dur_ms=<*> cause=downstream_closed"
        );
        assert_eq!(
            masked("Connection from 192.0.2.7 port 51234"),
            "Connection from <*> port <*>"
        );
        assert_eq!(
            masked("id deadbeefcafe and 6f1c0a2e-51f4-4b43-9a3e-0c5d5a8a0d11"),
            "id <*> and <*>"
        );
        assert_eq!(
            masked(r#"Request failed error="context canceled" connIndex=0  type=ws"#),
            r#"Request failed error="context canceled" connIndex=<*> type=ws"#
        );
        assert_eq!(
            masked(r#"open "/var/lib/file 12" failed"#),
            "open <*> failed"
        );
        assert_eq!(masked("  "), "");
        assert_eq!(masked(r#"unclosed "quote here"#), r#"unclosed "quote here"#);
    }

    /// Generate records from known templates with random variables (words without digits
    /// too, which only the clustering can find), mine them, and score grouping accuracy the
    /// way the loghub benchmark does: a record is right when its mined cluster holds
    /// exactly the records of its true template.
    #[test]
    fn recovers_known_templates_with_high_grouping_accuracy() {
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let users = [
            "alice", "bob", "carol", "dave", "erin", "mallory", "trent", "peggy",
        ];
        let units = [
            "nginx.service",
            "redis.service",
            "mastodon-web.service",
            "sidekiq.service",
        ];
        let causes = ["downstream_closed", "upstream_closed", "graceful"];
        type Truth<'a> = Box<dyn Fn(&mut dyn FnMut(u64) -> u64) -> String + 'a>;
        let truths: Vec<Truth> = vec![
            Box::new(|r| {
                format!(
                    "Accepted publickey for {} from 192.0.2.{} port {} ssh2",
                    users[r(8) as usize],
                    r(255),
                    r(65535)
                )
            }),
            Box::new(|r| {
                format!(
                    "session opened for user {} by (uid=0)",
                    users[r(8) as usize]
                )
            }),
            Box::new(|r| {
                format!(
                    "ws close dur_ms={} cause={}",
                    r(100_000),
                    causes[r(3) as usize]
                )
            }),
            // The first two tokens key Drain's tree, so a leading unit name makes one
            // template per unit (restarts per unit is what a post-mortem wants): one truth
            // per unit.
            Box::new(|r| {
                format!(
                    "{}: Scheduled restart job, restart counter is at {}.",
                    units[0],
                    r(20)
                )
            }),
            Box::new(|r| {
                format!(
                    "{}: Scheduled restart job, restart counter is at {}.",
                    units[1],
                    r(20)
                )
            }),
            Box::new(|r| {
                format!(
                    "Request failed error=\"context canceled\" connIndex={} type=ws dest=https://example.com/{}",
                    r(4),
                    r(1000)
                )
            }),
            Box::new(|r| {
                format!(
                    "PHP Warning:  Redis::connect(): connect() failed: Connection refused in /srv/app/{}.php on line {}",
                    ["cache", "session", "queue"][r(3) as usize],
                    r(900)
                )
            }),
            Box::new(|r| format!("worker {} timed out after {} seconds", r(99_999), r(120))),
            Box::new(|r| {
                format!(
                    "Out of memory: Killed process {} ({}) total-vm:{}kB",
                    r(99_999),
                    ["netdata", "convert", "ruby"][r(3) as usize],
                    r(1 << 30)
                )
            }),
            Box::new(|r| {
                format!(
                    "GET /api/v1/timelines/home?since_id={} 200 {}ms",
                    r(1 << 40),
                    r(3000)
                )
            }),
            Box::new(|r| {
                format!(
                    "Failed password for invalid user {} from 198.51.100.{} port {} ssh2",
                    users[r(8) as usize],
                    r(255),
                    r(65535)
                )
            }),
        ];
        let mut keys = KeyCounts::default();
        let mut buf = Vec::new();
        let mut truth_of = Vec::new();
        let mut messages = Vec::new();
        for _ in 0..20_000 {
            let t = next(truths.len() as u64) as usize;
            let msg = truths[t](&mut next);
            keys.add(msg.as_bytes(), msg.len() as u64 + 1, None, &mut buf);
            truth_of.push(t);
            messages.push(msg);
        }
        let mined = mine(&keys, 1000);
        // Assign each record to its mined template by matching it against the templates.
        let assign = |msg: &str| -> usize {
            let mut m = Vec::new();
            mask_into(msg.as_bytes(), &mut m);
            mined
                .iter()
                .position(|t| covers(&t.template, &m))
                .expect("every record has a template")
        };
        let got: Vec<usize> = messages.iter().map(|m| assign(m)).collect();
        let mut right = 0;
        for i in 0..messages.len() {
            let same_truth: Vec<usize> = (0..messages.len())
                .filter(|&j| truth_of[j] == truth_of[i])
                .collect();
            let same_mined: Vec<usize> =
                (0..messages.len()).filter(|&j| got[j] == got[i]).collect();
            right += usize::from(same_truth == same_mined);
            if i > 300 {
                break; // the per-record check is quadratic; a prefix samples it well
            }
        }
        let accuracy = right as f64 / 302.0;
        assert!(
            accuracy >= 0.95,
            "grouping accuracy {accuracy}: {:#?}",
            mined.iter().map(|t| &t.template).collect::<Vec<_>>()
        );
        assert_eq!(
            mined.iter().filter(|t| t.template != OTHER).count(),
            truths.len(),
            "{:#?}",
            mined.iter().map(|t| &t.template).collect::<Vec<_>>()
        );
        let (records, bytes) = keys.totals();
        assert_eq!(mined.iter().map(|t| t.records).sum::<u64>(), records);
        assert_eq!(mined.iter().map(|t| t.bytes).sum::<u64>(), bytes);
    }

    #[test]
    fn merge_order_does_not_change_the_result_and_top_folds_into_other() {
        let lines: Vec<String> = (0..500)
            .map(|i| match i % 4 {
                0 => format!("job {i} done"),
                1 => format!("user u{} logged in", i % 7),
                2 => "disk full".to_string(),
                _ => format!("GET /x/{i} 200"),
            })
            .collect();
        let mut buf = Vec::new();
        let mut whole = KeyCounts::default();
        for (i, l) in lines.iter().enumerate() {
            whole.add(l.as_bytes(), l.len() as u64 + 1, Some(i as i64), &mut buf);
        }
        for cut in [1, 7, 250, 499] {
            let (mut a, mut b) = (KeyCounts::default(), KeyCounts::default());
            for (i, l) in lines.iter().enumerate() {
                let part = if i < cut { &mut a } else { &mut b };
                part.add(l.as_bytes(), l.len() as u64 + 1, Some(i as i64), &mut buf);
            }
            a.merge(&b);
            assert_eq!(mine(&a, 50), mine(&whole, 50), "cut at {cut}");
        }
        let top2 = mine(&whole, 2);
        assert_eq!(top2.len(), 3);
        assert_eq!(top2[2].template, OTHER);
        assert_eq!(top2.iter().map(|t| t.records).sum::<u64>(), 500);
        let first = mine(&whole, 50);
        let job = first.iter().find(|t| t.template == "job <*> done").unwrap();
        assert_eq!(job.example, b"job 0 done");
        assert_eq!((job.first_ts, job.last_ts), (Some(0), Some(496)));
    }
}
