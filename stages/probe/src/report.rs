//! The probe's output file.
//!
//! It holds the probe's numbers and the names of the run they were computed on (task, variant,
//! activation, seed), no cache key: a key changes with code that does not change the numbers
//! (a comment in the trainer), and a key in the file would make `table` run again for nothing.
//! `repro.lock` maps the file and the run directory to their keys.

/// Percentiles of one statistic, written as a JSON object `{"p75": .., "p90": ..}` in the
/// order of the levels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Percentiles(pub Vec<(String, f64)>);

impl serde::Serialize for Percentiles {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for Percentiles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, f64>::deserialize(d)?;
        Ok(Percentiles(map.into_iter().collect()))
    }
}

/// Version of the probe's JSON; 2 dropped format 1's `cache_key` and `run_cache_key`.
pub const PROBE_FORMAT_VERSION: u32 = 2;

/// What `probe` writes.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// [`PROBE_FORMAT_VERSION`].
    pub format: u32,
    /// Task name.
    pub task: String,
    /// Variant name.
    pub variant: String,
    /// Activation name.
    pub activation: String,
    /// The run's seed.
    pub seed: u64,
    /// Training examples probed.
    pub examples: usize,
    /// Layers pooled.
    pub layers: usize,
    /// Query rows pooled (examples x layers x heads x positions).
    pub queries: usize,
    /// Dispersion delta per query: p75, p90, p95, p100.
    pub dispersion_delta: Percentiles,
    /// Separation Delta per query (top-k only): p25, p10, p5, p0.
    pub separation_delta: Option<Percentiles>,
    /// Selection count beta per key (top-k only): p75, p90, p95, p100.
    pub selection_beta: Option<Percentiles>,
}

/// Percentile levels of delta and beta.
pub const UPPER: [f64; 4] = [75.0, 90.0, 95.0, 100.0];
/// Percentile levels of Delta.
pub const LOWER: [f64; 4] = [25.0, 10.0, 5.0, 0.0];

/// Names `values` (computed at `levels`) as `p75`, ...
pub fn named(levels: &[f64], values: &[f64]) -> Percentiles {
    Percentiles(
        levels
            .iter()
            .zip(values)
            .map(|(l, v)| (format!("p{l}"), *v))
            .collect(),
    )
}
