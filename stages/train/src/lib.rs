//! The `train` stage: a small transformer classifier with full, banded, block-local or top-k
//! attention (SPEC §2-§3), trained with SGD as in SPEC §4.
//!
//! Layers (`attention`, `mlp`, `block`, `model`) each have `new(path, &ModelConfig)` and
//! `forward`; `mask` holds the attention patterns; `train_loop`, `optim` and `eval` the
//! procedure; `output` writes the files, whose format for `history.csv` and `metrics.json` is
//! `common::run_output` (shared with `stats`); `cli` and `run` the program; `pack` trains many runs in one process as stacked models
//! (`train --pack MANIFEST`). The
//! `probe` stage uses [`model::Model::forward_probe`], [`config::RunConfig`] and
//! [`dataset`] from here.

pub mod attention;
pub mod bench;
pub mod block;
pub mod cli;
pub mod config;
pub mod dataset;
pub mod dropout;
pub mod error;
pub mod eval;
pub mod mask;
pub mod mlp;
pub mod model;
pub mod optim;
pub mod output;
pub mod pack;
pub mod parallel;
pub mod progress;
pub mod record;
pub mod run;
pub mod stopping;
pub mod train_loop;

pub use config::{ModelConfig, RunConfig, TrainConfig};
pub use error::TrainError;
pub use model::Model;
