//! C3 ([`topk_accuracy_noninferior`]): top-k attention's best held-out accuracy is not worse
//! than full attention's beyond the non-inferiority margin (rules in the parent module's doc).
//! Computes the typed result; `render::noninferiority` turns it into table rows and prose.

use common::{Task, Variant};
use stats::describe::{mean, std_dev, welch};
use stats::ranktest::{wilcoxon_signed_rank, Alternative, RankTest};
use stats::schema::GroupStats;
use stats::special::student_t_quantile;

use super::degenerate::{of_accuracy, Degenerate};
use super::model::{groups_of, is_topk, Primary, Verdict, ALPHA, NONINFERIORITY_MARGIN};
use crate::input::Inputs;
use crate::rows::find_group;

/// How the bounds were computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    /// A one-sample t-bound on the differences of shared seeds.
    Paired {
        /// Shared seeds.
        seeds: usize,
    },
    /// Welch's t-bound on two independent samples.
    Welch {
        /// Values of topk.
        topk: usize,
        /// Values of full attention.
        full: usize,
    },
}

/// The one-sided 95% t-bounds on the difference of best held-out accuracy, topk - full.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct NonInferiority {
    /// Mean difference (fraction of accuracy).
    pub(crate) mean_diff: f64,
    /// Lower bound.
    pub(crate) lower: f64,
    /// Upper bound.
    pub(crate) upper: f64,
    /// How they were computed.
    pub(crate) method: Method,
}

/// Best held-out accuracies of `g`'s seeds that have one.
fn best_accuracies(g: &GroupStats) -> Vec<f64> {
    g.per_seed
        .iter()
        .filter_map(|s| s.best_heldout_acc)
        .collect()
}

/// Why `topk` against `full` on `task` cannot be decided, if it cannot ([`of_accuracy`]).
pub(crate) fn degeneracy(task: Task, full: &GroupStats, topk: &GroupStats) -> Option<Degenerate> {
    of_accuracy(
        task,
        &best_accuracies(full),
        &best_accuracies(topk),
        &paired_differences(full, topk),
    )
}

/// Differences of best held-out accuracy, topk - full, over the seeds both ran.
fn paired_differences(full: &GroupStats, topk: &GroupStats) -> Vec<f64> {
    topk.per_seed
        .iter()
        .filter_map(|t| Some(t.best_heldout_acc? - full.seed(t.seed)?.best_heldout_acc?))
        .collect()
}

/// Non-inferiority of `topk`'s best held-out accuracy against `full`'s: paired by seed when
/// they share seeds, Welch's otherwise; `None` with too few values.
pub(crate) fn noninferiority(full: &GroupStats, topk: &GroupStats) -> Option<NonInferiority> {
    let paired = paired_differences(full, topk);
    if !paired.is_empty() {
        let n = paired.len();
        let m = mean(&paired)?;
        let s = std_dev(&paired)?;
        let half = if s == 0.0 {
            0.0
        } else {
            student_t_quantile(1.0 - ALPHA, (n - 1) as f64) * s / (n as f64).sqrt()
        };
        return Some(NonInferiority {
            mean_diff: m,
            lower: m - half,
            upper: m + half,
            method: Method::Paired { seeds: n },
        });
    }
    let (a, b) = (best_accuracies(topk), best_accuracies(full));
    let (diff, se, df) = welch(&a, &b)?;
    let half = student_t_quantile(1.0 - ALPHA, df) * se;
    Some(NonInferiority {
        mean_diff: diff,
        lower: diff - half,
        upper: diff + half,
        method: Method::Welch {
            topk: a.len(),
            full: b.len(),
        },
    })
}

/// The rule for one comparison: inconclusive on degenerate data; else reproduced when the lower
/// bound is at or above minus the margin, not reproduced when the upper bound is below it,
/// inconclusive otherwise or without bounds.
pub(crate) fn decide(bounds: Option<&NonInferiority>, degenerate: Option<&Degenerate>) -> Verdict {
    match bounds {
        _ if degenerate.is_some() => Verdict::Inconclusive,
        Some(b) if b.lower >= -NONINFERIORITY_MARGIN => Verdict::Reproduced,
        Some(b) if b.upper < -NONINFERIORITY_MARGIN => Verdict::NotReproduced,
        _ => Verdict::Inconclusive,
    }
}

