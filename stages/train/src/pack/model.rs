//! The stacked model: `M` single-run models with the same shapes as one set of tensors with a
//! leading member dimension.
//!
//! Every single-run variable `name` of shape `S` becomes one stacked leaf tensor of shape
//! `[M, S]` under the same name (so a member's slice is exactly its single-run variable): the
//! embedding is `[M, V, d]` and is gathered from its `[M*V, d]` view with per-member id
//! offsets; a linear layer is weight `[M, out, in]` and bias `[M, out]`, applied as
//! `baddbmm(bias[M,1,out], x[M,N,in], weight^T)`. Activations are `[M, B, L, d]`, member-major
//! and contiguous, so at every dropout site each member's slice has the single run's element
//! order (see `pack::dropout`); attention folds heads as `[M*B*H, L, d_qkv]` like
//! `crate::attention` does for one model. Members may differ in variant (`pack::mask`) and
//! activation (one op when all share it, else one per run of equal activations).
//!
//! Limits: members must share every shape-defining setting (see `pack::member::GroupKey`);
//! [`PackModel::new`] asserts the shapes agree.

use std::collections::HashMap;

use common::{Activation, Variant};
use tch::{nn, Kind, Reduction, Tensor};

use crate::block::layer_norm;
use crate::config::ModelConfig;
use crate::model::{positional_encoding, Model};
use crate::pack::dropout::PackDropout;
use crate::pack::mask::PackMask;

/// `M` models trained as one.
#[derive(Debug)]
pub struct PackModel {
    cfg: ModelConfig,
    variants: Vec<Variant>,
    activations: Vec<Activation>,
    names: Vec<String>,
    params: Vec<Tensor>,
    index: HashMap<String, usize>,
    pe: Tensor,
    mask: PackMask,
    drop: PackDropout,
}

impl PackModel {
    /// Stacks the members `(variables, model)`: the parameters are copied from each member's
    /// variable store, and the dropout stream is the given model's (the single run's local
    /// replica, so that the draws are the single run's).
    pub fn new(members: &[(&nn::VarStore, &Model)]) -> PackModel {
        assert!(!members.is_empty(), "a pack has at least one member");
        let cfg = members[0].1.config().clone();
        let device = members[0].0.device();
        let stores: Vec<HashMap<String, Tensor>> =
            members.iter().map(|(vs, _)| vs.variables()).collect();
        let mut names: Vec<String> = stores[0].keys().cloned().collect();
        names.sort();
        let params: Vec<Tensor> = names
            .iter()
            .map(|name| {
                let slices: Vec<Tensor> = stores
                    .iter()
                    .map(|s| s.get(name).expect("members share their variables").detach())
                    .collect();
                Tensor::stack(&slices, 0).set_requires_grad(true)
            })
            .collect();
        let variants: Vec<Variant> = members.iter().map(|m| m.1.config().variant).collect();
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        PackModel {
            pe: positional_encoding(cfg.seq_len() as i64, cfg.d_model as i64, device),
            mask: PackMask::new(&variants, cfg.seq_len(), device),
            drop: PackDropout::new(
                cfg.dropout,
                members.iter().map(|m| m.1.dropout().clone()).collect(),
            ),
            activations: members.iter().map(|m| m.1.config().activation).collect(),
            variants,
            names,
            params,
            index,
            cfg,
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.variants.len()
    }

    /// Whether the stack is empty (after every member was removed).
    pub fn is_empty(&self) -> bool {
        self.variants.is_empty()
    }

    /// The stacked parameters, `[M, ...]` each, sorted by name.
    pub fn params(&self) -> &[Tensor] {
        &self.params
    }

    /// The single-run variable names, in the order of [`PackModel::params`].
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Member `m`'s slice of the variable `name` (detached; the single run's shape).
    pub fn member_param(&self, m: usize, name: &str) -> Tensor {
        self.params[self.index[name]].detach().get(m as i64)
    }

    /// Copies member `m`'s parameters into the variables of `vs` (which has the single run's
    /// names and shapes), e.g. to save them like a single run.
    pub fn copy_member_into(&self, m: usize, vs: &nn::VarStore) {
        tch::no_grad(|| {
            for (name, mut var) in vs.variables() {
                var.copy_(&self.member_param(m, &name));
            }
        });
    }

