//! C4 ([`parity_stays_near_chance`]): on parity neither full nor top-k attention generalises,
//! the mean last-epoch held-out accuracy staying in [`CHANCE_BAND`] (rules in the parent
//! module's doc). Computes the typed result; `render::parity` turns it into table rows and prose.

use common::{Activation, Task, Variant};
use stats::describe::{describe, Describe};
use stats::schema::GroupStats;

use super::degenerate::{of_parity_group, Degenerate};
use super::model::{groups_of, is_topk, Primary, Verdict, CHANCE_BAND};
use crate::input::Inputs;

/// One full or topk group on parity.
#[derive(Clone, Debug)]
pub(crate) struct ParityGroup<'a> {
    /// The group.
    pub(crate) group: &'a GroupStats,
    /// Its last-epoch held-out accuracy over seeds, with a 95% interval.
    pub(crate) last: Describe,
    /// The largest last-epoch held-out accuracy of any seed.
    pub(crate) max_last: Option<f64>,
    /// Whether the mean lies in the chance band.
    pub(crate) near_chance: bool,
    /// Why the group cannot count, if it cannot ([`of_parity_group`]).
    pub(crate) degenerate: Option<Degenerate>,
}

/// What one primary group contributes to C4's overall rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Standing {
    /// Its mean is in the chance band.
    NearChance,
    /// Its mean is outside the band.
    Generalizes,
    /// It cannot count ([`Degenerate`]).
    Degenerate,
}

/// C4, checked.
#[derive(Clone, Debug)]
pub(crate) struct ParityNearChance<'a> {
    /// The primary activation.
    pub(crate) activation: Option<Activation>,
    /// Whether parity was run at all.
    pub(crate) parity_run: bool,
    /// Its full and topk groups, in display order.
    pub(crate) groups: Vec<ParityGroup<'a>>,
    /// Whether full and some topk variant both ran under the primary activation.
    pub(crate) complete: bool,
    /// The epoch counts of every parity run, ascending, distinct.
    pub(crate) epochs: Vec<usize>,
    /// The overall verdict.
    pub(crate) verdict: Verdict,
}

/// The rule for one group: its mean is inside the chance band (bounds included); no mean is
/// not near chance.
pub(crate) fn near_chance(mean: Option<f64>) -> bool {
    let (lo, hi) = CHANCE_BAND;
    mean.is_some_and(|m| (lo..=hi).contains(&m))
}

/// The rule for C4 overall: inconclusive unless full and a topk variant ran under the primary
/// activation; then not reproduced when a group that counts lies outside the band, inconclusive
/// when some group cannot count (one seed, never fit its training set), else reproduced.
pub(crate) fn overall(complete: bool, primary: &[Standing]) -> Verdict {
    if !complete {
        Verdict::Inconclusive
    } else if primary.contains(&Standing::Generalizes) {
        Verdict::NotReproduced
    } else if primary.contains(&Standing::Degenerate) {
        Verdict::Inconclusive
    } else {
        Verdict::Reproduced
    }
}

impl ParityGroup<'_> {
    /// What the group contributes to the overall rule.
    pub(crate) fn standing(&self) -> Standing {
        if self.degenerate.is_some() {
            Standing::Degenerate
        } else if self.near_chance {
            Standing::NearChance
        } else {
            Standing::Generalizes
        }
    }
}

/// C4: places every full and topk group on parity against the chance band and decides on those
/// of the primary activation.
pub(crate) fn parity_stays_near_chance<'a>(
    inputs: &'a Inputs,
    primary: &Primary,
) -> ParityNearChance<'a> {
    let groups: Vec<ParityGroup<'a>> =
        groups_of(inputs, Task::Parity, |v| v == Variant::Full || is_topk(v))
            .into_iter()
            .map(|group| {
                let last: Vec<f64> = group
                    .per_seed
                    .iter()
                    .filter_map(|s| s.last_heldout_acc)
                    .collect();
                let d = describe(&last, 0.95);
                ParityGroup {
                    degenerate: of_parity_group(group),
                    group,
                    near_chance: near_chance(d.mean),
                    last: d,
                    max_last: last.iter().copied().reduce(f64::max),
                }
            })
            .collect();
    let primary_groups = || {
        groups
            .iter()
            .filter(|g| Some(g.group.activation) == primary.activation)
    };
    let complete = primary_groups().any(|g| g.group.variant == Variant::Full)
        && primary_groups().any(|g| is_topk(g.group.variant));
    let standings: Vec<Standing> = primary_groups().map(ParityGroup::standing).collect();
    ParityNearChance {
        activation: primary.activation,
        parity_run: inputs.stats.contains_key(&Task::Parity),
        verdict: overall(complete, &standings),
        complete,
        epochs: parity_epochs(inputs),
        groups,
    }
}

