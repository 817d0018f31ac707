//! Byte classes of a short request path as bit masks, one bit per byte: what the access
//! template rules ask of each segment (its digits, whether it is all hex, whether it holds
//! bytes to replace) becomes a popcount or an AND over the segment's bit range, instead of
//! a pass over its bytes through a table.
//!
//! The masks are built 16 bytes at a time with SSE2 compares and movemasks (the x86_64
//! baseline, so no runtime detection; other targets read a byte at a time; a plain loop
//! written for the compiler to vectorize did not vectorize and cost more than the table
//! pass). Paths longer than [`MAX_PATH`] are left to the byte-at-a-time reader, which the
//! tests also use as the reference.
//!
//! ```
//! use coroner_analyze::path_classes::PathClasses;
//! let c = PathClasses::of(b"/api/v1/12").unwrap();
//! assert_eq!(c.slash, 0b1001_0001);
//! assert_eq!(c.segment(8, 10).digit.count_ones(), 2);
//! assert_ne!(c.segment(1, 4).not_hex, 0);
//! ```

/// Longest path read through masks (one bit per byte in a `u64`). Two thirds of the paths
/// of a real access log are under 32 bytes and nearly all under 64.
pub const MAX_PATH: usize = 64;

/// One bit per byte of the path (bit `i` is byte `i`); bits past the path's end are clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathClasses {
    pub slash: u64,
    pub digit: u64,
    /// Not `0-9a-fA-F`.
    pub not_hex: u64,
    /// Not graphic ASCII and not part of a UTF-8 sequence (a byte a template must not keep).
    pub not_clean: u64,
}

impl PathClasses {
    /// The masks of `path`, or `None` when it is longer than [`MAX_PATH`].
    #[inline]
    pub fn of(path: &[u8]) -> Option<PathClasses> {
        if path.len() > MAX_PATH {
            return None;
        }
        let mut buf = [0u8; MAX_PATH];
        buf[..path.len()].copy_from_slice(path);
        let mut c = PathClasses {
            slash: 0,
            digit: 0,
            not_hex: 0,
            not_clean: 0,
        };
        for (i, block) in buf
            .chunks_exact(16)
            .take(path.len().div_ceil(16))
            .enumerate()
        {
            let block: &[u8; 16] = block.try_into().expect("chunks_exact(16)");
            let m = classify16(block);
            let shift = 16 * i;
            c.slash |= u64::from(m[0]) << shift;
            c.digit |= u64::from(m[1]) << shift;
            c.not_hex |= u64::from(m[2]) << shift;
            c.not_clean |= u64::from(m[3]) << shift;
        }
        // The zero padding is not clean and not hex: clear its bits.
        let valid = below(path.len());
        c.not_hex &= valid;
        c.not_clean &= valid;
        Some(c)
    }

    /// The class masks of bytes `start..end` alone: a segment's digits are
    /// `digit.count_ones()`, it is all hex when `not_hex == 0`, all clean when
    /// `not_clean == 0`.
    #[inline]
    pub fn segment(&self, start: usize, end: usize) -> PathClasses {
        let r = range(start, end);
        PathClasses {
            slash: self.slash & r,
            digit: self.digit & r,
            not_hex: self.not_hex & r,
            not_clean: self.not_clean & r,
        }
    }

    /// The first `/` at or after `from`, if any.
    #[inline]
    pub fn next_slash(&self, from: usize) -> Option<usize> {
        let rest = self.slash.checked_shr(from as u32).unwrap_or(0);
        (rest != 0).then(|| from + rest.trailing_zeros() as usize)
    }
}

/// The four class masks of 16 bytes: slash, digit, not hex, not clean.
#[cfg(target_arch = "x86_64")]
#[inline]
fn classify16(block: &[u8; 16]) -> [u16; 4] {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics exist on every
    // x86_64 CPU; the one load reads 16 bytes from a 16-byte array (unaligned is allowed).
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        let splat = |b: u8| _mm_set1_epi8(b as i8);
        // `x <= k` for unsigned bytes: min(x, k) == x.
        let le = |x: __m128i, k: u8| _mm_cmpeq_epi8(_mm_min_epu8(x, splat(k)), x);
        let mask = |m: __m128i| _mm_movemask_epi8(m) as u16;
        let slash = _mm_cmpeq_epi8(v, splat(b'/'));
        let digit = le(_mm_sub_epi8(v, splat(b'0')), 9);
        let letter_af = le(_mm_sub_epi8(_mm_or_si128(v, splat(0x20)), splat(b'a')), 5);
        let hex = _mm_or_si128(digit, letter_af);
        let not_clean = _mm_or_si128(le(v, b' '), _mm_cmpeq_epi8(v, splat(0x7f)));
        [mask(slash), mask(digit), !mask(hex), mask(not_clean)]
    }
}

