//! The `probe` stage: the semantic dispersion probe of SPEC §6 (the paper's Table 6).
//!
//! `run` loads a trained run (`config.json`, `model.safetensors`, `metrics.json`) with the
//! `train` library, draws the probe examples from the training split, and feeds every layer's
//! attention logits to `stats`, which collects the per-query dispersion and separation and the
//! per-key selection counts; `percentile` summarises them and `report` is the output file.

pub mod cli;
pub mod error;
pub mod loaded;
pub mod percentile;
pub mod report;
pub mod run;
pub mod stats;

pub use error::ProbeError;