impl ParityNearChance<'_> {
    /// The groups of the primary activation: how many, and how many are near chance.
    pub(crate) fn primary_counts(&self) -> (usize, usize) {
        let primary = self
            .groups
            .iter()
            .filter(|g| Some(g.group.activation) == self.activation);
        primary.fold((0, 0), |(n, near), g| {
            (n + 1, near + usize::from(g.near_chance))
        })
    }
}

/// The distinct epoch counts of the parity runs, ascending.
fn parity_epochs(inputs: &Inputs) -> Vec<usize> {
    let Some((_, file)) = inputs.stats.get(&Task::Parity) else {
        return vec![];
    };
    let mut epochs: Vec<usize> = file
        .groups
        .iter()
        .flat_map(|g| g.epochs.iter().copied())
        .collect();
    epochs.sort_unstable();
    epochs.dedup();
    epochs
}

#[cfg(test)]
mod tests {
    use common::{Activation, Task, Variant};

    use super::*;
    use crate::claims::fixture::{by_accuracy, group, inputs, never_converged, TOPK5};

    #[test]
    fn parity_is_near_chance_within_the_band_bounds_included() {
        let (lo, hi) = CHANCE_BAND;
        assert!(near_chance(Some(0.5)));
        assert!(near_chance(Some(lo)) && near_chance(Some(hi)));
        assert!(!near_chance(Some(0.449)) && !near_chance(Some(0.551)));
        assert!(!near_chance(None));
    }

    #[test]
    fn c4_needs_full_and_topk_and_every_one_near_chance() {
        use Standing::{Degenerate as D, Generalizes as G, NearChance as C};
        assert_eq!(overall(true, &[C, C]), Verdict::Reproduced);
        assert_eq!(overall(true, &[C, G]), Verdict::NotReproduced);
        assert_eq!(overall(true, &[D, G]), Verdict::NotReproduced);
        assert_eq!(overall(true, &[C, D]), Verdict::Inconclusive);
        assert_eq!(overall(false, &[C]), Verdict::Inconclusive);
        assert_eq!(overall(false, &[G]), Verdict::Inconclusive);
    }

    #[test]
    fn one_seed_or_a_model_that_never_fit_training_is_inconclusive() {
        let relu = Activation::Relu;
        let c4 = |groups| {
            let inputs = inputs(vec![(Task::Parity, groups)]);
            parity_stays_near_chance(&inputs, &Primary::choose(&inputs)).verdict
        };
        // Both at 50% on one seed each.
        assert_eq!(
            c4(vec![
                group(Variant::Full, relu, &by_accuracy(1, &[0.5])),
                group(TOPK5, relu, &by_accuracy(1, &[0.5])),
            ]),
            Verdict::Inconclusive
        );
        // At 50% but never reached 95% training accuracy (zero variance too).
        assert_eq!(
            c4(vec![
                group(Variant::Full, relu, &never_converged(1, 3, 0.5)),
                group(TOPK5, relu, &never_converged(1, 3, 0.5)),
            ]),
            Verdict::Inconclusive
        );
        // Fit the training set on two seeds, 50% held out: reproduced.
        assert_eq!(
            c4(vec![
                group(Variant::Full, relu, &by_accuracy(1, &[0.5, 0.5])),
                group(TOPK5, relu, &by_accuracy(1, &[0.5, 0.5])),
            ]),
            Verdict::Reproduced
        );
    }

    #[test]
    fn only_the_primary_activation_decides() {
        let (relu, gelu) = (Activation::Relu, Activation::Gelu);
        let three = |acc: f64| by_accuracy(1, &[acc, acc, acc]);
        let inputs = inputs(vec![(
            Task::Parity,
            vec![
                group(Variant::Full, relu, &three(0.51)),
                group(TOPK5, relu, &three(0.49)),
                // Generalises under gelu, which is not the primary activation.
                group(Variant::Full, gelu, &three(0.9)),
            ],
        )]);
        let c4 = parity_stays_near_chance(&inputs, &Primary::choose(&inputs));
        assert!(c4.complete);
        assert_eq!(c4.primary_counts(), (2, 2));
        assert_eq!(c4.verdict, Verdict::Reproduced);
        let near: Vec<bool> = c4.groups.iter().map(|g| g.near_chance).collect();
        assert_eq!(near, [true, true, false]);
    }

    #[test]
    fn parity_without_full_under_the_primary_activation_is_inconclusive() {
        let relu = Activation::Relu;
        let inputs = inputs(vec![(
            Task::Parity,
            vec![group(TOPK5, relu, &by_accuracy(1, &[0.5, 0.5]))],
        )]);
        let c4 = parity_stays_near_chance(&inputs, &Primary::choose(&inputs));
        assert!(c4.parity_run && !c4.complete);
        assert_eq!(c4.verdict, Verdict::Inconclusive);
    }
}