#[cfg(not(target_arch = "x86_64"))]
use classify16_bytewise as classify16;

/// The same as the x86_64 version, a byte at a time (other targets; the tests hold the
/// SSE2 version to it).
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
#[inline]
fn classify16_bytewise(block: &[u8; 16]) -> [u16; 4] {
    let mut m = [0u16; 4];
    for (i, &b) in block.iter().enumerate() {
        let bits = [
            b == b'/',
            b.is_ascii_digit(),
            !b.is_ascii_hexdigit(),
            !(b.is_ascii_graphic() || b >= 0x80),
        ];
        for (m, bit) in m.iter_mut().zip(bits) {
            *m |= u16::from(bit) << i;
        }
    }
    m
}

/// Bits `0..n` set (`n <= 64`).
#[inline]
fn below(n: usize) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

/// Bits `start..end` set (`start <= end <= 64`).
#[inline]
fn range(start: usize, end: usize) -> u64 {
    below(end) & !below(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One byte at a time, the plain definitions.
    fn naive(path: &[u8]) -> PathClasses {
        let mut c = PathClasses {
            slash: 0,
            digit: 0,
            not_hex: 0,
            not_clean: 0,
        };
        for (i, &b) in path.iter().enumerate() {
            let bit = 1u64 << i;
            if b == b'/' {
                c.slash |= bit;
            }
            if b.is_ascii_digit() {
                c.digit |= bit;
            }
            if !b.is_ascii_hexdigit() {
                c.not_hex |= bit;
            }
            if !(b.is_ascii_graphic() || b >= 0x80) {
                c.not_clean |= bit;
            }
        }
        c
    }

    #[test]
    fn every_byte_value_at_every_block_position() {
        for b in 0..=255u8 {
            for at in [0, 1, 15, 16, 17, 31, 32, 48, 63] {
                let mut p = vec![b'a'; at + 1];
                p[at] = b;
                assert_eq!(PathClasses::of(&p), Some(naive(&p)), "byte {b:#x} at {at}");
            }
        }
    }

    #[test]
    fn too_long_is_none_and_the_limit_is_not() {
        assert!(PathClasses::of(&[b'/'; MAX_PATH + 1]).is_none());
        let full = PathClasses::of(&[b'/'; MAX_PATH]).unwrap();
        assert_eq!(full.slash, u64::MAX);
        assert_eq!(full.next_slash(63), Some(63));
        assert_eq!(full.next_slash(64), None);
        assert_eq!(PathClasses::of(b"").unwrap().not_clean, 0);
    }

    proptest! {
        #[test]
        fn sse2_blocks_match_the_bytewise_blocks(block in proptest::array::uniform16(any::<u8>())) {
            prop_assert_eq!(classify16(&block), classify16_bytewise(&block));
        }

        #[test]
        fn masks_match_the_plain_reading(path in proptest::collection::vec(any::<u8>(), 0..=MAX_PATH)) {
            prop_assert_eq!(PathClasses::of(&path), Some(naive(&path)));
        }

        #[test]
        fn range_queries_match_slices(
            path in proptest::collection::vec(any::<u8>(), 0..=MAX_PATH),
            a in 0..=MAX_PATH,
            b in 0..=MAX_PATH,
        ) {
            let (start, end) = (a.min(b).min(path.len()), a.max(b).min(path.len()));
            let c = PathClasses::of(&path).unwrap();
            let seg = &path[start..end];
            let s = c.segment(start, end);
            prop_assert_eq!(s.digit.count_ones() as usize, seg.iter().filter(|b| b.is_ascii_digit()).count());
            prop_assert_eq!(s.not_hex == 0, seg.iter().all(u8::is_ascii_hexdigit));
            prop_assert_eq!(s.not_clean == 0, seg.iter().all(|&b| b.is_ascii_graphic() || b >= 0x80));
            prop_assert_eq!(s.slash.count_ones() as usize, seg.iter().filter(|&&b| b == b'/').count());
            prop_assert_eq!(c.next_slash(start), path[start..].iter().position(|&b| b == b'/').map(|p| p + start));
        }
    }
}
