//! Inputs on which a claim's test would decide something it cannot know: no seed converged, one
//! seed, zero variance, a task at chance. Each check below names the reason in words; a
//! comparison with a reason is "inconclusive", whatever its statistic says.
//!
//! Which reasons apply to which claim (and why) is in the parent module's doc. A leaf besides
//! `model`: the checks and their rendering import it, it imports nothing back.

use std::fmt;

use common::Task;
use stats::describe::{mean, std_dev};
use stats::schema::GroupStats;

/// The fewest seeds (or shared-seed pairs) a comparison needs to estimate a spread.
pub const MIN_SEEDS: usize = 2;
/// The fewest values with zero variance that still decide C3: n equal differences all on one
/// side of the margin give an exact one-sided sign-test p of 1/2^n, at most 0.05 from 5 on.
pub const ZERO_VARIANCE_SEEDS: usize = 5;
/// How far above the task's chance level (1 / classes) a mean accuracy may lie and still count
/// as "at chance": 5 percentage points.
pub const CHANCE_MARGIN: f64 = 0.05;

/// Why a comparison cannot be decided on its data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Degenerate {
    /// Neither group converged on any seed: every censored epoch is the cap.
    NoSeedConverged,
    /// A group (or the shared-seed pairs) has fewer than [`MIN_SEEDS`] values.
    TooFewSeeds {
        /// The smallest count.
        seeds: usize,
    },
    /// Every shared seed needed the same number of epochs under both groups: every difference
    /// is zero, so a rank test has nothing to work on.
    AllTied,
    /// Every value compared is the same (a point, not an interval, for the bounds) and there are
    /// too few of them for the exact sign test on their common side of the margin to reach
    /// alpha (1/2^n > 0.05, i.e. fewer than [`ZERO_VARIANCE_SEEDS`]).
    ZeroVariance {
        /// How many values.
        seeds: usize,
    },
    /// Both groups' mean best held-out accuracy is within [`CHANCE_MARGIN`] of chance.
    AtChance {
        /// Full attention's mean best held-out accuracy.
        full: f64,
        /// The other group's.
        other: f64,
        /// The task's chance level.
        chance: f64,
    },
    /// The group never reached 95% training accuracy on any seed.
    NeverFitTraining,
}

impl fmt::Display for Degenerate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Degenerate::NoSeedConverged => f.write_str(
                "no seed of either group converged, so every epoch count is the cap and nothing is compared",
            ),
            Degenerate::TooFewSeeds { seeds } => write!(
                f,
                "only {seeds} seed{}, too few to estimate a spread (at least {MIN_SEEDS} needed)",
                if *seeds == 1 { "" } else { "s" }
            ),
            Degenerate::AllTied => f.write_str(
                "every shared seed needed the same number of epochs under both, so there is no difference to test",
            ),
            Degenerate::ZeroVariance { seeds } => write!(
                f,
                "the {seeds} values compared have zero variance, so the bounds are a point and not an interval, and an exact sign test on {seeds} seeds cannot reach alpha (at least {ZERO_VARIANCE_SEEDS} needed)"
            ),
            Degenerate::AtChance {
                full,
                other,
                chance,
            } => write!(
                f,
                "both models are at chance level ({:.1}% and {:.1}%, chance {:.1}%): neither learned the task, so equal accuracies say nothing",
                full * 100.0,
                other * 100.0,
                chance * 100.0
            ),
            Degenerate::NeverFitTraining => f.write_str(
                "no seed reached 95% training accuracy, so chance held-out accuracy shows a model that did not learn, not one that did not generalize",
            ),
        }
    }
}

/// Whether no seed of `g` converged (true for a group without seeds).
pub(crate) fn none_converged(g: &GroupStats) -> bool {
    g.per_seed.iter().all(|s| s.convergence_epoch.is_none())
}

/// The chance level of `task`: one over its number of classes.
pub(crate) fn chance(task: Task) -> f64 {
    1.0 / task.classes() as f64
}

/// Whether a mean accuracy lies at or below `chance` plus [`CHANCE_MARGIN`].
pub(crate) fn at_chance(mean: f64, chance: f64) -> bool {
    mean <= chance + CHANCE_MARGIN
}