    /// Keeps the members at `keep` (ascending indices into the current members): the stacked
    /// parameters are rebuilt from their slices, so the removed members cost nothing further.
    pub fn retain(&mut self, keep: &[usize]) {
        let device = self.pe.device();
        let index = Tensor::from_slice(&keep.iter().map(|&i| i as i64).collect::<Vec<_>>())
            .to_device(device);
        self.params = self
            .params
            .iter()
            .map(|p| p.detach().index_select(0, &index).set_requires_grad(true))
            .collect();
        self.variants = keep.iter().map(|&i| self.variants[i]).collect();
        self.activations = keep.iter().map(|&i| self.activations[i]).collect();
        self.mask = PackMask::new(&self.variants, self.cfg.seq_len(), device);
        self.drop.retain(keep);
    }

    fn p(&self, name: &str) -> &Tensor {
        &self.params[self.index[name]]
    }

    /// `x [M, ..., in]` times the member's `weight [M, out, in]` plus `bias [M, out]`.
    fn linear(&self, xs: &Tensor, prefix: &str) -> Tensor {
        let w = self.p(&format!("{prefix}.weight"));
        let b = self.p(&format!("{prefix}.bias"));
        let mut shape = xs.size();
        let d_in = *shape.last().expect("at least one dimension");
        let out = w.size()[1];
        // [M, N, in] x [M, in, out] + [M, 1, out] -> [M, N, out]
        let ys =
            b.unsqueeze(1)
                .baddbmm(&xs.reshape([shape[0], -1, d_in]), &w.transpose(1, 2), 1, 1);
        *shape.last_mut().expect("at least one dimension") = out;
        ys.view(shape.as_slice())
    }

    /// Embedding plus positional encoding, then dropout: `[M, B, L] -> [M, B, L, d]`.
    fn embed(&self, tokens: &Tensor, train: bool) -> Tensor {
        let (m, _, len) = tokens.size3().expect("[members, batch, seq] tokens");
        let vocab = self.cfg.vocab as i64;
        let d = self.cfg.d_model as i64;
        let offsets = (Tensor::arange(m, (Kind::Int64, tokens.device())) * vocab).view([m, 1, 1]);
        // [M*V, d]
        let table = self.p("embed.weight").view([m * vocab, d]);
        // [M, B, L, d]
        let xs =
            Tensor::embedding(&table, &(tokens + offsets), -1, false, false) * (d as f64).sqrt();
        self.drop.forward(xs + self.pe.narrow(0, 0, len), train)
    }

    /// `[M, B, L, H*dq] -> [M*B*H, L, dq]` (a view for one head).
    fn split_heads(&self, t: Tensor) -> Tensor {
        let (m, b, l, _) = t.size4().expect("4-d activations");
        let (h, dq) = (self.cfg.heads as i64, self.cfg.d_qkv as i64);
        if h == 1 {
            return t.view([m * b, l, dq]);
        }
        t.view([m * b, l, h, dq])
            .transpose(1, 2)
            .reshape([m * b * h, l, dq])
    }

    /// Unmasked logits `[M*B*H, L, L]` and values `[M*B*H, L, dq]` of block `i`.
    fn logits_and_values(&self, i: usize, xs: &Tensor) -> (Tensor, Tensor) {
        let at = format!("blocks.{i}.attn");
        let q = self.split_heads(self.linear(xs, &format!("{at}.W_q")));
        let k = self.split_heads(self.linear(xs, &format!("{at}.W_k")));
        let v = self.split_heads(self.linear(xs, &format!("{at}.W_v")));
        let logits = q.bmm(&k.transpose(1, 2)) / (self.cfg.d_qkv as f64).sqrt();
        (logits, v)
    }

