//! `/proc/sys/net/ipv4/ip_local_port_range`: the ephemeral port range of outgoing
//! connections.
//!
//! ```text
//! content = WS* low WS+ high WS*      ; the kernel writes "32768\t60999\n"
//! ```
//!
//! Traps handled:
//! - The separator is a TAB in the file but spaces in pastes and `sysctl` output: any ASCII
//!   whitespace splits; a trailing newline (or CRLF) is ignored.
//! - The kernel accepts only `1 <= low <= high <= 65535`: anything else (a reversed range,
//!   port 0, a third number, a sign) is an error, not a guess.
//! - [`PortRange::count`] is inclusive: the default gives 28,232 ports per
//!   (source IP, destination IP, destination port) tuple, the TIME_WAIT exhaustion budget.
//!
//! ```
//! use coroner_parse::formats::port_range::{self, PortRange};
//! let r = port_range::parse(b"32768\t60999\n").unwrap();
//! assert_eq!(r, PortRange { low: 32768, high: 60999 });
//! assert_eq!(r.count(), 28_232);
//! assert!(port_range::parse(b"60999 32768").is_err());
//! ```

use super::sockets::{next_token, parse_u64};
use crate::error::ParseError;

/// An inclusive port range, `low <= high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    pub low: u16,
    pub high: u16,
}

impl PortRange {
    /// How many ports the range holds (both ends included).
    pub const fn count(self) -> u32 {
        self.high as u32 - self.low as u32 + 1
    }
}

/// The whole content of `ip_local_port_range` (or one line holding it).
pub fn parse(content: &[u8]) -> Result<PortRange, ParseError> {
    const PORT: &str = "a port number from 1 to 65535";
    let mut pos = 0;
    let port = |pos: &mut usize| -> Result<(usize, u16), ParseError> {
        let at = *pos;
        let (start, tok) = next_token(content, pos).ok_or(ParseError::new(PORT, at))?;
        parse_u64(tok)
            .and_then(|n| u16::try_from(n).ok())
            .filter(|&p| p != 0)
            .map(|p| (start, p))
            .ok_or(ParseError::new(PORT, start))
    };
    let (_, low) = port(&mut pos)?;
    let (high_at, high) = port(&mut pos)?;
    if let Some((at, _)) = next_token(content, &mut pos) {
        return Err(ParseError::new("the end after two port numbers", at));
    }
    if low > high {
        return Err(ParseError::new(
            "a high port not below the low one",
            high_at,
        ));
    }
    Ok(PortRange { low, high })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_counts() {
        for (text, low, high, count) in [
            (&b"32768\t60999\n"[..], 32768, 60999, 28_232),
            (b"1024 65535", 1024, 65535, 64_512),
            (b"  10000   65000\r\n", 10000, 65000, 55_001),
            (b"40000\t40000", 40000, 40000, 1),
            (b"1\t65535\n", 1, 65535, 65_535),
        ] {
            let r = parse(text).unwrap();
            assert_eq!((r.low, r.high, r.count()), (low, high, count));
        }
    }

    #[test]
    fn errors() {
        for (text, at) in [
            (&b""[..], 0),
            (b"32768", 5),
            (b"32768\t", 5),
            (b"60999\t32768", 6),
            (b"0 60999", 0),
            (b"32768 65536", 6),
            (b"-1 60999", 0),
            (b"+1 60999", 0),
            (b"32768 60999 1", 12),
            (b"32768\t60999x", 6),
            (b"99999999999999999999999 1", 0),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.at, at, "{e} for {:?}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn never_panics() {
        use proptest::prelude::*;
        let f = b"32768\t60999\n";
        for i in 0..=f.len() {
            let _ = parse(&f[..i]);
            let _ = parse(&f[i..]);
        }
        proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..64))| {
            if let Ok(r) = parse(&bytes) {
                prop_assert!(r.low >= 1 && r.low <= r.high && r.count() >= 1);
            }
        });
        proptest!(|(s in " *[0-9]{1,6}[ \t]+[0-9]{1,6} *\n?")| {
            if let Ok(r) = parse(s.as_bytes()) {
                prop_assert!(r.low >= 1 && r.low <= r.high);
            }
        });
    }
}
