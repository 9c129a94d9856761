//! The model and training configuration of one run, with the paper's presets.
//!
//! Three serde types: [`ModelConfig`] (everything needed to rebuild the network, enough for the
//! `probe` stage), [`TrainConfig`] (optimiser and schedule) and [`RunConfig`], which bundles
//! both with a format version and is written to `config.json` and into `metrics.json`.
//! Hyperparameters live here and nowhere else: the layers read them from a `&ModelConfig`.
//!
//! Presets follow SPEC §2 and §4: [`ModelConfig::paper`] (d = 64, d_mlp = 64, one head of
//! d_qkv = 64, dropout 0.01, LayerNorm eps 1e-5, blocks per task) and [`TrainConfig::paper`]
//! (SGD, batch 25, clip 0.5, lr/gamma/epochs per task).
//!
//! Each default is written once: the task-independent ones in [`PAPER`], the per-task ones
//! (blocks, learning rate, gamma, epochs) in `common::Task::settings`, which the `table` stage
//! reads too. The presets, the defaults of the `train` command line and `train-bench` derive
//! from these two.

use common::{Activation, Task, Variant};

/// Version of `config.json`; bump when the meaning of a field changes.
pub const CONFIG_FORMAT_VERSION: u32 = 1;

/// The paper's hyperparameters that do not depend on the task (SPEC §2, §4).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PaperDefaults {
    /// Model width d.
    pub d_model: usize,
    /// Number of attention heads.
    pub heads: usize,
    /// Width of one head's queries, keys and values.
    pub d_qkv: usize,
    /// Hidden width of the MLP.
    pub d_mlp: usize,
    /// Dropout probability.
    pub dropout: f64,
    /// LayerNorm epsilon.
    pub ln_eps: f64,
    /// Training batch size.
    pub batch: usize,
    /// Maximum global gradient norm.
    pub clip: f64,
    /// The optimiser.
    pub optimizer: OptimizerKind,
}

/// The values of [`PaperDefaults`]: the one place they are written.
pub const PAPER: PaperDefaults = PaperDefaults {
    d_model: 64,
    heads: 1,
    d_qkv: 64,
    d_mlp: 64,
    dropout: 0.01,
    ln_eps: 1e-5,
    batch: 25,
    clip: 0.5,
    optimizer: OptimizerKind::Sgd,
};

/// Everything that determines the network's shape and forward pass.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Rows of the token embedding: the data vocabulary (PAD last) plus one id per global token.
    pub vocab: usize,
    /// Id of the padding token.
    pub pad_id: u32,
    /// Number of output classes.
    pub classes: usize,
    /// Longest unpadded sequence of the data set.
    pub max_len: usize,
    /// Attention variant.
    pub variant: Variant,
    /// Model width d.
    pub d_model: usize,
    /// Number of attention heads.
    pub heads: usize,
    /// Width of one head's queries, keys and values.
    pub d_qkv: usize,
    /// Hidden width of the MLP.
    pub d_mlp: usize,
    /// Number of transformer blocks.
    pub blocks: usize,
    /// Dropout probability (positional encoding, residual branches, MLP, attention weights).
    pub dropout: f64,
    /// MLP activation.
    pub activation: Activation,
    /// LayerNorm epsilon.
    pub ln_eps: f64,
    /// Authors' quirk: the first block's attention LayerNorm uses eps 0.
    pub first_ln_eps_zero: bool,
    /// Authors' quirk: dropout on the attention weights also at evaluation time.
    pub eval_attn_dropout: bool,
}

impl ModelConfig {
    /// The paper's model (SPEC §2) for `task` and `variant`, given the data set's vocabulary
    /// size (PAD included), PAD id and longest sequence.
    pub fn paper(
        task: Task,
        variant: Variant,
        activation: Activation,
        data_vocab: usize,
        pad_id: u32,
        max_len: usize,
    ) -> ModelConfig {
        ModelConfig {
            vocab: data_vocab + variant.globals(),
            pad_id,
            classes: task.classes(),
            max_len,
            variant,
            d_model: PAPER.d_model,
            heads: PAPER.heads,
            d_qkv: PAPER.d_qkv,
            d_mlp: PAPER.d_mlp,
            blocks: task.settings().blocks,
            dropout: PAPER.dropout,
            activation,
            ln_eps: PAPER.ln_eps,
            first_ln_eps_zero: false,
            eval_attn_dropout: false,
        }
    }

    /// Length after right-padding to a multiple of the variant's k, before global tokens.
    pub fn padded_len(&self) -> usize {
        self.variant.padded_len(self.max_len)
    }

