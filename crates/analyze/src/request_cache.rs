//! A small cache in front of the access-log template keys: from an access line's raw
//! request (method, path, whether it has a query, status class) to where its key is counted
//! in the chunk's [`KeyCounts`](crate::templates::KeyCounts).
//!
//! The key of an access line ([`access_key_into`](crate::templates::access_key_into)) is a
//! pure function of those four parts, and a log asks for the same few hundred URLs over and
//! over. Building the key (a pass over the path's segments), hashing it and comparing it in
//! the map was most of template mining's cost per access line; a hit here is one pass over
//! the target's words (finding the `?` and hashing), a probe, and a compare of the path.
//!
//! A hit is also counted here, in the entry it just compared, and the counts are handed to
//! the keys once per chunk ([`KeyCounts::flush_cache`](crate::templates::KeyCounts::flush_cache)):
//! a hit waits for memory more than it computes, and this way it reads two cache lines of
//! the entry instead of also the key's line in the map.
//!
//! One cache per chunk (indexes are the chunk's), up to [`SLOTS`] requests in a small
//! open-addressing table: a miss costs the building it would have cost anyway plus one
//! insertion. It was direct-mapped, where two hot requests sharing a slot evicted each
//! other: on the apache log of `tests/fixtures` (1,627 distinct requests per 10,000 lines)
//! that made two thirds of the misses. Entries are compared in full, never by hash alone,
//! so a crafted URL can only cause misses, not miscounts.
//!
//! A request whose path has an id (a segment the key masks) is put in only the second time
//! it is seen ([`RequestCache::seen_before`]): most are seen once, and caching each had
//! filled the cache and pushed the hot entries out of the CPU's caches
//! ([`KeyCounts::add_access`](crate::templates::KeyCounts::add_access)).
//!
//! ```
//! use coroner_analyze::request_cache::{RawRequest, RequestCache};
//! let mut cache = RequestCache::new();
//! let raw = RawRequest::new(b"GET", b"/api/v1/statuses/1?x=2", Some(200)).unwrap();
//! assert_eq!(cache.get(&raw), None);
//! cache.put(&raw, b"k", 7, |_, _| {});
//! // Another id, same query flag and status class: a different raw request.
//! let other = RawRequest::new(b"GET", b"/api/v1/statuses/2?x=3", Some(204)).unwrap();
//! assert_eq!(cache.get(&other), None);
//! // The same path with another query and another 2xx status: the same key.
//! let same = RawRequest::new(b"GET", b"/api/v1/statuses/1?y", Some(201)).unwrap();
//! assert_eq!(cache.get(&same), Some(7));
//! ```

/// Requests a cache holds (768 KiB when full) before it starts over.
pub const SLOTS: usize = 4096;

/// Longest method kept (one word; longer ones are not cached: `PROPPATCH` is the only real
/// method past 8 bytes).
const METHOD: usize = 8;
/// Longest path (the target before any `?`) kept.
const PATH: usize = 128;

/// The parts of a request its template key depends on, read off the line without copying:
/// the method as one word, the path (the target before any `?`), and one word of lengths,
/// query flag and status class. The hash is taken in the same pass over the target that
/// finds the `?`, 8 bytes at a time.
#[derive(Clone, Copy, Debug)]
pub struct RawRequest<'a> {
    method: u64,
    /// Method length, path length, query flag, status class.
    meta: u64,
    path: &'a [u8],
    hash: u64,
}

impl PartialEq for RawRequest<'_> {
    #[inline]
    fn eq(&self, other: &RawRequest) -> bool {
        self.method == other.method && self.meta == other.meta && self.path == other.path
    }
}

impl Eq for RawRequest<'_> {}

const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline]
fn mix(h: u64, w: u64) -> u64 {
    let h = (h ^ w).wrapping_mul(MIX);
    h ^ (h >> 32)
}

