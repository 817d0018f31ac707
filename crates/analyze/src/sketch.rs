//! A mergeable quantile sketch for latencies (DDSketch-style log buckets).
//!
//! Each value `x` (milliseconds) above [`ZERO_MAX`] counts in the bin
//! `i = ceil(ln(x) / ln(gamma))` with `gamma = (1 + alpha) / (1 - alpha)`, [`ALPHA`] = 0.01;
//! bin `i` holds the values in `(gamma^(i-1), gamma^i]` and reports them as
//! `2 * gamma^i / (gamma + 1)`, which lies within `alpha * x` of every `x` of the bin.
//!
//! **Guarantee.** [`QuantileSketch::quantile`] uses the nearest rank (`rank = ceil(q * n)`,
//! 1-based, at least 1). The bins are ordered like the values, so the rank-th value `x` of the
//! sorted input falls in the bin the estimate is read from, and for every `q` in `[0, 1]`:
//! `|estimate - x| <= alpha * x` for `x` in `(ZERO_MAX, MAX_VALUE]`. A value in the zero bin
//! (`x <= ZERO_MAX` = 1e-3 ms) is reported as 0, so there the error is at most 1e-3 ms.
//! Values above [`MAX_VALUE`] (1e10 ms, 115 days) are clamped into the top bin and reported
//! as about 1e10.
//!
//! **Input.** NaN and infinities are ignored (not counted). Zero, negative values (a clock
//! step during a request) and values up to 1e-3 ms count in the zero bin.
//!
//! **Exact merging.** A sketch is its bin counts; [`QuantileSketch::merge`] adds them. Any
//! split of the input into parts, sketched and merged in any order or grouping, gives a sketch
//! equal (`==`) to the one of a single pass, hence identical quantiles.
//!
//! **Memory.** Bins are stored sparsely (only those that hold a value), sorted by index, 16
//! bytes each while a sketch is filled or merged. Indexes are clamped to
//! [`MIN_INDEX`]`..=`[`MAX_INDEX`], so a sketch never holds more than [`MAX_BINS`] = 1498
//! bins: at most 23,968 bytes of bins, plus 72 bytes inline. An empty sketch allocates
//! nothing. At rest (after a merge, or [`QuantileSketch::compact`]) the bins are *packed*:
//! each as the gap to the previous index and its count, two LEB128 varints, about 2-3 bytes
//! a bin instead of 16. A timeline of a 50 GB bundle holds 130,000 bucket sketches of ~200
//! bins each: 412 MB unpacked (heaptrack), a fifth of that packed.
//!
//! **Filling fast.** Finding a value's bin among the sparse ones is a binary search, whose
//! mispredicted branches were most of the timeline's cost on an nginx log (perf). A sketch
//! that passes [`DENSE_AT`] bins while being filled switches to a dense array, one count
//! per possible bin (11,984 bytes), where adding is one increment;
//! [`QuantileSketch::compact`] turns it into packed bins (the timeline does so when a bucket
//! stops being filled), and every reader and [`QuantileSketch::merge`] sees the same bins in
//! any form.

/// Relative accuracy of every quantile above the zero bin.
pub const ALPHA: f64 = 0.01;
/// `(1 + ALPHA) / (1 - ALPHA)`.
pub const GAMMA: f64 = (1.0 + ALPHA) / (1.0 - ALPHA);
/// Values at or below this (ms) count in the zero bin and are reported as 0.
pub const ZERO_MAX: f64 = 1e-3;
/// Largest value (ms) the accuracy guarantee covers; larger values go to the top bin.
pub const MAX_VALUE: f64 = 1e10;
/// Index of the smallest values above [`ZERO_MAX`]: `ceil(ln(1e-3) / ln(gamma))`.
pub const MIN_INDEX: i32 = -345;
/// Index of [`MAX_VALUE`]: `ceil(ln(1e10) / ln(gamma))`.
pub const MAX_INDEX: i32 = 1152;
/// Upper bound on the number of stored bins.
pub const MAX_BINS: usize = (MAX_INDEX - MIN_INDEX + 1) as usize;

/// Sparse bins a sketch holds before it switches to the dense form while being filled.
pub const DENSE_AT: usize = 64;

