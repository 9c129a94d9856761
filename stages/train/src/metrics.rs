//! `metrics.json`: the per-run summary that the `stats` stage aggregates (docs/stages.md).

use crate::config::RunConfig;
use crate::history::EpochRow;

/// Version of `metrics.json`.
pub const METRICS_FORMAT_VERSION: u32 = 1;

/// Training accuracy that counts as converged (SPEC §5).
pub const CONVERGED_ACC: f64 = 0.95;

/// The summary of one run. Field order is the file's.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// [`METRICS_FORMAT_VERSION`].
    pub format: u32,
    /// Task name.
    pub task: String,
    /// Variant name.
    pub variant: String,
    /// Activation name.
    pub activation: String,
    /// The run's seed.
    pub seed: u64,
    /// Epochs requested.
    pub epochs: usize,
    /// First epoch (1-based) with training accuracy >= 0.95.
    pub convergence_epoch: Option<usize>,
    /// Best held-out accuracy over the recorded epochs.
    pub best_heldout_acc: Option<f64>,
    /// First epoch reaching it.
    pub best_epoch: Option<usize>,
    /// Held-out accuracy of the last recorded epoch.
    pub last_heldout_acc: Option<f64>,
    /// Training accuracy of the last recorded epoch.
    pub last_train_acc: Option<f64>,
    /// Whether the loss became NaN (training stopped there).
    pub diverged: bool,
    /// The epoch in which it did.
    pub diverged_epoch: Option<usize>,
    /// Device name (`cpu`, `cuda:0`).
    pub device: String,
    /// libtorch version the trainer was built against.
    pub torch_version: String,
    /// Wall time of the whole run.
    pub wall_seconds: f64,
    /// `REPRO_KEY` of the running instance, if set.
    pub cache_key: Option<String>,
    /// The run's full configuration.
    pub config: RunConfig,
}

/// Summary numbers derived from the learning curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// See [`Metrics::convergence_epoch`].
    pub convergence_epoch: Option<usize>,
    /// See [`Metrics::best_heldout_acc`] and [`Metrics::best_epoch`].
    pub best: Option<(f64, usize)>,
    /// Last row's (train, held-out) accuracy.
    pub last: Option<(f64, f64)>,
}

/// Computes the summary of a learning curve.
pub fn summarise(rows: &[EpochRow]) -> Summary {
    let convergence_epoch = rows
        .iter()
        .find(|r| r.train_acc >= CONVERGED_ACC)
        .map(|r| r.epoch);
    let mut best: Option<(f64, usize)> = None;
    for r in rows.iter().filter(|r| r.heldout_acc.is_finite()) {
        if best.is_none_or(|(acc, _)| r.heldout_acc > acc) {
            best = Some((r.heldout_acc, r.epoch));
        }
    }
    Summary {
        convergence_epoch,
        best,
        last: rows.last().map(|r| (r.train_acc, r.heldout_acc)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(epoch: usize, train_acc: f64, heldout_acc: f64) -> EpochRow {
        EpochRow {
            epoch,
            lr: 0.1,
            train_loss: 0.0,
            train_acc,
            heldout_loss: 0.0,
            heldout_acc,
            seconds: 0.0,
        }
    }

    #[test]
    fn convergence_is_first_epoch_at_95_percent_and_best_is_first_maximum() {
        let rows = [
            row(1, 0.5, 0.5),
            row(2, 0.95, 0.8),
            row(3, 0.99, 0.8),
            row(4, 0.9, 0.7),
        ];
        let s = summarise(&rows);
        assert_eq!(s.convergence_epoch, Some(2));
        assert_eq!(s.best, Some((0.8, 2)));
        assert_eq!(s.last, Some((0.9, 0.7)));
        assert_eq!(summarise(&rows[..1]).convergence_epoch, None);
    }
}
