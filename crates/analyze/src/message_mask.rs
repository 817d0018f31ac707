//! The template masking of a free-text message ([`crate::templates::mask_into`]'s rules),
//! 64 bytes at a time through bit masks.
//!
//! Every free-text record of a bundle is masked (journald messages, application, error
//! and proxy logs: a fifth of a mixed bundle's CPU time went there). Read a byte at a time,
//! each token's end is a branch the CPU mispredicts, about once per token. Here a window
//! of 64 bytes is classified at once (SSE2 compares and movemasks: space, quote, `=`,
//! digit, not hex, not key character, one bit per byte); a token is then a run of clear
//! bits in the space mask, found with a bit scan, and its rules are ANDs over its bit
//! range. The token's output is written without a branch on what it is: its bytes are
//! copied, then the 8 bytes at its value are overwritten either with `<*>` or with
//! themselves, and the output length is picked by a select. A quoted span (which may run
//! over spaces) is followed through the quote mask; a token that does not end in its
//! window is carried into the next ones ([`Open`]). Only a quote never closed in the
//! whole message goes to the byte-at-a-time scanner, [`Token::scan`], from its token's
//! start.
//!
//! The tests hold this to the plain rule-by-rule reading on random messages cut across
//! windows in every way, and the SSE2 classes to a byte-at-a-time classification.
//!
//! ```
//! let mut out = Vec::new();
//! coroner_analyze::templates::mask_into(b"ws close dur_ms=1534 cause=graceful", &mut out);
//! assert_eq!(out, b"ws close dur_ms=<*> cause=graceful");
//! ```

use crate::templates::{Token, WILDCARD, is_key_byte, is_variable_by, write_parts};

/// Bytes classified at once: one bit per byte in a `u64`.
const WINDOW: usize = 64;

/// The window's bytes and room after them: a token's bytes are copied 32 at a time from
/// its start and its value's first 8 bytes read, both of which may run past the window.
const BUF: usize = WINDOW + 48;

/// Output room one window's tokens can need, with the copies' overrun. Each token (at
/// least one byte, and tokens are apart by at least one space) writes a separating space
/// and at most its length plus 3 (`k=<*>` for `k=1`): at most `64 + 4 * 32` bytes from a
/// window, and a token's copy reaches at most 72 bytes past the output so far.
const WINDOW_ROOM: usize = WINDOW + 4 * (WINDOW / 2) + 72;

/// One bit per byte of a window (bit `i` is byte `i`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Classes {
    /// Space or tab: what ends a token.
    space: u64,
    quote: u64,
    eq: u64,
    digit: u64,
    /// Not `0-9a-fA-F`.
    not_hex: u64,
    /// Not a character of a `key` in `key=value` (`A-Za-z0-9_.-`); left clear when the
    /// window holds no `=` (no token in it can be `key=value`).
    not_key: u64,
}

impl Classes {
    const NONE: Classes = Classes {
        space: 0,
        quote: 0,
        eq: 0,
        digit: 0,
        not_hex: 0,
        not_key: 0,
    };
}