/// Latency quantiles of a set of values; see the module documentation.
#[derive(Clone, Debug, Default)]
pub struct QuantileSketch {
    /// `(index, count)`, sorted by index, counts > 0. Empty while `dense` or `packed` holds
    /// the bins (one of the three holds them all).
    bins: Vec<(i32, u64)>,
    /// The dense form: the count of bin `i` at `i - MIN_INDEX` (see the module docs).
    dense: Option<Box<[u64]>>,
    /// The packed form, at rest: per bin, `index - previous index` (the first from
    /// `MIN_INDEX - 1`) and the count, as LEB128 varints.
    packed: Option<Box<[u8]>>,
    /// Values at or below [`ZERO_MAX`].
    zero: u64,
    /// All counted values (zero bin included).
    count: u64,
}

impl QuantileSketch {
    pub fn new() -> Self {
        Self::default()
    }

    /// The bin of a finite value above [`ZERO_MAX`].
    #[inline]
    fn index(x: f64) -> i32 {
        let i = (x.ln() / GAMMA.ln()).ceil();
        // `as` saturates; the clamp bounds the bin count.
        (i as i32).clamp(MIN_INDEX, MAX_INDEX)
    }

    /// The value a bin reports: `2 * gamma^i / (gamma + 1)`.
    #[inline]
    fn value(i: i32) -> f64 {
        2.0 * GAMMA.powi(i) / (GAMMA + 1.0)
    }

    /// Count one value (ms). NaN and infinities are ignored.
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.add_with(x, Self::index);
    }

    /// [`QuantileSketch::add`], with the bin looked up in `cache` first: the same counts.
    #[inline]
    pub fn add_cached(&mut self, x: f64, cache: &mut BinCache) {
        self.add_with(x, |x| cache.index(x));
    }

    /// Count `x`, its bin (when it has one) from `index`.
    #[inline]
    fn add_with(&mut self, x: f64, index: impl FnOnce(f64) -> i32) {
        if !x.is_finite() {
            return;
        }
        self.count += 1;
        if x <= ZERO_MAX {
            self.zero += 1;
            return;
        }
        self.count_bin(index(x));
    }

    #[inline]
    fn count_bin(&mut self, i: i32) {
        if self.packed.is_some() {
            self.unpack();
        }
        if let Some(dense) = &mut self.dense {
            // `i` is clamped to MIN_INDEX..=MAX_INDEX.
            dense[(i - MIN_INDEX) as usize] += 1;
            return;
        }
        match self.bins.binary_search_by_key(&i, |b| b.0) {
            Ok(at) => self.bins[at].1 += 1,
            Err(at) => {
                self.bins.insert(at, (i, 1));
                if self.bins.len() > DENSE_AT {
                    self.densify();
                }
            }
        }
    }

    #[cold]
    fn densify(&mut self) {
        let mut dense = vec![0u64; MAX_BINS].into_boxed_slice();
        for &(i, n) in &self.bins {
            dense[(i - MIN_INDEX) as usize] = n;
        }
        self.bins = Vec::new();
        self.dense = Some(dense);
    }

    /// To the packed form: for a sketch that is done being filled, which then holds 2-3
    /// bytes per bin instead of the dense form's 11,984 bytes or the sparse form's 16 a bin.
    pub fn compact(&mut self) {
        if self.packed.is_some() {
            return;
        }
        let out = self.packed_bytes();
        self.bins = Vec::new();
        self.dense = None;
        self.packed = (!out.is_empty()).then(|| out.into_boxed_slice());
    }

    /// The bins in the packed form (see `packed`), made from any form.
    fn packed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut previous = MIN_INDEX - 1;
        for (i, n) in self.iter_bins() {
            put_varint(&mut out, (i - previous) as u64);
            put_varint(&mut out, n);
            previous = i;
        }
        out
    }

    /// To sparse bins (from either other form), to be changed.
    fn unpack(&mut self) {
        if self.packed.is_some() || self.dense.is_some() {
            self.bins = self.iter_bins().collect();
            self.packed = None;
            self.dense = None;
        }
    }

    /// The bins, `(index, count)` ascending by index, in any form.
    fn iter_bins(&self) -> impl Iterator<Item = (i32, u64)> + '_ {
        let dense = self.dense.as_deref().into_iter().flat_map(dense_bins);
        let packed = self.packed.as_deref().into_iter().flat_map(packed_bins);
        self.bins.iter().copied().chain(dense).chain(packed)
    }

    /// Add the counts of `other`. Commutative and associative; exact.
    /// Saturating: counts read back from a damaged temporary file can be anything.
    pub fn merge(&mut self, other: &QuantileSketch) {
        self.count = self.count.saturating_add(other.count);
        self.zero = self.zero.saturating_add(other.zero);
        // A merged sketch is at rest (a bucket folded into its timeline): packed after.
        self.unpack();
        let other_bins: std::borrow::Cow<[(i32, u64)]> =
            if other.dense.is_none() && other.packed.is_none() {
                std::borrow::Cow::Borrowed(&other.bins)
            } else {
                std::borrow::Cow::Owned(other.iter_bins().collect())
            };
        if other_bins.is_empty() {
            self.compact();
            return;
        }
        if self.bins.is_empty() {
            self.bins = other_bins.into_owned();
            self.compact();
            return;
        }
        let mut out = Vec::with_capacity((self.bins.len() + other_bins.len()).min(MAX_BINS));
        let (mut a, mut b) = (self.bins.iter().peekable(), other_bins.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&&x), Some(&&y)) => match x.0.cmp(&y.0) {
                    std::cmp::Ordering::Less => {
                        a.next();
                        x
                    }
                    std::cmp::Ordering::Greater => {
                        b.next();
                        y
                    }
                    std::cmp::Ordering::Equal => {
                        a.next();
                        b.next();
                        (x.0, x.1.saturating_add(y.1))
                    }
                },
                (Some(&&x), None) => {
                    a.next();
                    x
                }
                (None, Some(&&y)) => {
                    b.next();
                    y
                }
                (None, None) => break,
            };
            out.push(next);
        }
        self.bins = out;
        self.compact();
    }

    /// How many values were counted (NaN and infinities excluded).
    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// How many bins are stored (at most [`MAX_BINS`]; the zero bin not included).
    pub fn bins(&self) -> usize {
        self.iter_bins().count()
    }

    /// The nearest-rank `q`-quantile (`rank = max(1, ceil(q * n))`): `q = 0` is the minimum,
    /// `q = 1` the maximum, each within the module's stated error. `None` for an empty sketch
    /// or `q` outside `[0, 1]` (or NaN).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        if rank <= self.zero {
            return Some(0.0);
        }
        let mut seen = self.zero;
        let mut last = None;
        for (i, n) in self.iter_bins() {
            seen += n;
            if seen >= rank {
                return Some(Self::value(i));
            }
            last = Some(i);
        }
        // Unreachable: the bins and the zero bin add up to `count`.
        last.map(Self::value)
    }
}

