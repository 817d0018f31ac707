//! SplitMix64: a tiny, fast, well-mixed PRNG (Steele, Lea and Flood, 2014; the
//! reference constants are Vigna's `splitmix64.c`).
//!
//! The samples are checked into the repository and compared byte for byte, so the
//! generator must produce the same stream on every platform and every toolchain:
//! that rules out `rand` (its algorithms and value derivations may change between
//! releases) and, inside this crate, any transcendental float maths (`ln`, `exp`),
//! whose last bits are allowed to differ between libms. Everything here is integer
//! arithmetic; [`SplitMix64::chance`] only compares an exactly-built `f64`.

/// A SplitMix64 generator. Each sample seeds its own, and forks independent
/// sub-streams ([`SplitMix64::fork`]) per concern, so tuning one part of a
/// sample does not reshuffle the rest of it.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose whole future is fixed by `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 uniformly distributed bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, n)`, by Lemire's multiply-shift (the bias is below 2^-40
    /// for the small `n` used here, far under anything a sample could show).
    ///
    /// # Panics
    /// If `n == 0`: an empty range is a bug in the caller.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "SplitMix64::below(0)");
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in the half-open range `[a, b)`.
    ///
    /// # Panics
    /// If `a >= b`.
    pub fn range(&mut self, a: u64, b: u64) -> u64 {
        assert!(a < b, "SplitMix64::range({a}, {b})");
        a + self.below(b - a)
    }

    /// Uniform in the half-open range `[a, b)` of signed values (timestamps in µs).
    ///
    /// # Panics
    /// If `a >= b`.
    pub fn range_i64(&mut self, a: i64, b: i64) -> i64 {
        assert!(a < b, "SplitMix64::range_i64({a}, {b})");
        a + self.below(b.abs_diff(a)) as i64
    }

    /// Uniform in `[0, 1)` with 53 bits of precision (exactly representable).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (clamped to `[0, 1]`).
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    ///
    /// # Panics
    /// If `items` is empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An independent generator seeded from this one.
    pub fn fork(&mut self) -> Self {
        Self::new(self.next_u64())
    }

    /// `digits` lowercase hex digits.
    pub fn hex(&mut self, digits: usize) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        (0..digits)
            .map(|_| HEX[self.below(16) as usize] as char)
            .collect()
    }

    /// A random (version 4, RFC 4122 variant) UUID in the usual 8-4-4-4-12 form.
    pub fn uuid(&mut self) -> String {
        let (hi, lo) = (self.next_u64(), self.next_u64());
        let hi = (hi & !0xF000) | 0x4000; // version 4
        let lo = (lo & !(0b11 << 62)) | (0b10 << 62); // RFC 4122 variant
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xFFFF,
            hi & 0xFFFF,
            lo >> 48,
            lo & 0xFFFF_FFFF_FFFF
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference_splitmix64() {
        // First outputs of Vigna's splitmix64.c seeded with 1234567.
        let mut r = SplitMix64::new(1_234_567);
        let got: Vec<u64> = (0..5).map(|_| r.next_u64()).collect();
        assert_eq!(
            got,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423,
                4_593_380_528_125_082_431,
                16_408_922_859_458_223_821,
            ]
        );
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut r = SplitMix64::new(7);
        for _ in 0..10_000 {
            assert!(r.below(3) < 3);
            let v = r.range(10, 20);
            assert!((10..20).contains(&v));
            let w = r.range_i64(-5, 5);
            assert!((-5..5).contains(&w));
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert!(!r.chance(0.0));
        assert!(r.chance(1.0));
    }

    #[test]
    fn uuid_shape() {
        let u = SplitMix64::new(1).uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }
}
