//! The vocabulary every claim check shares: verdicts, the thresholds, the choice of the primary
//! comparison and which groups a check looks at.
//!
//! A leaf: it imports no other claims module, so that the checks, their rendering and the
//! orchestrator in the parent module all import it and nothing imports back.

use std::fmt;

use common::{Activation, Task, Variant};
use stats::schema::{activation_order, variant_order, GroupStats};

use crate::input::Inputs;

/// Significance level of every test.
pub const ALPHA: f64 = 0.05;
/// Non-inferiority margin for C3, as a fraction of accuracy (2 percentage points).
pub const NONINFERIORITY_MARGIN: f64 = 0.02;
/// The band of mean held-out accuracy that counts as "near chance" for C4.
pub const CHANCE_BAND: (f64, f64) = (0.45, 0.55);

/// The outcome of checking a claim (or one comparison behind it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The data support the claim.
    Reproduced,
    /// The data contradict the claim.
    NotReproduced,
    /// The data cannot decide (too few seeds, or not run).
    Inconclusive,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Reproduced => "reproduced",
            Verdict::NotReproduced => "not reproduced",
            Verdict::Inconclusive => "inconclusive",
        })
    }
}

/// The primary activation and topk variant: the first activation run in the paper's order
/// (relu first), and under it topk5, else the smallest k run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Primary {
    /// The primary activation; `None` when nothing was run.
    pub(crate) activation: Option<Activation>,
    /// The primary topk variant; `None` when no topk variant ran under the primary activation.
    pub(crate) topk: Option<Variant>,
}

impl Primary {
    /// Chooses the primary comparison among the groups of every task.
    pub(crate) fn choose(inputs: &Inputs) -> Primary {
        let groups = || inputs.stats.values().flat_map(|(_, f)| f.groups.iter());
        let activation = groups().map(|g| g.activation).min_by_key(activation_order);
        let topk = groups()
            .filter(|g| Some(g.activation) == activation)
            .filter_map(|g| match g.variant {
                Variant::Topk { k } => Some(k),
                _ => None,
            })
            .min_by_key(|&k| (k != 5, k))
            .map(|k| Variant::Topk { k });
        Primary { activation, topk }
    }

    /// Whether (`activation`, `variant`) is the primary comparison.
    pub(crate) fn is(&self, activation: Activation, variant: Variant) -> bool {
        self.activation == Some(activation) && self.topk == Some(variant)
    }
}

/// The groups of `task` whose variant satisfies `keep`, in display order (activation, then the
/// paper's variant order); none when `task` was not run.
pub(crate) fn groups_of(
    inputs: &Inputs,
    task: Task,
    keep: impl Fn(Variant) -> bool,
) -> Vec<&GroupStats> {
    let Some((_, file)) = inputs.stats.get(&task) else {
        return vec![];
    };
    let mut out: Vec<&GroupStats> = file.groups.iter().filter(|g| keep(g.variant)).collect();
    out.sort_by_key(|g| (activation_order(&g.activation), variant_order(&g.variant)));
    out
}

/// The tasks of `verdicts` whose verdict is `verdict`, in their order.
pub(crate) fn tasks_with(
    verdicts: &[(Task, Verdict)],
    verdict: Verdict,
) -> impl Iterator<Item = Task> + '_ {
    verdicts
        .iter()
        .filter(move |(_, v)| *v == verdict)
        .map(|(t, _)| *t)
}

/// Whether `v` is a topk variant.
pub(crate) fn is_topk(v: Variant) -> bool {
    matches!(v, Variant::Topk { .. })
}

/// Whether `v` is a banded or block-local variant (with or without global tokens).
pub(crate) fn is_band_or_bloc(v: Variant) -> bool {
    matches!(v, Variant::Band { .. } | Variant::Bloc { .. })
}
