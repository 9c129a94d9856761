//! C2 ([`local_attention_not_consistently_faster`]): no banded or block-local variant converges
//! consistently faster than full attention (rules in the parent module's doc). Computes the
//! typed result; `render::local` turns it into table rows and prose.

use common::{Activation, Task, Variant};
use stats::schema::{activation_order, variant_order};

use super::epochs::{pooled_fewer_epochs, significance, Comparison, PooledTest};
use super::model::{groups_of, is_band_or_bloc, Verdict};
use crate::input::Inputs;
use crate::rows::find_group;

/// Per (activation, band/bloc variant): tasks compared with full, significantly faster, and
/// undetermined (the test could not reach alpha).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tally {
    /// The activation.
    pub(crate) activation: Activation,
    /// The band/bloc variant.
    pub(crate) variant: Variant,
    /// Tasks on which it was compared with full attention.
    pub(crate) compared: usize,
    /// Tasks on which it was significantly faster.
    pub(crate) faster: usize,
    /// Tasks whose test could not reach alpha.
    pub(crate) undetermined: usize,
}

/// Whether a band/bloc variant is consistently faster than full attention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Significantly faster on more than half of its tasks.
    ConsistentlyFaster,
    /// Not, even if every undetermined task had been faster.
    NotConsistentlyFaster,
    /// The per-task tests could not decide; the pooled test says faster.
    FasterPooled,
    /// The per-task tests could not decide; the pooled test says not faster.
    NotFasterPooled,
    /// Neither the per-task tests nor the pooled test could decide.
    Undetermined,
}

impl Status {
    /// Whether the variant counts as consistently faster (against the claim).
    pub(crate) fn is_faster(self) -> bool {
        matches!(self, Status::ConsistentlyFaster | Status::FasterPooled)
    }
}

/// One band/bloc variant's standing over all tasks.
#[derive(Clone, Debug)]
pub(crate) struct VariantStatus {
    /// Its counts.
    pub(crate) tally: Tally,
    /// The pooled test over tasks, when some task shares seeds with full attention.
    pub(crate) pooled: Option<PooledTest>,
    /// What the rule decided.
    pub(crate) status: Status,
}

/// C2, checked.
#[derive(Clone, Debug)]
pub(crate) struct LocalAttention<'a> {
    /// Every band/bloc group compared with full attention, task by task.
    pub(crate) comparisons: Vec<Comparison<'a>>,
    /// Every (activation, band/bloc variant) compared, in display order.
    pub(crate) variants: Vec<VariantStatus>,
    /// The overall verdict.
    pub(crate) verdict: Verdict,
}

/// C2: tests every band/bloc group against full attention and decides per variant and overall.
pub(crate) fn local_attention_not_consistently_faster(inputs: &Inputs) -> LocalAttention<'_> {
    let mut comparisons = Vec::new();
    let mut tallies: Vec<Tally> = Vec::new();
    for task in Task::ALL {
        for other in groups_of(inputs, task, is_band_or_bloc) {
            let (activation, variant) = (other.activation, other.variant);
            let Some(full) = find_group(inputs, task, Variant::Full, activation) else {
                continue;
            };
            let comparison = Comparison::new(task, full, other, false);
            let i = match tallies
                .iter()
                .position(|t| (t.activation, t.variant) == (activation, variant))
            {
                Some(i) => i,
                None => {
                    tallies.push(Tally {
                        activation,
                        variant,
                        compared: 0,
                        faster: 0,
                        undetermined: 0,
                    });
                    tallies.len() - 1
                }
            };
            let entry = &mut tallies[i];
            entry.compared += 1;
            match comparison.verdict {
                Verdict::Reproduced => entry.faster += 1,
                Verdict::Inconclusive => entry.undetermined += 1,
                Verdict::NotReproduced => {}
            }
            comparisons.push(comparison);
        }
    }
    tallies.sort_by_key(|t| (activation_order(&t.activation), variant_order(&t.variant)));
    let variants: Vec<VariantStatus> = tallies
        .into_iter()
        .map(|tally| {
            let pooled = pooled_fewer_epochs(inputs, tally.activation, tally.variant);
            let status = status(&tally, pooled.as_ref());
            VariantStatus {
                tally,
                pooled,
                status,
            }
        })
        .collect();
    let statuses: Vec<Status> = variants.iter().map(|v| v.status).collect();
    LocalAttention {
        comparisons,
        verdict: overall(&statuses),
        variants,
    }
}

/// The rule for one variant: consistently faster when significantly faster on more than half of
/// its tasks; not when that majority is out of reach even if every undetermined task were
/// faster; otherwise the pooled test decides, and without a conclusive one it is undetermined.
pub(crate) fn status(tally: &Tally, pooled: Option<&PooledTest>) -> Status {
    let (m, s, u) = (tally.compared, tally.faster, tally.undetermined);
    if s * 2 > m {
        Status::ConsistentlyFaster
    } else if (s + u) * 2 <= m {
        Status::NotConsistentlyFaster
    } else {
        match pooled.map(|p| significance(&p.test)) {
            Some(Verdict::Reproduced) => Status::FasterPooled,
            Some(Verdict::NotReproduced) => Status::NotFasterPooled,
            Some(Verdict::Inconclusive) | None => Status::Undetermined,
        }
    }
}

