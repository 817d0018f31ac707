//! The distinct seconds a source has records in, for the silence rule: a bitmap of
//! 1,024-second pages, so noting a record's second is setting one bit, in any order, and
//! merging chunks is OR-ing pages.
//!
//! Most records fall in the page of the record before them (a page is 17 minutes), so the
//! current page is kept outside the map and the map is touched when the page changes.
//! Logs are not in time order line by line (a request is logged when it ends, stamped when
//! it began; the real apache log of the tests steps back on every other line), which is why
//! this is a bitmap and not a list: the list had to be sorted, and that sort was the biggest
//! cost of the findings.
//!
//! Bounded: at most [`MAX_PAGES`] pages (about two years of records at least every 17
//! minutes, 9 MiB); a source past that is *full* and keeps no seconds, whatever the order of
//! its chunks (a union only grows, so every chunking reaches the cap or none does).
//!
//! ```
//! use coroner_analyze::second_set::SecondSet;
//! let (mut a, mut b) = (SecondSet::default(), SecondSet::default());
//! for s in [5, 3, 3, 9] { a.push(s); }
//! for s in [4, 9, 1, -2000] { b.push(s); }
//! a.merge(b);
//! assert_eq!(a.len(), 6);
//! assert_eq!(a.iter().collect::<Vec<_>>(), vec![-2000, 1, 3, 4, 5, 9]);
//! ```

use std::collections::HashMap;

/// Seconds per page, as a power of two.
const PAGE_BITS: u32 = 10;
/// Words of one page's bitmap.
const WORDS: usize = (1 << PAGE_BITS) / 64;
/// Pages kept per source before it counts as full.
pub const MAX_PAGES: usize = 1 << 16;

type Page = [u64; WORDS];

/// See the module docs.
#[derive(Clone, Debug, Default)]
pub struct SecondSet {
    /// Page number (`second >> 10`, so negative seconds floor) to its bits.
    pages: HashMap<i64, Page, foldhash::fast::FixedState>,
    /// The page the last seconds fell in, not yet OR-ed into `pages` (all zero: none).
    current: Page,
    current_page: i64,
    /// More than [`MAX_PAGES`] pages were seen: nothing is kept.
    full: bool,
}

/// Equal when they hold the same seconds (or are both full).
impl PartialEq for SecondSet {
    fn eq(&self, other: &SecondSet) -> bool {
        self.full == other.full && self.iter().eq(other.iter())
    }
}

impl Eq for SecondSet {}

impl SecondSet {
    /// Note a second.
    #[inline]
    pub fn push(&mut self, s: i64) {
        let page = s >> PAGE_BITS;
        if page != self.current_page {
            self.turn_page(page);
        }
        let bit = (s & ((1 << PAGE_BITS) - 1)) as usize;
        self.current[bit / 64] |= 1 << (bit % 64);
    }

    /// Once per page of seconds (about 17 minutes of a log), so kept out of the inlined
    /// [`SecondSet::push`].
    #[cold]
    #[inline(never)]
    fn turn_page(&mut self, page: i64) {
        self.settle();
        self.current_page = page;
    }

    /// Move the current page into the map (readers and merges call it).
    pub fn settle(&mut self) {
        if self.current != [0; WORDS] {
            let page = std::mem::replace(&mut self.current, [0; WORDS]);
            self.or_page(self.current_page, &page);
        }
    }

    fn or_page(&mut self, at: i64, page: &Page) {
        if self.full {
            return;
        }
        or_into(self.pages.entry(at).or_insert([0; WORDS]), page);
        if self.pages.len() > MAX_PAGES {
            self.full = true;
            self.pages = HashMap::default();
        }
    }

    /// Add another part of the same source (any order: a union).
    pub fn merge(&mut self, mut other: SecondSet) {
        self.settle();
        other.settle();
        if other.full {
            self.full = true;
            self.pages = HashMap::default();
        }
        for (at, page) in &other.pages {
            self.or_page(*at, page);
        }
    }

    /// The set passed [`MAX_PAGES`] and was dropped.
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// Distinct seconds held.
    pub fn len(&self) -> usize {
        self.sorted_pages()
            .iter()
            .map(|(_, p)| p.iter().map(|w| w.count_ones() as usize).sum::<usize>())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        // Pages hold at least one bit (only non-zero pages are OR-ed in), and a full set
        // holds none.
        self.full || (self.pages.is_empty() && self.current == [0; WORDS])
    }

