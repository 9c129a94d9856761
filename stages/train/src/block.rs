//! One pre-LayerNorm transformer block (SPEC §2):
//! `x = x + drop(attn(LN_a(x)))`, then `x = x + drop(mlp(LN_f(x)))`.
//!
//! The LayerNorms have no learnable scale or shift. Their epsilon is the config's `ln_eps`,
//! except the first block's `LN_a` when `first_ln_eps_zero` reproduces the authors' eps 0.

use tch::nn;
use tch::Tensor;

use crate::attention::{Attention, AttnMask};
use crate::config::ModelConfig;
use crate::dropout::Dropout;
use crate::mlp::Mlp;

/// LayerNorm over the last dimension without affine parameters.
pub(crate) fn layer_norm(xs: &Tensor, d: i64, eps: f64) -> Tensor {
    xs.layer_norm([d], None::<Tensor>, None::<Tensor>, eps, true)
}

/// A transformer block.
#[derive(Debug)]
pub struct Block {
    attn: Attention,
    mlp: Mlp,
    d: i64,
    eps_a: f64,
    eps_f: f64,
    drop: Dropout,
}

impl Block {
    /// Creates block number `index` (0-based) under `path` (`attn`, `mlp`); `drop` is the
    /// model's shared dropout stream.
    pub fn new(path: nn::Path, cfg: &ModelConfig, index: usize, drop: &Dropout) -> Block {
        Block {
            attn: Attention::new(&path / "attn", cfg, drop),
            mlp: Mlp::new(&path / "mlp", cfg, drop),
            d: cfg.d_model as i64,
            eps_a: if index == 0 && cfg.first_ln_eps_zero {
                0.0
            } else {
                cfg.ln_eps
            },
            eps_f: cfg.ln_eps,
            drop: drop.clone(),
        }
    }

    /// The same block on the same variables, with the dropout stream `drop`.
    pub fn replica(&self, drop: &Dropout) -> Block {
        Block {
            attn: self.attn.replica(drop),
            mlp: self.mlp.replica(drop),
            d: self.d,
            eps_a: self.eps_a,
            eps_f: self.eps_f,
            drop: drop.with_p(self.drop.p()),
        }
    }

    /// `LN_a(x)`, the input of the attention layer (`[batch, seq, d]`).
    pub fn attn_input(&self, xs: &Tensor) -> Tensor {
        layer_norm(xs, self.d, self.eps_a)
    }

    /// The attention layer.
    pub fn attention(&self) -> &Attention {
        &self.attn
    }

    /// `[batch, seq, d] -> [batch, seq, d]`.
    pub fn forward(&self, xs: &Tensor, mask: &AttnMask, train: bool) -> Tensor {
        let a = self.attn.forward(&self.attn_input(xs), mask, train);
        let xs = xs + self.drop.forward(a, train);
        let m = self
            .mlp
            .forward(&layer_norm(&xs, self.d, self.eps_f), train);
        xs + self.drop.forward(m, train)
    }
}