/// The masking of `msg` written at the start of `out`; its length. `msg` is at most
/// `MAX_MESSAGE` bytes and does not start (after spaces) with the exact-key marker: the
/// caller takes those. `out` keeps its length (when long enough) and bytes past the masked
/// text are scratch: not zeroing that room again for every record saved a `memset` as
/// long as the message per record.
pub(crate) fn mask_window_into(msg: &[u8], out: &mut Vec<u8>) -> usize {
    // The output is written at `o` into room made ahead (a test per window, not per
    // write).
    grow(out, msg.len() + WINDOW_ROOM);
    let mut o = 0;
    let mut tail = [b' '; BUF];
    // A token that began at a window's start and did not end in it.
    let mut open: Option<Open> = None;
    let mut i = 0;
    while i < msg.len() {
        let n = (msg.len() - i).min(WINDOW);
        let last = i + n == msg.len();
        // The window in place when the message has room after it for the copies' reads;
        // else its last bytes, copied.
        let src: &[u8; BUF] = match msg.get(i..i + BUF) {
            Some(s) => s.try_into().expect("BUF bytes"),
            None => {
                copy_tail(&mut tail, &msg[i..i + n]);
                &tail
            }
        };
        grow(out, o + WINDOW_ROOM);
        let window: &[u8; WINDOW] = src[..WINDOW].try_into().expect("BUF > WINDOW");
        let mut c = classify(window);
        // Past the message's end: spaces, so the last token ends there. A full window
        // has no such bits: a token running to its end may go on in the next one. (The
        // other classes past the end are a copied tail's stale bytes: a quote there must
        // not close a quoted span.)
        c.space |= !below(n);
        c.quote &= below(n);
        let mut p;
        if let Some(token) = open.as_mut() {
            match token_end(&c, 0, token.quoted) {
                Ok(end) => {
                    token.add(msg, &c, i, 0, end);
                    o = token.write(msg, i + end, out, o);
                    open = None;
                    p = next_start(c.space, end);
                }
                Err(quoted) if !last => {
                    token.add(msg, &c, i, 0, WINDOW);
                    token.quoted = quoted;
                    i += WINDOW;
                    continue;
                }
                Err(_) => {
                    // A quote never closed: quotes are ordinary bytes from it on, which
                    // the byte-at-a-time scanner reads.
                    let start = token.start;
                    open = None;
                    (o, i) = write_bytewise(msg, start, out, o);
                    continue;
                }
            }
        } else {
            p = next_start(c.space, 0);
        }
        // Where the next window starts.
        i = loop {
            if p >= n {
                break i + n;
            }
            // Most tokens: no quote before the next space.
            let rest = c.space >> p;
            let len = rest.trailing_zeros() as usize;
            let end = if rest != 0 && c.quote & span(p, p + len) == 0 {
                Ok(p + len)
            } else {
                token_end(&c, p, false)
            };
            match end {
                Ok(end) => {
                    o = write_token(src, &c, p, end - p, out, o);
                    p = next_start(c.space, end);
                }
                // Unfinished in this window: the next one starts at it.
                Err(_) if p > 0 && !last => break i + p,
                // Longer than a window: carried into the next ones.
                Err(quoted) if !last => {
                    let mut token = Open::new(i, quoted);
                    token.add(msg, &c, i, 0, WINDOW);
                    open = Some(token);
                    break i + WINDOW;
                }
                // A quote never closed in the message's last window.
                Err(_) => {
                    let next;
                    (o, next) = write_bytewise(msg, i + p, out, o);
                    if next >= i + n {
                        break next;
                    }
                    p = next_start(c.space, next - i);
                }
            }
        };
    }
    o
}

/// Make `out` at least `len` long (its bytes past the output are scratch).
#[inline]
fn grow(out: &mut Vec<u8>, len: usize) {
    if out.len() < len {
        out.resize(len, 0);
    }
}

/// Mask the token at `start` a byte at a time ([`Token::scan`]) into `out[o..]`; the new
/// output length and the token's end.
fn write_bytewise(msg: &[u8], start: usize, out: &mut Vec<u8>, mut o: usize) -> (usize, usize) {
    let token = Token::scan(msg, start);
    let text = &msg[start..token.end];
    grow(out, o + text.len() + WINDOW_ROOM);
    o = separate(out, o);
    (token.write(text, out, o), token.end)
}

/// Where the token going on at `from` ends (the first space outside quoted spans), or,
/// when not in this window, whether the window ends inside a quoted span. `quoted`: `from`
/// is inside one. (In the message's last window a quote never closed also answers `Err`.)
#[inline(never)]
fn token_end(c: &Classes, from: usize, mut quoted: bool) -> Result<usize, bool> {
    let mut at = from;
    loop {
        if quoted {
            let close = first_at(c.quote, at);
            if close >= WINDOW {
                return Err(true);
            }
            at = close + 1;
        }
        let space = first_at(c.space, at);
        let quote = first_at(c.quote, at);
        if quote >= space {
            return if space < WINDOW {
                Ok(space)
            } else {
                Err(false)
            };
        }
        quoted = true;
        at = quote + 1;
    }
}

