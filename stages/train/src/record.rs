//! What a run records in its output directory, the same for a single run and a pack member:
//! `history.csv` rewritten after every epoch, then at the end `model.safetensors` and last
//! `metrics.json` (so a present `metrics.json` means a finished run).
//!
//! [`run_metrics`] is the one constructor of the `metrics.json` record
//! ([`common::run_output::Metrics`], whose format `stats` reads): the names, seed and epoch
//! cap from the configuration, the curve summary from the history, divergence from the
//! [`Stop`], the device and the libtorch version. None of it is a wall time or a cache key, so
//! a re-run that reproduces every weight reproduces every byte.

use std::path::Path;

use common::run_output::{
    history, CurveSummary, HistoryRow, Metrics, HISTORY_FILE, METRICS_FILE, METRICS_FORMAT_VERSION,
};
use tch::{nn, Device};

use crate::cli::Names;
use crate::config::RunConfig;
use crate::error::TrainError;
use crate::output::{save_weights, write_atomic};
use crate::stopping::Stop;

/// Version string of the libtorch this binary was built for.
pub const TORCH_VERSION: &str = "2.11.0";

/// The weights file's name in the output directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// The `metrics.json` record of a run with these names and configuration that trained the
/// rows of `history` on `device` and ended with `stop`.
pub fn run_metrics(
    names: Names,
    cfg: &RunConfig,
    history: &[HistoryRow],
    stop: Stop,
    device: Device,
) -> Metrics<RunConfig> {
    let curve = CurveSummary::of(history);
    Metrics {
        format: METRICS_FORMAT_VERSION,
        task: names.task.to_string(),
        variant: names.variant.to_string(),
        activation: names.activation.to_string(),
        seed: cfg.train.seed,
        epochs: cfg.train.epochs,
        convergence_epoch: curve.convergence_epoch,
        best_heldout_acc: curve.best_heldout_acc,
        best_epoch: curve.best_epoch,
        last_heldout_acc: curve.last_heldout_acc,
        last_train_acc: curve.last_train_acc,
        diverged: stop.diverged_epoch().is_some(),
        diverged_epoch: stop.diverged_epoch(),
        device: common_torch::name(device),
        torch_version: TORCH_VERSION.to_owned(),
        config: cfg.clone(),
    }
}

/// Rewrites `out/history.csv` with every row so far.
pub fn write_history(out: &Path, rows: &[HistoryRow]) -> Result<(), TrainError> {
    write_atomic(out, HISTORY_FILE, history::to_csv(rows).as_bytes())
}

/// Writes a finished run's last two files into `out`: the weights of `vs`, then `metrics`.
pub fn write_final(
    out: &Path,
    vs: &nn::VarStore,
    metrics: &Metrics<RunConfig>,
) -> Result<(), TrainError> {
    save_weights(vs, out, WEIGHTS_FILE)?;
    write_atomic(out, METRICS_FILE, metrics.to_json().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ModelConfig, TrainConfig, CONFIG_FORMAT_VERSION};
    use common::{Activation, Task, Variant};

    fn names() -> Names {
        Names {
            task: Task::EvenPairs,
            variant: "topk5".parse::<Variant>().unwrap(),
            activation: Activation::Gelu,
        }
    }

    fn cfg() -> RunConfig {
        let n = names();
        RunConfig {
            format: CONFIG_FORMAT_VERSION,
            model: ModelConfig::paper(n.task, n.variant, n.activation, 3, 2, 40),
            train: TrainConfig::paper(n.task, 7, 100),
        }
    }

    fn row(epoch: usize, train_acc: f64, heldout_acc: f64) -> HistoryRow {
        HistoryRow {
            epoch,
            lr: 0.1,
            train_loss: 0.5,
            train_acc,
            heldout_loss: 0.5,
            heldout_acc,
        }
    }

    #[test]
    fn metrics_take_names_and_seed_from_the_run_and_the_summary_from_the_curve() {
        let history = [row(1, 0.5, 0.6), row(2, 0.96, 0.8), row(3, 0.97, 0.7)];
        let m = run_metrics(names(), &cfg(), &history, Stop::Done, Device::Cpu);
        assert_eq!(m.format, METRICS_FORMAT_VERSION);
        assert_eq!(
            (m.task.as_str(), m.variant.as_str(), m.activation.as_str()),
            ("even_pairs", "topk5", "gelu")
        );
        assert_eq!((m.seed, m.epochs), (7, cfg().train.epochs));
        assert_eq!(m.convergence_epoch, Some(2));
        assert_eq!((m.best_heldout_acc, m.best_epoch), (Some(0.8), Some(2)));
        assert_eq!(
            (m.last_heldout_acc, m.last_train_acc),
            (Some(0.7), Some(0.97))
        );
        assert_eq!((m.diverged, m.diverged_epoch), (false, None));
        assert_eq!(
            (m.device.as_str(), m.torch_version.as_str()),
            ("cpu", TORCH_VERSION)
        );
        assert_eq!(m.config, cfg());
    }

    #[test]
    fn a_diverged_stop_is_recorded_with_its_epoch() {
        let m = run_metrics(
            names(),
            &cfg(),
            &[row(1, 0.5, 0.5)],
            Stop::Diverged(1),
            Device::Cpu,
        );
        assert_eq!((m.diverged, m.diverged_epoch), (true, Some(1)));
    }
}
