//! `metrics.json`: the per-run summary that the `stats` stage aggregates (docs/stages.md).
//!
//! [`Metrics`] is the file: its field order is the file's, and [`Metrics::to_json`] is the one
//! rendering (pretty JSON, two-space indent, trailing newline; a NaN becomes `null`). The
//! trainer's configuration is a type parameter, `C`, so that this crate does not depend on the
//! trainer; `train` writes `Metrics<RunConfig>`, the synthetic runs of `stats::fixture` a JSON
//! value. The curve-derived fields come from [`CurveSummary::of`] in both.

use super::history::HistoryRow;

/// File name of the run summary in a run directory.
pub const METRICS_FILE: &str = "metrics.json";

/// Version of `metrics.json`; bump when the meaning of a field changes.
pub const METRICS_FORMAT_VERSION: u32 = 1;

/// Training accuracy that counts as converged (SPEC §5).
pub const CONVERGED_ACC: f64 = 0.95;

/// The summary of one run, generic over the trainer's configuration `C`. Field order is the
/// file's.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Metrics<C> {
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
    /// First epoch (1-based) with training accuracy >= [`CONVERGED_ACC`].
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
    pub config: C,
}

impl<C: serde::Serialize> Metrics<C> {
    /// The file's text: pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("metrics serialise");
        text.push('\n');
        text
    }
}

/// The fields of `metrics.json` derived from the learning curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurveSummary {
    /// See [`Metrics::convergence_epoch`].
    pub convergence_epoch: Option<usize>,
    /// See [`Metrics::best_heldout_acc`]: the first maximum over rows with a finite held-out
    /// accuracy.
    pub best_heldout_acc: Option<f64>,
    /// See [`Metrics::best_epoch`].
    pub best_epoch: Option<usize>,
    /// See [`Metrics::last_heldout_acc`].
    pub last_heldout_acc: Option<f64>,
    /// See [`Metrics::last_train_acc`].
    pub last_train_acc: Option<f64>,
}

impl CurveSummary {
    /// Summarises a learning curve.
    pub fn of(rows: &[HistoryRow]) -> CurveSummary {
        let convergence_epoch = rows
            .iter()
            .find(|r| r.train_acc >= CONVERGED_ACC)
            .map(|r| r.epoch);
        let mut best: Option<&HistoryRow> = None;
        for r in rows.iter().filter(|r| r.heldout_acc.is_finite()) {
            if best.is_none_or(|b| r.heldout_acc > b.heldout_acc) {
                best = Some(r);
            }
        }
        CurveSummary {
            convergence_epoch,
            best_heldout_acc: best.map(|b| b.heldout_acc),
            best_epoch: best.map(|b| b.epoch),
            last_heldout_acc: rows.last().map(|r| r.heldout_acc),
            last_train_acc: rows.last().map(|r| r.train_acc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(epoch: usize, train_acc: f64, heldout_acc: f64) -> HistoryRow {
        HistoryRow {
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
        let s = CurveSummary::of(&rows);
        assert_eq!(s.convergence_epoch, Some(2));
        assert_eq!((s.best_heldout_acc, s.best_epoch), (Some(0.8), Some(2)));
        assert_eq!(
            (s.last_train_acc, s.last_heldout_acc),
            (Some(0.9), Some(0.7))
        );
        assert_eq!(CurveSummary::of(&rows[..1]).convergence_epoch, None);
        assert_eq!(CurveSummary::of(&[]).best_epoch, None);
    }

    /// Guards the bytes of `metrics.json`: field order, indentation, number formatting, NaN as
    /// null and the trailing newline are what `stats` and earlier runs expect.
    #[test]
    fn metrics_json_keeps_its_layout() {
        let m = Metrics {
            format: METRICS_FORMAT_VERSION,
            task: "parity".to_owned(),
            variant: "topk5".to_owned(),
            activation: "relu".to_owned(),
            seed: 7,
            epochs: 3,
            convergence_epoch: Some(2),
            best_heldout_acc: Some(0.5),
            best_epoch: Some(3),
            last_heldout_acc: Some(f64::NAN),
            last_train_acc: Some(0.97),
            diverged: false,
            diverged_epoch: None,
            device: "cpu".to_owned(),
            torch_version: "2.11.0".to_owned(),
            wall_seconds: 1.25,
            cache_key: None,
            config: serde_json::json!({"a": 1}),
        };
        assert_eq!(
            m.to_json(),
            r#"{
  "format": 1,
  "task": "parity",
  "variant": "topk5",
  "activation": "relu",
  "seed": 7,
  "epochs": 3,
  "convergence_epoch": 2,
  "best_heldout_acc": 0.5,
  "best_epoch": 3,
  "last_heldout_acc": null,
  "last_train_acc": 0.97,
  "diverged": false,
  "diverged_epoch": null,
  "device": "cpu",
  "torch_version": "2.11.0",
  "wall_seconds": 1.25,
  "cache_key": null,
  "config": {
    "a": 1
  }
}
"#
        );
    }
}