    /// Length of the model's input: padded length plus global tokens.
    pub fn seq_len(&self) -> usize {
        self.padded_len() + self.variant.globals()
    }

    /// Id of the `i`-th global token (they follow the data vocabulary).
    pub fn global_id(&self, i: usize) -> u32 {
        (self.vocab - self.variant.globals() + i) as u32
    }
}

/// The optimiser.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Plain SGD: no momentum, no weight decay (the paper's main runs).
    Sgd,
    /// Adam (betas 0.9/0.999, eps 1e-8, no weight decay), for the ListOps ablation.
    Adam,
}

/// Optimiser, schedule and evaluation settings.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// The task trained on.
    pub task: Task,
    /// The run's seed; every random stream is derived from it.
    pub seed: u64,
    /// Number of epochs.
    pub epochs: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// Learning-rate multiplier applied after every epoch.
    pub gamma: f64,
    /// Training batch size.
    pub batch: usize,
    /// Maximum global gradient norm.
    pub clip: f64,
    /// The optimiser.
    pub optimizer: OptimizerKind,
    /// Use only the first N training examples (for quick runs); `None` = all.
    pub train_limit: Option<usize>,
    /// Batch size of the evaluation passes (no gradients, so larger than `batch`).
    pub eval_batch: usize,
    /// Worker threads sharing each batch (see `parallel`); results depend on it through
    /// float rounding and dropout streams.
    pub workers: usize,
    /// The stopping rule: stop this many epochs after the first epoch whose training accuracy
    /// reaches [`common::run_output::CONVERGED_ACC`], `epochs` being the cap. `None` (the
    /// paper's setting) trains every epoch. Written to `config.json`, so it is part of what
    /// the run's outputs record.
    #[serde(default)]
    pub stop_after: Option<usize>,
}

impl TrainConfig {
    /// The paper's training settings (SPEC §4) for `task` and `seed`; `eval_batch` is not a
    /// paper setting (it does not change any number), see [`default_eval_batch`].
    pub fn paper(task: Task, seed: u64, eval_batch: usize) -> TrainConfig {
        let s = task.settings();
        TrainConfig {
            task,
            seed,
            epochs: s.epochs,
            lr: s.lr,
            gamma: s.gamma,
            batch: PAPER.batch,
            clip: PAPER.clip,
            optimizer: PAPER.optimizer,
            train_limit: None,
            eval_batch,
            workers: 1,
            stop_after: None,
        }
    }
}

/// Evaluation batch size for sequences of `seq_len` on `device`, between 4 and 1000 examples.
/// CPU: about 2,048 tokens per batch. Measured there: at length 40, batches of ~50 evaluate
/// about a third faster than batches of 1000 (activations stay in cache); at ListOps length
/// each example is large enough that a few per batch suffice. GPU: about 131,072 tokens, since
/// every batch costs the same host-side launch overhead whatever its size (on an H100, ListOps
/// evaluation with batches of 3 took five times as long as the reference's batches of 25:
/// docs/benchmarks.md).
pub fn default_eval_batch(seq_len: usize, device: tch::Device) -> usize {
    let tokens = if device == tch::Device::Cpu {
        2048
    } else {
        131_072
    };
    (tokens / seq_len.max(1)).clamp(4, 1000)
}

/// `config.json`: the whole configuration of a run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// [`CONFIG_FORMAT_VERSION`].
    pub format: u32,
    /// The network.
    pub model: ModelConfig,
    /// The training procedure.
    pub train: TrainConfig,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_preset_matches_spec() {
        let v: Variant = "band5+G3".parse().unwrap();
        let m = ModelConfig::paper(Task::EvenPairs, v, Activation::Relu, 3, 2, 40);
        assert_eq!(
            (m.d_model, m.d_mlp, m.heads, m.d_qkv, m.blocks),
            (64, 64, 1, 64, 5)
        );
        assert_eq!(m.vocab, 6);
        assert_eq!(m.seq_len(), 43);
        assert_eq!(m.global_id(0), 3);
        let t = TrainConfig::paper(Task::Listops, 1, 100);
        assert_eq!((t.batch, t.clip, t.lr, t.epochs), (25, 0.5, 1.0, 200));
    }

    #[test]
    fn eval_batch_shrinks_with_length() {
        let cpu = tch::Device::Cpu;
        assert_eq!(default_eval_batch(40, cpu), 51);
        assert_eq!(default_eval_batch(600, cpu), 4);
        assert_eq!(default_eval_batch(5000, cpu), 4);
        let gpu = tch::Device::Cuda(0);
        assert_eq!(default_eval_batch(40, gpu), 1000);
        assert_eq!(default_eval_batch(600, gpu), 218);
    }
}
