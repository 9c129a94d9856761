//! C3 ([`topk_accuracy_noninferior`]) and C4 ([`parity_stays_near_chance`]): held-out
//! accuracy, non-inferiority of topk and chance level on parity (rules in the parent module's
//! doc).

use common::{Task, Variant};
use stats::describe::{describe, mean, std_dev, welch};
use stats::ranktest::{wilcoxon_signed_rank, Alternative};
use stats::schema::GroupStats;
use stats::special::student_t_quantile;

use super::model::{
    is_topk, not_run_row, variants_of, Claim, ClaimTable, Primary, Verdict, ALPHA, CHANCE_BAND,
    NONINFERIORITY_MARGIN,
};
use super::scope;
use crate::format::{p_value, NOT_RUN};
use crate::input::Inputs;
use crate::rows::find_group;
use crate::subset::list;

/// The one-sided 95% t-bounds on the difference of best held-out accuracy, topk - full.
struct NonInferiority {
    /// Mean difference (fraction of accuracy).
    mean_diff: f64,
    /// Lower bound.
    lower: f64,
    /// Upper bound.
    upper: f64,
    /// The method, as shown in the table (`paired t, N seeds` or `Welch, N vs M`).
    method: String,
}

/// Non-inferiority of `topk`'s best held-out accuracy against `full`'s; `None` with too few
/// values.
fn noninferiority(full: &GroupStats, topk: &GroupStats) -> Option<NonInferiority> {
    let paired: Vec<f64> = topk
        .per_seed
        .iter()
        .filter_map(|t| Some(t.best_heldout_acc? - full.seed(t.seed)?.best_heldout_acc?))
        .collect();
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
            method: format!("paired t, {n} seeds"),
        });
    }
    let values = |g: &GroupStats| {
        g.per_seed
            .iter()
            .filter_map(|s| s.best_heldout_acc)
            .collect::<Vec<_>>()
    };
    let (a, b) = (values(topk), values(full));
    let (diff, se, df) = welch(&a, &b)?;
    let half = student_t_quantile(1.0 - ALPHA, df) * se;
    Some(NonInferiority {
        mean_diff: diff,
        lower: diff - half,
        upper: diff + half,
        method: format!("Welch, {} vs {}", a.len(), b.len()),
    })
}

/// C3: top-k attention's best held-out accuracy is not worse than full attention's beyond the
/// non-inferiority margin.
pub(crate) fn topk_accuracy_noninferior(inputs: &Inputs, primary: &Primary) -> Claim {
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
    let mut rows = Vec::new();
    let mut primary_verdicts: Vec<(Task, Verdict)> = Vec::new();
    for task in Task::ALL {
        if !inputs.stats.contains_key(&task) {
            rows.push(not_run_row(task, NOT_RUN, header.len()));
            continue;
        }
        for (activation, variant) in variants_of(inputs, task, is_topk) {
            let is_primary = primary.is(activation, variant);
            let mark = if is_primary { " (primary)" } else { "" };
            let topk = find_group(inputs, task, variant, activation).expect("listed group exists");
            let Some(full) = find_group(inputs, task, Variant::Full, activation) else {
                continue;
            };
            let accs = |g: &GroupStats| {
                g.best_heldout_acc
                    .mean
                    .map_or("–".to_owned(), |m| format!("{:.1}", m * 100.0))
            };
            let diffs: Vec<f64> = topk
                .per_seed
                .iter()
                .filter_map(|t| Some(t.best_heldout_acc? - full.seed(t.seed)?.best_heldout_acc?))
                .collect();
            let wilcoxon = if diffs.is_empty() {
                "–".to_owned()
            } else {
                p_value(wilcoxon_signed_rank(&diffs, Alternative::TwoSided).p_value)
            };
            let (verdict, cells) = match noninferiority(full, topk) {
                None => (
                    Verdict::Inconclusive,
                    [
                        "fewer than 2 values".to_owned(),
                        "–".to_owned(),
                        "–".to_owned(),
                    ],
                ),
                Some(NonInferiority {
                    mean_diff: m,
                    lower: lo,
                    upper: hi,
                    method,
                }) => {
                    let verdict = if lo >= -NONINFERIORITY_MARGIN {
                        Verdict::Reproduced
                    } else if hi < -NONINFERIORITY_MARGIN {
                        Verdict::NotReproduced
                    } else {
                        Verdict::Inconclusive
                    };
                    (
                        verdict,
                        [
                            method,
                            format!("{:+.2}", m * 100.0),
                            format!("[{:+.2}, {:+.2}]", lo * 100.0, hi * 100.0),
                        ],
                    )
                }
            };
            if is_primary {
                primary_verdicts.push((task, verdict));
            }
            let [method, diff, bounds] = cells;
            rows.push(vec![
                format!("`{task}`"),
                activation.to_string(),
                variant.to_string(),
                method,
                format!("{} → {}", accs(full), accs(topk)),
                diff,
                bounds,
                wilcoxon,
                format!("{verdict}{mark}"),
            ]);
        }
    }
    let count = |v: Verdict| primary_verdicts.iter().filter(|(_, x)| *x == v).count();
    let verdict = if count(Verdict::NotReproduced) > 0 {
        Verdict::NotReproduced
    } else if count(Verdict::Reproduced) > 0 {
        Verdict::Reproduced
    } else {
        Verdict::Inconclusive
    };
    let tasks_with = |v: Verdict| {
        list(
            primary_verdicts
                .iter()
                .filter(|(_, x)| *x == v)
                .map(|(t, _)| format!("`{t}`")),
        )
    };
    let summary = format!(
        "Primary comparisons: non-inferior on {}; worse beyond the margin on {}; inconclusive on {}.",
        tasks_with(Verdict::Reproduced),
        tasks_with(Verdict::NotReproduced),
        tasks_with(Verdict::Inconclusive),
    );
    Claim {
        id: "C3",
        statement: "top-k attention's held-out accuracy is at least that of full attention, within noise.",
        rule: format!(
            "non-inferiority of the best held-out accuracy with a margin of {:.0} percentage points: one-sided 95% t-bounds on the mean \
             difference topk - full (paired by seed; Welch without shared seeds). Reproduced when the lower bound is above -{0:.0} pp, \
             not reproduced when the upper bound is below -{0:.0} pp, inconclusive otherwise. The two-sided signed-rank p is shown for reference.",
            NONINFERIORITY_MARGIN * 100.0
        ),
        verdict,
        summary,
        tables: vec![ClaimTable { header, rows }],
        scope: scope::c3(inputs, primary),
    }
}

