//! A small cache in front of the access-log template keys: from an access line's raw
//! request (method, path, whether it has a query, status class) to where its key is counted
//! in the chunk's [`KeyCounts`](crate::templates::KeyCounts).
//!
//! The key of an access line ([`access_key_into`](crate::templates::access_key_into)) is a
//! pure function of those four parts, and a log asks for the same few hundred URLs over and
//! over. Building the key (a pass over the path's segments), hashing it and comparing it in
//! the map was most of template mining's cost per access line; a hit here is one fixed-size
//! copy, then a hash and a compare of the few words the request fills.
//!
//! Direct-mapped, [`SLOTS`] entries, one per chunk (indexes are the chunk's): a miss costs
//! the building it would have cost anyway plus one slot write. Entries are compared in full,
//! never by hash alone, so a crafted URL can only cause misses, not miscounts.
//!
//! ```
//! use coroner_analyze::request_cache::{RawRequest, RequestCache};
//! let mut cache = RequestCache::new();
//! let raw = RawRequest::new(b"GET", b"/api/v1/statuses/1?x=2", Some(200)).unwrap();
//! assert_eq!(cache.get(&raw), None);
//! cache.put(&raw, 7);
//! // Another id, same query flag and status class: a different raw request.
//! let other = RawRequest::new(b"GET", b"/api/v1/statuses/2?x=3", Some(204)).unwrap();
//! assert_eq!(cache.get(&other), None);
//! // The same path with another query and another 2xx status: the same key.
//! let same = RawRequest::new(b"GET", b"/api/v1/statuses/1?y", Some(201)).unwrap();
//! assert_eq!(cache.get(&same), Some(7));
//! ```

/// Entries per cache: 600 KiB, of which a log's hot requests touch a few lines each.
pub const SLOTS: usize = 4096;

/// Longest method kept (one word; longer ones are not cached: `PROPPATCH` is the only real
/// method past 8 bytes).
const METHOD: usize = 8;
/// Longest path (the target before any `?`) kept.
const PATH: usize = 128;
/// Words of a [`RawRequest`]: the method and lengths, then the path.
const WORDS: usize = 2 + PATH / 8;

/// The parts of a request its template key depends on, zero-padded to a fixed size so
/// that comparing and hashing are a few word operations. Word 0 holds the method, word 1
/// the two lengths, the query flag, the status class and a marker bit (so an empty slot
/// never equals a request), words 2.. the path.
#[derive(Clone, Copy, Debug)]
pub struct RawRequest {
    words: [u64; WORDS],
}

impl PartialEq for RawRequest {
    /// Words past the path's length are zero on both sides once word 1 (which holds the
    /// length) agrees, so only the path's own words are compared.
    #[inline]
    fn eq(&self, other: &RawRequest) -> bool {
        let n = self.used();
        (self.words[0] ^ other.words[0]) | (self.words[1] ^ other.words[1]) == 0
            && self.words[2..n] == other.words[2..n]
    }
}

impl Eq for RawRequest {}

impl RawRequest {
    /// The raw request of a line, or `None` when it does not fit (a method over 8 bytes,
    /// a path over 128): such lines take the uncached way.
    #[inline]
    pub fn new(method: &[u8], target: &[u8], status: Option<u16>) -> Option<RawRequest> {
        if method.len() > METHOD {
            return None;
        }
        let mut path = [0u8; PATH];
        let (path_len, query) = if target.len() <= PATH {
            path[..target.len()].copy_from_slice(target);
            match first_question_mark(&path, target.len()) {
                Some(q) => {
                    path[q..].fill(0);
                    (q, true)
                }
                None => (target.len(), false),
            }
        } else {
            let q = memchr::memchr(b'?', target).filter(|&q| q <= PATH)?;
            path[..q].copy_from_slice(&target[..q]);
            (q, true)
        };
        let mut m = [0u8; 8];
        m[..method.len()].copy_from_slice(method);
        let class = match status {
            Some(s @ 100..=599) => u64::from(s / 100),
            _ => 0,
        };
        let mut words = [0u64; WORDS];
        words[0] = u64::from_le_bytes(m);
        words[1] = method.len() as u64
            | (path_len as u64) << 8
            | u64::from(query) << 16
            | class << 24
            | 1 << 32;
        for (w, b) in words[2..].iter_mut().zip(path.chunks_exact(8)) {
            *w = u64::from_le_bytes(b.try_into().expect("8 bytes"));
        }
        Some(RawRequest { words })
    }

    /// Words in use: the two of method and lengths, then the path's.
    #[inline]
    fn used(&self) -> usize {
        let path_len = (self.words[1] >> 8) as u8 as usize;
        2 + path_len.div_ceil(8)
    }

    /// Which slot the request lives in. Any mix works for correctness (entries are
    /// compared in full); this one spreads paths that differ in a late byte.
    #[inline]
    fn slot(&self) -> usize {
        let mut h: u64 = 0;
        for &w in &self.words[..self.used()] {
            h = (h ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            h ^= h >> 32;
        }
        (h as usize) & (SLOTS - 1)
    }
}

/// The first `?` in the first `len` bytes of a zero-padded path, 16 bytes at a time.
#[inline]
fn first_question_mark(path: &[u8; PATH], len: usize) -> Option<usize> {
    for (i, block) in path.chunks_exact(16).take(len.div_ceil(16)).enumerate() {
        let block: &[u8; 16] = block.try_into().expect("chunks_exact(16)");
        let m = question_marks(block);
        if m != 0 {
            return Some(16 * i + m.trailing_zeros() as usize);
        }
    }
    None
}

/// One bit per `?` of 16 bytes.
#[cfg(target_arch = "x86_64")]
#[inline]
fn question_marks(block: &[u8; 16]) -> u16 {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline; the load reads the 16 bytes of a
    // 16-byte array (unaligned loads are allowed).
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'?' as i8))) as u16
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn question_marks(block: &[u8; 16]) -> u16 {
    block
        .iter()
        .enumerate()
        .fold(0, |m, (i, &b)| m | u16::from(b == b'?') << i)
}

/// See the module docs.
pub struct RequestCache {
    slots: Box<[(RawRequest, u32)]>,
}

impl Default for RequestCache {
    fn default() -> Self {
        RequestCache::new()
    }
}

impl RequestCache {
    pub fn new() -> RequestCache {
        let empty = RawRequest { words: [0; WORDS] };
        RequestCache {
            slots: vec![(empty, 0); SLOTS].into_boxed_slice(),
        }
    }

    /// The value stored for `raw`, if it is still in its slot.
    #[inline]
    pub fn get(&self, raw: &RawRequest) -> Option<u32> {
        let (held, value) = &self.slots[raw.slot()];
        (held == raw).then_some(*value)
    }

    /// Remember `value` for `raw`, evicting whatever shared its slot.
    #[inline]
    pub fn put(&mut self, raw: &RawRequest, value: u32) {
        self.slots[raw.slot()] = (*raw, value);
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
                cache.put(&a, 3);
                prop_assert_eq!(cache.get(&b) == Some(3), a == b);
            }
        }
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
