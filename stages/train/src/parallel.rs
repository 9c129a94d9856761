//! Data parallelism inside one batch on the CPU.
//!
//! At d = 64 and 25 x 40 tokens per batch, libtorch's intra-op threading gains nothing (each
//! matrix product is ~8 MFLOP; the 21 elementwise and normalisation ops per block are too small
//! to split). A second core is better used by splitting the *batch*: worker `i` owns a replica
//! of the model (shallow handles on the same variables, its own dropout stream), runs the
//! forward and backward pass of its share of the examples with `loss_i = sum of its
//! cross-entropies / batch size`, and the gradients accumulate into the shared variables, so
//! after all workers finish they hold exactly the gradient of the batch-mean loss (up to float
//! rounding). Each leaf receives one contribution per worker; with two workers the sum is
//! order-independent, so runs remain reproducible. Evaluation splits its batches the same way.
//!
//! Workers run on scoped threads with one intra-op thread each. With one worker everything
//! runs on the calling thread. On CUDA the trainer always uses one worker.

use tch::{Kind, Reduction, Tensor};

use crate::model::Model;

/// The replicas that share one model's variables.
#[derive(Debug)]
pub struct Workers {
    replicas: Vec<Model>,
}

/// How many workers to use: one per thread of the budget on the CPU, at most one per 8
/// examples of the training batch; one on other devices.
pub fn plan(device: tch::Device, threads: usize, batch: usize) -> usize {
    if device != tch::Device::Cpu {
        return 1;
    }
    threads.clamp(1, (batch / 8).max(1))
}

/// Near-equal shares of `n` examples for `workers` workers: `(start, len)` pairs, none empty.
fn shares(n: i64, workers: usize) -> Vec<(i64, i64)> {
    let w = (workers as i64).min(n).max(1);
    let (base, extra) = (n / w, n % w);
    let mut start = 0;
    (0..w)
        .map(|i| {
            let len = base + i64::from(i < extra);
            let share = (start, len);
            start += len;
            share
        })
        .collect()
}

impl Workers {
    /// `n` replicas of `model` (at least one).
    pub fn new(model: &Model, n: usize) -> Workers {
        Workers {
            replicas: (0..n.max(1)).map(|_| model.replica()).collect(),
        }
    }

    /// Number of workers.
    pub fn len(&self) -> usize {
        self.replicas.len()
    }

    /// Whether there are no workers (never: `new` makes at least one).
    pub fn is_empty(&self) -> bool {
        self.replicas.is_empty()
    }

    /// Runs `f(replica, tokens_share, labels_share)` on every worker's share of the batch and
    /// returns the results in worker order. Autograd's on/off state is per thread: `grad`
    /// says which one `f` needs.
    fn map<R: Send>(
        &mut self,
        tokens: &Tensor,
        labels: &Tensor,
        grad: bool,
        f: impl Fn(&Model, Tensor, Tensor) -> R + Sync,
    ) -> Vec<R> {
        let parts = shares(labels.size()[0], self.replicas.len());
        let jobs: Vec<(&mut Model, Tensor, Tensor)> = self
            .replicas
            .iter_mut()
            .zip(&parts)
            .map(|(m, &(start, len))| {
                (
                    m,
                    tokens.narrow(0, start, len),
                    labels.narrow(0, start, len),
                )
            })
            .collect();
        let run = |m: &Model, x: Tensor, y: Tensor| {
            if grad {
                f(m, x, y)
            } else {
                tch::no_grad(|| f(m, x, y))
            }
        };
        if jobs.len() == 1 {
            return jobs.into_iter().map(|(m, x, y)| run(m, x, y)).collect();
        }
        let run = &run;
        std::thread::scope(|scope| {
            let mut jobs = jobs.into_iter();
            let (first, fx, fy) = jobs.next().expect("one job");
            let handles: Vec<_> = jobs
                .map(|(m, x, y)| {
                    scope.spawn(move || {
                        tch::set_num_threads(1);
                        run(m, x, y)
                    })
                })
                .collect();
            let mut out = vec![run(first, fx, fy)];
            out.extend(
                handles
                    .into_iter()
                    .map(|h| h.join().expect("worker thread panicked")),
            );
            out
        })
    }

    /// Forward and backward pass of one training batch (dropout on); gradients accumulate into
    /// the shared variables. Returns the batch-mean loss, detached, as a device scalar.
    pub fn backward(&mut self, tokens: &Tensor, labels: &Tensor) -> Tensor {
        let n = labels.size()[0] as f64;
        let losses = self.map(tokens, labels, true, |m, x, y| {
            let loss = m.forward(&x, true).cross_entropy_loss(
                &y,
                None::<Tensor>,
                Reduction::Sum,
                -100,
                0.0,
            ) / n;
            loss.backward();
            loss.detach()
        });
        Tensor::stack(&losses, 0).sum(Kind::Float)
    }

    /// Evaluation of one batch without dropout or gradients: (sum of losses as f64, number
    /// correct as i64), device scalars.
    pub fn eval_sums(&mut self, tokens: &Tensor, labels: &Tensor) -> (Tensor, Tensor) {
        let sums = self.map(tokens, labels, false, |m, x, y| {
            let logits = m.forward(&x, false);
            let loss = logits
                .cross_entropy_loss(&y, None::<Tensor>, Reduction::Sum, -100, 0.0)
                .to_kind(Kind::Double);
            let correct = logits.argmax(-1, false).eq_tensor(&y).sum(Kind::Int64);
            (loss, correct)
        });
        let (losses, correct): (Vec<Tensor>, Vec<Tensor>) = sums.into_iter().unzip();
        (
            Tensor::stack(&losses, 0).sum(Kind::Double),
            Tensor::stack(&correct, 0).sum(Kind::Int64),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_the_batch() {
        assert_eq!(shares(25, 2), vec![(0, 13), (13, 12)]);
        assert_eq!(shares(2, 3), vec![(0, 1), (1, 1)]);
        assert_eq!(shares(25, 1), vec![(0, 25)]);
        assert_eq!(plan(tch::Device::Cpu, 2, 25), 2);
        assert_eq!(plan(tch::Device::Cpu, 16, 25), 3);
        assert_eq!(plan(tch::Device::Cuda(0), 2, 25), 1);
    }
}
