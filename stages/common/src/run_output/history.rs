//! `history.csv`: the learning curve of one run, one row per epoch (docs/stages.md).
//!
//! Columns [`HISTORY_COLUMNS`]; [`to_csv`] (the trainer's writer) prints floats with Rust's
//! shortest round-trip formatting and a NaN loss as `NaN`. [`read_history`] (the statistics'
//! reader) is more lenient than the writer: it finds the columns by name in the header (extra
//! columns are ignored) and trims cells, but insists on epochs 1, 2, ... and on numbers
//! everywhere (NaN allowed after divergence).
//!
//! The file holds nothing but what the seeded computation determines: no wall times. The
//! engine hashes every output, so a timing column would give every re-run new bytes and new
//! downstream keys even when every weight reproduced. Epoch times go to the trainer's log
//! instead. Files of run-output format 1 carried a trailing `seconds` column; the reader
//! ignores it like any extra column, so they still read.

use std::fmt::Write as _;
use std::path::Path;

use super::error::{read_text, RunOutputError};

/// File name of the learning curve in a run directory.
pub const HISTORY_FILE: &str = "history.csv";

/// The columns of `history.csv`, in the order the trainer writes them.
pub const HISTORY_COLUMNS: [&str; 6] = [
    "epoch",
    "lr",
    "train_loss",
    "train_acc",
    "heldout_loss",
    "heldout_acc",
];

/// One epoch of the learning curve: one row of `history.csv`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistoryRow {
    /// 1-based epoch.
    pub epoch: usize,
    /// Learning rate used during the epoch.
    pub lr: f64,
    /// Mean training loss from the evaluation pass after the epoch (no dropout); may be NaN
    /// after divergence.
    pub train_loss: f64,
    /// Training accuracy (fraction) from the evaluation pass.
    pub train_acc: f64,
    /// Held-out loss.
    pub heldout_loss: f64,
    /// Held-out accuracy (fraction).
    pub heldout_acc: f64,
}

/// The header line, without its newline.
pub fn header() -> String {
    HISTORY_COLUMNS.join(",")
}

/// Renders the whole file.
pub fn to_csv(rows: &[HistoryRow]) -> String {
    let mut out = String::with_capacity(64 * (rows.len() + 1));
    out.push_str(&header());
    out.push('\n');
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            r.epoch, r.lr, r.train_loss, r.train_acc, r.heldout_loss, r.heldout_acc
        );
    }
    out
}

/// Reads `history.csv`: the header must contain [`HISTORY_COLUMNS`] (extra columns are
/// ignored), epochs must run 1, 2, ... and every value must be a number (NaN allowed for losses
/// and accuracies after divergence); accuracies that are finite must be fractions.
pub fn read_history(path: &Path) -> Result<Vec<HistoryRow>, RunOutputError> {
    let text = read_text(path)?;
    let malformed = |line: u64, field: &str, message: String| RunOutputError::Malformed {
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
    let mut columns = [0usize; HISTORY_COLUMNS.len()];
    for (slot, name) in columns.iter_mut().zip(HISTORY_COLUMNS) {
        *slot = headers.iter().position(|h| h == name).ok_or_else(|| {
            malformed(
                1,
                name,
                format!(
                    "column is missing from the header (expected `{}`)",
                    header()
                ),
            )
        })?;
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record
            .map_err(|e| malformed(e.position().map_or(0, |p| p.line()), "(row)", e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let number = |i: usize| -> Result<f64, RunOutputError> {
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

    fn row() -> HistoryRow {
        HistoryRow {
            epoch: 1,
            lr: 0.1,
            train_loss: f64::NAN,
            train_acc: 0.5,
            heldout_loss: 0.7,
            heldout_acc: 0.25,
        }
    }

    #[test]
    fn renders_header_and_rows() {
        assert_eq!(
            to_csv(&[row()]),
            "epoch,lr,train_loss,train_acc,heldout_loss,heldout_acc\n\
             1,0.1,NaN,0.5,0.7,0.25\n"
        );
    }

    #[test]
    fn written_history_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(HISTORY_FILE);
        let mut second = row();
        second.epoch = 2;
        second.train_loss = 0.3;
        std::fs::write(&path, to_csv(&[row(), second])).unwrap();
        let back = read_history(&path).unwrap();
        assert_eq!(back.len(), 2);
        assert!(back[0].train_loss.is_nan());
        assert_eq!(back[1], second);
    }

    /// Format 1 wrote a trailing `seconds` column; such files still read, the column ignored.
    #[test]
    fn history_of_format_1_with_seconds_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(HISTORY_FILE);
        std::fs::write(
            &path,
            "epoch,lr,train_loss,train_acc,heldout_loss,heldout_acc,seconds\n\
             1,0.1,NaN,0.5,0.7,0.25,1.235\n",
        )
        .unwrap();
        let back = read_history(&path).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(
            (back[0].epoch, back[0].heldout_acc, back[0].train_acc),
            (1, 0.25, 0.5)
        );
    }

    #[test]
    fn history_rejects_gaps_and_bad_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(HISTORY_FILE);
        let header = "epoch,lr,train_loss,train_acc,heldout_loss,heldout_acc\n";
        std::fs::write(
            &path,
            format!("{header}1,0.1,0.7,0.5,0.7,0.5\n3,0.1,0.7,0.5,0.7,0.5\n"),
        )
        .unwrap();
        let err = read_history(&path).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("`epoch`"), "{err}");

        std::fs::write(&path, format!("{header}1,0.1,0.7,zero,0.7,0.5\n")).unwrap();
        let err = read_history(&path).unwrap_err().to_string();
        assert!(
            err.contains("line 2") && err.contains("`train_acc`") && err.contains("`zero`"),
            "{err}"
        );

        std::fs::write(&path, format!("{header}1,0.1,NaN,0.5,NaN,0.5\n")).unwrap();
        assert!(read_history(&path).unwrap()[0].train_loss.is_nan());
    }
}