/// Whether `values` has at least two entries and all of them are equal.
fn constant(values: &[f64]) -> bool {
    std_dev(values) == Some(0.0)
}

/// The degenerate case of a "fewer epochs" comparison (C1, C2), checked in this order: no seed
/// of either group converged; a group with fewer than [`MIN_SEEDS`] seeds; shared seeds whose
/// censored epochs are all equal (every difference zero). A task at chance is no reason here:
/// convergence is about training accuracy.
pub(crate) fn of_convergence(full: &GroupStats, other: &GroupStats) -> Option<Degenerate> {
    if none_converged(full) && none_converged(other) {
        return Some(Degenerate::NoSeedConverged);
    }
    let seeds = full.per_seed.len().min(other.per_seed.len());
    if seeds < MIN_SEEDS {
        return Some(Degenerate::TooFewSeeds { seeds });
    }
    let diffs = epoch_differences(full, other);
    (!diffs.is_empty() && diffs.iter().all(|d| *d == 0.0)).then_some(Degenerate::AllTied)
}

/// `other`'s censored convergence epoch minus `full`'s, for each seed the two groups share, in
/// `other`'s order.
pub(crate) fn epoch_differences(full: &GroupStats, other: &GroupStats) -> Vec<f64> {
    other
        .per_seed
        .iter()
        .filter_map(|o| {
            let f = full.seed(o.seed)?;
            Some(o.censored_convergence_epoch as f64 - f.censored_convergence_epoch as f64)
        })
        .collect()
}

/// The degenerate case of an accuracy comparison (C3), checked in this order: fewer than
/// [`MIN_SEEDS`] values (shared-seed differences when `paired` is non-empty, else each group's
/// values); both groups at chance on `task`; zero variance (of the differences, or of both
/// groups' values) with fewer than [`ZERO_VARIANCE_SEEDS`] values. No convergence alone is no reason here: a task like listops may never reach
/// 95% training accuracy while its held-out accuracies are well above chance and comparable.
pub(crate) fn of_accuracy(
    task: Task,
    full: &[f64],
    other: &[f64],
    paired: &[f64],
) -> Option<Degenerate> {
    let seeds = if paired.is_empty() {
        full.len().min(other.len())
    } else {
        paired.len()
    };
    if seeds < MIN_SEEDS {
        return Some(Degenerate::TooFewSeeds { seeds });
    }
    let chance = chance(task);
    if let (Some(f), Some(o)) = (mean(full), mean(other)) {
        if at_chance(f, chance) && at_chance(o, chance) {
            return Some(Degenerate::AtChance {
                full: f,
                other: o,
                chance,
            });
        }
    }
    let flat = if paired.is_empty() {
        constant(full) && constant(other)
    } else {
        constant(paired)
    };
    (flat && seeds < ZERO_VARIANCE_SEEDS).then_some(Degenerate::ZeroVariance { seeds })
}