/// One bit (the top of its byte) per `?` of a word: exact for the lowest one, which is
/// all that is read (the borrow that can mark a byte above a match never reaches below it).
#[inline]
fn question_marks(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let x = w ^ (ONES * u64::from(b'?'));
    x.wrapping_sub(ONES) & !x & (ONES << 7)
}

/// The 8 bytes of `s` from `at` as a little-endian word, zero past the end of `s`
/// (`at < s.len()`). A short tail is read as the slice's last 8 bytes shifted down, so no
/// call to copy it: one load either way when `s` holds 8 bytes or more.
#[inline]
fn word_at(s: &[u8], at: usize) -> u64 {
    if let Some(w) = s.get(at..at + 8) {
        return u64::from_le_bytes(w.try_into().expect("8 bytes"));
    }
    let rest = s.len() - at;
    if s.len() >= 8 {
        let last = u64::from_le_bytes(s[s.len() - 8..].try_into().expect("8 bytes"));
        last >> (8 * (8 - rest))
    } else {
        s[at..]
            .iter()
            .rev()
            .fold(0u64, |w, &b| w << 8 | u64::from(b))
    }
}

/// Up to 8 bytes as the little-endian word they fill, zero-padded: what copying them into
/// `[0u8; 8]` gives, without the copy (a call to `memcpy` of a variable length, on every
/// access line). Two loads that may overlap: an overlapping byte is the same byte twice.
#[inline]
fn short_word(s: &[u8]) -> u64 {
    debug_assert!(s.len() <= 8);
    let n = s.len();
    match n {
        0 => 0,
        1..=3 => {
            u64::from(s[0])
                | u64::from(s[n / 2]) << (8 * (n / 2))
                | u64::from(s[n - 1]) << (8 * (n - 1))
        }
        _ => {
            let lo = u32::from_le_bytes(s[..4].try_into().expect("4 bytes"));
            let hi = u32::from_le_bytes(s[n - 4..n].try_into().expect("4 bytes"));
            u64::from(lo) | u64::from(hi) << (8 * (n - 4))
        }
    }
}

impl<'a> RawRequest<'a> {
    /// The raw request of a line, or `None` when it does not fit (a method over 8 bytes,
    /// a path over 128): such lines take the uncached way.
    #[inline]
    pub fn new(method: &[u8], target: &'a [u8], status: Option<u16>) -> Option<RawRequest<'a>> {
        if method.len() > METHOD {
            return None;
        }
        let method_word = short_word(method);
        // Walk the target a word at a time (the last one zero-padded) until its `?`,
        // hashing the path's bytes on the way.
        let mut h = 0u64;
        let mut path_len = None;
        let scan = &target[..target.len().min(PATH + 8)];
        let mut at = 0;
        while at < scan.len() {
            let w = word_at(scan, at);
            let q = question_marks(w);
            if q != 0 {
                let k = q.trailing_zeros() as usize / 8;
                // Only the bytes before the `?` belong to the path.
                let kept = if k == 0 {
                    0
                } else {
                    w & (u64::MAX >> (64 - 8 * k))
                };
                h = mix(h, kept);
                path_len = Some(at + k);
                break;
            }
            h = mix(h, w);
            at += 8;
        }
        let (path_len, query) = match path_len {
            Some(n) => (n, true),
            None if target.len() <= PATH => (target.len(), false),
            None => return None,
        };
        if path_len > PATH {
            return None;
        }
        let class = match status {
            Some(s @ 100..=599) => u64::from(s / 100),
            _ => 0,
        };
        let meta =
            method.len() as u64 | (path_len as u64) << 8 | u64::from(query) << 16 | class << 24;
        Some(RawRequest {
            method: method_word,
            meta,
            path: &target[..path_len],
            hash: mix(mix(h, method_word), meta),
        })
    }
}

/// A request held by the cache: its parts copied into fixed-size storage, and the counts
/// of its hits not yet handed to the [`KeyCounts`](crate::templates::KeyCounts) entry it
/// stands for.
///
/// Laid out for the hit: the words compared first and the counts a hit adds share the
/// entry's first cache line, and a path of up to 64 bytes is the second. Counting here
/// instead of in the key's map entry saves a hit that line of the map (measured: the hit's
/// cost is mostly waiting for memory, not instructions).
#[derive(Clone)]
#[repr(C, align(64))]
struct Entry {
    hash: u64,
    method: u64,
    meta: u64,
    /// Where the key is counted in the chunk `chunk` (a [`RequestCache::begin_chunk`]
    /// number): in another chunk the request is known but its place is not.
    value: u32,
    chunk: u32,
    counts: Pending,
    path: [u8; PATH],
}

const _: () = assert!(std::mem::size_of::<Entry>() == 64 + PATH);

/// Hits counted in the cache and not yet handed on: records, their bytes, and the range of
/// their times. `first_ts > last_ts` means no hit had a time (the state it starts in:
/// one real time `t` makes both `t`, whatever `t` is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Pending {
    pub records: u64,
    pub bytes: u64,
    first_ts: i64,
    last_ts: i64,
}

