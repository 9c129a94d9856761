//! The epoch loop of SPEC §4.
//!
//! Each epoch: reshuffle the training set (a ChaCha8 permutation seeded from the run's seed via
//! `common::seed::derive(seed, "shuffle")`, so the order is the same on every machine), take
//! batches of `batch` examples (the last one may be smaller), one optimiser step per batch; then
//! evaluate on the training and held-out sets without dropout; then multiply the learning rate
//! by gamma. After each epoch `stopping::stop_reason` (the rule a pack member follows too)
//! says whether the run ends there: a NaN (or infinite) loss stops it after the epoch in which
//! it appeared (the epoch's row is still recorded), as do `--stop-after` and the epoch cap.
//!
//! The per-step training losses are summed on the device and read once per epoch, so the loop
//! never waits for the GPU inside an epoch.

use std::time::Instant;

use common::run_output::HistoryRow;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use crate::config::TrainConfig;
use crate::dataset::Split;
use crate::eval::evaluate;
use crate::optim::Optim;
use crate::parallel::Workers;
use crate::stopping::{stop_reason, Stop};

/// The result of a training run.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// One row per completed epoch.
    pub history: Vec<HistoryRow>,
    /// How training ended.
    pub stop: Stop,
}

/// The training-set order of every epoch.
#[derive(Debug)]
pub struct Shuffler {
    rng: ChaCha8Rng,
    order: Vec<i64>,
}

impl Shuffler {
    /// A shuffler over `n` examples for the run seeded with `seed`.
    pub fn new(seed: u64, n: usize) -> Shuffler {
        let rng = ChaCha8Rng::seed_from_u64(common::seed::derive(seed, "shuffle"));
        Shuffler {
            rng,
            order: (0..n as i64).collect(),
        }
    }

    /// The next epoch's permutation.
    pub fn next_epoch(&mut self) -> &[i64] {
        self.order.shuffle(&mut self.rng);
        &self.order
    }
}

/// Trains for one epoch over the examples of `train` listed in `order`, in that order, with batches of `batch`; returns the
/// sum of the per-batch mean losses as a device scalar (no synchronisation).
pub fn train_epoch(
    workers: &mut Workers,
    opt: &mut Optim,
    train: &Split,
    order: &[i64],
    batch: usize,
) -> Tensor {
    let device = train.labels.device();
    let n = order.len() as i64;
    let order = Tensor::from_slice(order).to_device(device);
    let mut loss_sum = Tensor::zeros([], (Kind::Float, device));
    let mut start = 0;
    while start < n {
        let len = (batch as i64).min(n - start);
        let (tokens, labels) = train.select(&order.narrow(0, start, len));
        opt.zero_grad();
        loss_sum += workers.backward(&tokens, &labels);
        opt.update();
        start += len;
    }
    loss_sum
}

/// Runs the whole schedule; `on_epoch` sees every row as soon as it exists, with the epoch's
/// wall time in seconds (both evaluation passes included), for the progress output and the
/// incremental `history.csv`. The time is not part of the row: it goes to the log only, so
/// that the run's files depend on the seeded computation alone.
pub fn train(
    workers: &mut Workers,
    opt: &mut Optim,
    train: &Split,
    heldout: &Split,
    cfg: &TrainConfig,
    mut on_epoch: impl FnMut(&[HistoryRow], f64),
) -> Outcome {
    let mut shuffler = Shuffler::new(cfg.seed, train.len());
    let mut history = Vec::with_capacity(cfg.epochs);
    let mut lr = cfg.lr;
    let mut stop = Stop::Done;
    for epoch in 1..=cfg.epochs {
        let started = Instant::now();
        opt.set_lr(lr);
        let loss_sum = train_epoch(workers, opt, train, shuffler.next_epoch(), cfg.batch);
        let loss_sum = f64::try_from(loss_sum).expect("scalar");
        let on_train = evaluate(workers, train, cfg.eval_batch);
        let on_heldout = evaluate(workers, heldout, cfg.eval_batch);
        history.push(HistoryRow {
            epoch,
            lr,
            train_loss: on_train.loss,
            train_acc: on_train.acc,
            heldout_loss: on_heldout.loss,
            heldout_acc: on_heldout.acc,
        });
        on_epoch(&history, started.elapsed().as_secs_f64());
        if let Some(reason) = stop_reason(&history, loss_sum, cfg) {
            stop = reason;
            break;
        }
        lr *= cfg.gamma;
    }
    Outcome { history, stop }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffles_are_seeded_and_change_every_epoch() {
        let mut a = Shuffler::new(7, 50);
        let mut b = Shuffler::new(7, 50);
        let first = a.next_epoch().to_vec();
        assert_eq!(first, b.next_epoch());
        assert_ne!(first, a.next_epoch());
        let mut sorted = first.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
    }
}
