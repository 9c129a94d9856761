//! C4's table and prose from its typed result ([`ParityNearChance`]).

use common::Task;

use super::cells::reasons;
use super::claim::{Claim, ClaimTable};
use super::scope::Scope;
use crate::claims::degenerate::MIN_SEEDS;
use crate::claims::model::{Verdict, CHANCE_BAND};
use crate::claims::parity::{ParityGroup, ParityNearChance};
use crate::subset::list;

/// C4 as shown: one row per full or topk group on parity, the summary and the rule.
pub(crate) fn claim(c4: &ParityNearChance<'_>, scope: Scope) -> Claim {
    let header = vec![
        "activation",
        "variant",
        "seeds",
        "epochs",
        "last held-out acc. (%) mean [95% CI]",
        "max. over seeds (%)",
        "best held-out acc. (%)",
        "near chance?",
    ];
    let (lo, hi) = CHANCE_BAND;
    let summary = if !c4.parity_run {
        "`parity` was not run.".to_owned()
    } else if !c4.complete {
        format!(
            "`parity` lacks full or topk runs under {}.",
            c4.activation
                .map_or("the primary activation".to_owned(), |a| a.to_string())
        )
    } else {
        let (groups, near) = c4.primary_counts();
        format!(
            "Under {}, {near} of {groups} full/topk groups end within [{:.0}%, {:.0}%] held-out accuracy, after {} epochs (the paper trained {}).",
            c4.activation.map_or("–".to_owned(), |a| a.to_string()),
            lo * 100.0,
            hi * 100.0,
            list(c4.epochs.iter().map(usize::to_string)),
            Task::Parity.settings().epochs,
        )
    };
    Claim {
        id: "C4",
        statement: "on parity neither full nor top-k attention generalizes (held-out accuracy near 50%).",
        rule: format!(
            "mean last-epoch held-out accuracy over seeds within [{:.0}%, {:.0}%] for full and every topk variant under the primary activation; \
             a group with fewer than {MIN_SEEDS} seeds, or none that reached 95% training accuracy, cannot count (inconclusive unless another group is outside the band).",
            lo * 100.0,
            hi * 100.0
        ),
        verdict: c4.verdict,
        reason: (c4.verdict == Verdict::Inconclusive).then(|| {
            reasons(
                c4.groups
                    .iter()
                    .filter(|g| Some(g.group.activation) == c4.activation)
                    .filter_map(|g| g.degenerate.map(|d| (Task::Parity, d))),
            )
            .unwrap_or_else(|| summary.trim_end_matches('.').to_owned())
        }),
        summary,
        tables: vec![ClaimTable {
            header,
            rows: c4.groups.iter().map(row).collect(),
        }],
        scope,
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or("–".to_owned(), |x| format!("{:.1}", x * 100.0))
}

fn row(p: &ParityGroup<'_>) -> Vec<String> {
    let g = p.group;
    let ci = match (p.last.ci_low, p.last.ci_high) {
        (Some(a), Some(b)) => format!(" [{}, {}]", pct(Some(a)), pct(Some(b))),
        _ => String::new(),
    };
    vec![
        g.activation.to_string(),
        g.variant.to_string(),
        g.seeds_run.to_string(),
        list(g.epochs.iter().map(usize::to_string)),
        format!("{}{ci}", pct(p.last.mean)),
        pct(p.max_last),
        crate::format::accuracy(&g.best_heldout_acc),
        match (&p.degenerate, p.near_chance) {
            (Some(d), _) => format!("cannot count: {d}"),
            (None, true) => "yes".to_owned(),
            (None, false) => "no".to_owned(),
        },
    ]
}
