//! The distinct seconds a source has records in, gathered per chunk and merged, for the
//! silence rule: a mergeable set of `i64` whose cost stays near linear for the logs we see
//! and `O(n log n)` for any order.
//!
//! A chunk pushes seconds in arrival order (repeats of the last one are skipped) and
//! [`SecondSet::settle`] sorts them at the chunk's end, in the worker. Merging keeps a short
//! stack of sorted runs, each at least twice the size of the one above it (the merge pattern
//! of a binary counter): a run that starts after the top run ends, the usual case for a
//! time-ordered log read in order, is appended; otherwise runs are merged, so every second
//! takes part in `O(log n)` merges whatever the order of chunks or lines. The serial end of
//! the run then only unions a few runs, where it used to sort every record's second.
//!
//! ```
//! use coroner_analyze::second_set::SecondSet;
//! let (mut a, mut b) = (SecondSet::default(), SecondSet::default());
//! for s in [5, 3, 3, 9] { a.push(s); }
//! for s in [4, 9, 1] { b.push(s); }
//! a.settle();
//! b.settle();
//! a.merge(b);
//! assert_eq!(a.into_sorted(), vec![1, 3, 4, 5, 9]);
//! ```

/// See the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecondSet {
    /// Pushed since the last settle, in arrival order.
    pending: Vec<i64>,
    /// Sorted, duplicate-free runs; each at least twice as long as the next (except after
    /// appends, which only make a lower run longer).
    runs: Vec<Vec<i64>>,
}

impl SecondSet {
    /// Note a second; a repeat of the previous one costs a compare. (Also skipping repeats
    /// of the last 8 distinct seconds was tried: on the real apache log, whose neighbouring
    /// lines are seldom in the same second, it cost more than it saved.)
    #[inline]
    pub fn push(&mut self, s: i64) {
        if self.pending.last() != Some(&s) {
            self.pending.push(s);
        }
    }

    /// Seconds pushed since the last settle.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Seconds held, repeats across runs counted once per run (an upper bound of the set's
    /// size, for caps).
    pub fn stored(&self) -> usize {
        self.pending.len() + self.runs.iter().map(Vec::len).sum::<usize>()
    }

    /// Sort what was pushed since the last call into a run.
    pub fn settle(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut run = std::mem::take(&mut self.pending);
        if !run.is_sorted() {
            run.sort_unstable();
        }
        run.dedup();
        self.add_run(run);
    }

    /// Add a later part of the same source.
    pub fn merge(&mut self, mut later: SecondSet) {
        self.settle();
        later.settle();
        // Lowest (largest) runs first, as they would have been built in one pass.
        for run in later.runs {
            self.add_run(run);
        }
    }

    /// The set, sorted.
    pub fn into_sorted(mut self) -> Vec<i64> {
        self.settle();
        let mut runs = self.runs.into_iter().rev();
        let first = runs.next().unwrap_or_default();
        runs.fold(first, |above, below| union_sorted(below, above))
    }

    /// Collapse the runs into one and return how many distinct seconds there are.
    pub fn compact(&mut self) -> usize {
        let all = std::mem::take(self).into_sorted();
        let n = all.len();
        if n > 0 {
            self.runs.push(all);
        }
        n
    }

    fn add_run(&mut self, mut run: Vec<i64>) {
        if run.is_empty() {
            return;
        }
        if let Some(top) = self.runs.last_mut()
            && top.last() < run.first()
        {
            top.extend_from_slice(&run);
            return;
        }
        while let Some(top) = self.runs.last()
            && top.len() <= 2 * run.len()
        {
            let top = self.runs.pop().expect("checked");
            run = union_sorted(top, run);
        }
        self.runs.push(run);
    }
}

/// The sorted, duplicate-free union of two sorted, duplicate-free lists.
fn union_sorted(a: Vec<i64>, b: Vec<i64>) -> Vec<i64> {
    if b.is_empty() {
        return a;
    }
    if a.is_empty() {
        return b;
    }
    if a.last() < b.first() {
        let mut a = a;
        a.extend_from_slice(&b);
        return a;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn union_sorted_is_the_set_union(
            a in proptest::collection::btree_set(-50i64..50, 0..40),
            b in proptest::collection::btree_set(-50i64..50, 0..40),
        ) {
            let want: Vec<i64> = a.union(&b).copied().collect();
            prop_assert_eq!(union_sorted(a.into_iter().collect(), b.into_iter().collect()), want);
        }

        /// Seconds in any order, cut into chunks anywhere, each settled and merged in order:
        /// the sorted distinct seconds, as one sort of everything gives.
        #[test]
        fn any_chunking_gives_the_sorted_distinct_seconds(
            secs in proptest::collection::vec(0i64..200, 0..400),
            cuts in proptest::collection::vec(0usize..400, 0..12),
            compact_at in proptest::option::of(0usize..12),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(secs.len())).collect();
            cuts.push(0);
            cuts.push(secs.len());
            cuts.sort_unstable();
            let mut merged = SecondSet::default();
            for (i, w) in cuts.windows(2).enumerate() {
                let mut part = SecondSet::default();
                for &s in &secs[w[0]..w[1]] {
                    part.push(s);
                }
                part.settle();
                merged.merge(part);
                if compact_at == Some(i) {
                    merged.compact();
                }
                // The stack stays short: sizes at least halve going up, appends aside.
                prop_assert!(merged.runs.len() <= 2 + (secs.len() + 1).ilog2() as usize * 2);
            }
            let mut want = secs.clone();
            want.sort_unstable();
            want.dedup();
            prop_assert_eq!(merged.into_sorted(), want);
        }
    }

    #[test]
    fn a_time_ordered_log_stays_one_run() {
        let mut all = SecondSet::default();
        for chunk in 0..100 {
            let mut part = SecondSet::default();
            for s in chunk * 10..chunk * 10 + 10 {
                part.push(s);
                part.push(s);
            }
            part.settle();
            all.merge(part);
        }
        assert_eq!(all.runs.len(), 1);
        assert_eq!(all.stored(), 1000);
    }
}
