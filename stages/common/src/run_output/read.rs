//! The checked reader of one run directory (`metrics.json` and `history.csv`), used by `stats`.
//!
//! Each run is checked for consistency: `metrics.json` must be of format
//! [`METRICS_FORMAT_VERSION`] (or of an older format that reads the same, from
//! [`OLDEST_FORMAT_READ`] on) and name the task, variant, activation and seed expected of its
//! directory ([`RunId`]), and `history.csv` must hold epochs 1, 2, ... without gaps, as many as
//! `epochs` unless the run diverged (a diverged run may stop early).
//!
//! `metrics.json` is read field by field rather than through the derived deserialiser of
//! [`Metrics`](super::Metrics) so that an error can name the field and its line; unknown fields
//! (the trainer's `config` and device fields, format 1's `wall_seconds`, format 2's
//! `cache_key`) are ignored, so the trainer can add fields without breaking its readers.
//!
//! Format 1 differs from format 2 only by its wall times (`wall_seconds` here, a `seconds`
//! column in `history.csv`), and format 2 from format 3 only by its `cache_key`; nothing reads
//! either, so runs trained before those changes still feed the statistics unchanged.

use std::path::Path;

use serde_json::{Map, Value};

use super::error::{read_text, RunOutputError};
use super::history::{read_history, HistoryRow, HISTORY_FILE};
use super::metrics::{METRICS_FILE, METRICS_FORMAT_VERSION};
use crate::{Activation, Task, Variant};

/// The oldest `metrics.json` format this reader accepts: formats from here to
/// [`METRICS_FORMAT_VERSION`] differ only in fields it ignores.
pub const OLDEST_FORMAT_READ: u32 = 1;

/// What a run directory is expected to hold: the run of this task, variant, activation, seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunId {
    /// The task asked for.
    pub task: Task,
    /// Attention variant (from the directory name).
    pub variant: Variant,
    /// MLP activation (from the directory name).
    pub activation: Activation,
    /// Seed (from the directory name).
    pub seed: u64,
}

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
    /// The run's stopping rule (`config.train.stop_after`): it stopped this many epochs after
    /// its convergence epoch, `epochs` being the cap. `None`: every epoch ran (absent in runs
    /// trained before the rule existed).
    pub stop_after: Option<usize>,
}

/// The two files of one run, read and checked.
#[derive(Clone, Debug)]
pub struct RunFiles {
    /// Scalars from `metrics.json`.
    pub metrics: RunMetrics,
    /// Rows of `history.csv`, epochs 1..=n.
    pub history: Vec<HistoryRow>,
}

/// Reads the run directory `dir` and checks it against `id`.
pub fn read_run(dir: &Path, id: &RunId) -> Result<RunFiles, RunOutputError> {
    let metrics = read_metrics(&dir.join(METRICS_FILE), id)?;
    let history_path = dir.join(HISTORY_FILE);
    let history = read_history(&history_path)?;
    let n = history.len();
    let stopped = metrics
        .stop_after
        .zip(metrics.convergence_epoch)
        .is_some_and(|(k, c)| n == c + k);
    if n > metrics.epochs || (n < metrics.epochs && !metrics.diverged && !stopped) {
        return Err(RunOutputError::Malformed {
            path: history_path,
            line: n as u64 + 1,
            field: "epoch".to_owned(),
            message: format!(
                "has {n} epochs but `{METRICS_FILE}` says `epochs` = {}, the run did not diverge, and no stopping rule ended it there",
                metrics.epochs
            ),
        });
    }
    Ok(RunFiles { metrics, history })
}