/// A token longer than a window: what the rules need of it, gathered window by window.
struct Open {
    start: usize,
    /// The last window ended inside a quoted span.
    quoted: bool,
    /// The first `=`.
    eq: Option<usize>,
    /// A byte before the first `=` is no key character (known once there is one).
    key_bad: bool,
    /// Over the whole token: a digit, a byte that is no hex digit.
    digit: bool,
    not_hex: bool,
    /// The same over the bytes after the first `=`.
    value_digit: bool,
    value_not_hex: bool,
}

impl Open {
    fn new(start: usize, quoted: bool) -> Open {
        Open {
            start,
            quoted,
            eq: None,
            key_bad: false,
            digit: false,
            not_hex: false,
            value_digit: false,
            value_not_hex: false,
        }
    }

    /// Bytes `from..to` of the window at `base` (classes `c`) of `msg` are the token's.
    fn add(&mut self, msg: &[u8], c: &Classes, base: usize, from: usize, to: usize) {
        let part = below(to) & !below(from);
        let mut value = part;
        if self.eq.is_none() {
            let eqs = c.eq & part;
            if eqs == 0 {
                value = 0;
            } else {
                let eq = eqs.trailing_zeros() as usize;
                self.eq = Some(base + eq);
                value = part & !below(eq + 1);
                // The key: read now that there is one (a key longer than a window is
                // rare; classifying every window of a long token for it was not).
                self.key_bad = if base == self.start {
                    c.not_key & below(eq) & part != 0
                } else {
                    !msg[self.start..base + eq].iter().all(|&b| is_key_byte(b))
                };
            }
        }
        self.digit |= c.digit & part != 0;
        self.not_hex |= c.not_hex & part != 0;
        self.value_digit |= c.digit & value != 0;
        self.value_not_hex |= c.not_hex & value != 0;
    }

    /// Write the masked token, which ends at `end`, at `out[o..]`; the new output length.
    fn write(&self, msg: &[u8], end: usize, out: &mut Vec<u8>, o: usize) -> usize {
        let text = &msg[self.start..end];
        let keep = match self.eq {
            Some(eq) if eq > self.start && !self.key_bad => eq + 1 - self.start,
            _ => 0,
        };
        let (digit, not_hex) = if keep > 0 {
            (self.value_digit, self.value_not_hex)
        } else {
            (self.digit, self.not_hex)
        };
        let (kept, value) = text.split_at(keep);
        let variable = is_variable_by(digit, !not_hex, value.len());
        grow(out, o + text.len() + WINDOW_ROOM);
        let o = separate(out, o);
        write_parts(kept, value, variable, out, o)
    }
}

/// Write the space that separates a token from an earlier one, if any, at `out[o]`; where
/// the token goes. (Always written, counted only after the first token: no branch.)
#[inline(always)]
fn separate(out: &mut [u8], o: usize) -> usize {
    out[o] = b' ';
    o + usize::from(o != 0)
}

/// The first set bit of `mask` at or after `at`, or [`WINDOW`].
#[inline(always)]
fn first_at(mask: u64, at: usize) -> usize {
    match mask.checked_shr(at as u32).unwrap_or(0) {
        0 => WINDOW,
        rest => at + rest.trailing_zeros() as usize,
    }
}

/// Copy a message's last window (`bytes`, under [`WINDOW`]) to the start of `buf`, 16
/// bytes at a time where it can: the classification then reads each block as it was
/// stored (a 16-byte load over parts of two smaller stores waits for both).
#[inline(always)]
fn copy_tail(buf: &mut [u8; BUF], bytes: &[u8]) {
    let mut blocks = bytes.chunks_exact(16);
    let mut at = 0;
    for block in &mut blocks {
        buf[at..at + 16].copy_from_slice(block);
        at += 16;
    }
    let rest = blocks.remainder();
    buf[at..at + rest.len()].copy_from_slice(rest);
}

