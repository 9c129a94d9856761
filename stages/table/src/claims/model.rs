//! The claim model shared by the checks: verdicts, claim tables, the thresholds, and the choice
//! of the primary comparison.

use std::fmt;

use common::{Activation, Task, Variant};
use stats::schema::{activation_order, variant_order};

use super::accuracy::{parity_stays_near_chance, topk_accuracy_noninferior};
use super::epochs::{local_attention_not_consistently_faster, topk_converges_faster};
use super::scope::Scope;
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

/// A table of the comparisons behind a claim.
#[derive(Clone, Debug)]
pub struct ClaimTable {
    /// Column headers.
    pub header: Vec<&'static str>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

/// A checked claim.
#[derive(Clone, Debug)]
pub struct Claim {
    /// `C1` .. `C4`.
    pub id: &'static str,
    /// The claim as the paper states it.
    pub statement: &'static str,
    /// The decision rule applied.
    pub rule: String,
    /// The overall verdict.
    pub verdict: Verdict,
    /// The numbers behind the verdict, in a sentence or two.
    pub summary: String,
    /// The comparisons.
    pub tables: Vec<ClaimTable>,
    /// What the data showed and what it cannot show, a line each.
    pub scope: Scope,
}

/// Checks all four claims, in the order C1..C4.
pub fn check_claims(inputs: &Inputs) -> Vec<Claim> {
    let primary = Primary::choose(inputs);
    vec![
        topk_converges_faster(inputs, &primary),
        local_attention_not_consistently_faster(inputs),
        topk_accuracy_noninferior(inputs, &primary),
        parity_stays_near_chance(inputs, &primary),
    ]
}

/// The primary activation and topk variant (see the module doc).
pub(crate) struct Primary {
    pub(crate) activation: Option<Activation>,
    pub(crate) topk: Option<Variant>,
}

impl Primary {
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

    pub(crate) fn is(&self, activation: Activation, variant: Variant) -> bool {
        self.activation == Some(activation) && self.topk == Some(variant)
    }
}

/// (activation, variant) pairs of `task` whose variant satisfies `keep`, in display order.
pub(crate) fn variants_of(
    inputs: &Inputs,
    task: Task,
    keep: impl Fn(Variant) -> bool,
) -> Vec<(Activation, Variant)> {
    let Some((_, file)) = inputs.stats.get(&task) else {
        return vec![];
    };
    let mut out: Vec<(Activation, Variant)> = file
        .groups
        .iter()
        .filter(|g| keep(g.variant))
        .map(|g| (g.activation, g.variant))
        .collect();
    out.sort_by_key(|(a, v)| (activation_order(a), variant_order(v)));
    out
}

pub(crate) fn is_topk(v: Variant) -> bool {
    matches!(v, Variant::Topk { .. })
}

pub(crate) fn is_band_or_bloc(v: Variant) -> bool {
    matches!(v, Variant::Band { .. } | Variant::Bloc { .. })
}

pub(crate) fn not_run_row(task: Task, what: &str, width: usize) -> Vec<String> {
    let mut row = vec![format!("`{task}`"), what.to_owned()];
    row.resize(width - 1, "–".to_owned());
    row.push(format!("{} ({what})", Verdict::Inconclusive));
    row
}
