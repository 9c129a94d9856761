//! Reading the trainer's runs: `DIR/VARIANT/ACTIVATION/SEED/{metrics.json,history.csv}`.
//!
//! The walk is sorted, so the result does not depend on the order the file system lists
//! entries in. Directory names must parse as a [`Variant`], an [`Activation`] and a seed; plain
//! files beside the run directories (a README, a lock file) are skipped. Each run directory is
//! read and checked by [`common::run_output::read_run`], where the file contract lives.

use std::path::{Path, PathBuf};

use common::run_output::{read_run, HistoryRow, RunId, RunMetrics};
use common::{Activation, Task, Variant};

use crate::StatsError;

/// One training run: where it came from, its scalars and its learning curve.
#[derive(Clone, Debug)]
pub struct Run {
    /// Attention variant (from the directory name, checked against `metrics.json`).
    pub variant: Variant,
    /// MLP activation.
    pub activation: Activation,
    /// Seed.
    pub seed: u64,
    /// Scalars from `metrics.json`.
    pub metrics: RunMetrics,
    /// Rows of `history.csv`, epochs 1..=n.
    pub history: Vec<HistoryRow>,
}

/// Reads every run of `task` under `dir`. Fails on the first missing or malformed file and when
/// there is no run at all.
pub fn load_runs(dir: &Path, task: Task) -> Result<Vec<Run>, StatsError> {
    let mut runs = Vec::new();
    for variant_dir in subdirs(dir)? {
        let variant: Variant = parse_dir_name(&variant_dir, "an attention variant")?;
        for activation_dir in subdirs(&variant_dir)? {
            let activation: Activation = parse_dir_name(&activation_dir, "an activation")?;
            for seed_dir in subdirs(&activation_dir)? {
                let seed: u64 = parse_dir_name(&seed_dir, "a seed")?;
                runs.push(load_run(&seed_dir, task, variant, activation, seed)?);
            }
        }
    }
    if runs.is_empty() {
        return Err(StatsError::NoRuns {
            dir: dir.to_owned(),
        });
    }
    Ok(runs)
}

/// Reads one run directory and checks it against the expected task, variant, activation, seed.
pub fn load_run(
    dir: &Path,
    task: Task,
    variant: Variant,
    activation: Activation,
    seed: u64,
) -> Result<Run, StatsError> {
    let id = RunId {
        task,
        variant,
        activation,
        seed,
    };
    let files = read_run(dir, &id)?;
    Ok(Run {
        variant,
        activation,
        seed,
        metrics: files.metrics,
        history: files.history,
    })
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, StatsError> {
    let read_err = |source| StatsError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        // `metadata` follows symbolic links: the engine may link cached runs into place.
        let is_dir = std::fs::metadata(&path)
            .map_err(|source| StatsError::Read {
                path: path.clone(),
                source,
            })?
            .is_dir();
        if is_dir && !hidden {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn parse_dir_name<T: std::str::FromStr>(dir: &Path, what: &str) -> Result<T, StatsError> {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name.parse().map_err(|_| StatsError::Layout {
        path: dir.to_owned(),
        message: format!("directory name `{name}` is not {what}"),
    })
}
