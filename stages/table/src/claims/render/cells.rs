//! Table cells that more than one claim shows: the row of a task or group that was not run,
//! the columns of a "fewer epochs" comparison (C1 and C2), the primary mark and task lists.

use common::Task;
use stats::ranktest::{RankTest, TestKind};
use stats::schema::GroupStats;

use crate::claims::degenerate::Degenerate;
use crate::claims::epochs::Comparison;
use crate::claims::model::Verdict;
use crate::format::p_value;
use crate::subset::list;

/// The header of a "fewer epochs" comparison table, `last` being the verdict column.
pub(super) fn comparison_header(last: &'static str) -> Vec<&'static str> {
    vec![
        "task",
        "activation",
        "variant",
        "test",
        "statistic",
        "p",
        "min. p",
        "epochs full → variant",
        "speedup [95% CI]",
        last,
    ]
}

/// The cells of a "fewer epochs" comparison, every column of [`comparison_header`] but the
/// last.
pub(super) fn comparison_cells(c: &Comparison<'_>) -> Vec<String> {
    let t = &c.test;
    vec![
        format!("`{}`", c.task),
        c.other.activation.to_string(),
        c.other.variant.to_string(),
        test_name(t),
        statistic(t),
        p_value(t.p_value),
        p_value(t.min_p_value),
        censored_means(c.full, c.other),
        speedup_cell(c.other),
    ]
}

/// A row of `width` cells for `task` with `what` in the second column, dashes, and an
/// inconclusive verdict saying why.
pub(super) fn not_run_row(task: Task, what: &str, width: usize) -> Vec<String> {
    let mut row = vec![format!("`{task}`"), what.to_owned()];
    row.resize(width.saturating_sub(1), "–".to_owned());
    row.push(format!("{} ({what})", Verdict::Inconclusive));
    row
}

/// A comparison's verdict cell: the verdict, the primary mark, and the reason when the data
/// are degenerate.
pub(super) fn verdict_cell(
    verdict: impl std::fmt::Display,
    primary: bool,
    degenerate: Option<&Degenerate>,
) -> String {
    match degenerate {
        Some(d) => format!("{verdict}{}: {d}", primary_mark(primary)),
        None => format!("{verdict}{}", primary_mark(primary)),
    }
}

/// The distinct reasons among `reasons`, each after its task, joined by "; ", or `None` when
/// there is none.
pub(super) fn reasons(reasons: impl Iterator<Item = (Task, Degenerate)>) -> Option<String> {
    let mut texts: Vec<String> = Vec::new();
    for (task, r) in reasons {
        let text = format!("`{task}`: {r}");
        if !texts.contains(&text) {
            texts.push(text);
        }
    }
    (!texts.is_empty()).then(|| texts.join("; "))
}

/// ` (primary)` after the verdict of a primary comparison, nothing otherwise.
pub(super) fn primary_mark(primary: bool) -> &'static str {
    if primary {
        " (primary)"
    } else {
        ""
    }
}

/// The tasks in backticks, comma-separated, or `none`.
pub(super) fn task_list(tasks: impl Iterator<Item = Task>) -> String {
    list(tasks.map(|t| format!("`{t}`")))
}

fn test_name(t: &RankTest) -> String {
    match t.test {
        TestKind::WilcoxonSignedRank => format!(
            "signed-rank, {} pairs ({} tied)",
            t.n + t.n_other,
            t.n_other
        ),
        TestKind::MannWhitneyU => format!("Mann-Whitney, {} vs {}", t.n, t.n_other),
    }
}

fn statistic(t: &RankTest) -> String {
    match t.test {
        TestKind::WilcoxonSignedRank => format!("W+ = {}", t.statistic),
        TestKind::MannWhitneyU => format!("U = {}", t.statistic),
    }
}

fn censored_means(full: &GroupStats, other: &GroupStats) -> String {
    let m = |g: &GroupStats| {
        g.convergence_censored
            .mean
            .map_or("–".to_owned(), |m| format!("{m:.1}"))
    };
    format!("{} → {}", m(full), m(other))
}

fn speedup_cell(g: &GroupStats) -> String {
    g.speedup_vs_full.as_ref().map_or("–".to_owned(), |s| {
        format!("{:.2}× [{:.2}, {:.2}]", s.estimate, s.ci_low, s.ci_high)
    })
}
