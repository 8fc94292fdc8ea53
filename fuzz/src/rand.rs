//! Seeded randomness: a ChaCha8 stream per job, so a run repeats from `--seed`.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// The fuzzer's one source of choices.
#[derive(Clone, Debug)]
pub struct Rand(ChaCha8Rng);

impl Rand {
    /// Stream `stream` of `seed`: jobs draw from streams of their own, so adding a job does
    /// not change what another generates.
    pub fn new(seed: u64, stream: u64) -> Rand {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        Rand(rng)
    }

    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A number in `0..n`; `n` must not be 0. (The modulo bias is irrelevant here.)
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below(0)");
        (self.u64() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.u64() % (hi - lo + 1)
    }

    /// True `num` times in `den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.u64() % den < num
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A size in `1..=max` whose bit length is uniform: as many tiny values as huge ones,
    /// which is what edge cases need.
    pub fn log_size(&mut self, max: u64) -> u64 {
        let bits = 64 - max.leading_zeros() as u64;
        let b = self.range(0, bits);
        let hi = if b >= 64 { u64::MAX } else { 1u64 << b };
        self.range(hi / 2, hi.max(1)).clamp(1, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_same_numbers() {
        let mut a = Rand::new(7, 1);
        let mut b = Rand::new(7, 1);
        let mut c = Rand::new(7, 2);
        let xs: Vec<u64> = (0..4).map(|_| a.u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.u64()).collect();
        let zs: Vec<u64> = (0..4).map(|_| c.u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn sizes_stay_in_bounds_and_reach_both_ends() {
        let mut r = Rand::new(0, 0);
        let sizes: Vec<u64> = (0..2000).map(|_| r.log_size(1 << 20)).collect();
        assert!(sizes.iter().all(|&s| (1..=1 << 20).contains(&s)));
        assert!(sizes.iter().any(|&s| s < 16));
        assert!(sizes.iter().any(|&s| s > 1 << 18));
        assert!((0..100).all(|_| r.range(3, 5) >= 3 && r.range(3, 5) <= 5));
    }
}