/// The degenerate case of a parity group (C4): fewer than [`MIN_SEEDS`] seeds, or no seed that
/// fit its training set. Zero variance is no reason here: the rule places the mean and uses no
/// bound.
pub(crate) fn of_parity_group(g: &GroupStats) -> Option<Degenerate> {
    let seeds = g.per_seed.len();
    if seeds < MIN_SEEDS {
        Some(Degenerate::TooFewSeeds { seeds })
    } else if none_converged(g) {
        Some(Degenerate::NeverFitTraining)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use common::{Activation, Variant};

    use super::*;
    use crate::claims::fixture::{by_epochs, group, never_converged, TOPK5};

    const RELU: Activation = Activation::Relu;

    #[test]
    fn convergence_is_degenerate_without_convergence_with_one_seed_or_all_ties() {
        let full = group(Variant::Full, RELU, &never_converged(1, 2, 0.49));
        let topk = group(TOPK5, RELU, &never_converged(1, 2, 0.49));
        assert_eq!(
            of_convergence(&full, &topk),
            Some(Degenerate::NoSeedConverged)
        );
        let one = group(TOPK5, RELU, &by_epochs(1, &[5]));
        let full3 = group(Variant::Full, RELU, &by_epochs(1, &[20, 21, 22]));
        assert_eq!(
            of_convergence(&full3, &one),
            Some(Degenerate::TooFewSeeds { seeds: 1 })
        );
        let same = group(TOPK5, RELU, &by_epochs(1, &[20, 21, 22]));
        assert_eq!(of_convergence(&full3, &same), Some(Degenerate::AllTied));
        let faster = group(TOPK5, RELU, &by_epochs(1, &[5, 6, 7]));
        assert_eq!(of_convergence(&full3, &faster), None);
    }

    #[test]
    fn epoch_differences_pair_only_the_seeds_both_groups_have_in_the_others_order() {
        // full: seeds 1-3 at epochs 20, 21, 22; other: seeds 2-5 at 5, 6, 7, 8.
        let full = group(Variant::Full, RELU, &by_epochs(1, &[20, 21, 22]));
        let other = group(TOPK5, RELU, &by_epochs(2, &[5, 6, 7, 8]));
        assert_eq!(epoch_differences(&full, &other), [5.0 - 21.0, 6.0 - 22.0]);
        let apart = group(TOPK5, RELU, &by_epochs(10, &[5, 6]));
        assert!(epoch_differences(&full, &apart).is_empty());
    }

    #[test]
    fn accuracy_is_degenerate_with_one_pair_at_chance_or_with_zero_variance() {
        let t = Task::EvenPairs;
        assert_eq!(
            of_accuracy(t, &[0.9], &[0.9], &[0.0]),
            Some(Degenerate::TooFewSeeds { seeds: 1 })
        );
        assert_eq!(
            of_accuracy(t, &[0.9, 0.9], &[0.8], &[]),
            Some(Degenerate::TooFewSeeds { seeds: 1 })
        );
        assert!(matches!(
            of_accuracy(t, &[0.49, 0.50], &[0.49, 0.51], &[0.0, 0.01]),
            Some(Degenerate::AtChance { .. })
        ));
        // Chance on listops is 10%: 40% is well above it.
        assert_eq!(
            of_accuracy(Task::Listops, &[0.40, 0.38], &[0.39, 0.41], &[-0.01, 0.03]),
            None
        );
        assert_eq!(
            of_accuracy(t, &[0.9, 0.8], &[0.91, 0.81], &[0.01, 0.01]),
            Some(Degenerate::ZeroVariance { seeds: 2 })
        );
        assert_eq!(
            of_accuracy(t, &[0.9, 0.9], &[0.8, 0.8], &[]),
            Some(Degenerate::ZeroVariance { seeds: 2 })
        );
        // Five equal differences: the exact sign test reaches 1/32, so the data decide.
        assert_eq!(of_accuracy(t, &[0.999; 5], &[0.999; 5], &[0.0; 5]), None);
        assert_eq!(
            of_accuracy(t, &[0.999; 4], &[0.999; 4], &[0.0; 4]),
            Some(Degenerate::ZeroVariance { seeds: 4 })
        );
        assert_eq!(
            of_accuracy(t, &[0.9, 0.8], &[0.92, 0.81], &[0.02, 0.01]),
            None
        );
    }

    #[test]
    fn a_parity_group_needs_two_seeds_that_fit_the_training_set() {
        let one = group(Variant::Full, RELU, &by_epochs(1, &[5]));
        assert_eq!(
            of_parity_group(&one),
            Some(Degenerate::TooFewSeeds { seeds: 1 })
        );
        let unfit = group(Variant::Full, RELU, &never_converged(1, 3, 0.5));
        assert_eq!(of_parity_group(&unfit), Some(Degenerate::NeverFitTraining));
        let fit = group(Variant::Full, RELU, &by_epochs(1, &[5, 6]));
        assert_eq!(of_parity_group(&fit), None);
    }

    #[test]
    fn reasons_read_as_words() {
        let text = Degenerate::AtChance {
            full: 0.49,
            other: 0.495,
            chance: 0.5,
        }
        .to_string();
        assert!(
            text.contains("chance level (49.0% and 49.5%, chance 50.0%)"),
            "{text}"
        );
        assert!(Degenerate::TooFewSeeds { seeds: 1 }
            .to_string()
            .starts_with("only 1 seed,"));
    }
}
