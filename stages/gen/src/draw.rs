//! Random draws with fixed algorithms, so that every machine produces the same data.
//!
//! Each split draws from its own ChaCha8 stream seeded with `common::seed::derive(seed, split)`.
//! ChaCha8's output is specified bit for bit, but the algorithms `rand` uses to turn bits into
//! ranges have changed between releases (0.8 to 0.9 did). This module therefore turns raw
//! `next_u32` / `next_u64` words into numbers itself:
//! - [`below()`]: an unbiased integer in `0..n` by Lemire's multiply-and-reject method (the high
//!   half of `x * n`, redrawing when the low half falls in the biased sliver);
//! - [`unit()`]: a float in `[0, 1)` from the top 53 bits of one `u64`.
//!
//! The golden-digest test in `tests/it/determinism.rs` fails if any of this drifts.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The generator every task draws from.
pub(crate) type Rng = ChaCha8Rng;

/// The random stream of split `split` (e.g. `"train"`) for run seed `seed`.
pub(crate) fn split_stream(seed: u64, split: &str) -> Rng {
    ChaCha8Rng::seed_from_u64(common::seed::derive(seed, split))
}

/// A uniform integer in `0..n`; `n` must be at least 1.
pub(crate) fn below(rng: &mut Rng, n: u32) -> u32 {
    debug_assert!(n >= 1, "empty range");
    let wide = u64::from(n);
    let mut product = u64::from(rng.next_u32()) * wide;
    if (product as u32) < n {
        // 2^32 mod n: low halves below this map unevenly, so they are redrawn.
        let threshold = n.wrapping_neg() % n;
        while (product as u32) < threshold {
            product = u64::from(rng.next_u32()) * wide;
        }
    }
    (product >> 32) as u32
}

/// A uniform integer in `lo..=hi`.
pub(crate) fn inclusive(rng: &mut Rng, lo: u32, hi: u32) -> u32 {
    lo + below(rng, hi - lo + 1)
}

/// A uniform index into a slice of length `len` (at least 1).
pub(crate) fn index(rng: &mut Rng, len: usize) -> usize {
    below(rng, u32::try_from(len).expect("small slice")) as usize
}

/// A uniform float in `[0, 1)` with 53 random bits.
pub(crate) fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts of `below(n)` over `draws` draws must each lie within 5 binomial standard
    /// deviations of `draws / n`.
    fn assert_uniform(n: u32, draws: u32) {
        let mut rng = split_stream(1, "test");
        let mut counts = vec![0u32; n as usize];
        for _ in 0..draws {
            counts[below(&mut rng, n) as usize] += 1;
        }
        let p = 1.0 / f64::from(n);
        let mean = f64::from(draws) * p;
        let sd = (mean * (1.0 - p)).sqrt();
        for (value, &c) in counts.iter().enumerate() {
            assert!(
                (f64::from(c) - mean).abs() < 5.0 * sd,
                "n={n} value {value}: {c} vs {mean}"
            );
        }
    }

    #[test]
    fn below_is_uniform_over_small_ranges() {
        for n in [2, 3, 5, 10, 38] {
            assert_uniform(n, 50_000);
        }
    }

    #[test]
    fn below_one_is_always_zero_and_inclusive_hits_both_ends() {
        let mut rng = split_stream(2, "test");
        assert!((0..100).all(|_| below(&mut rng, 1) == 0));
        let seen: std::collections::BTreeSet<u32> =
            (0..1000).map(|_| inclusive(&mut rng, 2, 10)).collect();
        assert_eq!(seen, (2..=10).collect());
    }

    #[test]
    fn unit_stays_in_the_half_open_interval_with_mean_one_half() {
        let mut rng = split_stream(3, "test");
        let xs: Vec<f64> = (0..20_000).map(|_| unit(&mut rng)).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        // sd of the mean is sqrt(1/12 / 20000) ~ 0.002.
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
    }

    #[test]
    fn streams_of_different_splits_differ() {
        let mut a = split_stream(7, "train");
        let mut b = split_stream(7, "heldout");
        assert_ne!(a.next_u64(), b.next_u64());
    }
}
