//! The sequence classifier of SPEC §2: embedding, pre-LN blocks, mean readout.
//!
//! Input ids `[batch, seq]` (already padded, global tokens appended) are embedded (weights
//! uniform ±0.1, scaled by sqrt(d)), a fixed sinusoidal positional encoding is added, then
//! dropout; the blocks follow; the readout averages the last block's output over *all*
//! positions (PAD and global tokens included, as in the authors' runs) and applies
//! `Linear(d, classes)` (weight uniform ±0.1, bias 0). There is no final LayerNorm.
//!
//! Variable names (the checkpoint's): `embed.weight`, `blocks.{i}.attn.W_{q,k,v,o}.{weight,bias}`,
//! `blocks.{i}.mlp.fc{1,2}.{weight,bias}`, `head.{weight,bias}`. The positional encoding is a
//! constant and is not stored.

use tch::nn;
use tch::{Device, Kind, Tensor};

use crate::attention::AttnMask;
use crate::block::Block;
use crate::config::ModelConfig;
use crate::dropout::Dropout;
use crate::mask::MaskCache;
use common::Variant;

/// Sinusoidal positional encoding `[len, d]`: even columns `sin(pos * w_i)`, odd columns
/// `cos(pos * w_i)`, `w_i = exp(2i * -ln(10000) / d)`.
pub fn positional_encoding(len: i64, d: i64, device: Device) -> Tensor {
    let position = Tensor::arange(len, (Kind::Int64, device)).unsqueeze(1);
    let rates = (Tensor::arange_start_step(0, d, 2, (Kind::Int64, device))
        * (-(10000f64.ln()) / d as f64))
        .exp();
    // [len, d/2]
    let angles = position * rates;
    // [len, d/2, 2] -> [len, d]: sin and cos interleaved
    Tensor::stack(&[angles.sin(), angles.cos()], -1).view([len, d])
}

/// What the probe needs from one layer: the unmasked attention logits and, for top-k, the kept
/// key indices.
#[derive(Debug)]
pub struct LayerLogits {
    /// `[batch, heads, seq, seq]` logits `q·k / sqrt(d_qkv)` of `LN_a` of the layer's input.
    pub logits: Tensor,
    /// For top-k: `[batch, heads, seq, k]` indices of the kept keys.
    pub kept: Option<Tensor>,
    /// For band/bloc: the `[seq, seq]` mask, `true` where attention is blocked.
    pub blocked: Option<Tensor>,
}

/// The whole classifier.
#[derive(Debug)]
pub struct Model {
    cfg: ModelConfig,
    embed: Tensor,
    pe: Tensor,
    blocks: Vec<Block>,
    head: nn::Linear,
    masks: MaskCache,
    drop: Dropout,
}

impl Model {
    /// Creates the variables under `path` (see the module doc for their names).
    pub fn new(path: nn::Path, cfg: &ModelConfig) -> Model {
        let d = cfg.d_model as i64;
        let embed = (&path / "embed").var(
            "weight",
            &[cfg.vocab as i64, d],
            nn::Init::Uniform { lo: -0.1, up: 0.1 },
        );
        let drop = Dropout::new(cfg.dropout);
        let blocks = (0..cfg.blocks)
            .map(|i| Block::new(&path / "blocks" / i, cfg, i, &drop))
            .collect();
        let head_cfg = nn::LinearConfig {
            ws_init: nn::Init::Uniform { lo: -0.1, up: 0.1 },
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        };
        let head = nn::linear(&path / "head", d, cfg.classes as i64, head_cfg);
        Model {
            cfg: cfg.clone(),
            embed,
            pe: positional_encoding(cfg.seq_len() as i64, d, path.device()),
            blocks,
            head,
            masks: MaskCache::new(cfg.variant),
            drop,
        }
    }

    /// The same model on the same variables (shallow handles: gradients of a replica's
    /// forward pass accumulate into the shared variables) with a fresh dropout stream seeded
    /// from libtorch's generator. Replicas are `Send`, so each worker thread owns one.
    pub fn replica(&self) -> Model {
        let drop = Dropout::new(self.cfg.dropout);
        Model {
            cfg: self.cfg.clone(),
            embed: self.embed.shallow_clone(),
            pe: self.pe.shallow_clone(),
            blocks: self.blocks.iter().map(|b| b.replica(&drop)).collect(),
            head: crate::attention::share_linear(&self.head),
            masks: MaskCache::new(self.cfg.variant),
            drop,
        }
    }

    /// The model's dropout stream (a replica's own; the packed trainer draws from it).
    pub(crate) fn dropout(&self) -> &Dropout {
        &self.drop
    }

    /// The configuration the model was built from.
    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    /// The mask every layer uses for sequences of length `len`.
    fn mask(&self, len: i64) -> AttnMask {
        match self.cfg.variant {
            Variant::Full => AttnMask::None,
            Variant::Topk { k } => AttnMask::Topk(k as i64),
            _ => AttnMask::Fixed(
                self.masks
                    .blocked(len, self.embed.device())
                    .expect("fixed variant"),
            ),
        }
    }

    /// Embedding plus positional encoding, then dropout: `[batch, seq] -> [batch, seq, d]`.
    fn embed(&self, tokens: &Tensor, train: bool) -> Tensor {
        let len = tokens.size()[1];
        let d = self.cfg.d_model as f64;
        // [batch, seq, d]
        let xs = Tensor::embedding(&self.embed, tokens, -1, false, false) * d.sqrt();
        self.drop.forward(xs + self.pe.narrow(0, 0, len), train)
    }

    /// Class logits `[batch, classes]` of the token ids `[batch, seq]` (int64). `train` turns
    /// dropout on.
    pub fn forward(&self, tokens: &Tensor, train: bool) -> Tensor {
        let mask = self.mask(tokens.size()[1]);
        let mut xs = self.embed(tokens, train);
        for block in &self.blocks {
            xs = block.forward(&xs, &mask, train);
        }
        // [batch, d] -> [batch, classes]
        xs.mean_dim(1, false, Kind::Float).apply(&self.head)
    }

    /// Evaluation-mode forward pass that hands every layer's attention logits to `on_layer`
    /// (block index, logits) as soon as they exist, so that only one layer's `[batch, heads,
    /// seq, seq]` tensor is alive at a time. Returns the class logits. Call it under
    /// `tch::no_grad` (the dispersion probe and the parity test use it).
    pub fn forward_probe(
        &self,
        tokens: &Tensor,
        mut on_layer: impl FnMut(usize, LayerLogits),
    ) -> Tensor {
        let mask = self.mask(tokens.size()[1]);
        let mut xs = self.embed(tokens, false);
        for (i, block) in self.blocks.iter().enumerate() {
            let logits = block.attention().logits(&block.attn_input(&xs));
            let (kept, blocked) = match &mask {
                AttnMask::None => (None, None),
                AttnMask::Fixed(b) => (None, Some(b.shallow_clone())),
                AttnMask::Topk(k) => (Some(crate::mask::topk_index(&logits, *k)), None),
            };
            on_layer(
                i,
                LayerLogits {
                    logits,
                    kept,
                    blocked,
                },
            );
            xs = block.forward(&xs, &mask, false);
        }
        xs.mean_dim(1, false, Kind::Float).apply(&self.head)
    }
}
