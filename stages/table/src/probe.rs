//! The probe's output (SPEC §6) as this stage reads it: one JSON file per probed run.
//!
//! Shape agreed with the probe stage: `{"task", "variant", "seed", "delta":
//! {"p75","p90","p95","p100"}, "sep": {"p25","p10","p5","p0"} | null, "beta":
//! {"p75","p90","p95","p100"} | null}`; `sep` and `beta` exist for top-k models only.
//! Unknown fields are ignored so the probe may add some (an `activation`, sample counts), and
//! so that probe files of format 1, which held cache keys, still read.

use common::{Task, Variant};

/// Upper percentiles of the dispersion delta (or of beta).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Upper {
    /// 75th percentile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Maximum.
    pub p100: f64,
}

/// Lower percentiles of the separation Delta.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Lower {
    /// 25th percentile.
    pub p25: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Minimum.
    pub p0: f64,
}

/// One probe result.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProbeFile {
    /// Task of the probed run.
    pub task: Task,
    /// Variant of the probed run.
    pub variant: Variant,
    /// Seed of the probed run.
    pub seed: u64,
    /// Percentiles of the per-query dispersion delta (`dispersion_delta` in the probe's file).
    #[serde(alias = "dispersion_delta")]
    pub delta: Upper,
    /// Percentiles of the separation Delta (top-k only; `separation_delta` in the file).
    #[serde(default, alias = "separation_delta")]
    pub sep: Option<Lower>,
    /// Percentiles of beta, how many queries kept each key (top-k only; `selection_beta`).
    #[serde(default, alias = "selection_beta")]
    pub beta: Option<Upper>,
}

impl Upper {
    /// The values in column order p75, p90, p95, p100.
    pub fn values(&self) -> [f64; 4] {
        [self.p75, self.p90, self.p95, self.p100]
    }
}

impl Lower {
    /// The values in column order p25, p10, p5, p0.
    pub fn values(&self) -> [f64; 4] {
        [self.p25, self.p10, self.p5, self.p0]
    }
}
