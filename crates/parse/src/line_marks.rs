//! Where a line's double quotes are, as bit masks over its first [`WINDOW`] bytes, and its
//! spaces and `[` over its first [`HEAD`].
//!
//! An access line is found field by field: the `[` before the time, the two spaces before
//! it (ident and user), the quote that closes the request, the referer's and the user
//! agent's quotes. Searched one after another, each was a `memchr` call over a few dozen
//! bytes or a byte loop, and each of those ends at a place that differs from line to line
//! (an IPv4 or an IPv6 client, a short or a long path), so each mispredicted its exit: the
//! branch after the client's loop alone took a fifth of the CLF parser's cycles. Here the
//! line's start is classified once, 16 bytes per SSE2 compare on x86_64, and a search is
//! a shift and a `trailing_zeros` (or `leading_zeros`) on a word or two of the masks.
//!
//! A search that reaches past the classified bytes falls back to `memchr` (or a byte loop)
//! over the bytes it asks about, so every search answers what the plain search would: the
//! tests hold each one to it, on random lines and at every length and position up to past
//! the window.

use memchr::memchr;

/// Bytes of a line whose quotes are classified up front (an access line's quoted fields
/// end in about its first 200 bytes); searches past them fall back to `memchr`.
pub(crate) const WINDOW: usize = 256;
/// Bytes whose spaces and `[` are classified: the client, ident and user before the time.
pub(crate) const HEAD: usize = 64;
const WORDS: usize = WINDOW / 64;

/// One bit per byte (bit `i % 64` of word `i / 64` is byte `i`); bits past the line's end
/// are clear.
type Mask = [u64; WORDS];

/// Where the quotes of a line's first [`WINDOW`] bytes are, and the spaces and `[` of its
/// first [`HEAD`] bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LineMarks<'a> {
    line: &'a [u8],
    quote: Mask,
    /// Only [`HEAD`] bytes are classified: the words past the first of these two stay
    /// clear.
    space: Mask,
    bracket: Mask,
}

/// A class of byte the marks know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mark {
    Space,
    Quote,
    /// `[`
    Bracket,
}

impl Mark {
    fn byte(self) -> u8 {
        match self {
            Mark::Space => b' ',
            Mark::Quote => b'"',
            Mark::Bracket => b'[',
        }
    }

    /// Bytes of the line this class is classified in.
    fn window(self) -> usize {
        match self {
            Mark::Quote => WINDOW,
            Mark::Space | Mark::Bracket => HEAD,
        }
    }
}