/// Write the token at `p..p + len` of the window (`buf`, classes `c`) at `out[o..]`,
/// separated by a space from any earlier token; returns the new output length.
#[inline(always)]
fn write_token(
    buf: &[u8; BUF],
    c: &Classes,
    p: usize,
    len: usize,
    out: &mut [u8],
    o: usize,
) -> usize {
    // The token ends before a space in the window: every bit position here is below 64.
    debug_assert!(p + len < WINDOW);
    let token = span(p, p + len);
    // `key=value` with a well-formed key: the key and `=` are kept, the value is masked on
    // its own merits. Else the whole token is the value.
    let eqs = c.eq & token;
    let eq = eqs.trailing_zeros() as usize % WINDOW;
    let keyed = eqs != 0 && eq > p && c.not_key & span(p, eq) == 0;
    let keep = if keyed { eq + 1 - p } else { 0 };
    let value = token & !span(0, p + keep);
    let variable = is_variable_by(c.digit & value != 0, c.not_hex & value == 0, len - keep);
    let o = separate(out, o);
    out[o..o + 32].copy_from_slice(&buf[p..p + 32]);
    if len > 32 {
        out[o..o + len].copy_from_slice(&buf[p..p + len]);
    }
    // The value's first 8 bytes: `<*>` and scratch, or what they were.
    let at = o + keep;
    let own = u64::from_le_bytes(buf[p + keep..p + keep + 8].try_into().expect("8 bytes"));
    let word = if variable { WILD_WORD } else { own };
    out[at..at + 8].copy_from_slice(&word.to_le_bytes());
    if variable {
        at + WILDCARD.len()
    } else {
        o + len
    }
}

/// [`WILDCARD`] in the low bytes of a word.
const WILD_WORD: u64 = {
    let w = WILDCARD.as_bytes();
    let mut b = [0u8; 8];
    let mut k = 0;
    while k < w.len() {
        b[k] = w[k];
        k += 1;
    }
    u64::from_le_bytes(b)
};

/// The first non-space at or after `p`, or [`WINDOW`].
#[inline(always)]
fn next_start(space: u64, p: usize) -> usize {
    first_at(!space, p)
}

/// Bits `0..n` set (`n <= 64`).
#[inline(always)]
fn below(n: usize) -> u64 {
    1u64.checked_shl(n as u32).unwrap_or(0).wrapping_sub(1)
}

/// Bits `start..end` set (`start, end < 64`; none when `end <= start`).
#[inline(always)]
fn span(start: usize, end: usize) -> u64 {
    debug_assert!(start < WINDOW && end < WINDOW);
    ((1u64 << end) - 1) & !((1u64 << start) - 1)
}

