//! C3's table and prose from its typed result ([`TopkAccuracy`]).

use stats::schema::GroupStats;

use super::cells::{not_run_row, reasons, task_list, verdict_cell};
use super::claim::{Claim, ClaimTable};
use super::scope::Scope;
use crate::claims::degenerate::{CHANCE_MARGIN, MIN_SEEDS, ZERO_VARIANCE_SEEDS};
use crate::claims::model::{tasks_with, Verdict, NONINFERIORITY_MARGIN};
use crate::claims::noninferiority::{AccuracyComparison, Method, Row, TopkAccuracy};
use crate::format::{p_value, NOT_RUN};

/// C3 as shown: one row per topk group with full attention (or per task not run), the summary
/// and the rule.
pub(crate) fn claim(c3: &TopkAccuracy<'_>, scope: Scope) -> Claim {
    let header = vec![
        "task",
        "activation",
        "variant",
        "method",
        "best acc. full → topk (%)",
        "mean diff. (pp)",
        "one-sided 95% bounds (pp)",
        "two-sided signed-rank p",
        "verdict",
    ];
    let rows = c3
        .rows
        .iter()
        .map(|r| match r {
            Row::TaskNotRun(task) => not_run_row(*task, NOT_RUN, header.len()),
            Row::Compared(c) => compared_row(c),
        })
        .collect();
    let summary = format!(
        "Primary comparisons: non-inferior on {}; worse beyond the margin on {}; inconclusive on {}.",
        task_list(tasks_with(&c3.primary_verdicts, Verdict::Reproduced)),
        task_list(tasks_with(&c3.primary_verdicts, Verdict::NotReproduced)),
        task_list(tasks_with(&c3.primary_verdicts, Verdict::Inconclusive)),
    );
    Claim {
        id: "C3",
        statement: "top-k attention's held-out accuracy is at least that of full attention, within noise.",
        rule: format!(
            "non-inferiority of the best held-out accuracy with a margin of {:.0} percentage points: one-sided 95% t-bounds on the mean \
             difference topk - full (paired by seed; Welch without shared seeds). Reproduced when the lower bound is above -{0:.0} pp, \
             not reproduced when the upper bound is below -{0:.0} pp, inconclusive otherwise, and inconclusive whatever the bounds with \
             fewer than {MIN_SEEDS} seeds, with both models within {1:.0} pp of the task's chance level, or with zero variance on fewer than {ZERO_VARIANCE_SEEDS} seeds. \
             The two-sided signed-rank p is shown for reference.",
            NONINFERIORITY_MARGIN * 100.0,
            CHANCE_MARGIN * 100.0
        ),
        verdict: c3.verdict,
        reason: (c3.verdict == Verdict::Inconclusive).then(|| {
            let degenerate = c3.rows.iter().filter_map(|r| match r {
                Row::Compared(c) if c.primary => c.degenerate.map(|d| (c.task, d)),
                _ => None,
            });
            reasons(degenerate).unwrap_or_else(|| {
                if c3.primary_verdicts.is_empty() {
                    "no topk variant was run beside full attention".to_owned()
                } else {
                    "the bounds straddle the margin on every primary comparison".to_owned()
                }
            })
        }),
        summary,
        tables: vec![ClaimTable { header, rows }],
        scope,
    }
}

fn compared_row(c: &AccuracyComparison<'_>) -> Vec<String> {
    let accs = |g: &GroupStats| {
        g.best_heldout_acc
            .mean
            .map_or("–".to_owned(), |m| format!("{:.1}", m * 100.0))
    };
    let [method, diff, bounds] = match &c.bounds {
        None => [
            "fewer than 2 values".to_owned(),
            "–".to_owned(),
            "–".to_owned(),
        ],
        Some(b) => [
            match b.method {
                Method::Paired { seeds } => format!("paired t, {seeds} seeds"),
                Method::Welch { topk, full } => format!("Welch, {topk} vs {full}"),
            },
            format!("{:+.2}", b.mean_diff * 100.0),
            format!("[{:+.2}, {:+.2}]", b.lower * 100.0, b.upper * 100.0),
        ],
    };
    vec![
        format!("`{}`", c.task),
        c.topk.activation.to_string(),
        c.topk.variant.to_string(),
        method,
        format!("{} → {}", accs(c.full), accs(c.topk)),
        diff,
        bounds,
        c.signed_rank
            .as_ref()
            .map_or("–".to_owned(), |t| p_value(t.p_value)),
        verdict_cell(c.verdict, c.primary, c.degenerate.as_ref()),
    ]
}
