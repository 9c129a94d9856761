//! The evaluation pass: loss and accuracy of a whole split without dropout or gradients.
//!
//! Runs under `no_grad` in batches of `eval_batch` examples (see
//! `config::default_eval_batch`; the result does not depend on the batch size beyond float
//! rounding), each split across the workers. Sums stay on the device; one synchronisation at
//! the end.

use tch::{Kind, Tensor};

use crate::dataset::Split;
use crate::parallel::Workers;

/// Mean loss and accuracy over a split.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvalResult {
    /// Mean cross-entropy.
    pub loss: f64,
    /// Fraction of correctly classified examples.
    pub acc: f64,
}

/// Evaluates the workers' model on `split` in evaluation mode (no dropout, except the
/// attention-weight dropout when the model config asks for the authors' quirk).
pub fn evaluate(workers: &mut Workers, split: &Split, eval_batch: usize) -> EvalResult {
    tch::no_grad(|| {
        let n = split.len() as i64;
        let device = split.labels.device();
        let mut loss_sum = Tensor::zeros([], (Kind::Double, device));
        let mut correct = Tensor::zeros([], (Kind::Int64, device));
        let mut start = 0;
        while start < n {
            let len = (eval_batch as i64).min(n - start);
            let tokens = split.tokens.narrow(0, start, len);
            let labels = split.labels.narrow(0, start, len);
            let (loss, right) = workers.eval_sums(&tokens, &labels);
            loss_sum += loss;
            correct += right;
            start += len;
        }
        let loss = f64::try_from(loss_sum).expect("scalar") / n as f64;
        let correct = i64::try_from(correct).expect("scalar");
        EvalResult {
            loss,
            acc: correct as f64 / n as f64,
        }
    })
}
