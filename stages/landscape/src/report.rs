//! The landscape stage's output file.
//!
//! It holds no wall time (the grid's time goes to the log) and no cache key: the engine hashes
//! the file, and a timing or a key (which changes with code that does not change the numbers)
//! would make every re-run of the same computation look changed to `table`. `repro.lock` maps
//! the file and its run to their keys.

use probe::report::Percentiles;

/// Version of the landscape JSON; 2 dropped format 1's `seconds` (the grid's wall time), 3
/// dropped `cache_key` and `run_cache_key`.
pub const LANDSCAPE_FORMAT_VERSION: u32 = 3;

/// Percentile levels of the neighbour slopes.
pub const LEVELS: [f64; 5] = [50.0, 75.0, 90.0, 95.0, 100.0];

/// What `landscape` writes.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// [`LANDSCAPE_FORMAT_VERSION`].
    pub format: u32,
    /// Task name.
    pub task: String,
    /// Variant name.
    pub variant: String,
    /// Activation name.
    pub activation: String,
    /// The run's seed.
    pub seed: u64,
    /// Grid points per axis over [-1, 1].
    pub grid: usize,
    /// Distance between neighbouring grid points.
    pub spacing: f64,
    /// Training examples the loss is averaged over.
    pub examples: usize,
    /// Mean training loss at the trained weights (the grid's centre).
    pub loss_at_weights: f64,
    /// Smallest and largest finite loss on the grid.
    pub loss_min: f64,
    /// See `loss_min`.
    pub loss_max: f64,
    /// Neighbour pairs measured.
    pub pairs: usize,
    /// Neighbour pairs left out because a loss was not finite.
    pub nonfinite_pairs: usize,
    /// Percentiles of |change of loss| / spacing: p50, p75, p90, p95, p100.
    pub lipschitz: Percentiles,
}