    /// The seconds, ascending.
    pub fn iter(&self) -> impl Iterator<Item = i64> + Clone + use<> {
        self.sorted_pages().into_iter().flat_map(|(at, page)| {
            (0..WORDS).flat_map(move |i| {
                let base = (at << PAGE_BITS) + 64 * i as i64;
                Bits(page[i]).map(move |b| base + i64::from(b))
            })
        })
    }

    /// Pages in order, the current one OR-ed in.
    fn sorted_pages(&self) -> Vec<(i64, Page)> {
        if self.full {
            return Vec::new();
        }
        let mut pages: Vec<(i64, Page)> = self.pages.iter().map(|(a, p)| (*a, *p)).collect();
        pages.sort_unstable_by_key(|(a, _)| *a);
        if self.current != [0; WORDS] {
            match pages.binary_search_by_key(&self.current_page, |(a, _)| *a) {
                Ok(i) => or_into(&mut pages[i].1, &self.current),
                Err(i) => pages.insert(i, (self.current_page, self.current)),
            }
        }
        pages
    }
}

/// `held |= page`, word by word.
fn or_into(held: &mut Page, page: &Page) {
    for (h, w) in held.iter_mut().zip(page) {
        *h |= w;
    }
}

/// The set bits of a word, lowest first.
#[derive(Clone)]
struct Bits(u64);

impl Iterator for Bits {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        if self.0 == 0 {
            return None;
        }
        let b = self.0.trailing_zeros();
        self.0 &= self.0 - 1;
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Seconds in any order, cut into chunks anywhere, merged in any order: the sorted
        /// distinct seconds, as one sort of everything gives.
        #[test]
        fn any_chunking_and_merge_order_gives_the_sorted_distinct_seconds(
            secs in proptest::collection::vec(-5000i64..5000, 0..400),
            cuts in proptest::collection::vec(0usize..400, 0..12),
            reverse: bool,
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(secs.len())).collect();
            cuts.push(0);
            cuts.push(secs.len());
            cuts.sort_unstable();
            let mut parts: Vec<SecondSet> = cuts
                .windows(2)
                .map(|w| {
                    let mut part = SecondSet::default();
                    for &s in &secs[w[0]..w[1]] {
                        part.push(s);
                    }
                    part
                })
                .collect();
            if reverse {
                parts.reverse();
            }
            let mut merged = SecondSet::default();
            for part in parts {
                merged.merge(part);
            }
            let mut want = secs.clone();
            want.sort_unstable();
            want.dedup();
            prop_assert_eq!(merged.len(), want.len());
            prop_assert_eq!(merged.is_empty(), want.is_empty());
            prop_assert_eq!(merged.iter().collect::<Vec<_>>(), want);
        }
    }

    #[test]
    fn pages_floor_negative_seconds_and_span_the_i64_range() {
        let mut s = SecondSet::default();
        for x in [i64::MIN, -1025, -1024, -1, 0, 1023, 1024, i64::MAX] {
            s.push(x);
        }
        s.push(0);
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![i64::MIN, -1025, -1024, -1, 0, 1023, 1024, i64::MAX]
        );
    }

    #[test]
    fn the_cap_is_reached_by_every_chunking_or_none() {
        // One second in each of MAX_PAGES + 1 pages: full, whether seen at once or in two
        // halves merged either way; one page fewer is not.
        let secs = |n: usize| (0..n as i64).map(|p| p << PAGE_BITS);
        let mut whole = SecondSet::default();
        secs(MAX_PAGES + 1).for_each(|s| whole.push(s));
        whole.settle();
        assert!(whole.is_full());
        assert_eq!(whole.len(), 0);
        assert!(whole.is_empty());
        let (mut a, mut b) = (SecondSet::default(), SecondSet::default());
        secs(MAX_PAGES + 1).enumerate().for_each(
            |(i, s)| {
                if i % 2 == 0 { a.push(s) } else { b.push(s) }
            },
        );
        a.merge(b);
        assert!(a.is_full());
        let mut under = SecondSet::default();
        secs(MAX_PAGES).for_each(|s| under.push(s));
        under.settle();
        assert!(!under.is_full());
        assert_eq!(under.len(), MAX_PAGES);
    }
}
