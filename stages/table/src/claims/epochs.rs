//! The convergence tests that C1 and C2 share: per task, a one-sided rank test that a variant
//! needs fewer censored epochs than full attention; pooled over tasks, a signed-rank test on the
//! per-(task, seed) log ratios; and the rule that turns such a test into a verdict at
//! [`ALPHA`].
//!
//! Limits: the pooled test needs seeds shared with full attention; unpaired groups do not
//! enter it.

use common::{Activation, Task, Variant};
use stats::ranktest::{mann_whitney_u, wilcoxon_signed_rank, Alternative, RankTest};
use stats::schema::GroupStats;

use super::degenerate::{epoch_differences, of_convergence, Degenerate};
use super::model::{Verdict, ALPHA};
use crate::input::Inputs;
use crate::rows::find_group;

/// One-sided test that `other` converges in fewer (censored) epochs than `full`: signed-rank on
/// the differences of shared seeds, Mann-Whitney U when no seed is shared.
pub(crate) fn fewer_epochs(full: &GroupStats, other: &GroupStats) -> RankTest {
    let shared = epoch_differences(full, other);
    if shared.is_empty() {
        let epochs = |g: &GroupStats| {
            g.per_seed
                .iter()
                .map(|s| s.censored_convergence_epoch as f64)
                .collect::<Vec<_>>()
        };
        mann_whitney_u(&epochs(other), &epochs(full), Alternative::Less)
    } else {
        wilcoxon_signed_rank(&shared, Alternative::Less)
    }
}

/// A variant's "fewer epochs" test against full attention on one task.
#[derive(Clone, Debug)]
pub(crate) struct Comparison<'a> {
    /// The task.
    pub(crate) task: Task,
    /// Full attention.
    pub(crate) full: &'a GroupStats,
    /// The variant.
    pub(crate) other: &'a GroupStats,
    /// The one-sided test.
    pub(crate) test: RankTest,
    /// Why the data cannot decide, whatever the test says ([`of_convergence`]).
    pub(crate) degenerate: Option<Degenerate>,
    /// Its verdict at alpha; inconclusive when degenerate.
    pub(crate) verdict: Verdict,
    /// Whether it is the primary comparison.
    pub(crate) primary: bool,
}

impl<'a> Comparison<'a> {
    /// Tests `other` against `full` on `task` ([`fewer_epochs`]) and decides at alpha
    /// ([`significance`]), or inconclusive on degenerate data ([`of_convergence`]).
    pub(crate) fn new(
        task: Task,
        full: &'a GroupStats,
        other: &'a GroupStats,
        primary: bool,
    ) -> Comparison<'a> {
        let test = fewer_epochs(full, other);
        let degenerate = of_convergence(full, other);
        let verdict = match degenerate {
            Some(_) => Verdict::Inconclusive,
            None => significance(&test),
        };
        Comparison {
            task,
            full,
            other,
            test,
            degenerate,
            verdict,
            primary,
        }
    }
}

/// The pooled "fewer epochs" test over tasks and how many tasks contributed to it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PooledTest {
    /// The signed-rank test on the per-(task, seed) log ratios.
    pub(crate) test: RankTest,
    /// Tasks with at least one shared seed.
    pub(crate) tasks: usize,
}

/// Pooled one-sided signed-rank test over every task run: per (task, shared seed) the log ratio
/// of censored convergence epochs, variant / full (scale-free, so tasks of different lengths
/// pool). `None` when no task has both groups with a shared seed.
pub(crate) fn pooled_fewer_epochs(
    inputs: &Inputs,
    activation: Activation,
    variant: Variant,
) -> Option<PooledTest> {
    let mut ratios = Vec::new();
    let mut tasks = 0;
    for task in Task::ALL {
        let (Some(full), Some(other)) = (
            find_group(inputs, task, Variant::Full, activation),
            find_group(inputs, task, variant, activation),
        ) else {
            continue;
        };
        let before = ratios.len();
        for o in &other.per_seed {
            if let Some(f) = full.seed(o.seed) {
                ratios.push(
                    (o.censored_convergence_epoch as f64 / f.censored_convergence_epoch as f64)
                        .ln(),
                );
            }
        }
        tasks += usize::from(ratios.len() > before);
    }
    (!ratios.is_empty()).then(|| PooledTest {
        test: wilcoxon_signed_rank(&ratios, Alternative::Less),
        tasks,
    })
}