impl<'a> LineMarks<'a> {
    /// Classify the start of `line`.
    #[inline]
    pub(crate) fn new(line: &'a [u8]) -> LineMarks<'a> {
        let mut m = LineMarks {
            line,
            quote: [0; WORDS],
            space: [0; WORDS],
            bracket: [0; WORDS],
        };
        let n = line.len().min(WINDOW);
        if n < 16 {
            // Zero padding: no class holds the byte 0, so the bits past the end stay clear.
            let mut block = [0u8; 16];
            block[..n].copy_from_slice(&line[..n]);
            let [quote, space, bracket] = classify_head(&block);
            (m.quote[0], m.space[0], m.bracket[0]) = (quote.into(), space.into(), bracket.into());
            return m;
        }
        // Whole 64-byte words first: four blocks each, shifts known, no bounds to check.
        let words = line[..n].chunks_exact(64);
        let rest = words.remainder();
        let mut word = 0;
        for chunk in words {
            let blocks: [&[u8; 16]; 4] =
                std::array::from_fn(|k| chunk[16 * k..16 * k + 16].try_into().expect("16"));
            if word == 0 {
                let mut head = [0u64; 3];
                for (k, block) in blocks.into_iter().enumerate() {
                    for (h, b) in head.iter_mut().zip(classify_head(block)) {
                        *h |= u64::from(b) << (16 * k);
                    }
                }
                [m.quote[0], m.space[0], m.bracket[0]] = head;
            } else {
                m.quote[word] = blocks.into_iter().enumerate().fold(0, |q, (k, block)| {
                    q | u64::from(classify_quote(block)) << (16 * k)
                });
            }
            word += 1;
        }
        if rest.is_empty() {
            return m;
        }
        // The last word's whole blocks, then its last bytes: read as the window's last 16,
        // shifted so that only the bytes not yet classified stay (a copy to a padded block
        // was slower: its 16-byte load had to wait for the copy's smaller stores).
        let blocks = rest.chunks_exact(16);
        let tail = blocks.remainder().len();
        let mut acc = [0u64; 3];
        let mut k = 0;
        let mut add = |bits: [u16; 3], k: usize| {
            for (a, b) in acc.iter_mut().zip(bits) {
                *a |= u64::from(b) << (16 * k);
            }
        };
        let classify = |block: &[u8; 16]| {
            if word == 0 {
                classify_head(block)
            } else {
                [classify_quote(block), 0, 0]
            }
        };
        for block in blocks {
            add(classify(block.try_into().expect("16 bytes")), k);
            k += 1;
        }
        if tail > 0 {
            let last = classify(line[n - 16..n].try_into().expect("16 bytes"));
            add(last.map(|b| b >> (16 - tail)), k);
        }
        if word == 0 {
            [m.quote[0], m.space[0], m.bracket[0]] = acc;
        } else {
            m.quote[word] = acc[0];
        }
        m
    }

    fn mask(&self, mark: Mark) -> &Mask {
        match mark {
            Mark::Space => &self.space,
            Mark::Quote => &self.quote,
            Mark::Bracket => &self.bracket,
        }
    }

    /// The first `mark` at or after `from`: `memchr` over `line[from..]`.
    #[inline]
    pub(crate) fn first_from(&self, mark: Mark, from: usize) -> Option<usize> {
        self.first_in(mark, from, self.line.len())
    }

    /// The first `mark` in `line[from..to]` (`to` past the end is the end; none when
    /// `from >= to`): `memchr` over those bytes.
    #[inline]
    pub(crate) fn first_in(&self, mark: Mark, from: usize, to: usize) -> Option<usize> {
        let to = to.min(self.line.len());
        if from >= to {
            return None;
        }
        let (mask, window) = (self.mask(mark), mark.window());
        if from < window {
            let mut word = from / 64;
            let mut bits = mask[word] & (u64::MAX << (from % 64));
            loop {
                if bits != 0 {
                    let at = word * 64 + bits.trailing_zeros() as usize;
                    return (at < to).then_some(at);
                }
                word += 1;
                if word == window / 64 || word * 64 >= to {
                    break;
                }
                bits = mask[word];
            }
            if to <= window {
                return None;
            }
        }
        let start = from.max(window);
        memchr(mark.byte(), &self.line[start..to]).map(|i| start + i)
    }

    /// The last `mark` in `line[from..to]` (`to` past the end is the end; none when
    /// `from >= to`).
    #[inline]
    pub(crate) fn last_in(&self, mark: Mark, from: usize, to: usize) -> Option<usize> {
        let to = to.min(self.line.len());
        if from >= to {
            return None;
        }
        if to > mark.window() {
            let byte = mark.byte();
            return self.line[from..to]
                .iter()
                .rposition(|&c| c == byte)
                .map(|i| from + i);
        }
        let mask = self.mask(mark);
        // Words from the one holding `to - 1` down to the one holding `from`.
        let mut word = (to - 1) / 64;
        let top = to - word * 64;
        let mut bits = mask[word] & (u64::MAX >> (64 - top));
        loop {
            let low = if word == from / 64 { from % 64 } else { 0 };
            bits &= u64::MAX << low;
            if bits != 0 {
                return Some(word * 64 + 63 - bits.leading_zeros() as usize);
            }
            if word == from / 64 {
                return None;
            }
            word -= 1;
            bits = mask[word];
        }
    }
}

/// Which of 16 bytes are a `"`, a space, a `[`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn classify_head(block: &[u8; 16]) -> [u16; 3] {
    use std::arch::x86_64::*;
    // SAFETY: this is compiled only where SSE2 is enabled (the x86_64 baseline), so these
    // intrinsics exist; the load reads the 16 bytes of `block` (unaligned loads are
    // allowed).
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        let is = |b: u8| _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))) as u16;
        [is(b'"'), is(b' '), is(b'[')]
    }
}

/// Which of 16 bytes are a `"`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn classify_quote(block: &[u8; 16]) -> u16 {
    use std::arch::x86_64::*;
    // SAFETY: as in `classify_head`.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8))) as u16
    }
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
use classify_bytewise as classify_head;

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
fn classify_quote(block: &[u8; 16]) -> u16 {
    classify_bytewise(block)[0]
}

