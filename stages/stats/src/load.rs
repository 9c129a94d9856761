//! Reading the trainer's runs: `DIR/VARIANT/ACTIVATION/SEED/{metrics.json,history.csv}`.
//!
//! The walk is sorted, so the result does not depend on the order the file system lists
//! entries in. Directory names must parse as a [`Variant`], an [`Activation`] and a seed; plain
//! files beside the run directories (a README, a lock file) are skipped. Each run is checked
//! for consistency: `metrics.json` must name the task asked for and the variant, activation and
//! seed of its directory, and `history.csv` must hold epochs 1, 2, ... without gaps, as many as
//! `epochs` unless the run diverged (a diverged run may stop early).
//!
//! `metrics.json` is read field by field rather than through a derived deserialiser so that an
//! error can name the field and its line; unknown fields (the trainer's `config`, device and
//! timing fields) are ignored, so the trainer can add fields without breaking this stage.

use std::path::{Path, PathBuf};

use common::{Activation, Task, Variant};
use serde_json::{Map, Value};

use crate::StatsError;

/// Version of `metrics.json` this reader understands.
pub const METRICS_FORMAT: u64 = 1;

/// The per-run scalars of `metrics.json` that the statistics use.
#[derive(Clone, Debug, PartialEq)]
pub struct RunMetrics {
    /// Number of epochs the run was configured for.
    pub epochs: usize,
    /// First epoch (1-based) with training accuracy >= 0.95, if any.
    pub convergence_epoch: Option<usize>,
    /// Best held-out accuracy over epochs (fraction); `None` if the trainer wrote null.
    pub best_heldout_acc: Option<f64>,
    /// Epoch of the best held-out accuracy.
    pub best_epoch: Option<usize>,
    /// Held-out accuracy after the last epoch.
    pub last_heldout_acc: Option<f64>,
    /// Training accuracy after the last epoch.
    pub last_train_acc: Option<f64>,
    /// Whether the loss became NaN.
    pub diverged: bool,
    /// Epoch at which the loss became NaN.
    pub diverged_epoch: Option<usize>,
    /// The engine's cache key of the training run (null outside the engine).
    pub cache_key: Option<String>,
}

/// One row of `history.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRow {
    /// 1-based epoch.
    pub epoch: usize,
    /// Learning rate used during the epoch.
    pub lr: f64,
    /// Training loss (evaluation pass, no dropout); may be NaN after divergence.
    pub train_loss: f64,
    /// Training accuracy (fraction).
    pub train_acc: f64,
    /// Held-out loss.
    pub heldout_loss: f64,
    /// Held-out accuracy (fraction).
    pub heldout_acc: f64,
    /// Wall time of the epoch.
    pub seconds: f64,
}

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
    let metrics_path = dir.join("metrics.json");
    let metrics = read_metrics(&metrics_path, task, variant, activation, seed)?;
    let history_path = dir.join("history.csv");
    let history = read_history(&history_path)?;
    let n = history.len();
    if n > metrics.epochs || (n < metrics.epochs && !metrics.diverged) {
        return Err(StatsError::Malformed {
            path: history_path,
            line: n as u64 + 1,
            field: "epoch".to_owned(),
            message: format!(
                "has {n} epochs but `metrics.json` says `epochs` = {} and the run did not diverge",
                metrics.epochs
            ),
        });
    }
    Ok(Run {
        variant,
        activation,
        seed,
        metrics,
        history,
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

/// Reads and checks `metrics.json`.
fn read_metrics(
    path: &Path,
    task: Task,
    variant: Variant,
    activation: Activation,
    seed: u64,
) -> Result<RunMetrics, StatsError> {
    let text = read_text(path)?;
    let value: Value = serde_json::from_str(&text).map_err(|e| StatsError::Malformed {
        path: path.to_owned(),
        line: e.line() as u64,
        field: "(document)".to_owned(),
        message: e.to_string(),
    })?;
    let Some(obj) = value.as_object() else {
        return Err(bad(
            path,
            &text,
            "(document)",
            "expected a JSON object".to_owned(),
        ));
    };
    let doc = Doc {
        path,
        text: &text,
        obj,
    };

    let format = doc.required("format", Value::as_u64, "an unsigned integer")?;
    if format != METRICS_FORMAT {
        return Err(doc.bad(
            "format",
            format!("unsupported format {format} (this stage reads {METRICS_FORMAT})"),
        ));
    }
    doc.expect_eq("task", task.name())?;
    doc.expect_eq("variant", &variant.to_string())?;
    doc.expect_eq("activation", activation.name())?;
    let found_seed = doc.required("seed", Value::as_u64, "an unsigned integer")?;
    if found_seed != seed {
        return Err(doc.bad(
            "seed",
            format!("is {found_seed} but the run directory is for seed {seed}"),
        ));
    }
    let epochs = doc.required("epochs", as_usize, "a positive integer")?;
    if epochs == 0 {
        return Err(doc.bad("epochs", "must be at least 1".to_owned()));
    }
    let epoch_in_range = |field: &str, e: Option<usize>| match e {
        Some(e) if e == 0 || e > epochs => {
            Err(doc.bad(field, format!("epoch {e} is outside 1..={epochs}")))
        }
        _ => Ok(e),
    };
    let convergence_epoch = epoch_in_range(
        "convergence_epoch",
        doc.nullable("convergence_epoch", as_usize, "an epoch or null")?,
    )?;
    let best_epoch = epoch_in_range(
        "best_epoch",
        doc.nullable("best_epoch", as_usize, "an epoch or null")?,
    )?;
    let diverged_epoch = epoch_in_range(
        "diverged_epoch",
        doc.nullable("diverged_epoch", as_usize, "an epoch or null")?,
    )?;
    let accuracy = |field: &str| -> Result<Option<f64>, StatsError> {
        let acc = doc.nullable(field, Value::as_f64, "a number or null")?;
        match acc {
            Some(a) if !(0.0..=1.0).contains(&a) => {
                Err(doc.bad(field, format!("accuracy {a} is not a fraction in [0, 1]")))
            }
            _ => Ok(acc),
        }
    };
    Ok(RunMetrics {
        epochs,
        convergence_epoch,
        best_heldout_acc: accuracy("best_heldout_acc")?,
        best_epoch,
        last_heldout_acc: accuracy("last_heldout_acc")?,
        last_train_acc: accuracy("last_train_acc")?,
        diverged: doc.required("diverged", Value::as_bool, "true or false")?,
        diverged_epoch,
        cache_key: doc.nullable(
            "cache_key",
            |v| v.as_str().map(str::to_owned),
            "a string or null",
        )?,
    })
}

fn as_usize(v: &Value) -> Option<usize> {
    v.as_u64().and_then(|u| usize::try_from(u).ok())
}

fn read_text(path: &Path) -> Result<String, StatsError> {
    std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            StatsError::Missing {
                path: path.to_owned(),
            }
        } else {
            StatsError::Read {
                path: path.to_owned(),
                source,
            }
        }
    })
}

