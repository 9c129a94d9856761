//! One optimisation step: backward, global gradient-norm clipping, SGD (or Adam) update.
//!
//! Clipping follows `torch.nn.utils.clip_grad_norm_`: total = 2-norm of the per-tensor 2-norms,
//! every gradient is multiplied by `min(1, max / (total + 1e-6))`. It stays on the device (no
//! host synchronisation per step).

use tch::nn::{self, OptimizerConfig};
use tch::{Kind, Tensor};

use crate::config::OptimizerKind;
use crate::error::TrainError;

/// The optimiser of a run and the parameters it updates.
pub struct Optim {
    opt: nn::Optimizer,
    params: Vec<Tensor>,
    clip: f64,
}

impl std::fmt::Debug for Optim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optim")
            .field("params", &self.params.len())
            .field("clip", &self.clip)
            .finish()
    }
}

impl Optim {
    /// Builds the optimiser over every trainable variable of `vs`.
    pub fn new(
        vs: &nn::VarStore,
        kind: OptimizerKind,
        lr: f64,
        clip: f64,
    ) -> Result<Optim, TrainError> {
        let torch = |source| TrainError::Torch {
            context: "build the optimiser".into(),
            source,
        };
        let opt = match kind {
            OptimizerKind::Sgd => nn::sgd(0.0, 0.0, 0.0, false).build(vs, lr).map_err(torch)?,
            OptimizerKind::Adam => nn::adam(0.9, 0.999, 0.0).build(vs, lr).map_err(torch)?,
        };
        Ok(Optim {
            opt,
            params: vs.trainable_variables(),
            clip,
        })
    }

    /// Sets the learning rate.
    pub fn set_lr(&mut self, lr: f64) {
        self.opt.set_lr(lr);
    }

    /// Zeroes (drops) the gradients.
    pub fn zero_grad(&mut self) {
        self.opt.zero_grad();
    }

    /// Clips the accumulated gradients and updates the parameters.
    pub fn update(&mut self) {
        let _norm = clip_grad_norm(&self.params, self.clip);
        self.opt.step();
    }

    /// Zeroes the gradients, back-propagates `loss`, clips and updates.
    pub fn step(&mut self, loss: &Tensor) {
        self.zero_grad();
        loss.backward();
        self.update();
    }
}

/// Scales the gradients of `params` so that their global 2-norm is at most `max` (see the
/// module doc). Returns the norm before clipping, as a device scalar.
pub fn clip_grad_norm(params: &[Tensor], max: f64) -> Tensor {
    tch::no_grad(|| {
        let grads: Vec<Tensor> = params
            .iter()
            .map(|p| p.grad())
            .filter(|g| g.defined())
            .collect();
        let norms: Vec<Tensor> = grads.iter().map(|g| g.norm()).collect();
        let total = Tensor::stack(&norms, 0).norm();
        let coef = (total.full_like(max) / (&total + 1e-6)).clamp_max(1.0);
        for mut g in grads {
            let _ = g.g_mul_(&coef);
        }
        total.to_kind(Kind::Float)
    })
}
