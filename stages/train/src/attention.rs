//! Multi-head self-attention with the masks of SPEC §3.
//!
//! `W_q`, `W_k`, `W_v`, `W_o` are biased linear maps (PyTorch's default initialisation, uniform
//! ±1/sqrt(fan_in) for weights and biases). Logits are `q·k / sqrt(d_qkv)`; masked entries are
//! set to -1e15 before a row-wise softmax; dropout acts on the attention weights during training
//! (and at evaluation too when `eval_attn_dropout` reproduces the authors' quirk).
//!
//! Heads are folded into the batch dimension (`[batch*heads, seq, d_qkv]`) and the products use
//! `bmm`; with one head there is no reshaping at all.

use tch::nn;
use tch::{Kind, Tensor};

use crate::config::ModelConfig;
use crate::dropout::Dropout;
use crate::mask;

/// How a layer masks its attention logits.
#[derive(Debug)]
pub enum AttnMask {
    /// No mask (full attention).
    None,
    /// A fixed `[L, L]` boolean mask, `true` where attention is blocked.
    Fixed(Tensor),
    /// Keep each query's `k` largest logits.
    Topk(i64),
}

/// Linear layer initialised like PyTorch's `nn.Linear`.
pub(crate) fn torch_linear(path: nn::Path, d_in: usize, d_out: usize) -> nn::Linear {
    let bound = 1.0 / (d_in as f64).sqrt();
    let init = nn::Init::Uniform {
        lo: -bound,
        up: bound,
    };
    let cfg = nn::LinearConfig {
        ws_init: init,
        bs_init: Some(init),
        bias: true,
    };
    nn::linear(path, d_in as i64, d_out as i64, cfg)
}

/// A second handle on the same variables (gradients accumulate into the same tensors).
pub(crate) fn share_linear(l: &nn::Linear) -> nn::Linear {
    nn::Linear {
        ws: l.ws.shallow_clone(),
        bs: l.bs.as_ref().map(Tensor::shallow_clone),
    }
}

/// One multi-head self-attention layer.
#[derive(Debug)]
pub struct Attention {
    w_q: nn::Linear,
    w_k: nn::Linear,
    w_v: nn::Linear,
    w_o: nn::Linear,
    heads: i64,
    d_qkv: i64,
    drop: Dropout,
    eval_dropout: bool,
}

impl Attention {
    /// Creates the layer's variables under `path` (`W_q`, `W_k`, `W_v`, `W_o`); `drop` is the
    /// model's shared dropout stream.
    pub fn new(path: nn::Path, cfg: &ModelConfig, drop: &Dropout) -> Attention {
        let inner = cfg.heads * cfg.d_qkv;
        Attention {
            w_q: torch_linear(&path / "W_q", cfg.d_model, inner),
            w_k: torch_linear(&path / "W_k", cfg.d_model, inner),
            w_v: torch_linear(&path / "W_v", cfg.d_model, inner),
            w_o: torch_linear(&path / "W_o", inner, cfg.d_model),
            heads: cfg.heads as i64,
            d_qkv: cfg.d_qkv as i64,
            drop: drop.clone(),
            eval_dropout: cfg.eval_attn_dropout,
        }
    }

    /// The same layer on the same variables, with the dropout stream `drop` (for a worker
    /// thread, see `parallel`).
    pub fn replica(&self, drop: &Dropout) -> Attention {
        Attention {
            w_q: share_linear(&self.w_q),
            w_k: share_linear(&self.w_k),
            w_v: share_linear(&self.w_v),
            w_o: share_linear(&self.w_o),
            heads: self.heads,
            d_qkv: self.d_qkv,
            drop: drop.with_p(self.drop.p()),
            eval_dropout: self.eval_dropout,
        }
    }

    /// `[batch, seq, heads*d_qkv] -> [batch*heads, seq, d_qkv]` (no copy for one head).
    fn split_heads(&self, t: Tensor) -> Tensor {
        if self.heads == 1 {
            return t;
        }
        let (b, l, _) = t.size3().expect("3-d activations");
        t.view([b, l, self.heads, self.d_qkv])
            .transpose(1, 2)
            .reshape([b * self.heads, l, self.d_qkv])
    }

    /// Unmasked logits `q·k / sqrt(d_qkv)` (`[batch*heads, seq, seq]`) and the values
    /// (`[batch*heads, seq, d_qkv]`) of the normalised input `xs` (`[batch, seq, d]`). `bmm`
    /// takes the transposed keys as a strided operand, without the copy that a 4-d `matmul`
    /// would make.
    fn logits_and_values(&self, xs: &Tensor) -> (Tensor, Tensor) {
        let q = self.split_heads(xs.apply(&self.w_q));
        let k = self.split_heads(xs.apply(&self.w_k));
        let v = self.split_heads(xs.apply(&self.w_v));
        let logits = q.bmm(&k.transpose(1, 2)) / (self.d_qkv as f64).sqrt();
        (logits, v)
    }

    /// Unmasked attention logits `[batch, heads, seq, seq]` of the normalised input `xs`.
    pub fn logits(&self, xs: &Tensor) -> Tensor {
        let (b, l, _) = xs.size3().expect("3-d activations");
        self.logits_and_values(xs).0.view([b, self.heads, l, l])
    }

    /// Attention output `[batch, seq, d]` of the normalised input `xs` (`[batch, seq, d]`).
    pub fn forward(&self, xs: &Tensor, mask: &AttnMask, train: bool) -> Tensor {
        let (b, l, _) = xs.size3().expect("3-d activations");
        let (logits, v) = self.logits_and_values(xs);
        let masked = match mask {
            AttnMask::None => logits,
            AttnMask::Fixed(blocked) => logits.masked_fill(blocked, mask::MASKED_LOGIT),
            AttnMask::Topk(k) => mask::topk_masked(&logits, *k).0,
        };
        // [batch*heads, seq, seq]
        let weights = masked.softmax(-1, Kind::Float);
        let weights = self.drop.forward(weights, train || self.eval_dropout);
        // [batch*heads, seq, d_qkv]
        let out = weights.bmm(&v);
        let out = if self.heads == 1 {
            out
        } else {
            out.view([b, self.heads, l, self.d_qkv])
                .transpose(1, 2)
                .reshape([b, l, -1])
        };
        out.apply(&self.w_o)
    }
}