impl Pending {
    const NONE: Pending = Pending {
        records: 0,
        bytes: 0,
        first_ts: i64::MAX,
        last_ts: i64::MIN,
    };

    #[inline]
    fn add(&mut self, bytes: u64, ts: Option<i64>) {
        self.records += 1;
        self.bytes += bytes;
        if let Some(t) = ts {
            self.first_ts = self.first_ts.min(t);
            self.last_ts = self.last_ts.max(t);
        }
    }

    /// The earliest and latest time of the hits, if any had one.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        (self.first_ts <= self.last_ts).then_some((self.first_ts, self.last_ts))
    }
}

impl Entry {
    #[inline]
    fn holds(&self, raw: &RawRequest) -> bool {
        self.hash == raw.hash
            && self.method == raw.method
            && self.meta == raw.meta
            && self.path[..raw.path.len()] == *raw.path
    }
}

/// See the module docs.
pub struct RequestCache {
    /// Open addressing with linear probing: 0 is an empty slot, `n` is `entries[n - 1]`.
    /// At most half full, so a probe ends after a slot or two.
    index: Box<[u16; INDEX]>,
    /// The requests in order of insertion, with their values; grows with what a chunk
    /// asks for (a chunk with few distinct requests never touches the rest).
    entries: Vec<Entry>,
    /// Each entry's template key, as `(start, len)` in `keys`: what a later chunk reads
    /// instead of building the key again.
    key_spans: Vec<(u32, u32)>,
    keys: Vec<u8>,
    /// The chunk being counted (see [`RequestCache::begin_chunk`]).
    chunk: u32,
    /// Requests asked about by [`RequestCache::seen_before`]: one bit per hash, cleared
    /// after [`SEEN_CLEAR`] bits were set.
    seen: Box<[u64; SEEN_BITS / 64]>,
    seen_set: usize,
}

/// Bits of the filter of [`RequestCache::seen_before`] (8 KiB).
const SEEN_BITS: usize = 1 << 16;
/// Bits set before the filter starts over: at most a sixteenth of it is set, so a request
/// seen once is taken for one seen before about once in sixteen.
const SEEN_CLEAR: usize = SEEN_BITS / 16;

/// What [`RequestCache::count`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Held and counted for this chunk.
    Counted,
    /// Held from an earlier chunk: its key is [`RequestCache::key`] of this entry, its
    /// place in this chunk is not known yet ([`RequestCache::renew`] it).
    Known(usize),
    /// Not held.
    Unknown,
}

/// Slots of the index: twice [`SLOTS`], so a probe sequence stays short.
const INDEX: usize = 2 * SLOTS;

