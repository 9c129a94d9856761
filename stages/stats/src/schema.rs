//! The summary file `stats` writes and `table` reads: one JSON document per task.
//!
//! It carries everything the table, the figures and the claim tests need, so that `table`
//! reads nothing else: the per-(variant, activation) summaries, every seed's scalars, the
//! per-epoch quantile bands, and the seeds of the runs behind each group. It holds no cache
//! key, its own or a run's: a key changes with code that does not change the numbers, and a
//! key in this file would make the table run again for nothing; `repro.lock` maps every run
//! directory and this file to their keys.
//!
//! Conventions: accuracies are fractions in [0, 1]; epochs are 1-based; a value that cannot be
//! computed (a mean of nothing, a spread of one value) is `null`, never a made-up number. The
//! format is versioned by [`STATS_FORMAT`]; bump it when a field changes meaning.

use common::{Activation, Task, Variant};

use crate::describe::Describe;

/// Version of the stats JSON format.
///
/// - 1: with `cache_key` (the stats instance's), `cache_keys` per group and `cache_key` per seed.
/// - 2: without any cache key (provenance is the engine's `repro.lock`); otherwise as 1.
pub const STATS_FORMAT: u32 = 2;

/// What the censored view of convergence does with a run that never converged.
pub const CENSORING_RULE: &str =
    "a run that never reached 95% training accuracy (including a diverged one) counts as epochs + 1";

/// The whole summary of one task.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StatsFile {
    /// [`STATS_FORMAT`] at the time of writing.
    pub format: u32,
    /// The task.
    pub task: Task,
    /// Confidence level of every interval (0.95).
    pub confidence: f64,
    /// How the censored view treats runs that did not converge ([`CENSORING_RULE`]).
    pub censoring: String,
    /// Bootstrap settings used for the speedup intervals.
    pub bootstrap: BootstrapSettings,
    /// One entry per (variant, activation), ordered by activation, then the paper's variant order.
    pub groups: Vec<GroupStats>,
}

/// How the speedup intervals were resampled.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BootstrapSettings {
    /// Number of resamples.
    pub resamples: usize,
    /// A description of the method.
    pub method: String,
}

/// Statistics over the seeds of one (variant, activation).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GroupStats {
    /// Attention variant.
    pub variant: Variant,
    /// MLP activation.
    pub activation: Activation,
    /// Distinct configured epoch counts of the runs (one value unless runs were mixed).
    pub epochs: Vec<usize>,
    /// Number of runs (seeds).
    pub seeds_run: usize,
    /// Number of runs that reached 95% training accuracy.
    pub seeds_converged: usize,
    /// Number of runs whose loss became NaN.
    pub diverged: usize,
    /// The seeds, ascending.
    pub seeds: Vec<u64>,
    /// Convergence epoch over converged seeds only.
    pub convergence: Describe,
    /// Convergence epoch over all seeds, non-converged ones censored per [`CENSORING_RULE`].
    pub convergence_censored: Describe,
    /// Speedup over full attention of the same activation; `None` for `full` itself and when no
    /// full-attention run exists.
    pub speedup_vs_full: Option<Speedup>,
    /// Best held-out accuracy over epochs.
    pub best_heldout_acc: Describe,
    /// Held-out accuracy after the last epoch.
    pub last_heldout_acc: Describe,
    /// Each seed's scalars, in the order of `seeds`.
    pub per_seed: Vec<SeedRecord>,
    /// Per-epoch quantiles over seeds, for the figures.
    pub curves: Curves,
}

/// Speedup of a variant over full attention in convergence epochs.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Speedup {
    /// Which convergence view the estimate uses (`censored`).
    pub view: String,
    /// mean(full epochs) / mean(variant epochs).
    pub estimate: f64,
    /// Lower end of the bootstrap percentile interval.
    pub ci_low: f64,
    /// Upper end of the bootstrap percentile interval.
    pub ci_high: f64,
    /// Whether pairs of shared seeds were resampled (otherwise each group on its own).
    pub paired: bool,
    /// Number of seeds shared with full attention (those used when `paired`).
    pub n_pairs: usize,
    /// Number of full-attention seeds.
    pub n_full: usize,
    /// Number of seeds of this variant.
    pub n_variant: usize,
    /// Seed of the bootstrap generator.
    pub bootstrap_seed: u64,
    /// The same ratio over converged seeds only (no interval), for comparison with the paper.
    pub converged_only_estimate: Option<f64>,
}

/// One run's scalars.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeedRecord {
    /// Seed.
    pub seed: u64,
    /// Configured epochs.
    pub epochs: usize,
    /// First epoch with training accuracy >= 95%.
    pub convergence_epoch: Option<usize>,
    /// `convergence_epoch`, or epochs + 1 when it is `None`.
    pub censored_convergence_epoch: usize,
    /// Whether the loss became NaN.
    pub diverged: bool,
    /// Epoch at which it did.
    pub diverged_epoch: Option<usize>,
    /// Best held-out accuracy.
    pub best_heldout_acc: Option<f64>,
    /// Its epoch.
    pub best_epoch: Option<usize>,
    /// Held-out accuracy after the last epoch.
    pub last_heldout_acc: Option<f64>,
    /// Training accuracy after the last epoch.
    pub last_train_acc: Option<f64>,
}

/// Per-epoch quantile bands over seeds.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Curves {
    /// Epoch numbers 1..=longest history.
    pub epochs: Vec<usize>,
    /// Training loss.
    pub train_loss: Band,
    /// Training accuracy.
    pub train_acc: Band,
    /// Held-out loss.
    pub heldout_loss: Band,
    /// Held-out accuracy.
    pub heldout_acc: Band,
}

/// Median and quartiles of one quantity per epoch, over the seeds with a finite value there.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Band {
    /// Median per epoch (`null` where no seed has a finite value).
    pub median: Vec<Option<f64>>,
    /// 25% quantile per epoch.
    pub q25: Vec<Option<f64>>,
    /// 75% quantile per epoch.
    pub q75: Vec<Option<f64>>,
    /// Number of seeds behind each epoch's values.
    pub n: Vec<usize>,
}

/// Sort key placing variants in the paper's order (full, band, bloc, +G, topk), unknown
/// variants after them by name.
pub fn variant_order(v: &Variant) -> (usize, String) {
    let grid = Variant::paper_grid();
    (
        grid.iter().position(|g| g == v).unwrap_or(grid.len()),
        v.to_string(),
    )
}

/// Sort key placing activations in the paper's order (relu, gelu, mish).
pub fn activation_order(a: &Activation) -> usize {
    Activation::ALL
        .iter()
        .position(|x| x == a)
        .unwrap_or(usize::MAX)
}

impl GroupStats {
    /// The record of `seed`, if this group ran it.
    pub fn seed(&self, seed: u64) -> Option<&SeedRecord> {
        self.per_seed.iter().find(|r| r.seed == seed)
    }
}