/// The nonzero counts of a dense form as `(index, count)`, ascending.
fn dense_bins(dense: &[u64]) -> impl Iterator<Item = (i32, u64)> + '_ {
    dense
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| (k as i32 + MIN_INDEX, *n))
}

/// LEB128: seven bits a byte, low first, the high bit set on all but the last.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The varint at `*at` (LEB128), and `*at` moved past it; `None` when the bytes end inside
/// it or it does not fit 64 bits.
fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        let low = u64::from(b & 0x7f);
        if shift == 63 && low > 1 {
            return None;
        }
        v |= low << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

/// The bins of a packed form (written by [`QuantileSketch::compact`], or checked by
/// [`QuantileSketch::decode`](crate::spill::Record::decode), so well formed).
fn packed_bins(packed: &[u8]) -> impl Iterator<Item = (i32, u64)> + '_ {
    let mut at = 0;
    let mut index = MIN_INDEX - 1;
    std::iter::from_fn(move || {
        let gap = read_varint(packed, &mut at)?;
        let n = read_varint(packed, &mut at)?;
        index = index.saturating_add(i32::try_from(gap).unwrap_or(i32::MAX));
        Some((index, n))
    })
}

/// A sketch in a spill file (a timeline's settled buckets, see [`crate::timeline`]): the
/// count, the zero bin, then the bins in the packed form. Read back, the bins are checked
/// (indexes rising within [`MIN_INDEX`]`..=`[`MAX_INDEX`], counts above zero, adding up to
/// the count): a damaged frame is refused, never made into a sketch whose quantiles lie.
impl crate::spill::Record for QuantileSketch {
    fn encode(&self, out: &mut Vec<u8>) {
        crate::spill::put_u64(out, self.count);
        crate::spill::put_u64(out, self.zero);
        let packed = match &self.packed {
            Some(packed) => std::borrow::Cow::Borrowed(&packed[..]),
            None => std::borrow::Cow::Owned(self.packed_bytes()),
        };
        out.extend_from_slice(&(packed.len() as u32).to_le_bytes());
        out.extend_from_slice(&packed);
    }

