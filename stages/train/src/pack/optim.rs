//! Clipping and the optimiser step on stacked parameters, per member.
//!
//! Clipping is `optim::clip_grad_norm` member by member: member `m`'s total norm is the 2-norm
//! of its per-tensor gradient norms (over its slices only), and its slices are multiplied by
//! `min(1, clip / (total_m + 1e-6))`. SGD is `p -= lr_m * g`. Adam is written out as libtorch's
//! `torch::optim::Adam` (which the single run uses through `tch::nn::adam(0.9, 0.999, 0.0)`):
//! betas 0.9/0.999, eps 1e-8, no weight decay,
//! `m = b1*m + (1-b1)*g`, `v = b2*v + (1-b2)*g*g`,
//! `p -= (lr_m / (1-b1^t)) * m / (sqrt(v)/sqrt(1-b2^t) + eps)`; every member of a stack has
//! taken the same number of steps, so `t` is shared. Learning rates are a `[M, 1, ...]` tensor.
//! Everything stays on the device.

use tch::{Kind, Tensor};

use crate::config::OptimizerKind;

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

/// The optimiser state of a stack.
#[derive(Debug)]
pub struct PackOptim {
    kind: OptimizerKind,
    clip: f64,
    lr: Vec<f64>,
    steps: i32,
    /// Adam's first and second moments, one pair per stacked parameter.
    moments: Vec<(Tensor, Tensor)>,
}

/// `[M]` reshaped to broadcast against `like` (`[M, ...]`).
fn per_member(values: &Tensor, like: &Tensor) -> Tensor {
    let mut shape = vec![1i64; like.dim()];
    shape[0] = -1;
    values.view(shape.as_slice())
}

/// Scales the gradients of `params` (`[M, ...]` each) member by member so that each member's
/// global 2-norm is at most `max`. Returns the members' norms before clipping (`[M]`).
pub fn clip_member_grads(params: &[Tensor], max: f64) -> Tensor {
    tch::no_grad(|| {
        let grads: Vec<Tensor> = params
            .iter()
            .map(Tensor::grad)
            .filter(Tensor::defined)
            .collect();
        // [T, M]
        let norms: Vec<Tensor> = grads
            .iter()
            .map(|g| {
                let m = g.size()[0];
                g.reshape([m, -1]).norm_scalaropt_dim(2, [1], false)
            })
            .collect();
        let total = Tensor::stack(&norms, 0).norm_scalaropt_dim(2, [0], false);
        let coef = (total.full_like(max) / (&total + 1e-6)).clamp_max(1.0);
        for mut g in grads {
            let c = per_member(&coef, &g);
            let _ = g.g_mul_(&c);
        }
        total.to_kind(Kind::Float)
    })
}

impl PackOptim {
    /// An optimiser over `params` with the members' learning rates `lr`.
    pub fn new(kind: OptimizerKind, clip: f64, lr: Vec<f64>, params: &[Tensor]) -> PackOptim {
        let moments = match kind {
            OptimizerKind::Sgd => Vec::new(),
            OptimizerKind::Adam => params
                .iter()
                .map(|p| (p.detach().zeros_like(), p.detach().zeros_like()))
                .collect(),
        };
        PackOptim {
            kind,
            clip,
            lr,
            steps: 0,
            moments,
        }
    }

    /// Sets the members' learning rates.
    pub fn set_lr(&mut self, lr: Vec<f64>) {
        self.lr = lr;
    }

    /// Keeps the members at `keep` (ascending indices into the current members); `params` are
    /// the stack's parameters after the same selection.
    pub fn retain(&mut self, keep: &[usize]) {
        self.lr = keep.iter().map(|&i| self.lr[i]).collect();
        let Some((first, _)) = self.moments.first() else {
            return;
        };
        let index = Tensor::from_slice(&keep.iter().map(|&i| i as i64).collect::<Vec<_>>())
            .to_device(first.device());
        self.moments = self
            .moments
            .iter()
            .map(|(m, v)| (m.index_select(0, &index), v.index_select(0, &index)))
            .collect();
    }

    /// Drops the gradients of `params`.
    pub fn zero_grad(&self, params: &[Tensor]) {
        for p in params {
            let mut p = p.shallow_clone();
            p.zero_grad();
        }
    }

    /// Clips the accumulated gradients member by member and updates `params`.
    pub fn update(&mut self, params: &[Tensor]) {
        let _ = clip_member_grads(params, self.clip);
        self.steps += 1;
        let device = params.first().map(Tensor::device);
        let Some(device) = device else { return };
        tch::no_grad(|| match self.kind {
            OptimizerKind::Sgd => {
                let lr = Tensor::from_slice(&self.lr)
                    .to_kind(Kind::Float)
                    .to_device(device);
                for p in params {
                    let g = p.grad();
                    if g.defined() {
                        let _ = p.shallow_clone().g_sub_(&(g * per_member(&lr, p)));
                    }
                }
            }
            OptimizerKind::Adam => {
                let bc1 = 1.0 - BETA1.powi(self.steps);
                let bc2 = 1.0 - BETA2.powi(self.steps);
                let step: Vec<f64> = self.lr.iter().map(|lr| lr / bc1).collect();
                let step = Tensor::from_slice(&step)
                    .to_kind(Kind::Float)
                    .to_device(device);
                for (p, (m, v)) in params.iter().zip(&mut self.moments) {
                    let g = p.grad();
                    if !g.defined() {
                        continue;
                    }
                    let _ = m.g_mul_scalar_(BETA1).g_add_(&(&g * (1.0 - BETA1)));
                    let _ = v.g_mul_scalar_(BETA2).g_add_(&(&g * &g * (1.0 - BETA2)));
                    let denom = v.sqrt() / bc2.sqrt() + EPS;
                    let update = &*m / denom * per_member(&step, p);
                    let _ = p.shallow_clone().g_sub_(&update);
                }
            }
        });
    }
}
