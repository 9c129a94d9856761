//! `metrics.json`: the per-run summary that the `stats` stage aggregates (docs/stages.md).
//!
//! [`Metrics`] is the file: its field order is the file's, and [`Metrics::to_json`] is the one
//! rendering (pretty JSON, two-space indent, trailing newline; a NaN becomes `null`). The
//! trainer's configuration is a type parameter, `C`, so that this crate does not depend on the
//! trainer; `train` writes `Metrics<RunConfig>`, the synthetic runs of `stats::fixture` a JSON
//! value. The curve-derived fields come from [`CurveSummary::of`] in both.
//!
//! Like `history.csv`, the file holds no wall time: the engine hashes it, so a timing would make
//! a bit-identical re-run look changed downstream and defeat early cutoff. The trainer prints its
//! times on its log instead. For the same reason it holds no cache key (`REPRO_KEY`): the key
//! changes with the trainer's code even when the numbers do not, and `repro.lock` already maps
//! the file to its key. What remains besides the computation's results describes the run
//! (`device`, `torch_version`, `config`) and is the same on a re-run of the same instance.

use super::history::HistoryRow;

/// File name of the run summary in a run directory.
pub const METRICS_FILE: &str = "metrics.json";

/// Version of the run-output contract (`metrics.json` and `history.csv`); bump when a field or
/// column is added, removed or changes meaning.
///
/// - 1: `metrics.json` with `wall_seconds`, `history.csv` with a trailing `seconds` column.
/// - 2: both without wall times (they moved to the trainer's log); otherwise as 1.
/// - 3: `metrics.json` without `cache_key` (provenance is the engine's `repro.lock`, and a key
///   in the file defeated early cutoff below a re-run trainer); otherwise as 2.
pub const METRICS_FORMAT_VERSION: u32 = 3;

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
    use super::super::history::HISTORY_COLUMNS;
    use super::*;

    fn row(epoch: usize, train_acc: f64, heldout_acc: f64) -> HistoryRow {
        HistoryRow {
            epoch,
            lr: 0.1,
            train_loss: 0.0,
            train_acc,
            heldout_loss: 0.0,
            heldout_acc,
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

    /// Guards the bytes of both run-output files: field order, indentation, number formatting,
    /// NaN as null (JSON) or `NaN` (CSV) and the trailing newlines are what `stats` and earlier
    /// runs expect; and no field or column is a wall time, so that a re-run that reproduces the
    /// computation reproduces the files (early cutoff in the engine).
    #[test]
    fn run_output_bytes_are_pinned_and_hold_no_wall_times() {
        let rows = [
            HistoryRow {
                epoch: 1,
                lr: 0.1,
                train_loss: 0.6965619277954102,
                train_acc: 0.5,
                heldout_loss: 0.7,
                heldout_acc: 0.25,
            },
            HistoryRow {
                epoch: 2,
                lr: 0.09000000000000001,
                train_loss: f64::NAN,
                train_acc: 0.97,
                heldout_loss: f64::NAN,
                heldout_acc: 0.5,
            },
        ];
        let history = super::super::history::to_csv(&rows);
        assert_eq!(
            history,
            "epoch,lr,train_loss,train_acc,heldout_loss,heldout_acc\n\
             1,0.1,0.6965619277954102,0.5,0.7,0.25\n\
             2,0.09000000000000001,NaN,0.97,NaN,0.5\n"
        );
        let s = CurveSummary::of(&rows);
        let m = Metrics {
            format: METRICS_FORMAT_VERSION,
            task: "parity".to_owned(),
            variant: "topk5".to_owned(),
            activation: "relu".to_owned(),
            seed: 7,
            epochs: 2,
            convergence_epoch: s.convergence_epoch,
            best_heldout_acc: s.best_heldout_acc,
            best_epoch: s.best_epoch,
            last_heldout_acc: Some(f64::NAN),
            last_train_acc: s.last_train_acc,
            diverged: true,
            diverged_epoch: Some(2),
            device: "cpu".to_owned(),
            torch_version: "2.11.0".to_owned(),
            config: serde_json::json!({"a": 1}),
        };
        let metrics = m.to_json();
        assert_eq!(
            metrics,
            r#"{
  "format": 3,
  "task": "parity",
  "variant": "topk5",
  "activation": "relu",
  "seed": 7,
  "epochs": 2,
  "convergence_epoch": 2,
  "best_heldout_acc": 0.5,
  "best_epoch": 2,
  "last_heldout_acc": null,
  "last_train_acc": 0.97,
  "diverged": true,
  "diverged_epoch": 2,
  "device": "cpu",
  "torch_version": "2.11.0",
  "config": {
    "a": 1
  }
}
"#
        );
        let value: serde_json::Value = serde_json::from_str(&metrics).unwrap();
        let names = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .chain(HISTORY_COLUMNS);
        for name in names {
            for timing in ["second", "time", "wall", "duration", "elapsed", "date"] {
                assert!(
                    !name.contains(timing),
                    "`{name}` looks like a wall time: run outputs must not hold one"
                );
            }
        }
    }
}