/// Longest probe sequence. At most half full, a probe of honest requests ends after a slot
/// or two; but the hash is not keyed, and a log can hold requests made to share a start
/// slot (one in 8,192 random paths does): without a bound, each of its lines would compare
/// against every one cached before it. Not shorter: linear probing at half load makes runs
/// of taken slots of about 40 in a full table (the chance of one reaching 128 is about
/// 1e-7), and a request that cannot be placed is never cached.
const MAX_PROBE: usize = 128;
const _: () = assert!(SLOTS < u16::MAX as usize && INDEX.is_power_of_two());

impl Default for RequestCache {
    fn default() -> Self {
        RequestCache::new()
    }
}

impl RequestCache {
    pub fn new() -> RequestCache {
        RequestCache {
            index: Box::new([0; INDEX]),
            entries: Vec::new(),
            key_spans: Vec::new(),
            keys: Vec::new(),
            chunk: 0,
            seen: Box::new([0; SEEN_BITS / 64]),
            seen_set: 0,
        }
    }

    /// Start counting a new chunk: the requests stay, with their keys (a log asks for the
    /// same URLs in every chunk), their places in the last chunk's counts do not. Call
    /// [`RequestCache::flush`] at the end of each chunk.
    pub fn begin_chunk(&mut self) {
        debug_assert!(self.is_flushed(), "a chunk's counts were not flushed");
        if self.chunk == u32::MAX {
            // Four billion chunks on: an old entry's number could come round again.
            self.clear();
            self.chunk = 0;
        }
        self.chunk += 1;
    }

    fn clear(&mut self) {
        self.index.fill(0);
        self.entries.clear();
        self.key_spans.clear();
        self.keys.clear();
    }

    /// Where `raw` is in the index, or the empty slot where it would go; `(None, None)`
    /// when [`MAX_PROBE`] slots from its start hold other requests. Inlined into
    /// [`RequestCache::get`]: as a call it cost a third of a hit (callgrind).
    #[inline(always)]
    fn probe(&self, raw: &RawRequest) -> (Option<usize>, Option<usize>) {
        let mut i = raw.hash as usize & (INDEX - 1);
        for _ in 0..MAX_PROBE {
            match self.index[i] {
                0 => return (Some(i), None),
                n if self.entries[n as usize - 1].holds(raw) => {
                    return (Some(i), Some(n as usize - 1));
                }
                _ => i = (i + 1) & (INDEX - 1),
            }
        }
        (None, None)
    }

    /// The value stored for `raw`, if it is held.
    #[inline]
    pub fn get(&self, raw: &RawRequest) -> Option<u32> {
        self.probe(raw)
            .1
            .map(|e| &self.entries[e])
            .filter(|e| e.chunk == self.chunk)
            .map(|e| e.value)
    }

    /// Count one record of `raw` (`bytes`, `ts`) if `raw` is held for this chunk. The
    /// count waits in the cache until [`RequestCache::flush`] hands it on.
    #[inline]
    pub fn count(&mut self, raw: &RawRequest, bytes: u64, ts: Option<i64>) -> Lookup {
        match self.probe(raw).1 {
            Some(e) if self.entries[e].chunk == self.chunk => {
                self.entries[e].counts.add(bytes, ts);
                Lookup::Counted
            }
            Some(e) => Lookup::Known(e),
            None => Lookup::Unknown,
        }
    }

    /// The key stored with entry `e` (from [`Lookup::Known`]).
    pub fn key(&self, e: usize) -> &[u8] {
        let (start, len) = self.key_spans[e];
        &self.keys[start as usize..][..len as usize]
    }

    /// Entry `e` (from [`Lookup::Known`]) is counted at `value` in this chunk.
    pub fn renew(&mut self, e: usize, value: u32) {
        let entry = &mut self.entries[e];
        debug_assert_eq!(entry.counts.records, 0);
        entry.value = value;
        entry.chunk = self.chunk;
    }

