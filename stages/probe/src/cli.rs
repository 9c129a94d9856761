//! The `probe` command line (docs/stages.md).

use std::path::PathBuf;

/// Computes the semantic dispersion probe of a trained run and writes it as JSON.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "probe", version)]
pub struct Args {
    /// Run directory written by `train` (config.json, model.safetensors, metrics.json).
    #[arg(long)]
    pub run: PathBuf,
    /// The data directory the run was trained on.
    #[arg(long)]
    pub data: PathBuf,
    /// Output JSON file.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of batches of training examples.
    #[arg(long, default_value_t = 10)]
    pub batches: usize,
    /// Examples per batch.
    #[arg(long, default_value_t = 100)]
    pub batch_size: usize,
}