    fn decode(input: &mut crate::spill::Reader<'_>) -> Option<QuantileSketch> {
        let count = input.u64()?;
        let zero = input.u64()?;
        let len = input.u32()? as usize;
        let packed = input.bytes(len)?;
        let (mut at, mut seen, mut index) = (0, zero, MIN_INDEX - 1);
        while at < packed.len() {
            let gap = read_varint(packed, &mut at)?;
            let n = read_varint(packed, &mut at)?;
            if gap == 0 || gap > (MAX_INDEX - index) as u64 || n == 0 {
                return None;
            }
            index += gap as i32;
            seen = seen.checked_add(n)?;
        }
        (seen == count).then(|| QuantileSketch {
            count,
            zero,
            packed: (!packed.is_empty()).then(|| packed.into()),
            ..QuantileSketch::default()
        })
    }
}

/// Equal when they hold the same counts, in any form.
impl PartialEq for QuantileSketch {
    fn eq(&self, other: &QuantileSketch) -> bool {
        self.count == other.count
            && self.zero == other.zero
            && self.iter_bins().eq(other.iter_bins())
    }
}

impl Eq for QuantileSketch {}

/// Values a [`BinCache`] remembers.
const CACHE: usize = 1024;

/// The bins of recent values, so that a value seen again skips the logarithm and the
/// division of [`QuantileSketch::add`]: latencies are logged at a fixed resolution (nginx's
/// `$request_time` in milliseconds, Traefik's duration in nanoseconds rounded by the
/// reader), so a log repeats a few thousand distinct values, and perf put the logarithm at
/// a third of the timeline's cost on an nginx log. Keyed by the value's bits and compared
/// in full: the bin is the one [`QuantileSketch::add`] computes, always.
#[derive(Clone, Default)]
pub struct BinCache {
    /// `(value bits, bin)`; bits 0 (the value +0.0, which never gets a bin) is empty.
    /// Allocated at the first value (16 KiB): a source without latencies never does.
    slots: Vec<(u64, i32)>,
}

impl std::fmt::Debug for BinCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BinCache")
    }
}

