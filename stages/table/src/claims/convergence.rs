//! C1 ([`topk_converges_faster`]): the primary topk variant converges in fewer epochs than full
//! attention, per task and overall (rules in the parent module's doc). Computes the typed
//! result; `render::convergence` turns it into table rows and prose.

use common::{Task, Variant};
use stats::schema::{GroupStats, Speedup};

use super::epochs::{pooled_fewer_epochs, significance, Comparison, PooledTest};
use super::model::{groups_of, is_topk, Primary, Verdict};
use crate::input::Inputs;
use crate::paper::HEADLINE_TASKS;
use crate::rows::find_group;

/// One row of C1's comparison table.
#[derive(Clone, Debug)]
pub(crate) enum Row<'a> {
    /// The task was not run at all.
    TaskNotRun(Task),
    /// The task ran, but no topk variant.
    TopkNotRun(Task),
    /// A topk group without a full-attention group of its activation.
    FullNotRun {
        /// The task.
        task: Task,
        /// The topk group.
        topk: &'a GroupStats,
        /// Whether it is the primary comparison.
        primary: bool,
    },
    /// A topk group tested against full attention.
    Compared(Comparison<'a>),
}

/// What the overall verdict was decided on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Basis {
    /// At least one per-task test was conclusive.
    PerTask,
    /// No per-task test could reach alpha; the pooled test decided.
    Pooled,
    /// There was nothing to compare.
    NoComparison,
}

/// The largest speedup of any topk variant over full attention.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LargestSpeedup<'a> {
    /// The task.
    pub(crate) task: Task,
    /// The topk group.
    pub(crate) group: &'a GroupStats,
    /// Its speedup.
    pub(crate) speedup: &'a Speedup,
}

/// C1, checked.
#[derive(Clone, Debug)]
pub(crate) struct TopkConvergence<'a> {
    /// The primary comparison.
    pub(crate) primary: Primary,
    /// The table rows, task by task in the paper's order.
    pub(crate) rows: Vec<Row<'a>>,
    /// Every task's verdict on its primary comparison (inconclusive when it has none).
    pub(crate) task_verdicts: Vec<(Task, Verdict)>,
    /// The pooled test of the primary comparison over tasks.
    pub(crate) pooled: Option<PooledTest>,
    /// The overall verdict.
    pub(crate) verdict: Verdict,
    /// What it was decided on.
    pub(crate) basis: Basis,
    /// The largest topk speedup observed, if any topk group has one.
    pub(crate) largest: Option<LargestSpeedup<'a>>,
}

/// C1: tests every topk group against full attention, task by task, and decides overall.
pub(crate) fn topk_converges_faster<'a>(
    inputs: &'a Inputs,
    primary: &Primary,
) -> TopkConvergence<'a> {
    let mut rows = Vec::new();
    let mut task_verdicts = Vec::new();
    for task in Task::ALL {
        if !inputs.stats.contains_key(&task) {
            rows.push(Row::TaskNotRun(task));
            task_verdicts.push((task, Verdict::Inconclusive));
            continue;
        }
        let topks = groups_of(inputs, task, is_topk);
        if topks.is_empty() {
            rows.push(Row::TopkNotRun(task));
        }
        let mut task_verdict = Verdict::Inconclusive;
        for other in topks {
            let primary = primary.is(other.activation, other.variant);
            let Some(full) = find_group(inputs, task, Variant::Full, other.activation) else {
                rows.push(Row::FullNotRun {
                    task,
                    topk: other,
                    primary,
                });
                continue;
            };
            let comparison = Comparison::new(task, full, other, primary);
            if primary {
                task_verdict = comparison.verdict;
            }
            rows.push(Row::Compared(comparison));
        }
        task_verdicts.push((task, task_verdict));
    }
    let pooled = match (primary.activation, primary.topk) {
        (Some(a), Some(v)) => pooled_fewer_epochs(inputs, a, v),
        _ => None,
    };
    let (verdict, basis) = overall(&task_verdicts, pooled.as_ref());
    TopkConvergence {
        primary: *primary,
        rows,
        task_verdicts,
        pooled,
        verdict,
        basis,
        largest: largest_topk_speedup(inputs),
    }
}