/// Verdict of a one-sided "fewer epochs" test: reproduced when p <= [`ALPHA`], inconclusive when
/// no outcome could have reached it (the smallest attainable p is above it), else not
/// reproduced.
pub(crate) fn significance(t: &RankTest) -> Verdict {
    if t.p_value <= ALPHA {
        Verdict::Reproduced
    } else if t.min_p_value > ALPHA {
        Verdict::Inconclusive
    } else {
        Verdict::NotReproduced
    }
}

#[cfg(test)]
mod tests {
    use common::{Activation, Task, Variant};
    use stats::ranktest::TestKind;

    use super::*;
    use crate::claims::fixture::{by_epochs, group, inputs, rank_test, TOPK5};

    #[test]
    fn significance_is_decided_at_alpha() {
        assert_eq!(
            significance(&rank_test(ALPHA, 0.01)),
            Verdict::Reproduced,
            "p equal to alpha is significant"
        );
        assert_eq!(
            significance(&rank_test(0.0501, 0.01)),
            Verdict::NotReproduced
        );
        // Signed-rank with four seeds: the smallest attainable p is 1/16 > alpha.
        assert_eq!(
            significance(&rank_test(0.0625, 0.0625)),
            Verdict::Inconclusive
        );
        assert_eq!(significance(&rank_test(0.5, ALPHA)), Verdict::NotReproduced);
    }

    #[test]
    fn shared_seeds_are_paired_and_disjoint_seeds_are_not() {
        let relu = Activation::Relu;
        let full = group(Variant::Full, relu, &by_epochs(1, &[20, 22]));
        let paired = group(TOPK5, relu, &by_epochs(1, &[5, 6]));
        let t = fewer_epochs(&full, &paired);
        assert_eq!(
            (t.test, t.n, t.n_other),
            (TestKind::WilcoxonSignedRank, 2, 0)
        );
        let apart = group(TOPK5, relu, &by_epochs(3, &[5, 6, 7]));
        let t = fewer_epochs(&full, &apart);
        assert_eq!((t.test, t.n, t.n_other), (TestKind::MannWhitneyU, 3, 2));
        assert_eq!(
            t.statistic, 0.0,
            "every topk seed is faster than every full seed"
        );
    }

    #[test]
    fn pooled_test_counts_the_tasks_with_a_shared_seed() {
        let relu = Activation::Relu;
        let pair = |full: &[usize], topk: &[usize]| {
            vec![
                group(Variant::Full, relu, &by_epochs(1, full)),
                group(TOPK5, relu, &by_epochs(1, topk)),
            ]
        };
        let inputs = inputs(vec![
            (Task::EvenPairs, pair(&[20, 22, 19], &[5, 6, 4])),
            (Task::Parity, pair(&[40, 44, 38], &[10, 11, 9])),
            // No seed shared with full: left out of the pool.
            (
                Task::Listops,
                vec![
                    group(Variant::Full, relu, &by_epochs(7, &[30])),
                    group(TOPK5, relu, &by_epochs(8, &[3])),
                ],
            ),
        ]);
        let pooled = pooled_fewer_epochs(&inputs, relu, TOPK5).expect("two tasks pool");
        assert_eq!(pooled.tasks, 2);
        assert_eq!(pooled.test.n, 6);
        // All six log ratios negative: exact one-sided p = 1/64.
        assert!((pooled.test.p_value - 1.0 / 64.0).abs() < 1e-12);
        assert_eq!(significance(&pooled.test), Verdict::Reproduced);
        assert_eq!(pooled_fewer_epochs(&inputs, Activation::Gelu, TOPK5), None);
    }
}