    /// Remember `raw`, its template `key`, and `value` for this chunk. A full cache starts
    /// over empty (its waiting counts go to `flush` first): a log whose requests change
    /// (ids in the path) keeps caching its recent ones instead of its first ones. A
    /// request already held gets the new value (its counts so far are handed on under the
    /// old one) and keeps its key, which is the same (a key is a function of the request).
    #[inline]
    pub fn put(
        &mut self,
        raw: &RawRequest,
        key: &[u8],
        value: u32,
        mut flush: impl FnMut(u32, Pending),
    ) {
        let mut slot = match self.probe(raw) {
            (_, Some(e)) => {
                let entry = &mut self.entries[e];
                if entry.counts.records > 0 {
                    flush(entry.value, entry.counts);
                }
                entry.counts = Pending::NONE;
                entry.value = value;
                entry.chunk = self.chunk;
                return;
            }
            (empty, None) => empty,
        };
        if self.entries.len() == SLOTS || self.keys.len() + key.len() > u32::MAX as usize {
            self.flush(flush);
            self.clear();
            // Every slot is empty now: the probe's first one is where the request goes.
            slot = Some(raw.hash as usize & (INDEX - 1));
        }
        // A run of MAX_PROBE taken slots: this request is not cached, and takes the
        // uncached way each time it comes.
        let Some(slot) = slot else {
            return;
        };
        let mut path = [0u8; PATH];
        path[..raw.path.len()].copy_from_slice(raw.path);
        self.entries.push(Entry {
            hash: raw.hash,
            method: raw.method,
            meta: raw.meta,
            value,
            chunk: self.chunk,
            counts: Pending::NONE,
            path,
        });
        self.key_spans
            .push((self.keys.len() as u32, key.len() as u32));
        self.keys.extend_from_slice(key);
        self.index[slot] = self.entries.len() as u16;
    }

    /// Hand every waiting count to `flush` (with the value it was counted for) and clear
    /// it. The cache keeps its requests.
    pub fn flush(&mut self, mut flush: impl FnMut(u32, Pending)) {
        for e in &mut self.entries {
            if e.counts.records > 0 {
                flush(e.value, e.counts);
                e.counts = Pending::NONE;
            }
        }
    }

    /// Whether counts wait to be handed on.
    pub fn is_flushed(&self) -> bool {
        self.entries.iter().all(|e| e.counts.records == 0)
    }

