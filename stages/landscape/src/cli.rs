//! The `landscape` command line (docs/stages.md).

use std::path::PathBuf;

/// Estimates the loss landscape's local Lipschitz constants around a trained run's weights
/// and writes their percentiles as JSON.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "landscape", version)]
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
    /// Grid points per axis over [-1, 1] (the paper: 200).
    #[arg(long, default_value_t = 200)]
    pub grid: usize,
    /// Training examples the loss is averaged over (default: the whole training split; fewer
    /// are drawn at random, seeded by the run's seed).
    #[arg(long)]
    pub examples: Option<usize>,
}
