//! Rank tests over seeds: Wilcoxon's signed-rank test (paired by seed) and the Mann-Whitney U
//! test (two independent samples), with exact p-values for any sample size.
//!
//! How: ties get midranks; midranks are doubled so they are integers, and the exact null
//! distribution of the rank sum is counted by dynamic programming over those integers. This is
//! the permutation distribution conditional on the observed ranks, so it stays exact with ties
//! (where the classical tables and the normal approximation are not). The signed-rank test drops
//! zero differences before ranking (Wilcoxon's original rule). Values closer than 1e-9 relative
//! are treated as equal, so accuracies that went through different float arithmetic still tie.
//!
//! Each result also carries the smallest p-value the test could have produced with these sample
//! sizes and ranks: when that exceeds alpha, no outcome could have been significant and a
//! verdict built on the test must be "inconclusive", not "not reproduced".
//!
//! Limits: counts are held in f64, exact up to 2^53 arrangements (about 50 pairs, or two groups
//! of 25 each), far beyond the ten seeds of the paper.

/// The direction of the alternative hypothesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alternative {
    /// The first sample (or the paired difference) tends to be smaller.
    Less,
    /// The first sample (or the paired difference) tends to be larger.
    Greater,
    /// Either direction.
    TwoSided,
}

/// Which test produced a [`RankTest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// Wilcoxon signed-rank test on paired differences.
    WilcoxonSignedRank,
    /// Mann-Whitney U test (Wilcoxon rank-sum) on two independent samples.
    MannWhitneyU,
}

/// The outcome of a rank test.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RankTest {
    /// Which test.
    pub test: TestKind,
    /// The alternative hypothesis.
    pub alternative: Alternative,
    /// Signed-rank: number of non-zero differences; Mann-Whitney: size of the first sample.
    pub n: usize,
    /// Signed-rank: number of zero differences dropped; Mann-Whitney: size of the second sample.
    pub n_other: usize,
    /// Signed-rank: W+, the sum of the ranks of positive differences; Mann-Whitney: U of the
    /// first sample (the number of pairs in which it is larger, ties counting one half).
    pub statistic: f64,
    /// Exact p-value.
    pub p_value: f64,
    /// The smallest p-value attainable with these sizes and ranks.
    pub min_p_value: f64,
}

/// Wilcoxon signed-rank test on paired differences `d_i = x_i - y_i`.
pub fn wilcoxon_signed_rank(diffs: &[f64], alternative: Alternative) -> RankTest {
    let nonzero: Vec<f64> = diffs.iter().copied().filter(|d| !is_zero(*d)).collect();
    let n_zero = diffs.len() - nonzero.len();
    let abs: Vec<f64> = nonzero.iter().map(|d| d.abs()).collect();
    let ranks = doubled_midranks(&abs);
    let observed: usize = ranks
        .iter()
        .zip(&nonzero)
        .filter(|(_, d)| **d > 0.0)
        .map(|(r, _)| *r)
        .sum();
    // counts[s] = number of sign assignments whose positive doubled ranks sum to s.
    let total_sum: usize = ranks.iter().sum();
    let mut counts = vec![0.0f64; total_sum + 1];
    counts[0] = 1.0;
    for &r in &ranks {
        for s in (r..=total_sum).rev() {
            counts[s] += counts[s - r];
        }
    }
    let (p_value, min_p_value) = tail_probabilities(&counts, observed, alternative);
    RankTest {
        test: TestKind::WilcoxonSignedRank,
        alternative,
        n: nonzero.len(),
        n_other: n_zero,
        statistic: observed as f64 / 2.0,
        p_value,
        min_p_value,
    }
}

