//! Data parallelism inside one batch on the CPU.
//!
//! At d = 64 and 25 x 40 tokens per batch, libtorch's intra-op threading gains little (each
//! matrix product is ~8 MFLOP; the elementwise and normalisation ops are too small to split).
//! A second core is better used by splitting the *batch*: worker `i` owns a replica of the
//! model (shallow handles on the same variables, its own dropout stream), runs the forward and
//! backward pass of its share of the examples with `loss_i = sum of its cross-entropies /
//! batch size`, and the gradients accumulate into the shared variables, so after all workers
//! finish they hold exactly the gradient of the batch-mean loss (up to float rounding). Each
//! leaf receives one contribution per worker; with two workers the sum is order-independent,
//! so runs remain reproducible. Evaluation splits its batches the same way.
//!
//! Worker 0 runs on the calling thread; the others are persistent threads (one intra-op
//! thread each, spawned once: a fresh thread per step would pay libtorch's and MKL's
//! per-thread set-up every time) fed through channels. With one worker nothing is spawned.
//! On CUDA the trainer always uses one worker.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;

use tch::{Kind, Reduction, Tensor};

use crate::model::Model;

/// Work for one worker: its share of a batch.
enum Job {
    /// Forward + backward with dropout; the loss is divided by the whole batch's size.
    Backward {
        tokens: Tensor,
        labels: Tensor,
        batch: f64,
    },
    /// Loss sum and number correct, without dropout or gradients.
    Eval { tokens: Tensor, labels: Tensor },
}

/// A worker's answer: one or two device scalars.
type Reply = (Tensor, Option<Tensor>);

fn execute(model: &Model, job: Job) -> Reply {
    match job {
        Job::Backward {
            tokens,
            labels,
            batch,
        } => {
            let loss = model.forward(&tokens, true).cross_entropy_loss(
                &labels,
                None::<Tensor>,
                Reduction::Sum,
                -100,
                0.0,
            ) / batch;
            loss.backward();
            (loss.detach(), None)
        }
        Job::Eval { tokens, labels } => tch::no_grad(|| {
            let logits = model.forward(&tokens, false);
            let loss = logits
                .cross_entropy_loss(&labels, None::<Tensor>, Reduction::Sum, -100, 0.0)
                .to_kind(Kind::Double);
            let correct = logits.argmax(-1, false).eq_tensor(&labels).sum(Kind::Int64);
            (loss, Some(correct))
        }),
    }
}

/// A persistent worker thread and its channels.
struct Thread {
    jobs: Option<Sender<Job>>,
    replies: Receiver<Reply>,
    handle: Option<JoinHandle<()>>,
}

impl Thread {
    fn spawn(model: Model) -> Thread {
        let (job_tx, job_rx) = channel::<Job>();
        let (reply_tx, reply_rx) = channel::<Reply>();
        let handle = std::thread::spawn(move || {
            tch::set_num_threads(1);
            for job in job_rx {
                if reply_tx.send(execute(&model, job)).is_err() {
                    break;
                }
            }
        });
        Thread {
            jobs: Some(job_tx),
            replies: reply_rx,
            handle: Some(handle),
        }
    }
}

impl Drop for Thread {
    fn drop(&mut self) {
        self.jobs = None; // closes the channel: the thread's loop ends
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// The replicas that share one model's variables: one on the calling thread, the rest on
/// persistent threads.
pub struct Workers {
    local: Model,
    threads: Vec<Thread>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("workers", &self.len())
            .finish()
    }
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
    /// `n` replicas of `model` (at least one); `n - 1` threads are started.
    pub fn new(model: &Model, n: usize) -> Workers {
        let local = model.replica();
        let threads = (1..n.max(1))
            .map(|_| Thread::spawn(model.replica()))
            .collect();
        Workers { local, threads }
    }

    /// Number of workers.
    pub fn len(&self) -> usize {
        1 + self.threads.len()
    }

    /// Whether there are no workers (never: there is always the local one).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Splits the batch, sends the shares after the first to the threads, runs the first
    /// here, and collects the replies in worker order.
    fn run(
        &mut self,
        tokens: &Tensor,
        labels: &Tensor,
        job: impl Fn(Tensor, Tensor) -> Job,
    ) -> Vec<Reply> {
        let parts = shares(labels.size()[0], self.len());
        let share = |&(start, len): &(i64, i64)| {
            job(tokens.narrow(0, start, len), labels.narrow(0, start, len))
        };
        for (thread, part) in self.threads.iter().zip(&parts[1..]) {
            thread
                .jobs
                .as_ref()
                .expect("open channel")
                .send(share(part))
                .expect("worker thread alive");
        }
        let mut replies = vec![execute(&self.local, share(&parts[0]))];
        for thread in self.threads.iter().take(parts.len() - 1) {
            replies.push(thread.replies.recv().expect("worker thread panicked"));
        }
        replies
    }

    /// Forward and backward pass of one training batch (dropout on); gradients accumulate into
    /// the shared variables. Returns the batch-mean loss, detached, as a device scalar.
    pub fn backward(&mut self, tokens: &Tensor, labels: &Tensor) -> Tensor {
        let batch = labels.size()[0] as f64;
        let replies = self.run(tokens, labels, |tokens, labels| Job::Backward {
            tokens,
            labels,
            batch,
        });
        let losses: Vec<Tensor> = replies.into_iter().map(|r| r.0).collect();
        Tensor::stack(&losses, 0).sum(Kind::Float)
    }

    /// Evaluation of one batch without dropout or gradients: (sum of losses as f64, number
    /// correct as i64), device scalars.
    pub fn eval_sums(&mut self, tokens: &Tensor, labels: &Tensor) -> (Tensor, Tensor) {
        let replies = self.run(tokens, labels, |tokens, labels| Job::Eval {
            tokens,
            labels,
        });
        let (losses, correct): (Vec<Tensor>, Vec<Tensor>) = replies
            .into_iter()
            .map(|(l, c)| (l, c.expect("eval reply")))
            .unzip();
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
