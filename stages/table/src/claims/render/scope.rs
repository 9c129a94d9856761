//! One line per claim on what the data showed and one on what it cannot show, for the verdict
//! list at the top of `claims.md` (and for whoever copies it into a README): the numbers behind
//! each verdict in brief, then the tasks, variants, seeds and epochs the data lacks for it.

use common::{Task, Variant};
use stats::schema::GroupStats;

use crate::claims::model::{groups_of, is_band_or_bloc, is_topk, Primary};
use crate::input::Inputs;
use crate::rows::find_group;
use crate::subset::list;

/// What the data behind one claim showed and what it cannot show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// The numbers behind the verdict, in one line.
    pub showed: String,
    /// What the data lacks to say more, in one line.
    pub cannot_show: String,
}

/// `converged in 6.4 epochs on 5/5 seeds`, or `never converged (5 seeds)`.
fn convergence(g: &GroupStats) -> String {
    match g.convergence.mean {
        Some(m) if g.seeds_converged > 0 => format!(
            "converged in {m:.1} epochs on {}/{} seeds",
            g.seeds_converged, g.seeds_run
        ),
        _ => format!("never converged ({} seeds)", g.seeds_run),
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or("–".to_owned(), |x| format!("{:.1}%", x * 100.0))
}

fn tasks_not_run(inputs: &Inputs) -> Vec<Task> {
    Task::ALL
        .into_iter()
        .filter(|t| !inputs.stats.contains_key(t))
        .collect()
}

fn not_run_clause(tasks: &[Task]) -> Option<String> {
    (!tasks.is_empty()).then(|| format!("{} not run", list(tasks.iter().map(|t| format!("`{t}`")))))
}

fn join_or(parts: Vec<String>, none: &str) -> String {
    if parts.is_empty() {
        none.to_owned()
    } else {
        parts.join("; ")
    }
}

/// The primary (full, topk) groups of every task that ran both.
fn primary_pairs<'a>(
    inputs: &'a Inputs,
    primary: &Primary,
) -> Vec<(Task, &'a GroupStats, &'a GroupStats)> {
    let (Some(activation), Some(topk)) = (primary.activation, primary.topk) else {
        return vec![];
    };
    Task::ALL
        .into_iter()
        .filter_map(|task| {
            Some((
                task,
                find_group(inputs, task, Variant::Full, activation)?,
                find_group(inputs, task, topk, activation)?,
            ))
        })
        .collect()
}

/// The scope of a claim on the primary comparison: `showed` as given (or a note that no task
/// ran both), and as limits the tasks not run and every group that did not converge on all its
/// seeds, with `consequence` saying what that does to the claim.
fn primary_scope(
    inputs: &Inputs,
    pairs: &[(Task, &GroupStats, &GroupStats)],
    showed: Vec<String>,
    consequence: &str,
) -> Scope {
    let mut limits: Vec<String> = not_run_clause(&tasks_not_run(inputs)).into_iter().collect();
    for (task, full, topk) in pairs {
        for g in [full, topk] {
            if g.seeds_converged < g.seeds_run {
                limits.push(format!(
                    "{} did not converge on {} of {} seeds of `{task}`, {consequence}",
                    g.variant,
                    g.seeds_run - g.seeds_converged,
                    g.seeds_run
                ));
            }
        }
    }
    Scope {
        showed: join_or(showed, "no task ran both full and topk attention"),
        cannot_show: join_or(limits, "nothing left out"),
    }
}

/// C1: convergence epochs of the primary comparison per task, and what censoring or missing
/// tasks leave open.
pub(crate) fn c1(inputs: &Inputs, primary: &Primary) -> Scope {
    let pairs = primary_pairs(inputs, primary);
    let showed = pairs
        .iter()
        .map(|(task, full, topk)| {
            let speedup = topk.speedup_vs_full.as_ref().map_or(String::new(), |s| {
                format!(
                    ", speedup {:.2}× [{:.2}, {:.2}]",
                    s.estimate, s.ci_low, s.ci_high
                )
            });
            format!(
                "`{task}`: {} {}, full {}{speedup}",
                topk.variant,
                convergence(topk),
                convergence(full)
            )
        })
        .collect();
    primary_scope(
        inputs,
        &pairs,
        showed,
        "so that speedup is censored (a bound, not a ratio)",
    )
}

/// C2: the band/bloc groups that ran, and the variants of the paper's grid that did not.
pub(crate) fn c2(inputs: &Inputs) -> Scope {
    let mut showed = Vec::new();
    let mut ran: Vec<Variant> = Vec::new();
    for task in Task::ALL {
        for other in groups_of(inputs, task, is_band_or_bloc) {
            let (activation, variant) = (other.activation, other.variant);
            ran.push(variant);
            if let Some(full) = find_group(inputs, task, Variant::Full, activation) {
                showed.push(format!(
                    "`{task}` {variant} ({activation}) {}, full {}",
                    convergence(other),
                    convergence(full)
                ));
            }
        }
    }
    let missing: Vec<Variant> = Variant::paper_grid()
        .into_iter()
        .filter(|v| is_band_or_bloc(*v) && !ran.contains(v))
        .collect();
    let cannot_show = if ran.is_empty() {
        "no band or block variant was run".to_owned()
    } else {
        let mut limits: Vec<String> = not_run_clause(&tasks_not_run(inputs)).into_iter().collect();
        if !missing.is_empty() {
            limits.push(format!(
                "variants {} not run",
                list(missing.iter().map(Variant::to_string))
            ));
        }
        join_or(limits, "nothing left out")
    };
    Scope {
        showed: join_or(
            showed,
            "nothing: no band or block variant was compared with full",
        ),
        cannot_show,
    }
}

/// C3: best held-out accuracy of the primary comparison per task.
pub(crate) fn c3(inputs: &Inputs, primary: &Primary) -> Scope {
    let pairs = primary_pairs(inputs, primary);
    let showed = pairs
        .iter()
        .map(|(task, full, topk)| {
            format!(
                "`{task}`: best held-out accuracy {} {}, full {}",
                topk.variant,
                pct(topk.best_heldout_acc.mean),
                pct(full.best_heldout_acc.mean)
            )
        })
        .collect();
    primary_scope(
        inputs,
        &pairs,
        showed,
        "whose accuracy then stays near chance",
    )
}

/// C4: last held-out accuracy on parity, and how many of the paper's epochs it had.
pub(crate) fn c4(inputs: &Inputs) -> Scope {
    let groups = groups_of(inputs, Task::Parity, |v| v == Variant::Full || is_topk(v));
    if groups.is_empty() {
        return Scope {
            showed: "nothing: `parity` was not run".to_owned(),
            cannot_show: "whether either variant generalizes on `parity`".to_owned(),
        };
    }
    let showed = groups
        .iter()
        .map(|g| {
            format!(
                "{} ({}): last held-out accuracy {}",
                g.variant,
                g.activation,
                pct(g.last_heldout_acc.mean)
            )
        })
        .collect();
    let paper = Task::Parity.settings().epochs;
    let short: Vec<usize> = groups
        .iter()
        .flat_map(|g| g.epochs.iter().copied())
        .filter(|&e| e < paper)
        .collect();
    let cannot_show = match short.iter().max() {
        Some(e) => format!(
            "what happens after epoch {e} of the paper's {paper}: an accuracy near chance is only consistent with the claim"
        ),
        None => "nothing left out".to_owned(),
    };
    Scope {
        showed: join_or(showed, "no full or topk run on `parity`"),
        cannot_show,
    }
}