    /// Whether `raw` was asked about here recently (or another request with the same
    /// filter bit: about one in sixteen); it is remembered either way. For requests worth
    /// caching only from their second sighting (see
    /// [`KeyCounts::add_access`](crate::templates::KeyCounts::add_access)).
    #[inline]
    pub fn seen_before(&mut self, raw: &RawRequest) -> bool {
        // The hash's high bits: its low ones pick the index slot.
        let bit = (raw.hash >> 40) as usize % SEEN_BITS;
        let (word, mask) = (bit / 64, 1u64 << (bit % 64));
        if self.seen[word] & mask != 0 {
            return true;
        }
        self.seen[word] |= mask;
        self.seen_set += 1;
        if self.seen_set == SEEN_CLEAR {
            self.seen.fill(0);
            self.seen_set = 0;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The four parts, read the plain way: what [`RawRequest`] must tell apart.
    fn parts(method: &[u8], target: &[u8], status: Option<u16>) -> (Vec<u8>, Vec<u8>, bool, u8) {
        let q = target.iter().position(|&b| b == b'?');
        let path = q.map_or(target, |q| &target[..q]);
        let class = status
            .filter(|s| (100..=599).contains(s))
            .map_or(0, |s| (s / 100) as u8);
        (method.to_vec(), path.to_vec(), q.is_some(), class)
    }

    fn fits(method: &[u8], target: &[u8]) -> bool {
        let (_, path, _, _) = parts(method, target, None);
        method.len() <= METHOD && path.len() <= PATH
    }

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        // Few distinct bytes, `?` and NUL among them, so equal and near-equal parts are common.
        prop::collection::vec(prop::sample::select(b"/?a1\0x".to_vec()), 0..max)
    }

    proptest! {
        /// The two-load word equals the zero-padded copy it replaces, at every length.
        #[test]
        fn short_word_is_the_padded_copy(s in prop::collection::vec(any::<u8>(), 0..=8)) {
            let mut m = [0u8; 8];
            m[..s.len()].copy_from_slice(&s);
            prop_assert_eq!(short_word(&s), u64::from_le_bytes(m));
        }

        /// Two requests are equal exactly when their four parts are, and `new` declines
        /// exactly the ones that do not fit.
        #[test]
        fn equal_exactly_when_the_parts_are(
            m1 in bytes(20), t1 in bytes(90), s1 in prop::option::of(0u16..700),
            m2 in bytes(20), t2 in bytes(90), s2 in prop::option::of(0u16..700),
            same_method: bool, relation in 0..4,
        ) {
            let m2 = if same_method { m1.clone() } else { m2 };
            // Near misses are what must be told apart: the same path with or without a
            // query, or with another one.
            let path1 = t1.split(|&b| b == b'?').next().unwrap_or_default().to_vec();
            let t2 = match relation {
                0 => t2,
                1 => t1.clone(),
                2 => [&path1[..], b"?", &t2[..]].concat(),
                _ => path1,
            };
            let a = RawRequest::new(&m1, &t1, s1);
            let b = RawRequest::new(&m2, &t2, s2);
            prop_assert_eq!(a.is_some(), fits(&m1, &t1));
            prop_assert_eq!(b.is_some(), fits(&m2, &t2));
            if let (Some(a), Some(b)) = (a, b) {
                prop_assert_eq!(a == b, parts(&m1, &t1, s1) == parts(&m2, &t2, s2));
                let mut cache = RequestCache::new();
                cache.put(&a, b"k", 3, |_, _| {});
                prop_assert_eq!(cache.get(&b) == Some(3), a == b);
            }
        }
    }

    proptest! {
        /// Against a map of every put: a held request gives its last value, a request
        /// never put gives nothing, and past [`SLOTS`] requests the cache starts over
        /// (so it may forget, never answer wrongly).
        #[test]
        fn answers_what_a_map_of_the_puts_would(
            ops in prop::collection::vec((0u32..6000, any::<bool>(), 0u32..1000), 1..12000),
        ) {
            let paths: Vec<String> = (0..6000).map(|n| format!("/p/{n}")).collect();
            let raw = |n: u32| RawRequest::new(b"GET", paths[n as usize].as_bytes(), Some(200)).unwrap();
            let mut cache = RequestCache::new();
            let mut model = std::collections::HashMap::new();
            let mut distinct_since_reset = std::collections::HashSet::new();
            for (key, is_put, value) in ops {
                if is_put {
                    if !distinct_since_reset.contains(&key) && distinct_since_reset.len() == SLOTS {
                        distinct_since_reset.clear();
                        model.clear();
                    }
                    distinct_since_reset.insert(key);
                    model.insert(key, value);
                    cache.put(&raw(key), b"k", value, |_, _| {});
                } else {
                    prop_assert_eq!(cache.get(&raw(key)), model.get(&key).copied());
                }
            }
        }
    }

    /// Around the 128-byte limit and every word boundary: the `?` anywhere, or nowhere.
    #[test]
    fn the_path_limit_and_word_boundaries() {
        for len in 0..150usize {
            for q in (0..=len).map(Some).chain([None]) {
                let mut target = vec![b'a'; len];
                if let Some(q) = q.filter(|&q| q < len) {
                    target[q] = b'?';
                }
                let raw = RawRequest::new(b"GET", &target, Some(200));
                assert_eq!(raw.is_some(), fits(b"GET", &target), "{len} {q:?}");
                if let Some(raw) = raw {
                    let (_, path, query, _) = parts(b"GET", &target, Some(200));
                    assert_eq!(raw.path, &path[..]);
                    assert_eq!(raw.meta >> 16 & 1 == 1, query);
                    // The same parts with another query: the same request, the same hash.
                    let again = [&path[..], if query { b"?zz" } else { b"" }].concat();
                    let other = RawRequest::new(b"GET", &again, Some(201)).unwrap();
                    assert!(raw == other && raw.hash == other.hash, "{len} {q:?}");
                }
            }
        }
    }

    #[test]
    fn a_full_cache_starts_over() {
        let paths: Vec<String> = (0..=SLOTS).map(|n| format!("/p/{n}")).collect();
        let raw = |n: usize| RawRequest::new(b"GET", paths[n].as_bytes(), Some(200)).unwrap();
        let mut cache = RequestCache::new();
        for n in 0..SLOTS {
            cache.put(&raw(n), b"k", n as u32, |_, _| {});
        }
        assert!((0..SLOTS).all(|n| cache.get(&raw(n)) == Some(n as u32)));
        cache.put(&raw(SLOTS), b"k", 1, |_, _| {});
        assert_eq!(cache.get(&raw(0)), None);
        assert_eq!(cache.get(&raw(SLOTS)), Some(1));
    }

    /// Requests made to start their probe at the same slot (found here by trying paths,
    /// as a hostile log could): a chain holds at most [`MAX_PROBE`] of them, the rest are
    /// not cached, and every answer is still right or none.
    #[test]
    fn crafted_collisions_cost_a_bounded_probe() {
        fn raw(p: &str) -> RawRequest<'_> {
            RawRequest::new(b"GET", p.as_bytes(), Some(200)).unwrap()
        }
        let start = |p: &str| raw(p).hash as usize & (INDEX - 1);
        let target = start("/c/0");
        let paths: Vec<String> = (0..)
            .map(|n| format!("/c/{n}"))
            .filter(|p| start(p) == target)
            .take(MAX_PROBE + 16)
            .collect();
        let mut cache = RequestCache::new();
        for (v, p) in paths.iter().enumerate() {
            cache.put(&raw(p), b"k", v as u32, |_, _| {});
        }
        assert_eq!(cache.entries.len(), MAX_PROBE);
        for (v, p) in paths.iter().enumerate() {
            let got = cache.get(&raw(p));
            assert_eq!(got, (v < MAX_PROBE).then_some(v as u32), "{p}");
        }
    }