impl BinCache {
    /// The bin of a finite value above [`ZERO_MAX`].
    #[inline]
    fn index(&mut self, x: f64) -> i32 {
        if self.slots.is_empty() {
            self.slots = vec![(0, 0); CACHE];
        }
        let bits = x.to_bits();
        let slot =
            (bits.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - CACHE.trailing_zeros())) as usize;
        let (held, bin) = self.slots[slot];
        if held == bits {
            return bin;
        }
        let bin = QuantileSketch::index(x);
        self.slots[slot] = (bits, bin);
        bin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: deterministic, no dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        /// Uniform in [0, 1).
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Through the cache or not, every value lands in the same bin: values repeated (the
    /// cache's hits), values sharing a slot (its evictions), and random ones.
    #[test]
    fn the_bin_cache_gives_the_computed_bin() {
        let mut rng = Rng(0x5eed);
        let mut cache = BinCache::default();
        let (mut cached, mut plain) = (QuantileSketch::new(), QuantileSketch::new());
        for n in 0..200_000u64 {
            let x = match n % 4 {
                0 => (rng.next() % 3000) as f64,
                1 => (rng.next() % 30_000) as f64 / 1000.0,
                2 => rng.unit() * 1e4,
                _ => f64::from_bits(rng.next() >> 2),
            };
            if x.is_finite() && x > ZERO_MAX {
                assert_eq!(cache.index(x), QuantileSketch::index(x), "{x}");
            }
            cached.add_cached(x, &mut cache);
            plain.add(x);
        }
        assert_eq!(cached, plain);
    }

    fn exact(sorted: &[f64], q: f64) -> f64 {
        let n = sorted.len();
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        sorted[rank - 1]
    }

    fn sketch(values: &[f64]) -> QuantileSketch {
        let mut s = QuantileSketch::new();
        for &v in values {
            s.add(v);
        }
        s
    }

    fn assert_within_alpha(name: &str, values: &[f64]) {
        let s = sketch(values);
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(s.count(), values.len() as u64, "{name}");
        for q in [0.0, 0.5, 0.9, 0.99, 1.0] {
            let x = exact(&sorted, q);
            let est = s.quantile(q).unwrap();
            if x <= ZERO_MAX {
                assert_eq!(est, 0.0, "{name} q={q} exact={x}");
            } else {
                // A hair of float slack: ln/powi round at the bin edges.
                let err = (est - x).abs();
                assert!(
                    err <= ALPHA * x * (1.0 + 1e-9),
                    "{name} q={q}: estimate {est}, exact {x}, error {err}"
                );
            }
        }
    }

    #[test]
    fn quantiles_within_alpha_of_exact_nearest_rank() {
        let mut r = Rng(0x9E37_79B9_7F4A_7C15);
        let uniform: Vec<f64> = (0..20_000).map(|_| r.unit() * 5_000.0).collect();
        // Log-normal-ish: exp of a sum of uniforms (about normal), median ~ e^3 ms.
        let lognormal: Vec<f64> = (0..20_000)
            .map(|_| {
                let z: f64 = (0..6).map(|_| r.unit()).sum::<f64>() - 3.0;
                (3.0 + 1.5 * z).exp()
            })
            .collect();
        let constant = vec![42.0; 1_000];
        // Heavy duplicates: a few values, one dominating, ranks land on ties.
        let duplicates: Vec<f64> = (0..10_000)
            .map(|i| match i % 10 {
                0..=6 => 1.0,
                7 | 8 => 250.0,
                _ => 60_000.0,
            })
            .collect();
        // Tiny values around the zero bin's edge, and exact zeros.
        let tiny: Vec<f64> = (0..5_000)
            .map(|i| match i % 4 {
                0 => 0.0,
                1 => r.unit() * 1e-3,
                _ => 1e-3 + r.unit() * 0.05,
            })
            .collect();
        let wide: Vec<f64> = (0..5_000)
            .map(|_| 10f64.powf(r.unit() * 12.0 - 2.5))
            .collect();
        for (name, v) in [
            ("uniform", &uniform[..]),
            ("lognormal", &lognormal),
            ("constant", &constant),
            ("duplicates", &duplicates),
            ("tiny", &tiny),
            ("one", &[7.5][..]),
            (
                "wide",
                &wide.iter().map(|v| v.min(MAX_VALUE)).collect::<Vec<_>>(),
            ),
        ] {
            assert_within_alpha(name, v);
        }
        // The tiny set exercised both the zero bin and the smallest bins.
        let s = sketch(&tiny);
        assert_eq!(s.quantile(0.0), Some(0.0));
        assert!(s.quantile(1.0).unwrap() > ZERO_MAX);
    }

    #[test]
    fn bin_edges_are_within_alpha() {
        // Values right at and around gamma^i, where the float index may round either way.
        for i in [-300, -1, 0, 1, 2, 57, 500, 1100] {
            let edge = GAMMA.powi(i);
            for x in [edge, edge * (1.0 - 1e-15), edge * (1.0 + 1e-15)] {
                assert_within_alpha("edge", &[x]);
            }
        }
    }

    /// The inline size the module docs state.
    #[test]
    fn inline_size_is_as_documented() {
        assert_eq!(std::mem::size_of::<QuantileSketch>(), 72);
    }

    /// Filled past [`DENSE_AT`] bins a sketch is dense; it answers, merges (dense into
    /// sparse, sparse into dense, dense into dense) and compacts to exactly what a sketch
    /// that stayed sparse holds.
    #[test]
    fn the_dense_form_holds_the_same_bins() {
        let mut r = Rng(77);
        let values: Vec<f64> = (0..5_000).map(|_| (r.unit() * 8.0).exp()).collect();
        let mut sparse = QuantileSketch::new();
        for &v in &values {
            sparse.add(v);
            sparse.compact();
        }
        let dense = sketch(&values);
        assert!(dense.dense.is_some() && sparse.dense.is_none());
        assert!(sparse.bins() > DENSE_AT);
        assert_eq!(dense, sparse);
        assert_eq!(dense.bins(), sparse.bins());
        for q in [0.0, 0.01, 0.5, 0.9, 0.99, 1.0] {
            assert_eq!(dense.quantile(q), sparse.quantile(q));
        }
        let (a, b) = values.split_at(1_234);
        let few = sketch(&a[..10]);
        for (x, y) in [(sketch(a), sketch(b)), (few.clone(), sketch(&values[10..]))] {
            let mut xy = x.clone();
            xy.merge(&y);
            let mut yx = y.clone();
            yx.merge(&x);
            assert!(
                xy.dense.is_none() && xy.bins.is_empty(),
                "a merge leaves packed bins"
            );
            assert_eq!(xy, sparse);
            assert_eq!(yx, sparse);
        }
        let mut compacted = dense.clone();
        compacted.compact();
        assert!(compacted.dense.is_none() && compacted.bins.is_empty());
        assert_eq!(
            compacted.iter_bins().collect::<Vec<_>>(),
            sparse.iter_bins().collect::<Vec<_>>()
        );
        // Packed, it reads back every bin and takes values again.
        assert!(compacted.packed.as_ref().unwrap().len() < 4 * compacted.bins());
        let mut more = compacted.clone();
        let mut whole = dense.clone();
        for v in [0.5, 1e9, 3.0] {
            more.add(v);
            whole.add(v);
        }
        assert_eq!(more, whole);
    }

    /// Written to a spill and read back, a sketch in any form (sparse, dense, packed,
    /// empty, only zeros, the extreme bins) is the same sketch, and reads as packed.
    #[test]
    fn a_sketch_reads_back_from_a_spill_as_it_was() {
        use crate::spill::{Reader, Record};
        let mut r = Rng(4242);
        let many: Vec<f64> = (0..3_000).map(|_| (r.unit() * 20.0).exp() / 1e3).collect();
        let mut packed = sketch(&many);
        packed.compact();
        let forms = [
            QuantileSketch::new(),
            sketch(&[0.0, -1.0, 1e-4]),
            sketch(&[1.5, 2.5, 1.5]),
            sketch(&many),
            packed,
            sketch(&[ZERO_MAX * 1.0001, MAX_VALUE * 10.0, 0.0]),
        ];
        assert!(forms[3].dense.is_some() && forms[2].dense.is_none());
        for s in &forms {
            let mut out = Vec::new();
            s.encode(&mut out);
            let mut reader = Reader::new(&out);
            let back = QuantileSketch::decode(&mut reader).expect("reads back");
            assert!(reader.is_empty());
            assert_eq!(&back, s);
            assert!(back.dense.is_none() && back.bins.is_empty());
            for q in [0.0, 0.5, 0.99, 1.0] {
                assert_eq!(back.quantile(q), s.quantile(q));
            }
        }
    }

    /// A damaged frame is refused or read as a sketch that holds together (its bins add up
    /// to its count, in range): never a panic, never a lying sketch. Every truncation and
    /// every single-byte change of a written sketch.
    #[test]
    fn a_damaged_sketch_frame_is_refused() {
        use crate::spill::{Reader, Record};
        let s = sketch(&[0.0, 0.7, 3.0, 3.0, 250.0, 9e9, 12.5, 40.0]);
        let mut out = Vec::new();
        s.encode(&mut out);
        let holds_together = |k: &QuantileSketch| {
            let bins: Vec<(i32, u64)> = k.iter_bins().collect();
            bins.windows(2).all(|w| w[0].0 < w[1].0)
                && bins
                    .iter()
                    .all(|&(i, n)| (MIN_INDEX..=MAX_INDEX).contains(&i) && n > 0)
                && k.zero + bins.iter().map(|b| b.1).sum::<u64>() == k.count
        };
        for cut in 0..out.len() {
            assert_eq!(QuantileSketch::decode(&mut Reader::new(&out[..cut])), None);
        }
        let mut refused = 0;
        for at in 0..out.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = out.clone();
                bad[at] ^= flip;
                match QuantileSketch::decode(&mut Reader::new(&bad)) {
                    Some(k) => assert!(holds_together(&k), "byte {at} ^ {flip:#x}: {k:?}"),
                    None => refused += 1,
                }
            }
        }
        assert!(refused > out.len(), "most damage is caught: {refused}");
        // A gap past the top bin, a zero count, a varint longer than 64 bits.
        for packed in [&[0xff, 0x7f, 1][..], &[1, 0], &[0xff; 11]] {
            let mut frame = Vec::new();
            crate::spill::put_u64(&mut frame, 1);
            crate::spill::put_u64(&mut frame, 0);
            frame.extend_from_slice(&(packed.len() as u32).to_le_bytes());
            frame.extend_from_slice(packed);
            assert_eq!(QuantileSketch::decode(&mut Reader::new(&frame)), None);
        }
    }

    #[test]
    fn merging_random_splits_equals_the_whole() {
        let mut r = Rng(12345);
        let values: Vec<f64> = (0..10_000)
            .map(|i| {
                if i % 97 == 0 {
                    0.0
                } else {
                    (r.unit() * 12.0).exp()
                }
            })
            .collect();
        let whole = sketch(&values);
        for trial in 0..20 {
            let parts = 1 + (r.next() % 9) as usize;
            let mut split = vec![Vec::new(); parts];
            for &v in &values {
                split[(r.next() % parts as u64) as usize].push(v);
            }
            let mut sketches: Vec<QuantileSketch> = split.iter().map(|p| sketch(p)).collect();
            // Merge in a shuffled order, sometimes as a tree.
            for i in (1..sketches.len()).rev() {
                sketches.swap(i, (r.next() % (i as u64 + 1)) as usize);
            }
            let merged = if trial % 2 == 0 {
                let mut m = QuantileSketch::new();
                for s in &sketches {
                    m.merge(s);
                }
                m
            } else {
                while sketches.len() > 1 {
                    let b = sketches.pop().unwrap();
                    let a = sketches.pop().unwrap();
                    let (mut a, b) = if r.next().is_multiple_of(2) {
                        (a, b)
                    } else {
                        (b, a)
                    };
                    a.merge(&b);
                    sketches.insert(0, a);
                }
                sketches.pop().unwrap()
            };
            assert_eq!(merged, whole, "trial {trial} with {parts} parts");
        }
        // Merging an empty sketch changes nothing, either way round.
        let mut e = QuantileSketch::new();
        e.merge(&whole);
        assert_eq!(e, whole);
        let mut w = whole.clone();
        w.merge(&QuantileSketch::new());
        assert_eq!(w, whole);
    }

    #[test]
    fn index_bounds_cap_the_bins() {
        assert_eq!(
            MIN_INDEX,
            (ZERO_MAX.ln() / GAMMA.ln()).ceil() as i32,
            "MIN_INDEX out of date"
        );
        assert_eq!(MAX_INDEX, (MAX_VALUE.ln() / GAMMA.ln()).ceil() as i32);
        assert_eq!(MAX_BINS, 1498);
        assert_eq!(std::mem::size_of::<(i32, u64)>(), 16);
        // Sweep the whole range and beyond: never more than MAX_BINS bins.
        let mut s = QuantileSketch::new();
        let mut x = ZERO_MAX * 1.000_001;
        while x < 1e15 {
            s.add(x);
            x *= 1.005;
        }
        s.add(f64::MAX);
        assert!(s.bins() <= MAX_BINS, "{} bins", s.bins());
        assert!(s.bins() >= MAX_BINS - 1);
        // Beyond MAX_VALUE: clamped to the top bin.
        let top = s.quantile(1.0).unwrap();
        assert!((top - MAX_VALUE).abs() <= ALPHA * MAX_VALUE, "{top}");
    }

    #[test]
    fn empty_odd_inputs_and_out_of_range_q() {
        let mut s = QuantileSketch::new();
        assert!(s.is_empty());
        assert_eq!(s.quantile(0.5), None);
        s.add(f64::NAN);
        s.add(f64::INFINITY);
        s.add(f64::NEG_INFINITY);
        assert_eq!(s.count(), 0);
        assert_eq!(s, QuantileSketch::new());
        s.add(-5.0);
        s.add(0.0);
        s.add(ZERO_MAX);
        s.add(100.0);
        assert_eq!(s.count(), 4);
        assert_eq!(s.bins(), 1);
        assert_eq!(s.quantile(0.75), Some(0.0));
        let top = s.quantile(1.0).unwrap();
        assert!((top - 100.0).abs() <= 1.0, "{top}");
        for q in [-0.1, 1.1, f64::NAN] {
            assert_eq!(s.quantile(q), None);
        }
    }
}