/// The classes of a window's 64 bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify(w: &[u8; WINDOW]) -> Classes {
    use std::arch::x86_64::*;
    let mut c = Classes::NONE;
    // SAFETY (every block below): SSE2 is part of the x86_64 baseline, so these
    // intrinsics exist on every x86_64 CPU; a load reads bytes `16 k..16 k + 16` of the
    // 64-byte array (unaligned loads are allowed).
    let load = |k: usize| unsafe { _mm_loadu_si128(w.as_ptr().add(16 * k).cast()) };
    let splat = |b: u8| unsafe { _mm_set1_epi8(b as i8) };
    // `x <= k` for unsigned bytes: min(x, k) == x.
    let le = |x: __m128i, k: u8| unsafe { _mm_cmpeq_epi8(_mm_min_epu8(x, splat(k)), x) };
    let is = |v: __m128i, b: u8| unsafe { _mm_cmpeq_epi8(v, splat(b)) };
    let mask = |m: __m128i| u64::from(unsafe { _mm_movemask_epi8(m) } as u16);
    let or = |a: __m128i, b: __m128i| unsafe { _mm_or_si128(a, b) };
    let sub = |v: __m128i, b: u8| unsafe { _mm_sub_epi8(v, splat(b)) };
    for k in 0..WINDOW / 16 {
        let v = load(k);
        let digit = le(sub(v, b'0'), 9);
        let letter_af = le(sub(or(v, splat(0x20)), b'a'), b'f' - b'a');
        let shift = 16 * k;
        c.space |= mask(or(is(v, b' '), is(v, b'\t'))) << shift;
        c.quote |= mask(is(v, b'"')) << shift;
        c.eq |= mask(is(v, b'=')) << shift;
        c.digit |= mask(digit) << shift;
        c.not_hex |= (mask(or(digit, letter_af)) ^ 0xffff) << shift;
    }
    // Key characters matter only before an `=`: most windows of free text have none.
    if c.eq != 0 {
        c.not_key = not_key(w);
    }
    c
}

/// The bytes of a window that are no key characters (`A-Za-z0-9_.-`).
#[cfg(target_arch = "x86_64")]
#[inline]
fn not_key(w: &[u8; WINDOW]) -> u64 {
    use std::arch::x86_64::*;
    let mut not_key = 0;
    for k in 0..WINDOW / 16 {
        // SAFETY: SSE2 is part of the x86_64 baseline; the load reads bytes
        // `16 k..16 k + 16` of the 64-byte array (unaligned loads are allowed).
        let m = unsafe {
            let v = _mm_loadu_si128(w.as_ptr().add(16 * k).cast());
            let splat = |b: u8| _mm_set1_epi8(b as i8);
            let le = |x: __m128i, k: u8| _mm_cmpeq_epi8(_mm_min_epu8(x, splat(k)), x);
            let digit = le(_mm_sub_epi8(v, splat(b'0')), 9);
            let letter = le(
                _mm_sub_epi8(_mm_or_si128(v, splat(0x20)), splat(b'a')),
                b'z' - b'a',
            );
            // `-` and `.` are neighbours (0x2d, 0x2e).
            let punct = _mm_or_si128(
                le(_mm_sub_epi8(v, splat(b'-')), 1),
                _mm_cmpeq_epi8(v, splat(b'_')),
            );
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(digit, letter), punct)) as u16
        };
        not_key |= u64::from(m ^ 0xffff) << (16 * k);
    }
    not_key
}

#[cfg(not(target_arch = "x86_64"))]
fn not_key(w: &[u8; WINDOW]) -> u64 {
    not_key_bytewise(w)
}

/// [`not_key`] a byte at a time.
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
fn not_key_bytewise(w: &[u8; WINDOW]) -> u64 {
    w.iter()
        .enumerate()
        .fold(0, |m, (i, &b)| m | u64::from(!is_key_byte(b)) << i)
}

#[cfg(not(target_arch = "x86_64"))]
use classify_bytewise as classify;

/// The same as the x86_64 version, a byte at a time (other targets; the tests hold the
/// SSE2 version to it).
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
fn classify_bytewise(w: &[u8; WINDOW]) -> Classes {
    let mut c = Classes::NONE;
    for (i, &b) in w.iter().enumerate() {
        let bit = 1u64 << i;
        let set = |m: &mut u64, yes: bool| *m |= if yes { bit } else { 0 };
        set(&mut c.space, b == b' ' || b == b'\t');
        set(&mut c.quote, b == b'"');
        set(&mut c.eq, b == b'=');
        set(&mut c.digit, b.is_ascii_digit());
        set(&mut c.not_hex, !b.is_ascii_hexdigit());
    }
    if c.eq != 0 {
        c.not_key = not_key_bytewise(w);
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
            assert_eq!(not_key(&w), not_key_bytewise(&w));
        }
    }
}