/// The rule for C1 overall: with a conclusive task, reproduced when no headline task is not
/// reproduced and more than half of the conclusive tasks are reproduced; without one, the
/// pooled test's verdict; without that, inconclusive.
pub(crate) fn overall(
    task_verdicts: &[(Task, Verdict)],
    pooled: Option<&PooledTest>,
) -> (Verdict, Basis) {
    let conclusive: Vec<&(Task, Verdict)> = task_verdicts
        .iter()
        .filter(|(_, v)| *v != Verdict::Inconclusive)
        .collect();
    if conclusive.is_empty() {
        return match pooled {
            Some(p) => (significance(&p.test), Basis::Pooled),
            None => (Verdict::Inconclusive, Basis::NoComparison),
        };
    }
    let reproduced = conclusive
        .iter()
        .filter(|(_, v)| *v == Verdict::Reproduced)
        .count();
    let headline_failed = conclusive
        .iter()
        .any(|(t, v)| HEADLINE_TASKS.contains(t) && *v == Verdict::NotReproduced);
    let verdict = if !headline_failed && reproduced * 2 > conclusive.len() {
        Verdict::Reproduced
    } else {
        Verdict::NotReproduced
    };
    (verdict, Basis::PerTask)
}

fn largest_topk_speedup(inputs: &Inputs) -> Option<LargestSpeedup<'_>> {
    inputs
        .stats
        .values()
        .flat_map(|(_, f)| f.groups.iter().map(move |g| (f.task, g)))
        .filter(|(_, g)| is_topk(g.variant))
        .filter_map(|(task, group)| {
            group
                .speedup_vs_full
                .as_ref()
                .map(|speedup| LargestSpeedup {
                    task,
                    group,
                    speedup,
                })
        })
        .max_by(|a, b| a.speedup.estimate.total_cmp(&b.speedup.estimate))
}

#[cfg(test)]
mod tests {
    use common::{Activation, Task, Variant};

    use super::*;
    use crate::claims::fixture::{by_epochs, group, inputs, rank_test, seed, TOPK5};

    use Verdict::{Inconclusive as I, NotReproduced as N, Reproduced as R};

    fn pooled(p: f64, min_p: f64) -> PooledTest {
        PooledTest {
            test: rank_test(p, min_p),
            tasks: 2,
        }
    }

    #[test]
    fn c1_needs_a_majority_of_conclusive_tasks_and_no_failed_headline_task() {
        use Task::{CycleNavigation as Cycle, EvenPairs, Listops, Parity, SolveEquation as Solve};
        let cases: [(&[(Task, Verdict)], Verdict); 4] = [
            // Two of three conclusive tasks; the inconclusive one does not count.
            (&[(EvenPairs, R), (Cycle, R), (Solve, N), (Parity, I)], R),
            // Half is not a majority.
            (&[(Cycle, R), (Solve, N)], N),
            // A headline task not reproduced outweighs the majority.
            (&[(Cycle, R), (Solve, R), (Parity, R), (Listops, N)], N),
            // A non-headline task not reproduced does not.
            (&[(Cycle, N), (Solve, R), (Parity, R), (Listops, R)], R),
        ];
        for (verdicts, expected) in cases {
            let significant = pooled(0.001, 0.001);
            assert_eq!(
                overall(verdicts, Some(&significant)),
                (expected, Basis::PerTask),
                "{verdicts:?}"
            );
        }
    }