    #[test]
    fn a_request_is_seen_before_from_its_second_time() {
        let mut cache = RequestCache::new();
        fn raw(p: &str) -> RawRequest<'_> {
            RawRequest::new(b"GET", p.as_bytes(), Some(200)).unwrap()
        }
        assert!(!cache.seen_before(&raw("/a/12")));
        assert!(cache.seen_before(&raw("/a/12")));
        // Another query: the same request.
        assert!(!cache.seen_before(&raw("/b/34?q=1")));
        assert!(cache.seen_before(&raw("/b/34?q=2")));
        // Thousands of others later the filter has started over: forgotten.
        let fresh = (0..SEEN_CLEAR * 3 / 2)
            .filter(|&n| !cache.seen_before(&raw(&format!("/p/{n}"))))
            .count();
        assert!(fresh > SEEN_CLEAR * 3 / 2 * 9 / 10, "{fresh}");
        assert!(!cache.seen_before(&raw("/a/12")));
    }

    #[test]
    fn an_empty_slot_matches_nothing() {
        let cache = RequestCache::new();
        let raw = RawRequest::new(b"", b"", None).unwrap();
        assert_eq!(cache.get(&raw), None);
    }

    #[test]
    fn a_long_query_after_a_short_path_is_cached() {
        let long = format!("/search?q={}", "x".repeat(200));
        let a = RawRequest::new(b"GET", long.as_bytes(), Some(200)).unwrap();
        let b = RawRequest::new(b"GET", b"/search?q=y", Some(200)).unwrap();
        assert_eq!(a, b);
        assert!(RawRequest::new(b"GET", "/x".repeat(70).as_bytes(), Some(200)).is_none());
    }
}
