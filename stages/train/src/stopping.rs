//! When a run stops: the one stopping rule of a single run and of every pack member.
//!
//! After each epoch, in this order: a non-finite sum of the epoch's step losses or a NaN
//! training loss in the epoch's evaluation stops the run as diverged (SPEC §4; the epoch's row
//! is kept); `--stop-after N` stops it N epochs after the first epoch whose training accuracy
//! reached the convergence threshold (`CurveSummary::convergence_epoch`, 95%); the epoch cap
//! stops it after its last epoch. [`stop_reason`] is a pure function of the history so far, so
//! the single loop (`train_loop`) and the stacked loop (`pack::train_loop`) cannot disagree on
//! where a run ends.

use common::run_output::{CurveSummary, HistoryRow};

use crate::config::TrainConfig;

/// How a run's training ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The epoch cap or the stopping rule.
    Done,
    /// The loss became non-finite in this epoch (`diverged_epoch` in `metrics.json`).
    Diverged(usize),
}

impl Stop {
    /// The epoch in which the loss became non-finite, if it did.
    pub fn diverged_epoch(self) -> Option<usize> {
        match self {
            Stop::Diverged(epoch) => Some(epoch),
            Stop::Done => None,
        }
    }
}

/// Whether and why a run with this `history` (its last row the epoch just trained) stops now;
/// `step_loss_sum` is the sum of that epoch's training-step losses. `None`: train on.
pub fn stop_reason(history: &[HistoryRow], step_loss_sum: f64, cfg: &TrainConfig) -> Option<Stop> {
    let last = history.last()?;
    if !step_loss_sum.is_finite() || last.train_loss.is_nan() {
        return Some(Stop::Diverged(last.epoch));
    }
    let converged_long_enough = cfg.stop_after.is_some_and(|after| {
        CurveSummary::of(history)
            .convergence_epoch
            .is_some_and(|c| last.epoch >= c + after)
    });
    (converged_long_enough || last.epoch >= cfg.epochs).then_some(Stop::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(accs: &[f64]) -> Vec<HistoryRow> {
        accs.iter()
            .enumerate()
            .map(|(i, &a)| HistoryRow {
                epoch: i + 1,
                lr: 0.1,
                train_loss: 0.1,
                train_acc: a,
                heldout_loss: 0.1,
                heldout_acc: a,
            })
            .collect()
    }

    fn cfg(epochs: usize, stop_after: Option<usize>) -> TrainConfig {
        let mut cfg = TrainConfig::paper(common::Task::EvenPairs, 1, 100);
        cfg.epochs = epochs;
        cfg.stop_after = stop_after;
        cfg
    }

    #[test]
    fn the_stopping_rule_counts_epochs_after_the_first_converged_one() {
        let h = rows(&[0.5, 0.96, 0.9, 0.97]);
        let two = cfg(10, Some(2));
        assert_eq!(stop_reason(&h[..1], 0.0, &two), None);
        assert_eq!(
            stop_reason(&h[..2], 0.0, &two),
            None,
            "epoch 2 converged: two more to go"
        );
        assert_eq!(
            stop_reason(&h[..3], 0.0, &two),
            None,
            "a dip after convergence does not reset it"
        );
        assert_eq!(stop_reason(&h[..4], 0.0, &two), Some(Stop::Done));
        assert_eq!(
            stop_reason(&h[..2], 0.0, &cfg(10, Some(0))),
            Some(Stop::Done)
        );
        assert_eq!(
            stop_reason(&h, 0.0, &cfg(10, None)),
            None,
            "off trains every epoch"
        );
        assert_eq!(
            stop_reason(&rows(&[0.5; 9]), 0.0, &cfg(10, Some(0))),
            None,
            "never converged: the cap decides"
        );
    }

    #[test]
    fn the_epoch_cap_stops_the_last_epoch() {
        let h = rows(&[0.5, 0.5, 0.5]);
        assert_eq!(stop_reason(&h[..2], 0.0, &cfg(3, None)), None);
        assert_eq!(stop_reason(&h, 0.0, &cfg(3, None)), Some(Stop::Done));
        assert_eq!(stop_reason(&h, 0.0, &cfg(3, Some(5))), Some(Stop::Done));
    }

    #[test]
    fn a_non_finite_loss_diverges_before_any_other_rule() {
        let h = rows(&[0.5, 0.99, 0.99]);
        let capped = cfg(3, Some(0));
        for sum in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(stop_reason(&h, sum, &capped), Some(Stop::Diverged(3)));
        }
        let mut nan_eval = h.clone();
        nan_eval[2].train_loss = f64::NAN;
        assert_eq!(
            stop_reason(&nan_eval, 1.0, &capped),
            Some(Stop::Diverged(3))
        );
        assert_eq!(
            stop_reason(&nan_eval[..2], 1.0, &cfg(10, None)),
            None,
            "only the last row counts"
        );
        let mut infinite_eval = h;
        infinite_eval[2].train_loss = f64::INFINITY;
        assert_eq!(
            stop_reason(&infinite_eval, 1.0, &cfg(10, None)),
            None,
            "an infinite evaluation loss is not divergence (as before: only NaN is)"
        );
    }

    #[test]
    fn no_history_never_stops() {
        assert_eq!(stop_reason(&[], f64::NAN, &cfg(1, Some(0))), None);
        assert_eq!(Stop::Diverged(4).diverged_epoch(), Some(4));
        assert_eq!(Stop::Done.diverged_epoch(), None);
    }
}