/// A parsed JSON object with its source text, for errors that name the field and its line.
struct Doc<'a> {
    path: &'a Path,
    text: &'a str,
    obj: &'a Map<String, Value>,
}

impl Doc<'_> {
    fn bad(&self, field: &str, message: String) -> StatsError {
        bad(self.path, self.text, field, message)
    }

    fn required<T>(
        &self,
        field: &str,
        get: impl Fn(&Value) -> Option<T>,
        expected: &str,
    ) -> Result<T, StatsError> {
        match self.obj.get(field) {
            None => Err(self.bad(field, "is missing".to_owned())),
            Some(v) => {
                get(v).ok_or_else(|| self.bad(field, format!("expected {expected}, found `{v}`")))
            }
        }
    }

    fn nullable<T>(
        &self,
        field: &str,
        get: impl Fn(&Value) -> Option<T>,
        expected: &str,
    ) -> Result<Option<T>, StatsError> {
        match self.obj.get(field) {
            None => Err(self.bad(
                field,
                "is missing (write null when there is no value)".to_owned(),
            )),
            Some(Value::Null) => Ok(None),
            Some(v) => get(v)
                .map(Some)
                .ok_or_else(|| self.bad(field, format!("expected {expected}, found `{v}`"))),
        }
    }

    fn expect_eq(&self, field: &str, want: &str) -> Result<(), StatsError> {
        let found = self.required(field, |v| v.as_str().map(str::to_owned), "a string")?;
        if found != want {
            return Err(self.bad(field, format!("is `{found}` but `{want}` was expected from the command line and the run directory")));
        }
        Ok(())
    }
}

/// An error for `field` of a JSON file, with the line where the field's key first appears.
fn bad(path: &Path, text: &str, field: &str, message: String) -> StatsError {
    let key = format!("\"{field}\"");
    let line = text
        .find(&key)
        .map_or(0, |at| 1 + text[..at].matches('\n').count() as u64);
    StatsError::Malformed {
        path: path.to_owned(),
        line,
        field: field.to_owned(),
        message,
    }
}

/// The columns of `history.csv`, in the order docs/stages.md gives them.
pub const HISTORY_COLUMNS: [&str; 7] = [
    "epoch",
    "lr",
    "train_loss",
    "train_acc",
    "heldout_loss",
    "heldout_acc",
    "seconds",
];