/// One topk group's accuracy against full attention on one task.
#[derive(Clone, Debug)]
pub(crate) struct AccuracyComparison<'a> {
    /// The task.
    pub(crate) task: Task,
    /// Full attention.
    pub(crate) full: &'a GroupStats,
    /// The topk group.
    pub(crate) topk: &'a GroupStats,
    /// The bounds, `None` with fewer than two values.
    pub(crate) bounds: Option<NonInferiority>,
    /// Why the data cannot decide, whatever the bounds say ([`of_accuracy`]).
    pub(crate) degenerate: Option<Degenerate>,
    /// Two-sided signed-rank test on the paired differences, for reference; `None` without
    /// shared seeds.
    pub(crate) signed_rank: Option<RankTest>,
    /// What the rule decided.
    pub(crate) verdict: Verdict,
    /// Whether it is the primary comparison.
    pub(crate) primary: bool,
}

/// One row of C3's table.
#[derive(Clone, Debug)]
pub(crate) enum Row<'a> {
    /// The task was not run at all.
    TaskNotRun(Task),
    /// A topk group compared with full attention.
    Compared(AccuracyComparison<'a>),
}

/// C3, checked.
#[derive(Clone, Debug)]
pub(crate) struct TopkAccuracy<'a> {
    /// The table rows, task by task in the paper's order (topk groups without full attention
    /// have none).
    pub(crate) rows: Vec<Row<'a>>,
    /// The verdict of every task's primary comparison, where it has one.
    pub(crate) primary_verdicts: Vec<(Task, Verdict)>,
    /// The overall verdict.
    pub(crate) verdict: Verdict,
}

/// C3: bounds every topk group's accuracy against full attention and decides overall on the
/// primary comparisons.
pub(crate) fn topk_accuracy_noninferior<'a>(
    inputs: &'a Inputs,
    primary: &Primary,
) -> TopkAccuracy<'a> {
    let mut rows = Vec::new();
    let mut primary_verdicts = Vec::new();
    for task in Task::ALL {
        if !inputs.stats.contains_key(&task) {
            rows.push(Row::TaskNotRun(task));
            continue;
        }
        for topk in groups_of(inputs, task, is_topk) {
            let Some(full) = find_group(inputs, task, Variant::Full, topk.activation) else {
                continue;
            };
            let diffs = paired_differences(full, topk);
            let bounds = noninferiority(full, topk);
            let degenerate = degeneracy(task, full, topk);
            let verdict = decide(bounds.as_ref(), degenerate.as_ref());
            let primary = primary.is(topk.activation, topk.variant);
            if primary {
                primary_verdicts.push((task, verdict));
            }
            rows.push(Row::Compared(AccuracyComparison {
                task,
                full,
                topk,
                bounds,
                degenerate,
                signed_rank: (!diffs.is_empty())
                    .then(|| wilcoxon_signed_rank(&diffs, Alternative::TwoSided)),
                verdict,
                primary,
            }));
        }
    }
    let verdicts: Vec<Verdict> = primary_verdicts.iter().map(|(_, v)| *v).collect();
    TopkAccuracy {
        rows,
        verdict: overall(&verdicts),
        primary_verdicts,
    }
}

/// The rule for C3 overall: not reproduced when any primary comparison is, reproduced when at
/// least one is and none is not, else inconclusive.
pub(crate) fn overall(primary_verdicts: &[Verdict]) -> Verdict {
    if primary_verdicts.contains(&Verdict::NotReproduced) {
        Verdict::NotReproduced
    } else if primary_verdicts.contains(&Verdict::Reproduced) {
        Verdict::Reproduced
    } else {
        Verdict::Inconclusive
    }
}

#[cfg(test)]
mod tests {
    use common::{Activation, Task, Variant};

    use super::*;
    use crate::claims::fixture::{by_accuracy, group, inputs, never_converged, TOPK5};

    const RELU: Activation = Activation::Relu;

    fn decide_ok(b: Option<&NonInferiority>) -> Verdict {
        decide(b, None)
    }

    fn bounds(lower: f64, upper: f64) -> NonInferiority {
        NonInferiority {
            mean_diff: (lower + upper) / 2.0,
            lower,
            upper,
            method: Method::Paired { seeds: 5 },
        }
    }

    #[test]
    fn noninferiority_is_decided_by_the_bound_against_the_margin() {
        let m = NONINFERIORITY_MARGIN;
        assert_eq!(decide_ok(Some(&bounds(-m, 0.01))), Verdict::Reproduced);
        assert_eq!(decide_ok(Some(&bounds(-0.019, 0.03))), Verdict::Reproduced);
        assert_eq!(
            decide_ok(Some(&bounds(-0.021, 0.03))),
            Verdict::Inconclusive
        );
        assert_eq!(decide_ok(Some(&bounds(-0.05, -m))), Verdict::Inconclusive);
        assert_eq!(
            decide_ok(Some(&bounds(-0.05, -0.021))),
            Verdict::NotReproduced
        );
        assert_eq!(decide_ok(None), Verdict::Inconclusive);
    }