/// Reads and checks `metrics.json`.
pub fn read_metrics(path: &Path, id: &RunId) -> Result<RunMetrics, RunOutputError> {
    let text = read_text(path)?;
    let value: Value = serde_json::from_str(&text).map_err(|e| RunOutputError::Malformed {
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
    if !(u64::from(OLDEST_FORMAT_READ)..=u64::from(METRICS_FORMAT_VERSION)).contains(&format) {
        return Err(doc.bad(
            "format",
            format!(
                "unsupported format {format} (this stage reads {OLDEST_FORMAT_READ} to {METRICS_FORMAT_VERSION})"
            ),
        ));
    }
    doc.expect_eq("task", id.task.name())?;
    doc.expect_eq("variant", &id.variant.to_string())?;
    doc.expect_eq("activation", id.activation.name())?;
    let found_seed = doc.required("seed", Value::as_u64, "an unsigned integer")?;
    if found_seed != id.seed {
        return Err(doc.bad(
            "seed",
            format!(
                "is {found_seed} but the run directory is for seed {}",
                id.seed
            ),
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
    let accuracy = |field: &str| -> Result<Option<f64>, RunOutputError> {
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
        stop_after: stop_rule(&value).map_err(|message| doc.bad("config", message))?,
    })
}

/// `config.train.stop_after`: absent or null for every epoch, else a number of epochs.
fn stop_rule(value: &Value) -> Result<Option<usize>, String> {
    match value.pointer("/config/train/stop_after") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => as_usize(v).map(Some).ok_or_else(|| {
            format!("`train.stop_after` must be a number of epochs or null, found {v}")
        }),
    }
}

fn as_usize(v: &Value) -> Option<usize> {
    v.as_u64().and_then(|u| usize::try_from(u).ok())
}

/// A parsed JSON object with its source text, for errors that name the field and its line.
struct Doc<'a> {
    path: &'a Path,
    text: &'a str,
    obj: &'a Map<String, Value>,
}

impl Doc<'_> {
    fn bad(&self, field: &str, message: String) -> RunOutputError {
        bad(self.path, self.text, field, message)
    }

    fn required<T>(
        &self,
        field: &str,
        get: impl Fn(&Value) -> Option<T>,
        expected: &str,
    ) -> Result<T, RunOutputError> {
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
    ) -> Result<Option<T>, RunOutputError> {
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

    fn expect_eq(&self, field: &str, want: &str) -> Result<(), RunOutputError> {
        let found = self.required(field, |v| v.as_str().map(str::to_owned), "a string")?;
        if found != want {
            return Err(self.bad(field, format!("is `{found}` but `{want}` was expected from the command line and the run directory")));
        }
        Ok(())
    }
}

/// An error for `field` of a JSON file, with the line where the field's key first appears.
fn bad(path: &Path, text: &str, field: &str, message: String) -> RunOutputError {
    let key = format!("\"{field}\"");
    let line = text
        .find(&key)
        .map_or(0, |at| 1 + text[..at].matches('\n').count() as u64);
    RunOutputError::Malformed {
        path: path.to_owned(),
        line,
        field: field.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{history, CurveSummary, Metrics};
    use super::*;

    fn id(seed: u64) -> RunId {
        RunId {
            task: Task::Parity,
            variant: Variant::Topk { k: 5 },
            activation: Activation::Relu,
            seed,
        }
    }

    fn metrics_text(seed: u64) -> String {
        format!(
            r#"{{
  "format": 2,
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
        let path = dir.path().join(METRICS_FILE);
        std::fs::write(
            &path,
            metrics_text(7).replace("\"epochs\": 3", "\"epochs\": \"three\""),
        )
        .unwrap();
        let err = read_metrics(&path, &id(7)).unwrap_err().to_string();
        assert!(
            err.contains("metrics.json") && err.contains("line 7") && err.contains("`epochs`"),
            "{err}"
        );

        std::fs::write(&path, metrics_text(8)).unwrap();
        let err = read_metrics(&path, &id(7)).unwrap_err().to_string();
        assert!(
            err.contains("line 6") && err.contains("`seed`") && err.contains("is 8"),
            "{err}"
        );

        let ok = read_metrics(&path, &id(8)).unwrap();
        assert_eq!(ok.convergence_epoch, Some(2));
    }

    #[test]
    fn what_the_writers_write_the_reader_reads() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<HistoryRow> = (1..=3)
            .map(|epoch| HistoryRow {
                epoch,
                lr: 0.1,
                train_loss: 0.5,
                train_acc: 0.9 + 0.03 * epoch as f64,
                heldout_loss: 0.6,
                heldout_acc: 0.5,
            })
            .collect();
        let s = CurveSummary::of(&rows);
        let id = id(9);
        let metrics = Metrics {
            format: METRICS_FORMAT_VERSION,
            task: id.task.to_string(),
            variant: id.variant.to_string(),
            activation: id.activation.to_string(),
            seed: id.seed,
            epochs: 4,
            convergence_epoch: s.convergence_epoch,
            best_heldout_acc: s.best_heldout_acc,
            best_epoch: s.best_epoch,
            last_heldout_acc: s.last_heldout_acc,
            last_train_acc: s.last_train_acc,
            diverged: false,
            diverged_epoch: None,
            device: "cpu".to_owned(),
            torch_version: "test".to_owned(),
            config: (),
        };
        std::fs::write(dir.path().join(METRICS_FILE), metrics.to_json()).unwrap();
        std::fs::write(dir.path().join(HISTORY_FILE), history::to_csv(&rows)).unwrap();
        // Three epochs of four, not diverged: the reader refuses the truncated run.
        let err = read_run(dir.path(), &id).unwrap_err().to_string();
        assert!(
            err.contains("history.csv") && err.contains("has 3 epochs"),
            "{err}"
        );

        // The same three epochs of a cap of four, ended by a stopping rule one epoch after
        // convergence (epoch 2): read; with a rule that would have run on, refused.
        let stopped = Metrics {
            config: serde_json::json!({"train": {"stop_after": 1}}),
            format: metrics.format,
            task: metrics.task.clone(),
            variant: metrics.variant.clone(),
            activation: metrics.activation.clone(),
            seed: metrics.seed,
            epochs: metrics.epochs,
            convergence_epoch: metrics.convergence_epoch,
            best_heldout_acc: metrics.best_heldout_acc,
            best_epoch: metrics.best_epoch,
            last_heldout_acc: metrics.last_heldout_acc,
            last_train_acc: metrics.last_train_acc,
            diverged: false,
            diverged_epoch: None,
            device: metrics.device.clone(),
            torch_version: metrics.torch_version.clone(),
        };
        std::fs::write(dir.path().join(METRICS_FILE), stopped.to_json()).unwrap();
        let run = read_run(dir.path(), &id).unwrap();
        assert_eq!(run.metrics.stop_after, Some(1));
        let longer = Metrics {
            config: serde_json::json!({"train": {"stop_after": 2}}),
            ..stopped
        };
        std::fs::write(dir.path().join(METRICS_FILE), longer.to_json()).unwrap();
        let err = read_run(dir.path(), &id).unwrap_err().to_string();
        assert!(err.contains("no stopping rule ended it there"), "{err}");

        let metrics = Metrics {
            epochs: 3,
            ..metrics
        };
        std::fs::write(dir.path().join(METRICS_FILE), metrics.to_json()).unwrap();
        let run = read_run(dir.path(), &id).unwrap();
        assert_eq!(run.history, rows);
        assert_eq!(run.metrics.convergence_epoch, Some(2));
        assert_eq!(run.metrics.best_epoch, Some(1));
        assert_eq!(run.metrics.stop_after, None);
    }

    /// Runs trained before the wall times left the files (format 1) and before the key left
    /// them (format 2) still read, the same as format 3; a format from the future is refused by
    /// name.
    #[test]
    fn formats_1_and_2_still_read_and_format_4_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(METRICS_FILE);
        let v1 = metrics_text(7).replace(
            "\"format\": 2,",
            "\"format\": 1,\n  \"wall_seconds\": 31.288173369,",
        );
        std::fs::write(&path, &v1).unwrap();
        let old = read_metrics(&path, &id(7)).unwrap();
        std::fs::write(&path, metrics_text(7)).unwrap();
        assert_eq!(old, read_metrics(&path, &id(7)).unwrap());
        let v3 = metrics_text(7)
            .replace("\"format\": 2", "\"format\": 3")
            .replace("  \"cache_key\": \"abc\",\n", "");
        std::fs::write(&path, &v3).unwrap();
        assert_eq!(old, read_metrics(&path, &id(7)).unwrap());

        std::fs::write(
            &path,
            metrics_text(7).replace("\"format\": 2", "\"format\": 4"),
        )
        .unwrap();
        let err = read_metrics(&path, &id(7)).unwrap_err().to_string();
        assert!(
            err.contains("line 2") && err.contains("`format`") && err.contains("format 4"),
            "{err}"
        );
    }
}