/// The rule for C2 overall: not reproduced when any variant is consistently faster;
/// inconclusive when some variant is undetermined or none was compared; else reproduced.
pub(crate) fn overall(statuses: &[Status]) -> Verdict {
    if statuses.iter().any(|s| s.is_faster()) {
        Verdict::NotReproduced
    } else if statuses.is_empty() || statuses.contains(&Status::Undetermined) {
        Verdict::Inconclusive
    } else {
        Verdict::Reproduced
    }
}

#[cfg(test)]
mod tests {
    use common::{Activation, Task, Variant};

    use super::*;
    use crate::claims::fixture::{by_epochs, group, inputs, rank_test};

    const BAND5: Variant = Variant::Band { k: 5, globals: 0 };

    fn tally(compared: usize, faster: usize, undetermined: usize) -> Tally {
        Tally {
            activation: Activation::Relu,
            variant: BAND5,
            compared,
            faster,
            undetermined,
        }
    }

    fn pooled(p: f64, min_p: f64) -> PooledTest {
        PooledTest {
            test: rank_test(p, min_p),
            tasks: 2,
        }
    }

    #[test]
    fn faster_on_more_than_half_of_the_tasks_is_consistently_faster() {
        assert_eq!(status(&tally(3, 2, 0), None), Status::ConsistentlyFaster);
        // Half is not more than half, and no undetermined task could tip it.
        assert_eq!(status(&tally(4, 2, 0), None), Status::NotConsistentlyFaster);
    }

    #[test]
    fn local_attention_is_not_consistently_faster_when_the_majority_is_out_of_reach() {
        let faster_pooled = pooled(0.001, 0.001);
        assert_eq!(
            status(&tally(4, 1, 1), Some(&faster_pooled)),
            Status::NotConsistentlyFaster,
            "the pooled test is not asked when the per-task tests decide"
        );
        assert_eq!(
            overall(&[Status::NotConsistentlyFaster]),
            Verdict::Reproduced
        );
    }

    #[test]
    fn undetermined_tasks_that_could_tip_the_majority_defer_to_the_pooled_test() {
        let t = tally(2, 0, 2);
        assert_eq!(
            status(&t, Some(&pooled(0.0156, 0.0156))),
            Status::FasterPooled
        );
        assert_eq!(
            status(&t, Some(&pooled(0.95, 0.0156))),
            Status::NotFasterPooled
        );
        assert_eq!(
            status(&t, Some(&pooled(0.125, 0.125))),
            Status::Undetermined
        );
        assert_eq!(status(&t, None), Status::Undetermined);
    }

    #[test]
    fn one_consistently_faster_variant_contradicts_c2() {
        use Status::*;
        assert_eq!(
            overall(&[NotConsistentlyFaster, FasterPooled]),
            Verdict::NotReproduced
        );
        assert_eq!(
            overall(&[Undetermined, ConsistentlyFaster]),
            Verdict::NotReproduced
        );
        assert_eq!(
            overall(&[NotFasterPooled, Undetermined]),
            Verdict::Inconclusive
        );
        assert_eq!(
            overall(&[]),
            Verdict::Inconclusive,
            "nothing run decides nothing"
        );
        assert_eq!(
            overall(&[NotFasterPooled, NotConsistentlyFaster]),
            Verdict::Reproduced
        );
    }

    #[test]
    fn local_attention_on_data_without_convergence_is_undetermined() {
        use crate::claims::degenerate::Degenerate;
        use crate::claims::fixture::never_converged;
        let relu = Activation::Relu;
        let inputs = inputs(vec![(
            Task::EvenPairs,
            vec![
                group(Variant::Full, relu, &never_converged(1, 2, 0.49)),
                group(BAND5, relu, &never_converged(1, 2, 0.49)),
            ],
        )]);
        let c2 = local_attention_not_consistently_faster(&inputs);
        assert_eq!(
            c2.comparisons[0].degenerate,
            Some(Degenerate::NoSeedConverged)
        );
        assert_eq!(c2.variants[0].status, Status::Undetermined);
        assert_eq!(c2.verdict, Verdict::Inconclusive);
    }

    #[test]
    fn tallies_count_per_variant_over_tasks_and_skip_tasks_without_full() {
        let relu = Activation::Relu;
        let full = || group(Variant::Full, relu, &by_epochs(1, &[20, 22, 19, 25, 21]));
        let band = |epochs: &[usize]| group(BAND5, relu, &by_epochs(1, epochs));
        let inputs = inputs(vec![
            (Task::EvenPairs, vec![full(), band(&[4, 5, 3, 6, 4])]),
            (Task::Parity, vec![full(), band(&[30, 31, 32, 33, 34])]),
            (Task::Listops, vec![band(&[1, 1, 1, 1, 1])]),
        ]);
        let c2 = local_attention_not_consistently_faster(&inputs);
        assert_eq!(c2.comparisons.len(), 2);
        assert_eq!(c2.variants.len(), 1);
        assert_eq!(c2.variants[0].tally, tally(2, 1, 0));
        assert_eq!(c2.variants[0].status, Status::NotConsistentlyFaster);
        assert_eq!(c2.verdict, Verdict::Reproduced);
    }
}