    #[test]
    fn without_a_conclusive_task_the_pooled_test_decides() {
        let verdicts = [(Task::EvenPairs, I), (Task::MissingDuplicate, I)];
        let c1 = |p: Option<PooledTest>| overall(&verdicts, p.as_ref());
        assert_eq!(c1(Some(pooled(0.0156, 0.0156))), (R, Basis::Pooled));
        assert_eq!(c1(Some(pooled(0.4, 0.0156))), (N, Basis::Pooled));
        assert_eq!(c1(Some(pooled(0.125, 0.125))), (I, Basis::Pooled));
        assert_eq!(c1(None), (I, Basis::NoComparison));
    }

    #[test]
    fn the_primary_comparison_sets_the_task_verdict() {
        let relu = Activation::Relu;
        let topk3 = Variant::Topk { k: 3 };
        let inputs = inputs(vec![(
            Task::EvenPairs,
            vec![
                group(Variant::Full, relu, &by_epochs(1, &[20, 22, 19, 25, 21])),
                // A secondary topk that is slower must not decide the task.
                group(topk3, relu, &by_epochs(1, &[30, 31, 32, 33, 34])),
                group(TOPK5, relu, &by_epochs(1, &[5, 6, 4, 7, 5])),
            ],
        )]);
        let primary = Primary::choose(&inputs);
        assert_eq!(primary.topk, Some(TOPK5));
        let c1 = topk_converges_faster(&inputs, &primary);
        assert!(c1.task_verdicts.contains(&(Task::EvenPairs, R)));
        assert!(c1.task_verdicts.contains(&(Task::Listops, I)));
        assert_eq!((c1.verdict, c1.basis), (R, Basis::PerTask));
        let compared: Vec<(Variant, Verdict, bool)> = c1
            .rows
            .iter()
            .filter_map(|r| match r {
                Row::Compared(c) => Some((c.other.variant, c.verdict, c.primary)),
                _ => None,
            })
            .collect();
        assert_eq!(compared, [(TOPK5, R, true), (topk3, N, false)]);
    }

    /// The smoke profile's case: two seeds, neither model converged on either; and a task run
    /// on one seed, where topk was faster.
    #[test]
    fn no_convergence_and_one_seed_are_inconclusive_with_the_reason() {
        use crate::claims::degenerate::Degenerate;
        use crate::claims::fixture::never_converged;
        let relu = Activation::Relu;
        let inputs = inputs(vec![
            (
                Task::EvenPairs,
                vec![
                    group(Variant::Full, relu, &never_converged(1, 2, 0.49)),
                    group(TOPK5, relu, &never_converged(1, 2, 0.49)),
                ],
            ),
            (
                Task::MissingDuplicate,
                vec![
                    group(Variant::Full, relu, &by_epochs(1, &[30])),
                    group(TOPK5, relu, &by_epochs(1, &[3])),
                ],
            ),
        ]);
        let c1 = topk_converges_faster(&inputs, &Primary::choose(&inputs));
        let reasons: Vec<(Task, Option<Degenerate>, Verdict)> = c1
            .rows
            .iter()
            .filter_map(|r| match r {
                Row::Compared(c) => Some((c.task, c.degenerate, c.verdict)),
                _ => None,
            })
            .collect();
        assert_eq!(
            reasons,
            [
                (Task::EvenPairs, Some(Degenerate::NoSeedConverged), I),
                (
                    Task::MissingDuplicate,
                    Some(Degenerate::TooFewSeeds { seeds: 1 }),
                    I
                ),
            ]
        );
        assert_eq!(c1.verdict, I);
    }

    #[test]
    fn a_topk_without_full_is_a_row_and_no_verdict() {
        let relu = Activation::Relu;
        let inputs = inputs(vec![(
            Task::Listops,
            vec![group(TOPK5, relu, &[seed(1, 5, 0.9)])],
        )]);
        let c1 = topk_converges_faster(&inputs, &Primary::choose(&inputs));
        assert!(matches!(
            c1.rows[0],
            Row::FullNotRun {
                task: Task::Listops,
                primary: true,
                ..
            }
        ));
        assert_eq!((c1.verdict, c1.basis), (I, Basis::NoComparison));
    }
}
