//! C1's table and prose from its typed result ([`TopkConvergence`]).

use super::cells::{
    comparison_cells, comparison_header, not_run_row, primary_mark, reasons, task_list,
    verdict_cell,
};
use super::claim::{Claim, ClaimTable};
use super::scope::Scope;
use crate::claims::convergence::{Basis, LargestSpeedup, Row, TopkConvergence};
use crate::claims::epochs::PooledTest;
use crate::claims::model::{tasks_with, Verdict, ALPHA};
use crate::format::{p_value, NOT_RUN};
use crate::paper::PAPER_MAX_SPEEDUP;

/// C1 as shown: one row per topk group (or per task not run), the summary and the rule.
pub(crate) fn claim(c1: &TopkConvergence<'_>, scope: Scope) -> Claim {
    let header = comparison_header("verdict");
    let rows = c1.rows.iter().map(|r| row(r, header.len())).collect();
    let with = |v: Verdict| tasks_with(&c1.task_verdicts, v);
    let conclusive = with(Verdict::Reproduced).count() + with(Verdict::NotReproduced).count();
    let basis = match c1.basis {
        Basis::PerTask => "per-task tests",
        Basis::Pooled => "pooled test (no per-task test could reach alpha)",
        Basis::NoComparison => "no comparison",
    };
    let summary = format!(
        "Primary comparison {} vs full under {}: significantly fewer epochs on {} of {} tasks with a conclusive test ({}); \
         not reproduced on {}; inconclusive on {}. Pooled over tasks: {}. Verdict from the {basis}. \
         Largest speedup of a topk variant observed: {}; the paper's largest is {PAPER_MAX_SPEEDUP}×.",
        c1.primary.topk.map_or("topk".to_owned(), |v| v.to_string()),
        c1.primary.activation.map_or("any activation".to_owned(), |a| a.to_string()),
        with(Verdict::Reproduced).count(),
        conclusive,
        task_list(with(Verdict::Reproduced)),
        task_list(with(Verdict::NotReproduced)),
        task_list(with(Verdict::Inconclusive)),
        pooled_text(c1.pooled.as_ref()),
        largest_text(c1.largest.as_ref()),
    );
    Claim {
        id: "C1",
        statement: "top-k attention converges in fewer epochs than full attention on listops, even_pairs, missing_duplicate, \
                    and on most other tasks (largest reported speedup 8.83×).",
        rule: format!(
            "per task, exact one-sided Wilcoxon signed-rank test paired by seed on censored convergence epochs \
             (Mann-Whitney U when no seed is shared), alpha = {ALPHA}; a test that cannot reach alpha is inconclusive. \
             Reproduced when every headline task with a conclusive test is reproduced and more than half of all such tasks are. \
             When no per-task test is conclusive, the verdict follows a pooled signed-rank test on the per-(task, seed) log ratio \
             of censored epochs (topk / full) over all tasks run."
        ),
        verdict: c1.verdict,
        reason: reason(c1),
        summary,
        tables: vec![ClaimTable { header, rows }],
        scope,
    }
}

fn row(r: &Row<'_>, width: usize) -> Vec<String> {
    match r {
        Row::TaskNotRun(task) => not_run_row(*task, NOT_RUN, width),
        Row::TopkNotRun(task) => not_run_row(*task, "topk not run", width),
        Row::FullNotRun {
            task,
            topk,
            primary,
        } => {
            let mut row = not_run_row(*task, &topk.activation.to_string(), width);
            if let Some(variant) = row.get_mut(2) {
                *variant = topk.variant.to_string();
            }
            if let Some(last) = row.last_mut() {
                *last = format!(
                    "{}{} (full not run)",
                    Verdict::Inconclusive,
                    primary_mark(*primary)
                );
            }
            row
        }
        Row::Compared(c) => {
            let mut row = comparison_cells(c);
            row.push(verdict_cell(c.verdict, c.primary, c.degenerate.as_ref()));
            row
        }
    }
}

/// Why C1 is inconclusive: the degenerate data of the primary comparisons, else that no test
/// could decide.
fn reason(c1: &TopkConvergence<'_>) -> Option<String> {
    if c1.verdict != Verdict::Inconclusive {
        return None;
    }
    let degenerate = c1.rows.iter().filter_map(|r| match r {
        Row::Compared(c) if c.primary => c.degenerate.map(|d| (c.task, d)),
        _ => None,
    });
    reasons(degenerate).or_else(|| {
        Some(match c1.basis {
            Basis::NoComparison => "no topk variant was run beside full attention".to_owned(),
            _ => format!("no per-task test and not the pooled test could reach alpha = {ALPHA} with the seeds run"),
        })
    })
}

/// The pooled test in one clause.
fn pooled_text(pooled: Option<&PooledTest>) -> String {
    match pooled {
        None => "no task with both groups".to_owned(),
        Some(PooledTest { test: t, tasks }) => format!(
            "{} (task, seed) pairs over {tasks} tasks, {} tied, W+ = {}, p = {}, min. p = {}",
            t.n + t.n_other,
            t.n_other,
            t.statistic,
            p_value(t.p_value),
            p_value(t.min_p_value)
        ),
    }
}

fn largest_text(largest: Option<&LargestSpeedup<'_>>) -> String {
    largest.map_or(
        "none (no topk run with a full-attention baseline)".to_owned(),
        |l| {
            let s = l.speedup;
            format!(
                "{:.2}× [{:.2}, {:.2}] (`{}`, {}, {})",
                s.estimate, s.ci_low, s.ci_high, l.task, l.group.variant, l.group.activation
            )
        },
    )
}