    #[test]
    fn bounds_are_paired_by_seed_when_seeds_are_shared() {
        let full = group(Variant::Full, RELU, &by_accuracy(1, &[0.90, 0.92, 0.91]));
        let topk = group(TOPK5, RELU, &by_accuracy(1, &[0.91, 0.92, 0.93]));
        let b = noninferiority(&full, &topk).expect("three pairs");
        assert_eq!(b.method, Method::Paired { seeds: 3 });
        // Differences 0.01, 0, 0.02: mean 0.01, sd 0.01, t(0.95, 2) = 2.919986.
        assert!((b.mean_diff - 0.01).abs() < 1e-12);
        let half = 2.919_986 * 0.01 / 3f64.sqrt();
        assert!((b.lower - (0.01 - half)).abs() < 1e-6, "{b:?}");
        assert!((b.upper - (0.01 + half)).abs() < 1e-6, "{b:?}");
        assert_eq!(decide_ok(Some(&b)), Verdict::Reproduced);
    }

    #[test]
    fn disjoint_seeds_use_welch_and_one_pair_has_no_bound() {
        let full = group(Variant::Full, RELU, &by_accuracy(1, &[0.90, 0.92, 0.91]));
        let topk = group(TOPK5, RELU, &by_accuracy(4, &[0.80, 0.81, 0.79]));
        let b = noninferiority(&full, &topk).expect("two samples of three");
        assert_eq!(b.method, Method::Welch { topk: 3, full: 3 });
        assert!((b.mean_diff + 0.11).abs() < 1e-12);
        assert_eq!(decide_ok(Some(&b)), Verdict::NotReproduced);

        let one = group(TOPK5, RELU, &by_accuracy(1, &[0.5]));
        assert_eq!(noninferiority(&full, &one), None);
    }

    #[test]
    fn degenerate_data_is_inconclusive_whatever_the_bounds() {
        let ok = bounds(0.0, 0.0);
        for reason in [
            Degenerate::ZeroVariance { seeds: 2 },
            Degenerate::TooFewSeeds { seeds: 1 },
            Degenerate::NoSeedConverged,
        ] {
            assert_eq!(decide(Some(&ok), Some(&reason)), Verdict::Inconclusive);
        }
    }

    /// The smoke profile's case: both models at 49% on even_pairs, no seed converged, the
    /// same accuracy on both seeds, so the paired bounds are [+0.00, +0.00].
    #[test]
    fn chance_level_zero_variance_data_is_not_reproduced_as_noninferior() {
        let full = group(Variant::Full, RELU, &never_converged(1, 2, 0.49));
        let topk = group(TOPK5, RELU, &never_converged(1, 2, 0.49));
        let inputs = inputs(vec![(Task::EvenPairs, vec![full, topk])]);
        let c3 = topk_accuracy_noninferior(&inputs, &Primary::choose(&inputs));
        assert_eq!(c3.verdict, Verdict::Inconclusive);
        let Some(Row::Compared(c)) = c3.rows.iter().find(|r| matches!(r, Row::Compared(_))) else {
            panic!("no comparison row");
        };
        assert!(
            matches!(c.degenerate, Some(Degenerate::AtChance { .. })),
            "{c:?}"
        );
        assert_eq!(c.bounds.map(|b| (b.lower, b.upper)), Some((0.0, 0.0)));

        // Above chance but with identical differences: zero variance.
        let full = group(Variant::Full, RELU, &by_accuracy(1, &[0.90, 0.80]));
        let topk = group(TOPK5, RELU, &by_accuracy(1, &[0.90, 0.80]));
        assert_eq!(
            degeneracy(Task::EvenPairs, &full, &topk),
            Some(Degenerate::ZeroVariance { seeds: 2 })
        );
        // One seed.
        let one_full = group(Variant::Full, RELU, &by_accuracy(1, &[0.90]));
        let one_topk = group(TOPK5, RELU, &by_accuracy(1, &[0.95]));
        assert_eq!(
            degeneracy(Task::EvenPairs, &one_full, &one_topk),
            Some(Degenerate::TooFewSeeds { seeds: 1 })
        );
    }

    #[test]
    fn any_failed_primary_comparison_contradicts_c3() {
        use Verdict::{Inconclusive as I, NotReproduced as N, Reproduced as R};
        assert_eq!(overall(&[R, R, N]), N);
        assert_eq!(overall(&[R, I]), R);
        assert_eq!(overall(&[I, I]), I);
        assert_eq!(overall(&[]), I);
    }
}