/// Mann-Whitney U test of `x` against `y` (alternative `Less`: x tends to be smaller).
pub fn mann_whitney_u(x: &[f64], y: &[f64], alternative: Alternative) -> RankTest {
    let (n1, n2) = (x.len(), y.len());
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let ranks = doubled_midranks(&pooled);
    let observed: usize = ranks[..n1].iter().sum();
    let total_sum: usize = ranks.iter().sum();
    // ways[k][s] = number of k-subsets of the pooled ranks whose doubled ranks sum to s.
    let mut ways = vec![vec![0.0f64; total_sum + 1]; n1 + 1];
    ways[0][0] = 1.0;
    for (i, &r) in ranks.iter().enumerate() {
        for k in (1..=n1.min(i + 1)).rev() {
            let (lower, upper) = ways.split_at_mut(k);
            for s in (r..=total_sum).rev() {
                upper[0][s] += lower[k - 1][s - r];
            }
        }
    }
    let (p_value, min_p_value) = tail_probabilities(&ways[n1], observed, alternative);
    // U = R1 - n1 (n1 + 1) / 2 with R1 the (undoubled) rank sum of x.
    let statistic = observed as f64 / 2.0 - (n1 * (n1 + 1)) as f64 / 2.0;
    RankTest {
        test: TestKind::MannWhitneyU,
        alternative,
        n: n1,
        n_other: n2,
        statistic,
        p_value,
        min_p_value,
    }
}

/// Exact p-value of `observed` and the smallest attainable p-value, from the counts of a
/// discrete null distribution indexed by the statistic.
fn tail_probabilities(counts: &[f64], observed: usize, alternative: Alternative) -> (f64, f64) {
    let total: f64 = counts.iter().sum();
    let support: Vec<usize> = (0..counts.len()).filter(|&s| counts[s] > 0.0).collect();
    let (Some(&lowest), Some(&highest)) = (support.first(), support.last()) else {
        return (1.0, 1.0);
    };
    let at_most = |s: usize| counts[..=s.min(counts.len() - 1)].iter().sum::<f64>() / total;
    let at_least = |s: usize| counts[s.min(counts.len())..].iter().sum::<f64>() / total;
    let (p, min_p) = match alternative {
        Alternative::Less => (at_most(observed), at_most(lowest)),
        Alternative::Greater => (at_least(observed), at_least(highest)),
        Alternative::TwoSided => (
            2.0 * at_most(observed).min(at_least(observed)),
            2.0 * at_most(lowest).min(at_least(highest)),
        ),
    };
    (p.min(1.0), min_p.min(1.0))
}

fn is_zero(d: f64) -> bool {
    d.abs() <= 1e-12
}

fn tied(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-3)
}