/// Reads `history.csv`: the header must contain [`HISTORY_COLUMNS`] (extra columns are
/// ignored), epochs must run 1, 2, ... and every value must be a number (NaN allowed for losses
/// and accuracies after divergence).
pub fn read_history(path: &Path) -> Result<Vec<HistoryRow>, StatsError> {
    let text = read_text(path)?;
    let malformed = |line: u64, field: &str, message: String| StatsError::Malformed {
        path: path.to_owned(),
        line,
        field: field.to_owned(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| malformed(1, "(header)", e.to_string()))?
        .clone();
    let mut columns = [0usize; 7];
    for (slot, name) in columns.iter_mut().zip(HISTORY_COLUMNS) {
        *slot = headers.iter().position(|h| h == name).ok_or_else(|| {
            malformed(
                1,
                name,
                format!(
                    "column is missing from the header (expected `{}`)",
                    HISTORY_COLUMNS.join(",")
                ),
            )
        })?;
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record
            .map_err(|e| malformed(e.position().map_or(0, |p| p.line()), "(row)", e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let number = |i: usize| -> Result<f64, StatsError> {
            let name = HISTORY_COLUMNS[i];
            let cell = record.get(columns[i]).unwrap_or_default();
            cell.parse::<f64>()
                .map_err(|_| malformed(line, name, format!("`{cell}` is not a number")))
        };
        let epoch_cell = record.get(columns[0]).unwrap_or_default();
        let epoch: usize = epoch_cell.parse().map_err(|_| {
            malformed(
                line,
                "epoch",
                format!("`{epoch_cell}` is not an epoch number"),
            )
        })?;
        if epoch != rows.len() + 1 {
            return Err(malformed(
                line,
                "epoch",
                format!("expected epoch {} but found {epoch}", rows.len() + 1),
            ));
        }
        let row = HistoryRow {
            epoch,
            lr: number(1)?,
            train_loss: number(2)?,
            train_acc: number(3)?,
            heldout_loss: number(4)?,
            heldout_acc: number(5)?,
            seconds: number(6)?,
        };
        for (name, acc) in [
            ("train_acc", row.train_acc),
            ("heldout_acc", row.heldout_acc),
        ] {
            if acc.is_finite() && !(0.0..=1.0).contains(&acc) {
                return Err(malformed(
                    line,
                    name,
                    format!("accuracy {acc} is not a fraction in [0, 1]"),
                ));
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(malformed(2, "(row)", "holds no epoch".to_owned()));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics_text(seed: u64) -> String {
        format!(
            r#"{{
  "format": 1,
  "task": "parity",
  "variant": "topk5",
  "activation": "relu",
  "seed": {seed},
  "epochs": 3,
  "convergence_epoch": 2,
  "best_heldout_acc": 0.5,
  "best_epoch": 3,
  "last_heldout_acc": 0.5,
  "last_train_acc": 0.97,
  "diverged": false,
  "diverged_epoch": null,
  "cache_key": "abc",
  "config": {{}}
}}"#
        )
    }

    #[test]
    fn metrics_field_errors_name_field_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.json");
        std::fs::write(
            &path,
            metrics_text(7).replace("\"epochs\": 3", "\"epochs\": \"three\""),
        )
        .unwrap();
        let topk5 = Variant::Topk { k: 5 };
        let err = read_metrics(&path, Task::Parity, topk5, Activation::Relu, 7)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("metrics.json") && err.contains("line 7") && err.contains("`epochs`"),
            "{err}"
        );

        std::fs::write(&path, metrics_text(8)).unwrap();
        let err = read_metrics(&path, Task::Parity, topk5, Activation::Relu, 7)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 6") && err.contains("`seed`") && err.contains("is 8"),
            "{err}"
        );

        let ok = read_metrics(&path, Task::Parity, topk5, Activation::Relu, 8).unwrap();
        assert_eq!(ok.convergence_epoch, Some(2));
        assert_eq!(ok.cache_key.as_deref(), Some("abc"));
    }

    #[test]
    fn history_rejects_gaps_and_bad_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.csv");
        let header = "epoch,lr,train_loss,train_acc,heldout_loss,heldout_acc,seconds\n";
        std::fs::write(
            &path,
            format!("{header}1,0.1,0.7,0.5,0.7,0.5,1\n3,0.1,0.7,0.5,0.7,0.5,1\n"),
        )
        .unwrap();
        let err = read_history(&path).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("`epoch`"), "{err}");

        std::fs::write(&path, format!("{header}1,0.1,0.7,zero,0.7,0.5,1\n")).unwrap();
        let err = read_history(&path).unwrap_err().to_string();
        assert!(
            err.contains("line 2") && err.contains("`train_acc`") && err.contains("`zero`"),
            "{err}"
        );

        std::fs::write(&path, format!("{header}1,0.1,NaN,0.5,NaN,0.5,1\n")).unwrap();
        assert!(read_history(&path).unwrap()[0].train_loss.is_nan());
    }
}
