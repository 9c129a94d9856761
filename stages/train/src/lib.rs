//! The `train` stage: a small transformer classifier with full, banded, block-local or top-k
//! attention (SPEC §2-§3), trained with SGD as in SPEC §4.
//!
//! Layers (`attention`, `mlp`, `block`, `model`) each have `new(path, &ModelConfig)` and
//! `forward`; `mask` holds the attention patterns; `train_loop`, `optim` and `eval` the
//! procedure; `output` writes files atomically; `cli` and `run` the program. `pack` trains many
//! runs in one process as stacked models (`train --pack MANIFEST`), each member exactly its
//! single run with one worker.
//!
//! The bookkeeping of a run is written once and used by both paths: `setup::prepare_run` (from
//! the command line to an initialised model and `config.json`), `stopping::stop_reason` (when a
//! run ends: divergence, `--stop-after`, the epoch cap), `progress` (the epoch lines on stderr)
//! and `record` (`history.csv` every epoch, then the weights and `metrics.json` through
//! `record::run_metrics`, the one constructor of the record whose format, with that of
//! `history.csv`, is `common::run_output`, shared with `stats`). The single path differs only
//! in its engine (`train_loop` with batch-sharing `parallel::Workers`), the packed one in its
//! stacked model and loop (`pack::model`, `pack::train_loop`).
//!
//! The `probe` stage uses [`model::Model::forward_probe`], [`config::RunConfig`] and
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
pub mod setup;
pub mod stopping;
pub mod train_loop;

pub use config::{ModelConfig, RunConfig, TrainConfig};
pub use error::TrainError;
pub use model::Model;
