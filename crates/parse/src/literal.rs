//! Fixed strings searched for in every record, each with its searcher built once.
//!
//! `memchr::memmem::find(hay, b"...")` builds a new searcher on every call, which costs
//! about a thousand instructions: more than the search itself on a log line, and it showed
//! in the profile (half a million calls per 0.25 GB bundle). A [`Literal`] is a `static`
//! whose searchers are built on first use and shared by every thread.
//!
//! ```
//! use coroner_parse::literal::Literal;
//!
//! static CLIENT: Literal = Literal::new(b", client: ");
//! let line = b"connect() failed (111: Connection refused), client: 192.0.2.7";
//! assert_eq!(CLIENT.find(line), Some(42));
//! assert!(!CLIENT.contains(b"no client here"));
//! ```

use std::sync::OnceLock;

use memchr::memmem::{Finder, FinderRev};

/// A needle with its forward and reverse searchers, built when first used.
pub struct Literal {
    needle: &'static [u8],
    forward: OnceLock<Finder<'static>>,
    reverse: OnceLock<FinderRev<'static>>,
}

impl Literal {
    pub const fn new(needle: &'static [u8]) -> Literal {
        Literal {
            needle,
            forward: OnceLock::new(),
            reverse: OnceLock::new(),
        }
    }

    /// The needle's bytes.
    pub fn bytes(&self) -> &'static [u8] {
        self.needle
    }

    /// Offset of the first occurrence in `hay`.
    #[inline]
    pub fn find(&self, hay: &[u8]) -> Option<usize> {
        self.forward
            .get_or_init(|| Finder::new(self.needle))
            .find(hay)
    }

    /// Offset of the last occurrence in `hay`.
    #[inline]
    pub fn rfind(&self, hay: &[u8]) -> Option<usize> {
        self.reverse
            .get_or_init(|| FinderRev::new(self.needle))
            .rfind(hay)
    }

    /// Offsets of the non-overlapping occurrences in `hay`, first to last.
    #[inline]
    pub fn find_iter<'h>(&self, hay: &'h [u8]) -> memchr::memmem::FindIter<'h, '_> {
        self.forward
            .get_or_init(|| Finder::new(self.needle))
            .find_iter(hay)
    }

    #[inline]
    pub fn contains(&self, hay: &[u8]) -> bool {
        self.find(hay).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static NEEDLE: Literal = Literal::new(b"ab");

    /// Same answers as memmem's one-shot functions, including the edges.
    #[test]
    fn agrees_with_memmem() {
        for hay in [&b""[..], b"a", b"ab", b"xab", b"abab", b"aabb", b"ba"] {
            assert_eq!(
                NEEDLE.find(hay),
                memchr::memmem::find(hay, b"ab"),
                "{hay:?}"
            );
            assert_eq!(
                NEEDLE.rfind(hay),
                memchr::memmem::rfind(hay, b"ab"),
                "{hay:?}"
            );
            assert!(
                NEEDLE
                    .find_iter(hay)
                    .eq(memchr::memmem::find_iter(hay, b"ab")),
                "{hay:?}"
            );
        }
    }
}