/// C4: on parity neither full nor top-k attention generalises (held-out accuracy near chance).
pub(crate) fn parity_stays_near_chance(inputs: &Inputs, primary: &Primary) -> Claim {
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
    let mut rows = Vec::new();
    let mut primary_in_band: Vec<bool> = Vec::new();
    let mut has_full = false;
    let mut has_topk = false;
    for (activation, variant) in
        variants_of(inputs, Task::Parity, |v| v == Variant::Full || is_topk(v))
    {
        let g = find_group(inputs, Task::Parity, variant, activation).expect("listed group exists");
        let last: Vec<f64> = g
            .per_seed
            .iter()
            .filter_map(|s| s.last_heldout_acc)
            .collect();
        let d = describe(&last, 0.95);
        let in_band = d.mean.is_some_and(|m| (lo..=hi).contains(&m));
        if Some(activation) == primary.activation {
            primary_in_band.push(in_band);
            has_full |= variant == Variant::Full;
            has_topk |= is_topk(variant);
        }
        let pct = |x: Option<f64>| x.map_or("–".to_owned(), |x| format!("{:.1}", x * 100.0));
        let ci = match (d.ci_low, d.ci_high) {
            (Some(a), Some(b)) => format!(" [{}, {}]", pct(Some(a)), pct(Some(b))),
            _ => String::new(),
        };
        rows.push(vec![
            activation.to_string(),
            variant.to_string(),
            g.seeds_run.to_string(),
            list(g.epochs.iter().map(usize::to_string)),
            format!("{}{ci}", pct(d.mean)),
            pct(last.iter().copied().reduce(f64::max)),
            crate::format::accuracy(&g.best_heldout_acc),
            if in_band { "yes" } else { "no" }.to_owned(),
        ]);
    }
    let verdict = if !(has_full && has_topk) {
        Verdict::Inconclusive
    } else if primary_in_band.iter().all(|b| *b) {
        Verdict::Reproduced
    } else {
        Verdict::NotReproduced
    };
    let paper_epochs = Task::Parity.settings().epochs;
    let summary = if !inputs.stats.contains_key(&Task::Parity) {
        "`parity` was not run.".to_owned()
    } else if !(has_full && has_topk) {
        format!(
            "`parity` lacks full or topk runs under {}.",
            primary
                .activation
                .map_or("the primary activation".to_owned(), |a| a.to_string())
        )
    } else {
        let epochs = parity_epochs(inputs);
        format!(
            "Under {}, {} of {} full/topk groups end within [{:.0}%, {:.0}%] held-out accuracy, after {} epochs (the paper trained {paper_epochs}).",
            primary.activation.map_or("–".to_owned(), |a| a.to_string()),
            primary_in_band.iter().filter(|b| **b).count(),
            primary_in_band.len(),
            lo * 100.0,
            hi * 100.0,
            epochs,
        )
    };
    Claim {
        id: "C4",
        statement: "on parity neither full nor top-k attention generalizes (held-out accuracy near 50%).",
        rule: format!(
            "mean last-epoch held-out accuracy over seeds within [{:.0}%, {:.0}%] for full and every topk variant under the primary activation.",
            lo * 100.0,
            hi * 100.0
        ),
        verdict,
        summary,
        tables: vec![ClaimTable { header, rows }],
        scope: scope::c4(inputs),
    }
}

/// The epoch counts of the parity runs, as text.
fn parity_epochs(inputs: &Inputs) -> String {
    let Some((_, file)) = inputs.stats.get(&Task::Parity) else {
        return "–".to_owned();
    };
    let mut epochs: Vec<usize> = file
        .groups
        .iter()
        .flat_map(|g| g.epochs.iter().copied())
        .collect();
    epochs.sort_unstable();
    epochs.dedup();
    list(epochs.iter().map(usize::to_string))
}
