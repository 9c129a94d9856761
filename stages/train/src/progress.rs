//! The trainer's progress lines on stderr, one formatter for a single run and a pack member.
//!
//! An epoch is reported when it is the first, the last of the cap, a multiple of a hundredth of
//! the cap (so at most about a hundred lines a run) or has a non-finite training loss. The line
//! ends with the epoch's wall time: a single run's own, or a pack's stacked epoch shared by all
//! its members (`for the stack`). A pack prefixes each member's lines with its instance name.
//! These lines go to the log only, never into an output file.

use common::run_output::HistoryRow;

/// Whose wall time an epoch line shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// The run's own epoch.
    Run,
    /// The epoch of the whole stack the member trains in.
    Stack,
}

/// The progress line of `row` in a run capped at `epochs`, or `None` when this epoch is not
/// reported (see the module doc).
pub fn epoch_line(row: &HistoryRow, epochs: usize, seconds: f64, timing: Timing) -> Option<String> {
    let reported = row.epoch.is_multiple_of((epochs / 100).max(1))
        || row.epoch == 1
        || row.epoch == epochs
        || !row.train_loss.is_finite();
    let whose = match timing {
        Timing::Run => "",
        Timing::Stack => " for the stack",
    };
    reported.then(|| {
        format!(
            "epoch {}/{epochs}: lr {:.4e} train loss {:.4} acc {:.4} held-out loss {:.4} acc {:.4} ({seconds:.3}s{whose})",
            row.epoch, row.lr, row.train_loss, row.train_acc, row.heldout_loss, row.heldout_acc
        )
    })
}

/// The line that says training stopped because the loss became NaN in `epoch`.
pub fn diverged_line(epoch: usize) -> String {
    format!("train: loss became NaN in epoch {epoch}; stopped")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(epoch: usize, train_loss: f64) -> HistoryRow {
        HistoryRow {
            epoch,
            lr: 0.09,
            train_loss,
            train_acc: 0.5,
            heldout_loss: 0.25,
            heldout_acc: 0.75,
        }
    }

    #[test]
    fn the_line_reads_the_same_for_a_run_and_a_member_but_for_the_timing() {
        assert_eq!(
            epoch_line(&row(3, 0.5), 3, 0.1, Timing::Run).unwrap(),
            "epoch 3/3: lr 9.0000e-2 train loss 0.5000 acc 0.5000 held-out loss 0.2500 acc 0.7500 (0.100s)"
        );
        assert_eq!(
            epoch_line(&row(3, 0.5), 3, 0.1, Timing::Stack).unwrap(),
            "epoch 3/3: lr 9.0000e-2 train loss 0.5000 acc 0.5000 held-out loss 0.2500 acc 0.7500 (0.100s for the stack)"
        );
        assert_eq!(
            diverged_line(2),
            "train: loss became NaN in epoch 2; stopped"
        );
    }

    #[test]
    fn about_a_hundred_epochs_are_reported() {
        let reported = |epochs: usize| {
            (1..=epochs)
                .filter(|&e| epoch_line(&row(e, 0.5), epochs, 0.0, Timing::Run).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(reported(3), [1, 2, 3], "short runs: every epoch");
        let long = reported(1000);
        assert_eq!(long.len(), 101, "every tenth epoch, and the first");
        assert_eq!(&long[..3], [1, 10, 20]);
        assert_eq!(long.last(), Some(&1000));
        assert_eq!(
            reported(250).len(),
            126,
            "every second epoch, and the first"
        );
        assert!(
            epoch_line(&row(7, f64::NAN), 1000, 0.0, Timing::Run).is_some(),
            "a non-finite loss is always reported"
        );
        assert!(epoch_line(&row(7, f64::INFINITY), 1000, 0.0, Timing::Stack).is_some());
    }
}
