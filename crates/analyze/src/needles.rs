//! The literal phrases the incident analyses look for in messages (burst signatures,
//! finding wordings, socket-end markers), searched once per record by one automaton.
//!
//! Almost no record contains any of them, so the common path is a single `is_match` over
//! the message (a SIMD prefilter); only a record that matches pays for finding which
//! phrases it holds. The result is a bit set, so each analysis tests its own phrases by id.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// At most this many phrases (one bit each in [`Hits`]).
pub const MAX_NEEDLES: usize = 128;

/// Which phrases a message contains: bit `i` for phrase id `i`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hits(pub u128);

impl Hits {
    #[inline]
    pub fn has(self, id: usize) -> bool {
        id < MAX_NEEDLES && self.0 & (1u128 << id) != 0
    }

    #[inline]
    pub fn any(self) -> bool {
        self.0 != 0
    }

    /// The ids present, in order.
    pub fn ids(self) -> impl Iterator<Item = usize> {
        (0..MAX_NEEDLES).filter(move |&i| self.has(i))
    }
}

/// A set of case-sensitive literal phrases.
#[derive(Clone, Debug)]
pub struct Needles {
    phrases: Vec<String>,
    /// Leftmost-first: the semantics under which aho-corasick can use its SIMD (Teddy)
    /// prefilter. Measured: the standard-semantics automaton that can report overlapping
    /// matches ran a byte-at-a-time search and took a third of a full analyze pass on an
    /// access log. It only answers "any phrase here?"; the rare record that has one is then
    /// checked phrase by phrase.
    automaton: Option<AhoCorasick>,
    finders: Vec<memchr::memmem::Finder<'static>>,
}

impl Needles {
    /// Builds the set. Empty phrases and phrases past [`MAX_NEEDLES`] are never found.
    pub fn new(phrases: Vec<String>) -> Needles {
        let usable: Vec<&str> = phrases
            .iter()
            .take(MAX_NEEDLES)
            .map(|p| if p.is_empty() { "\0\0never\0\0" } else { p })
            .collect();
        let automaton = (!usable.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build(&usable)
                .expect("literal phrases always build")
        });
        let finders = usable
            .iter()
            .map(|p| memchr::memmem::Finder::new(p.as_bytes()).into_owned())
            .collect();
        Needles {
            phrases,
            automaton,
            finders,
        }
    }

    pub fn phrase(&self, id: usize) -> &str {
        &self.phrases[id]
    }

    pub fn len(&self) -> usize {
        self.phrases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    /// The phrases `message` contains.
    #[inline]
    pub fn scan(&self, message: &[u8]) -> Hits {
        let Some(ac) = &self.automaton else {
            return Hits(0);
        };
        if !ac.is_match(message) {
            return Hits(0);
        }
        let mut bits = 0u128;
        for (i, f) in self.finders.iter().enumerate() {
            if f.find(message).is_some() {
                bits |= 1u128 << i;
            }
        }
        Hits(bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_phrase_a_message_holds_even_overlapping() {
        let n = Needles::new(vec![
            "context canceled".into(),
            "canceled".into(),
            "reset by peer".into(),
        ]);
        let h = n.scan(b"http: proxy error: context canceled");
        assert_eq!(h.ids().collect::<Vec<_>>(), vec![0, 1]);
        assert!(!n.scan(b"all fine").any());
        // Naive reference: substring search per phrase.
        for msg in [&b"reset by peer, context canceled"[..], b"cancel", b""] {
            let want: Vec<usize> = (0..n.len())
                .filter(|&i| memchr::memmem::find(msg, n.phrase(i).as_bytes()).is_some())
                .collect();
            assert_eq!(n.scan(msg).ids().collect::<Vec<_>>(), want);
        }
        assert!(!Needles::new(vec![]).scan(b"x").any());
        assert!(!Needles::new(vec![String::new()]).scan(b"x").any());
    }
}
