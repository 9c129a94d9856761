//! The block's MLP: `Linear(d, d_mlp) -> Dropout -> activation -> Linear(d_mlp, d)` (SPEC §2;
//! dropout before the activation, as in the authors' code).

use common::Activation;
use tch::nn;
use tch::Tensor;

use crate::attention::{share_linear, torch_linear};
use crate::config::ModelConfig;
use crate::dropout::Dropout;

/// The two-layer MLP of a block.
#[derive(Debug)]
pub struct Mlp {
    fc1: nn::Linear,
    fc2: nn::Linear,
    activation: Activation,
    drop: Dropout,
}

impl Mlp {
    /// Creates `fc1` and `fc2` under `path`; `drop` is the model's shared dropout stream.
    pub fn new(path: nn::Path, cfg: &ModelConfig, drop: &Dropout) -> Mlp {
        Mlp {
            fc1: torch_linear(&path / "fc1", cfg.d_model, cfg.d_mlp),
            fc2: torch_linear(&path / "fc2", cfg.d_mlp, cfg.d_model),
            activation: cfg.activation,
            drop: drop.clone(),
        }
    }

    /// The same layer on the same variables, with the dropout stream `drop`.
    pub fn replica(&self, drop: &Dropout) -> Mlp {
        Mlp {
            fc1: share_linear(&self.fc1),
            fc2: share_linear(&self.fc2),
            activation: self.activation,
            drop: drop.with_p(self.drop.p()),
        }
    }

    /// `[batch, seq, d] -> [batch, seq, d]`.
    pub fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        // [batch, seq, d_mlp]
        let h = self.drop.forward(xs.apply(&self.fc1), train);
        let h = match self.activation {
            Activation::Relu => h.relu(),
            Activation::Gelu => h.gelu("none"),
            Activation::Mish => h.mish(),
        };
        h.apply(&self.fc2)
    }
}
