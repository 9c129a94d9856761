//! `history.csv`: one row per epoch (docs/stages.md).
//!
//! Columns `epoch,lr,train_loss,train_acc,heldout_loss,heldout_acc,seconds`; floats use Rust's
//! shortest round-trip formatting, a NaN loss is written `NaN`.

use std::fmt::Write as _;

/// One epoch of the learning curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochRow {
    /// 1-based epoch.
    pub epoch: usize,
    /// Learning rate used during the epoch.
    pub lr: f64,
    /// Mean training loss from the evaluation pass after the epoch.
    pub train_loss: f64,
    /// Training accuracy from the evaluation pass.
    pub train_acc: f64,
    /// Held-out loss.
    pub heldout_loss: f64,
    /// Held-out accuracy.
    pub heldout_acc: f64,
    /// Wall time of the epoch, both evaluation passes included.
    pub seconds: f64,
}

/// The CSV header line (no newline).
pub const HEADER: &str = "epoch,lr,train_loss,train_acc,heldout_loss,heldout_acc,seconds";

/// Renders the whole file.
pub fn to_csv(rows: &[EpochRow]) -> String {
    let mut out = String::with_capacity(64 * (rows.len() + 1));
    out.push_str(HEADER);
    out.push('\n');
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{:.3}",
            r.epoch, r.lr, r.train_loss, r.train_acc, r.heldout_loss, r.heldout_acc, r.seconds
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_header_and_rows() {
        let row = EpochRow {
            epoch: 1,
            lr: 0.1,
            train_loss: f64::NAN,
            train_acc: 0.5,
            heldout_loss: 0.7,
            heldout_acc: 0.25,
            seconds: 1.23456,
        };
        assert_eq!(
            to_csv(&[row]),
            format!("{HEADER}\n1,0.1,NaN,0.5,0.7,0.25,1.235\n")
        );
    }
}