/// Midranks (1-based, ties averaged), doubled so they are integers.
fn doubled_midranks(values: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0usize; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && tied(values[order[start]], values[order[end + 1]]) {
            end += 1;
        }
        // Positions start+1 ..= end+1 share the midrank (start + end + 2) / 2; doubled: start + end + 2.
        for &i in &order[start..=end] {
            ranks[i] = start + end + 2;
        }
        start = end + 1;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() < tol
    }

    /// Brute force over all 2^n sign flips, for checking the dynamic programme.
    fn brute_signed_rank_less(diffs: &[f64]) -> f64 {
        let nonzero: Vec<f64> = diffs.iter().copied().filter(|d| !is_zero(*d)).collect();
        let ranks = doubled_midranks(&nonzero.iter().map(|d| d.abs()).collect::<Vec<_>>());
        let observed: usize = ranks
            .iter()
            .zip(&nonzero)
            .filter(|(_, d)| **d > 0.0)
            .map(|(r, _)| *r)
            .sum();
        let n = ranks.len();
        let hits = (0u32..1 << n)
            .filter(|mask| {
                (0..n)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| ranks[i])
                    .sum::<usize>()
                    <= observed
            })
            .count();
        hits as f64 / f64::from(1u32 << n)
    }

    #[test]
    fn signed_rank_all_one_direction_gives_two_to_the_minus_n() {
        let t = wilcoxon_signed_rank(&[-3.0, -1.0, -4.0, -1.5, -9.0], Alternative::Less);
        assert_eq!((t.n, t.statistic), (5, 0.0));
        assert!(close(t.p_value, 1.0 / 32.0, 1e-15));
        assert!(close(t.min_p_value, 1.0 / 32.0, 1e-15));
        let t = wilcoxon_signed_rank(&[-3.0, -1.0, -4.0, -1.5], Alternative::Less);
        assert!(close(t.min_p_value, 1.0 / 16.0, 1e-15));
        let t = wilcoxon_signed_rank(&[-3.0, -1.0, -4.0, -1.5, -9.0], Alternative::TwoSided);
        assert!(close(t.p_value, 1.0 / 16.0, 1e-15));
    }

    #[test]
    #[allow(clippy::approx_constant)] // 3.14 is a measurement in the data set, not pi.
    fn signed_rank_matches_hollander_wolfe_example() {
        // Hollander & Wolfe's depression-scale data (x - y over nine patients), the classic
        // example of R's `wilcox.test(x, y, paired = TRUE, alternative = "greater")`:
        // V = 40, p = 0.01953 (= 10/512).
        let x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30];
        let y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
        let d: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a - b).collect();
        let t = wilcoxon_signed_rank(&d, Alternative::Greater);
        assert_eq!(t.statistic, 40.0);
        assert!(close(t.p_value, 10.0 / 512.0, 1e-12), "{}", t.p_value);
    }

    #[test]
    fn signed_rank_with_ties_and_zeros_matches_brute_force() {
        let d = [-2.0, -2.0, 1.0, 0.0, -3.0, -1.0, 2.0, -5.0, 0.0, -1.0];
        let t = wilcoxon_signed_rank(&d, Alternative::Less);
        assert_eq!((t.n, t.n_other), (8, 2));
        assert!(close(t.p_value, brute_signed_rank_less(&d), 1e-12));
    }

    #[test]
    fn mann_whitney_matches_hollander_wolfe_example() {
        // R's `wilcox.test(x, y, alternative = "greater")` example: W = 35, p = 0.1272.
        let x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
        let y = [1.15, 0.88, 0.90, 0.74, 1.21];
        let t = mann_whitney_u(&x, &y, Alternative::Greater);
        assert_eq!(t.statistic, 35.0);
        assert!(close(t.p_value, 0.1272, 5e-5), "{}", t.p_value);
    }

    #[test]
    fn mann_whitney_small_exact_values() {
        // 3 vs 3, complete separation: P = 1 / C(6, 3) = 0.05.
        let t = mann_whitney_u(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0], Alternative::Less);
        assert_eq!(t.statistic, 0.0);
        assert!(close(t.p_value, 0.05, 1e-15));
        assert!(close(t.min_p_value, 0.05, 1e-15));
        // One overlap: U = 1, P(U <= 1) = 2 / 20.
        let t = mann_whitney_u(&[1.0, 2.0, 4.0], &[3.0, 5.0, 6.0], Alternative::Less);
        assert_eq!(t.statistic, 1.0);
        assert!(close(t.p_value, 0.1, 1e-15));
        // Ties across groups: x = {1, 2}, y = {2, 3}; doubled ranks 2, 5, 5, 8; U_x = 0.5.
        // The six 2-subsets sum to 7, 7, 10, 10, 13, 13 (doubled), so P(S <= 7) = 2/6.
        let t = mann_whitney_u(&[1.0, 2.0], &[2.0, 3.0], Alternative::Less);
        assert_eq!(t.statistic, 0.5);
        assert!(close(t.p_value, 1.0 / 3.0, 1e-15));
    }

    #[test]
    fn all_tied_or_empty_samples_are_never_significant() {
        let t = wilcoxon_signed_rank(&[0.0, 0.0, 0.0], Alternative::Less);
        assert_eq!((t.n, t.p_value, t.min_p_value), (0, 1.0, 1.0));
        let t = mann_whitney_u(&[5.0, 5.0], &[5.0, 5.0, 5.0], Alternative::Less);
        assert_eq!((t.p_value, t.min_p_value), (1.0, 1.0));
    }
}
