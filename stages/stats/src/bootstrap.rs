//! Deterministic bootstrap intervals for the speedup of a variant over full attention, the
//! ratio mean(full epochs) / mean(variant epochs).
//!
//! How: with seeds shared by both groups, the pairs (full, variant) of each shared seed are
//! resampled together (paired bootstrap, which keeps the seed's data set and initialisation
//! common to both arms); without shared seeds each group is resampled on its own. The interval
//! is the percentile interval of the resampled ratios (type-7 quantiles). The generator is
//! ChaCha8 seeded from a caller-given number, so the same input gives the same interval on
//! every machine and in every run.
//!
//! Limits: the percentile bootstrap is rough for very small samples (with 3 seeds there are
//! only 10 distinct resamples up to order); the interval is reported together with n so that a
//! reader can judge.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::describe::quantile_sorted;

/// Default number of bootstrap resamples.
pub const RESAMPLES: usize = 10_000;

/// A ratio estimate with its bootstrap interval.
#[derive(Clone, Debug, PartialEq)]
pub struct RatioInterval {
    /// mean(numerator) / mean(denominator) on the data.
    pub estimate: f64,
    /// Lower end of the percentile interval.
    pub low: f64,
    /// Upper end of the percentile interval.
    pub high: f64,
}

/// Ratio of means over paired observations `(numerator_i, denominator_i)`, resampling pairs.
/// `None` for no pairs or a zero denominator mean.
pub fn paired_ratio_of_means(
    pairs: &[(f64, f64)],
    resamples: usize,
    seed: u64,
    confidence: f64,
) -> Option<RatioInterval> {
    let ratio = |it: &mut dyn Iterator<Item = (f64, f64)>| {
        let (num, den) = it.fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
        (den != 0.0).then(|| num / den)
    };
    let estimate = ratio(&mut pairs.iter().copied())?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = pairs.len();
    let mut draws: Vec<f64> = (0..resamples)
        .filter_map(|_| ratio(&mut (0..n).map(|_| pairs[rng.gen_range(0..n)])))
        .collect();
    Some(interval(estimate, &mut draws, confidence))
}

/// Ratio of means of two independent samples, resampling each on its own.
pub fn unpaired_ratio_of_means(
    numerator: &[f64],
    denominator: &[f64],
    resamples: usize,
    seed: u64,
    confidence: f64,
) -> Option<RatioInterval> {
    let mean = |v: &[f64]| crate::describe::mean(v);
    let (num, den) = (mean(numerator)?, mean(denominator)?);
    if den == 0.0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut resample_mean = |v: &[f64]| {
        (0..v.len())
            .map(|_| v[rng.gen_range(0..v.len())])
            .sum::<f64>()
            / v.len() as f64
    };
    let mut draws: Vec<f64> = (0..resamples)
        .filter_map(|_| {
            let (a, b) = (resample_mean(numerator), resample_mean(denominator));
            (b != 0.0).then(|| a / b)
        })
        .collect();
    Some(interval(num / den, &mut draws, confidence))
}

fn interval(estimate: f64, draws: &mut [f64], confidence: f64) -> RatioInterval {
    if draws.is_empty() {
        return RatioInterval {
            estimate,
            low: estimate,
            high: estimate,
        };
    }
    draws.sort_by(f64::total_cmp);
    let alpha = 1.0 - confidence;
    RatioInterval {
        estimate,
        low: quantile_sorted(draws, alpha / 2.0),
        high: quantile_sorted(draws, 1.0 - alpha / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_interval_different_seed_different_interval() {
        let pairs = [
            (100.0, 20.0),
            (80.0, 25.0),
            (120.0, 30.0),
            (90.0, 15.0),
            (110.0, 22.0),
        ];
        let a = paired_ratio_of_means(&pairs, RESAMPLES, 7, 0.95).unwrap();
        let b = paired_ratio_of_means(&pairs, RESAMPLES, 7, 0.95).unwrap();
        assert_eq!(a, b);
        // With few resamples the percentiles interpolate between draws, so the seed shows.
        let c = paired_ratio_of_means(&pairs, 101, 7, 0.95).unwrap();
        let d = paired_ratio_of_means(&pairs, 101, 8, 0.95).unwrap();
        assert_ne!((c.low, c.high), (d.low, d.high));
        // 500 / 112 = 4.4642857...
        assert!((a.estimate - 500.0 / 112.0).abs() < 1e-12);
        assert!(a.low < a.estimate && a.estimate < a.high, "{a:?}");
        // Every resampled ratio lies between the smallest and largest per-seed ratio.
        assert!(a.low >= 80.0 / 25.0 && a.high <= 90.0 / 15.0, "{a:?}");
    }

    #[test]
    fn constant_data_give_a_degenerate_interval() {
        let a = paired_ratio_of_means(&[(10.0, 5.0); 4], 1000, 1, 0.95).unwrap();
        assert_eq!((a.estimate, a.low, a.high), (2.0, 2.0, 2.0));
        let u = unpaired_ratio_of_means(&[9.0, 9.0], &[3.0, 3.0, 3.0], 1000, 1, 0.95).unwrap();
        assert_eq!((u.estimate, u.low, u.high), (3.0, 3.0, 3.0));
        assert!(paired_ratio_of_means(&[], 10, 1, 0.95).is_none());
    }

    #[test]
    fn unpaired_is_deterministic() {
        let a = unpaired_ratio_of_means(&[50.0, 60.0, 70.0], &[10.0, 20.0], 2000, 3, 0.95).unwrap();
        let b = unpaired_ratio_of_means(&[50.0, 60.0, 70.0], &[10.0, 20.0], 2000, 3, 0.95).unwrap();
        assert_eq!(a, b);
        assert!((a.estimate - 4.0).abs() < 1e-12);
    }
}
