//! Where a journald export entry of text fields ends, read 64 bytes at a time.
//!
//! Framing an export is reading it field by field (a binary field's length prefix says
//! where it ends), and every export is framed twice: by the producer that cuts a mapped
//! file into chunks, and by the worker that reads each chunk. Field by field, each line
//! cost two `memchr` calls (its `\n`, its `=`) and a pass over its name: a short line
//! (`_UID=0`) is mostly call overhead, and together this was 44 % of the CPU of reading an
//! export. Nearly every entry is text fields only; for those, [`text_entry_end`] classifies
//! a window of 64 bytes at once (newline, `=`, digit, not a name character; SSE2 compares
//! and movemasks on x86_64), and each line's checks are a few bit operations. Anything
//! else (a binary field, a bad name, an entry reaching past the buffer or the cap) answers
//! `None`, and the field-by-field framer ([`crate::frame::Frames`]) takes the entry: so the
//! fast path only ever agrees with it, which the tests check on random entries.

/// Bytes classified at once: one bit per byte in a `u64`.
const WINDOW: usize = 64;

/// One bit per byte of a window (bit `i` is byte `i`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Classes {
    newline: u64,
    eq: u64,
    digit: u64,
    /// Not `A-Z`, `0-9` or `_`: a byte a field name cannot hold.
    not_name: u64,
}

impl Classes {
    const NONE: Classes = Classes {
        newline: 0,
        eq: 0,
        digit: 0,
        not_name: 0,
    };
}

/// The end (after its blank line) of the entry starting at `start`, when every line of it
/// is a text field (`NAME=value`, the name valid), it ends with a blank line inside `buf`
/// and it is at most `max_record` bytes long. `None` when any of that does not hold or
/// cannot be told from whole windows inside `buf`; the caller frames the entry field by
/// field then. `buf[start]` is not `\n` (blank lines between entries are the caller's).
pub(crate) fn text_entry_end(buf: &[u8], start: usize, max_record: usize) -> Option<usize> {
    let limit = start.saturating_add(max_record).min(buf.len());
    // The window's start: a line start.
    let mut at = start;
    loop {
        let window: &[u8; WINDOW] = buf.get(at..at + WINDOW)?.try_into().ok()?;
        let c = classify(window);
        // Lines starting in this window, at `p`.
        let mut p = 0;
        at = loop {
            let newlines = c.newline >> p;
            if newlines & 1 != 0 {
                // A blank line: the entry ends after it.
                let end = at + p + 1;
                return (end - start <= max_record).then_some(end);
            }
            let eq = p + (c.eq >> p).trailing_zeros() as usize;
            let nl = p + newlines.trailing_zeros() as usize;
            if eq >= WINDOW {
                if nl >= WINDOW && p > 0 {
                    // The line goes on past the window: read it from a window at its start.
                    break at + p;
                }
                // No `=` before the newline, or none in a line's first 64 bytes.
                return None;
            }
            // The name: up to the first `=`, before the newline; not empty, not starting
            // with a digit, only name bytes.
            if eq > nl || eq == p || (c.digit >> p) & 1 != 0 || c.not_name & span(p, eq) != 0 {
                return None;
            }
            if nl >= WINDOW {
                // The value runs past the window: its newline, then a window from there.
                let value = at + eq + 1;
                let nl = value + memchr::memchr(b'\n', buf.get(value..limit)?)?;
                break nl + 1;
            }
            p = nl + 1;
            if p == WINDOW {
                break at + WINDOW;
            }
        };
        if at >= limit {
            return None;
        }
    }
}

/// Bits `start..end` set (`start <= end < 64`).
#[inline(always)]
fn span(start: usize, end: usize) -> u64 {
    debug_assert!(start <= end && end < WINDOW);
    ((1u64 << end) - 1) & !((1u64 << start) - 1)
}

/// The classes of a window's 64 bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify(w: &[u8; WINDOW]) -> Classes {
    use std::arch::x86_64::*;
    let mut c = Classes::NONE;
    for k in 0..WINDOW / 16 {
        // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics exist on every
        // x86_64 CPU; the load reads bytes `16 k..16 k + 16` of the 64-byte array
        // (unaligned loads are allowed).
        let m = unsafe {
            let v = _mm_loadu_si128(w.as_ptr().add(16 * k).cast());
            let splat = |b: u8| _mm_set1_epi8(b as i8);
            // `x <= k` for unsigned bytes: min(x, k) == x.
            let le = |x: __m128i, k: u8| _mm_cmpeq_epi8(_mm_min_epu8(x, splat(k)), x);
            let mask = |m: __m128i| u64::from(_mm_movemask_epi8(m) as u16);
            let digit = le(_mm_sub_epi8(v, splat(b'0')), 9);
            let upper = le(_mm_sub_epi8(v, splat(b'A')), b'Z' - b'A');
            let name = _mm_or_si128(_mm_or_si128(digit, upper), _mm_cmpeq_epi8(v, splat(b'_')));
            [
                mask(_mm_cmpeq_epi8(v, splat(b'\n'))),
                mask(_mm_cmpeq_epi8(v, splat(b'='))),
                mask(digit),
                mask(name) ^ 0xffff,
            ]
        };
        let shift = 16 * k;
        c.newline |= m[0] << shift;
        c.eq |= m[1] << shift;
        c.digit |= m[2] << shift;
        c.not_name |= m[3] << shift;
    }
    c
}

#[cfg(not(target_arch = "x86_64"))]
use classify_bytewise as classify;

/// The same as the x86_64 version, a byte at a time (other targets; the tests hold the
/// SSE2 version to it).
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
fn classify_bytewise(w: &[u8; WINDOW]) -> Classes {
    let mut c = Classes::NONE;
    for (i, &b) in w.iter().enumerate() {
        let bit = |yes: bool| u64::from(yes) << i;
        c.newline |= bit(b == b'\n');
        c.eq |= bit(b == b'=');
        c.digit |= bit(b.is_ascii_digit());
        c.not_name |= bit(!(b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'));
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn sse2_classes_equal_the_bytewise_reading(
            w in proptest::collection::vec(proptest::num::u8::ANY, WINDOW..=WINDOW)
        ) {
            let w: [u8; WINDOW] = w.try_into().unwrap();
            proptest::prop_assert_eq!(classify(&w), classify_bytewise(&w));
        }
    }

    #[test]
    fn every_byte_value_is_classified_as_bytewise() {
        for start in (0..256).step_by(WINDOW) {
            let w: [u8; WINDOW] = std::array::from_fn(|i| (start + i) as u8);
            assert_eq!(classify(&w), classify_bytewise(&w));
        }
    }
}
