//! Verdicts on the paper's four claims (SPEC §5), each with the test, the numbers behind it and
//! an explicit rule, computed from the per-seed values in the stats summaries.
//!
//! Layout (imports go one way, down this list; nothing imports this module's orchestrator):
//! - here, [`check_claims`]: chooses the primary comparison, runs each check, renders each
//!   result with its scope line;
//! - `render`: typed results to table cells and prose ([`Claim`], [`ClaimTable`], [`Scope`]);
//! - one check per claim, each computing a typed result (the numbers and the verdict its rule
//!   decided) and holding its rule as a pure function: C1 `convergence::topk_converges_faster`,
//!   C2 `local::local_attention_not_consistently_faster`, C3
//!   `noninferiority::topk_accuracy_noninferior`, C4 `parity::parity_stays_near_chance`;
//! - `epochs`: the convergence tests C1 and C2 share;
//! - `degenerate`: the degenerate inputs and their reasons in words;
//! - `model`, a leaf: the verdicts, the thresholds, the choice of the primary comparison and
//!   which groups a check looks at.
//!
//! Degenerate data (`degenerate`): a comparison whose data cannot carry its claim is
//! "inconclusive" with the reason in words, whatever its statistic says. C1/C2: no seed of
//! either group converged, fewer than two seeds, or all shared-seed differences zero. C3: fewer
//! than two seeds or pairs, both models within 5 points of chance, or zero variance on fewer
//! than five seeds (five equal differences on one side of the margin give an exact sign-test p
//! of 1/32, so more decide; no
//! convergence alone is no reason: listops may never reach 95% training accuracy yet be well
//! above chance). C4: a group with fewer than two seeds or none that fit its training set
//! cannot count.
//!
//! Rules (alpha = 0.05 throughout, one test per row, no correction for multiple comparisons:
//! each row stands on its own and the overall verdicts below are counts of rows, not a joint
//! test):
//! - Convergence is compared on censored epochs (a run that never reached 95% training accuracy
//!   counts as epochs + 1), so a variant is not credited for the seeds it failed on. With seeds
//!   shared by both groups, the test is Wilcoxon's signed-rank test on the per-seed differences
//!   (variant - full), exact, one-sided "variant needs fewer epochs", zero differences dropped;
//!   without shared seeds, the exact Mann-Whitney U test with the same alternative.
//! - A row whose test could not reach alpha with any outcome (e.g. signed-rank with 4 or fewer
//!   informative seeds: smallest p = 1/16) is "inconclusive", never "not reproduced".
//! - C1 per task uses the primary comparison: topk5 (else the smallest k run) against full under
//!   relu (else the first activation run); other topk/activation rows are shown as secondary.
//!   Overall: reproduced when every headline task (listops, even_pairs, missing_duplicate) with a
//!   conclusive test is reproduced and more than half of all tasks with a conclusive test are;
//!   inconclusive when no task has a conclusive test; otherwise not reproduced.
//!   When no per-task test is conclusive (three seeds per task, say), the overall verdict follows
//!   a pooled signed-rank test over all tasks run: one value per (task, shared seed), the log
//!   ratio of censored epochs topk / full, which is scale-free so tasks of different lengths pool.
//! - C2: a band/bloc variant (per activation) is "consistently faster" when it is significantly
//!   faster than full on more than half of the tasks it was run on. When the inconclusive tasks
//!   could still tip that majority, the pooled test (as for C1) decides; if it cannot reach alpha
//!   either, the variant is "undetermined". Overall: not reproduced if any variant is
//!   consistently faster; inconclusive if none is but some is undetermined (or none was run);
//!   reproduced otherwise.
//! - C3: non-inferiority of topk's best held-out accuracy, margin 2 percentage points. With
//!   paired seeds, a one-sided 95% t-bound on the mean paired difference (topk - full); without,
//!   Welch's. Reproduced when the lower bound is above -2 points; not reproduced when the upper
//!   bound is below -2 points (topk worse beyond the margin); inconclusive otherwise or with
//!   fewer than two values. Overall over the primary comparisons: not reproduced if any is,
//!   reproduced if at least one is and none is not, else inconclusive.
//! - C4 (parity): "does not generalize" means the mean last-epoch held-out accuracy over seeds
//!   lies in [45%, 55%] (chance is 50%; the last epoch is used because the best over up to 1,000
//!   noisy evaluations is biased upward). Reproduced when full and every topk variant run under
//!   the primary activation are in that band; not reproduced when any is outside; inconclusive
//!   when parity, its full run or its topk runs are missing.
mod convergence;
mod degenerate;
mod epochs;
#[cfg(test)]
pub(crate) mod fixture;
mod local;
mod model;
mod noninferiority;
mod parity;
mod render;

pub use degenerate::{CHANCE_MARGIN, MIN_SEEDS, ZERO_VARIANCE_SEEDS};
pub use model::{Verdict, ALPHA, CHANCE_BAND, NONINFERIORITY_MARGIN};
pub use render::{Claim, ClaimTable, Scope};

use crate::input::Inputs;
use model::Primary;
use render::scope;

/// Checks all four claims, in the order C1..C4.
pub fn check_claims(inputs: &Inputs) -> Vec<Claim> {
    let primary = Primary::choose(inputs);
    vec![
        render::convergence::claim(
            &convergence::topk_converges_faster(inputs, &primary),
            scope::c1(inputs, &primary),
        ),
        render::local::claim(
            &local::local_attention_not_consistently_faster(inputs),
            scope::c2(inputs),
        ),
        render::noninferiority::claim(
            &noninferiority::topk_accuracy_noninferior(inputs, &primary),
            scope::c3(inputs, &primary),
        ),
        render::parity::claim(
            &parity::parity_stays_near_chance(inputs, &primary),
            scope::c4(inputs),
        ),
    ]
}
