//! Per-epoch quantile bands over seeds for the learning-curve figures.
//!
//! For each epoch the median, 25% and 75% quantiles (type 7) are taken over the seeds whose
//! history reaches that epoch and whose value there is finite. A diverged run's NaN losses are
//! thus left out rather than poisoning the band, and `n` records how many seeds stand behind
//! each point so a reader can see where the band thins out.

use common::run_output::HistoryRow;

use crate::describe::quartiles;
use crate::load::Run;
use crate::schema::{Band, Curves};

/// Builds the bands of every recorded quantity over `runs` (the seeds of one group).
pub fn curves(runs: &[&Run]) -> Curves {
    let longest = runs.iter().map(|r| r.history.len()).max().unwrap_or(0);
    let band = |get: fn(&HistoryRow) -> f64| {
        let mut out = Band {
            median: vec![],
            q25: vec![],
            q75: vec![],
            n: vec![],
        };
        for e in 0..longest {
            let values: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.history.get(e))
                .map(get)
                .filter(|v| v.is_finite())
                .collect();
            let q = quartiles(&values);
            out.median.push(q.map(|q| q.0));
            out.q25.push(q.map(|q| q.1));
            out.q75.push(q.map(|q| q.2));
            out.n.push(values.len());
        }
        out
    };
    Curves {
        epochs: (1..=longest).collect(),
        train_loss: band(|h| h.train_loss),
        train_acc: band(|h| h.train_acc),
        heldout_loss: band(|h| h.heldout_loss),
        heldout_acc: band(|h| h.heldout_acc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::run_output::RunMetrics;
    use common::{Activation, Variant};

    fn run(losses: &[f64]) -> Run {
        let history = losses
            .iter()
            .enumerate()
            .map(|(i, &l)| HistoryRow {
                epoch: i + 1,
                lr: 0.1,
                train_loss: l,
                train_acc: 0.5,
                heldout_loss: l,
                heldout_acc: 0.5,
            })
            .collect();
        let metrics = RunMetrics {
            epochs: 3,
            convergence_epoch: None,
            best_heldout_acc: Some(0.5),
            best_epoch: Some(1),
            last_heldout_acc: Some(0.5),
            last_train_acc: Some(0.5),
            diverged: false,
            diverged_epoch: None,
            stop_after: None,
        };
        Run {
            variant: Variant::Full,
            activation: Activation::Relu,
            seed: 1,
            metrics,
            history,
        }
    }

    #[test]
    fn bands_skip_nan_and_short_histories() {
        let (a, b, c) = (
            run(&[1.0, 0.5, 0.2]),
            run(&[2.0, f64::NAN]),
            run(&[3.0, 0.7, 0.4]),
        );
        let curves = curves(&[&a, &b, &c]);
        assert_eq!(curves.epochs, vec![1, 2, 3]);
        assert_eq!(curves.train_loss.n, vec![3, 2, 2]);
        assert_eq!(
            curves.train_loss.median,
            vec![Some(2.0), Some(0.6), Some(0.30000000000000004)]
        );
        assert_eq!(curves.train_loss.q25[0], Some(1.5));
        assert_eq!(curves.train_loss.q75[0], Some(2.5));
    }
}