    /// Attention of block `i` on the normalised input `[M, B, L, d] -> [M, B, L, d]`.
    fn attention(&self, i: usize, xs: &Tensor, train: bool) -> Tensor {
        let (m, b, l, _) = xs.size4().expect("4-d activations");
        let (h, dq) = (self.cfg.heads as i64, self.cfg.d_qkv as i64);
        let (logits, v) = self.logits_and_values(i, xs);
        let masked = self.mask.apply(logits, m);
        // [M*B*H, L, L]
        let weights = masked.softmax(-1, Kind::Float);
        let weights = self
            .drop
            .forward(weights, train || self.cfg.eval_attn_dropout);
        // [M*B*H, L, dq]
        let out = weights.bmm(&v);
        let out = if h == 1 {
            out.view([m, b, l, dq])
        } else {
            out.view([m * b, h, l, dq])
                .transpose(1, 2)
                .reshape([m, b, l, h * dq])
        };
        self.linear(&out, &format!("blocks.{i}.attn.W_o"))
    }

    /// Each member's activation on its slice of `h` (`[M, ...]`).
    fn activate(&self, h: Tensor) -> Tensor {
        let apply = |a: Activation, t: &Tensor| match a {
            Activation::Relu => t.relu(),
            Activation::Gelu => t.gelu("none"),
            Activation::Mish => t.mish(),
        };
        let first = self.activations[0];
        if self.activations.iter().all(|&a| a == first) {
            return apply(first, &h);
        }
        let mut parts = Vec::new();
        let mut start = 0;
        while start < self.activations.len() {
            let a = self.activations[start];
            let len = self.activations[start..]
                .iter()
                .take_while(|&&b| b == a)
                .count();
            parts.push(apply(a, &h.narrow(0, start as i64, len as i64)));
            start += len;
        }
        Tensor::cat(&parts, 0)
    }

    /// The MLP of block `i`: `[M, B, L, d] -> [M, B, L, d]`.
    fn mlp(&self, i: usize, xs: &Tensor, train: bool) -> Tensor {
        // [M, B, L, d_mlp]
        let h = self
            .drop
            .forward(self.linear(xs, &format!("blocks.{i}.mlp.fc1")), train);
        self.linear(&self.activate(h), &format!("blocks.{i}.mlp.fc2"))
    }

    /// Block `i`, pre-LayerNorm as `crate::block::Block`: `[M, B, L, d] -> [M, B, L, d]`.
    fn block(&self, i: usize, xs: &Tensor, train: bool) -> Tensor {
        let d = self.cfg.d_model as i64;
        let eps_a = if i == 0 && self.cfg.first_ln_eps_zero {
            0.0
        } else {
            self.cfg.ln_eps
        };
        let a = self.attention(i, &layer_norm(xs, d, eps_a), train);
        let xs = xs + self.drop.forward(a, train);
        let m = self.mlp(i, &layer_norm(&xs, d, self.cfg.ln_eps), train);
        xs + self.drop.forward(m, train)
    }

    /// Class logits `[M, B, classes]` of the token ids `[M, B, L]` (member `m` reads row `m`).
    /// `train` turns dropout on.
    pub fn forward(&self, tokens: &Tensor, train: bool) -> Tensor {
        let mut xs = self.embed(tokens, train);
        for i in 0..self.cfg.blocks {
            xs = self.block(i, &xs, train);
        }
        // [M, B, d] -> [M, B, classes]
        let pooled = xs.mean_dim(2, false, Kind::Float);
        self.linear(&pooled, "head")
    }
}

/// Per-member cross-entropy of `logits` (`[M, B, C]`) against `labels` (`[M, B]`), summed over
/// each member's batch (float): `[M]`. Never mixes members.
pub fn member_loss_sums(logits: &Tensor, labels: &Tensor) -> Tensor {
    let (m, b, c) = logits.size3().expect("[members, batch, classes] logits");
    logits
        .reshape([m * b, c])
        .cross_entropy_loss(
            &labels.reshape([m * b]),
            None::<Tensor>,
            Reduction::None,
            -100,
            0.0,
        )
        .view([m, b])
        .sum_dim_intlist(1, false, Kind::Float)
}

/// Per-member mean cross-entropy over the batch (`[M]`), the single run's training loss.
pub fn member_losses(logits: &Tensor, labels: &Tensor) -> Tensor {
    let batch = labels.size()[1] as f64;
    member_loss_sums(logits, labels) / batch
}