/// The same as the SSE2 version, a byte at a time (other targets; the tests hold the SSE2
/// version to it, which on a target without SSE2 compares this with itself).
#[cfg_attr(
    all(target_arch = "x86_64", target_feature = "sse2", not(test)),
    allow(dead_code)
)]
fn classify_bytewise(block: &[u8; 16]) -> [u16; 3] {
    let mut m = [0u16; 3];
    for (i, &b) in block.iter().enumerate() {
        for (k, c) in [b'"', b' ', b'['].into_iter().enumerate() {
            m[k] |= u16::from(b == c) << i;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MARKS: [Mark; 3] = [Mark::Space, Mark::Quote, Mark::Bracket];

    /// Lines of marks and a few other bytes, long enough to cross the window.
    fn lines() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                Just(b' '),
                Just(b'"'),
                Just(b'['),
                Just(0u8),
                Just(b'a'),
                any::<u8>()
            ],
            0..700,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn next_is_memchr(line in lines(), from in 0usize..800) {
            let m = LineMarks::new(&line);
            for mark in MARKS {
                let naive = line
                    .get(from..)
                    .and_then(|s| s.iter().position(|&c| c == mark.byte()))
                    .map(|i| from + i);
                prop_assert_eq!(m.first_from(mark, from), naive, "{:?} from {}", mark, from);
            }
        }

        #[test]
        fn last_in_is_rposition(line in lines(), a in 0usize..800, b in 0usize..800) {
            let m = LineMarks::new(&line);
            let (from, to) = (a.min(line.len()), b.min(line.len()));
            for mark in MARKS {
                let naive = line
                    .get(from..to)
                    .and_then(|s| s.iter().rposition(|&c| c == mark.byte()))
                    .map(|i| from + i);
                prop_assert_eq!(m.last_in(mark, from, to), naive, "{:?} in {}..{}", mark, from, to);
                let first = line
                    .get(from..to)
                    .and_then(|s| s.iter().position(|&c| c == mark.byte()))
                    .map(|i| from + i);
                prop_assert_eq!(m.first_in(mark, from, to), first, "{:?} in {}..{}", mark, from, to);
            }
        }

        #[test]
        fn classify_agrees_with_bytewise(block in proptest::array::uniform16(any::<u8>())) {
            prop_assert_eq!(classify_head(&block), classify_bytewise(&block));
            prop_assert_eq!(classify_quote(&block), classify_bytewise(&block)[0]);
        }
    }

    /// Every length up to past the window, one mark of each kind at every position (and
    /// none): each search from and to every interesting place equals the plain one.
    #[test]
    fn every_length_and_position() {
        let naive_first = |l: &[u8], b: u8, from: usize, to: usize| {
            let to = to.min(l.len());
            (from < to)
                .then(|| l[from..to].iter().position(|&c| c == b).map(|i| from + i))
                .flatten()
        };
        let naive_last = |l: &[u8], b: u8, from: usize, to: usize| {
            let to = to.min(l.len());
            (from < to)
                .then(|| l[from..to].iter().rposition(|&c| c == b).map(|i| from + i))
                .flatten()
        };
        let edges = [
            0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 255, 256, 257, 299, 300, 301,
        ];
        for len in 0..=300 {
            // Every position in lines of an edge's length, the edges and the last byte in
            // the others.
            let positions: Vec<usize> = if edges.contains(&len) {
                (0..len).collect()
            } else {
                edges
                    .iter()
                    .copied()
                    .chain([len.saturating_sub(1)])
                    .filter(|&p| p < len)
                    .collect()
            };
            for at in positions.into_iter().map(Some).chain([None]) {
                for mark in MARKS {
                    let mut line = vec![b'x'; len];
                    if let Some(at) = at {
                        line[at] = mark.byte();
                    }
                    let m = LineMarks::new(&line);
                    for &from in &edges {
                        for &to in &edges {
                            let (b, f, t) = (mark.byte(), from, to);
                            assert_eq!(m.first_in(mark, f, t), naive_first(&line, b, f, t));
                            assert_eq!(m.last_in(mark, f, t), naive_last(&line, b, f, t));
                        }
                        assert_eq!(
                            m.first_from(mark, from),
                            naive_first(&line, mark.byte(), from, len)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn window_edges() {
        let mut line = vec![b'x'; 300];
        for at in [0, 15, 16, 63, 64, 127, 128, 255, 256, 299] {
            line[at] = b'"';
        }
        let m = LineMarks::new(&line);
        let mut found = Vec::new();
        let mut from = 0;
        while let Some(q) = m.first_from(Mark::Quote, from) {
            found.push(q);
            from = q + 1;
        }
        assert_eq!(found, [0, 15, 16, 63, 64, 127, 128, 255, 256, 299]);
        assert_eq!(m.last_in(Mark::Quote, 0, 255), Some(128));
        assert_eq!(m.last_in(Mark::Quote, 0, 256), Some(255));
        assert_eq!(m.last_in(Mark::Quote, 1, 15), None);
        assert_eq!(m.last_in(Mark::Quote, 17, 63), None);
        assert_eq!(m.last_in(Mark::Quote, 64, 64), None);
        assert_eq!(m.first_from(Mark::Quote, 300), None);
        assert_eq!(m.first_from(Mark::Space, 0), None);
        // Spaces and `[` past the head are found all the same.
        line[70] = b' ';
        line[71] = b'[';
        let m = LineMarks::new(&line);
        assert_eq!(m.first_from(Mark::Space, 0), Some(70));
        assert_eq!(m.first_from(Mark::Bracket, 3), Some(71));
        assert_eq!(m.last_in(Mark::Space, 0, 71), Some(70));
        assert_eq!(m.last_in(Mark::Space, 0, 64), None);
    }
}
