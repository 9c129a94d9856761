//! Synthetic training runs that follow docs/stages.md, for tests and demonstrations of the
//! `stats` and `table` stages without a trainer. They are written with the trainer's own
//! writers (`common::run_output`), so they follow the file contract by construction.
//!
//! A synthetic run's training accuracy rises linearly from 0.5 and first reaches 0.95 exactly
//! at the requested convergence epoch (or stays below it), its held-out accuracy rises towards a
//! requested final value, and a diverging run stops with NaN losses at the requested epoch. The
//! numbers are made up: nothing here stands for a result of the paper.

use std::io;
use std::path::{Path, PathBuf};

use common::run_output::{
    history, CurveSummary, HistoryRow, Metrics, HISTORY_FILE, METRICS_FILE, METRICS_FORMAT_VERSION,
};
use common::{Activation, Task, Variant};

/// The parameters of one synthetic run.
#[derive(Clone, Debug)]
pub struct SyntheticRun {
    /// Attention variant.
    pub variant: Variant,
    /// Activation.
    pub activation: Activation,
    /// Seed.
    pub seed: u64,
    /// Configured epochs.
    pub epochs: usize,
    /// First epoch with training accuracy >= 0.95, or `None` for a run that never gets there.
    pub convergence_epoch: Option<usize>,
    /// Held-out accuracy reached at the last epoch.
    pub final_heldout_acc: f64,
    /// Epoch at which the loss becomes NaN and the run stops.
    pub diverged_at: Option<usize>,
}

impl SyntheticRun {
    /// A run of `variant`/`activation`/`seed` converging at `convergence_epoch` out of `epochs`,
    /// ending at `final_heldout_acc`.
    pub fn new(
        variant: Variant,
        activation: Activation,
        seed: u64,
        epochs: usize,
        convergence_epoch: Option<usize>,
        final_heldout_acc: f64,
    ) -> SyntheticRun {
        SyntheticRun {
            variant,
            activation,
            seed,
            epochs,
            convergence_epoch,
            final_heldout_acc,
            diverged_at: None,
        }
    }

    /// The learning curve: training accuracy, held-out accuracy and losses per epoch.
    fn rows(&self) -> Vec<HistoryRow> {
        let last = self.diverged_at.unwrap_or(self.epochs).min(self.epochs);
        (1..=last)
            .map(|e| {
                let lr = 0.1 * 0.9995f64.powi(e as i32 - 1);
                let row = |train_loss, train_acc, heldout_loss, heldout_acc| HistoryRow {
                    epoch: e,
                    lr,
                    train_loss,
                    train_acc,
                    heldout_loss,
                    heldout_acc,
                };
                if Some(e) == self.diverged_at {
                    return row(f64::NAN, 0.5, f64::NAN, 0.5);
                }
                let train_acc = match self.convergence_epoch {
                    Some(c) if e >= c => {
                        (0.95 + 0.05 * (e - c) as f64 / (self.epochs - c + 1) as f64).min(1.0)
                    }
                    Some(c) => 0.5 + 0.44 * e as f64 / c as f64,
                    None => 0.5 + 0.4 * e as f64 / self.epochs as f64,
                };
                let progress = e as f64 / self.epochs as f64;
                let heldout_acc = 0.5 + (self.final_heldout_acc - 0.5) * progress.sqrt();
                // Round like counts over 5,000 and 2,000 examples.
                let train_acc = (train_acc * 5000.0).floor() / 5000.0;
                let heldout_acc = (heldout_acc * 2000.0).round() / 2000.0;
                row(
                    -(train_acc.ln()) + 0.01,
                    train_acc,
                    -(heldout_acc.ln()) + 0.05,
                    heldout_acc,
                )
            })
            .collect()
    }

    /// Writes `runs_dir/VARIANT/ACTIVATION/SEED/{metrics.json,history.csv}` for `task`, through
    /// the trainer's writers in `common::run_output`, and returns the run directory.
    pub fn write(&self, runs_dir: &Path, task: Task) -> io::Result<PathBuf> {
        let dir = runs_dir
            .join(self.variant.to_string())
            .join(self.activation.name())
            .join(self.seed.to_string());
        std::fs::create_dir_all(&dir)?;
        let rows = self.rows();
        std::fs::write(dir.join(HISTORY_FILE), history::to_csv(&rows))?;
        let curve = CurveSummary::of(&rows);
        let metrics = Metrics {
            format: METRICS_FORMAT_VERSION,
            task: task.to_string(),
            variant: self.variant.to_string(),
            activation: self.activation.to_string(),
            seed: self.seed,
            epochs: self.epochs,
            convergence_epoch: curve.convergence_epoch,
            best_heldout_acc: curve.best_heldout_acc,
            best_epoch: curve.best_epoch,
            last_heldout_acc: curve.last_heldout_acc,
            last_train_acc: curve.last_train_acc,
            diverged: self.diverged_at.is_some(),
            diverged_epoch: self.diverged_at,
            device: "cpu".to_owned(),
            torch_version: "synthetic".to_owned(),
            config: serde_json::json!({"synthetic": true}),
        };
        std::fs::write(dir.join(METRICS_FILE), metrics.to_json())?;
        Ok(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_runs_read_back_with_the_requested_convergence() {
        let dir = tempfile::tempdir().unwrap();
        let mut run = SyntheticRun::new(
            Variant::Topk { k: 5 },
            Activation::Gelu,
            11,
            20,
            Some(7),
            0.8,
        );
        run.write(dir.path(), Task::EvenPairs).unwrap();
        run.seed = 12;
        run.convergence_epoch = None;
        run.diverged_at = Some(4);
        run.write(dir.path(), Task::EvenPairs).unwrap();
        let runs = crate::load::load_runs(dir.path(), Task::EvenPairs).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].metrics.convergence_epoch, Some(7));
        assert_eq!(runs[0].history.len(), 20);
        assert!((runs[0].metrics.last_heldout_acc.unwrap() - 0.8).abs() < 1e-9);
        assert!(runs[1].metrics.diverged && runs[1].history.len() == 4);
    }
}
