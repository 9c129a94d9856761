//! C2's tables and prose from its typed result ([`LocalAttention`]).

use super::cells::{comparison_cells, comparison_header, reasons, verdict_cell};
use super::claim::{Claim, ClaimTable};
use super::scope::Scope;
use crate::claims::local::{LocalAttention, Status, VariantStatus};
use crate::claims::model::{Verdict, ALPHA};
use crate::format::p_value;
use crate::subset::list;

/// C2 as shown: one row per band/bloc comparison, one per variant with its status, the summary
/// and the rule.
pub(crate) fn claim(c2: &LocalAttention<'_>, scope: Scope) -> Claim {
    let rows: Vec<Vec<String>> = c2
        .comparisons
        .iter()
        .map(|c| {
            let mut row = comparison_cells(c);
            let answer = match (c.verdict, c.degenerate) {
                (Verdict::Reproduced, _) => "yes",
                (Verdict::NotReproduced, _) => "no",
                (Verdict::Inconclusive, Some(_)) => "undetermined",
                (Verdict::Inconclusive, None) => "undetermined (min. p > alpha)",
            };
            row.push(verdict_cell(answer, false, c.degenerate.as_ref()));
            row
        })
        .collect();
    let summary_rows = c2.variants.iter().map(variant_row).collect();
    let names = |keep: fn(Status) -> bool| {
        list(
            c2.variants
                .iter()
                .filter(|v| keep(v.status))
                .map(|v| format!("{} ({})", v.tally.variant, v.tally.activation)),
        )
    };
    let significant: usize = c2.variants.iter().map(|v| v.tally.faster).sum();
    let summary = format!(
        "{} band/bloc comparisons with full attention over {} variant/activation pairs; significantly faster in {significant}. \
         Consistently faster: {}. Undetermined (too few informative seeds): {}.",
        rows.len(),
        c2.variants.len(),
        names(Status::is_faster),
        names(|s| s == Status::Undetermined),
    );
    Claim {
        id: "C2",
        statement: "banded and block-local attention, with or without global tokens, do not consistently converge faster than full attention.",
        rule: format!(
            "per task, the same one-sided test as C1 (alpha = {ALPHA}); a band/bloc variant is consistently faster when significantly \
             faster on more than half of the tasks it was run on; when the tests that cannot reach alpha could tip that majority, \
             the pooled signed-rank test over tasks (log ratio of censored epochs, variant / full) decides. Not reproduced if any \
             variant is consistently faster; inconclusive if some variant stays undetermined or no band/bloc variant was run."
        ),
        verdict: c2.verdict,
        reason: (c2.verdict == Verdict::Inconclusive).then(|| {
            reasons(
                c2.comparisons
                    .iter()
                    .filter_map(|c| c.degenerate.map(|d| (c.task, d))),
            ).unwrap_or_else(|| {
                if c2.variants.is_empty() {
                    "no banded or block-local variant was run beside full attention".to_owned()
                } else {
                    format!("no test could reach alpha = {ALPHA} with the seeds run")
                }
            })
        }),
        summary,
        tables: vec![
            ClaimTable {
                header: comparison_header("faster than full?"),
                rows,
            },
            ClaimTable {
                header: vec!["activation", "variant", "tasks compared", "significantly faster", "undetermined", "pooled p", "status"],
                rows: summary_rows,
            },
        ],
        scope,
    }
}

fn variant_row(v: &VariantStatus) -> Vec<String> {
    let t = &v.tally;
    vec![
        t.activation.to_string(),
        t.variant.to_string(),
        t.compared.to_string(),
        t.faster.to_string(),
        t.undetermined.to_string(),
        v.pooled
            .as_ref()
            .map_or("–".to_owned(), |p| p_value(p.test.p_value)),
        match v.status {
            Status::ConsistentlyFaster => "consistently faster",
            Status::NotConsistentlyFaster => "not consistently faster",
            Status::FasterPooled => "faster on the pooled test",
            Status::NotFasterPooled => "not faster on the pooled test",
            Status::Undetermined => "undetermined",
        }
        .to_owned(),
    ]
}
