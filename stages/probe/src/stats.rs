//! Per-layer statistics of the attention logits (SPEC §6), pooled over layers, heads,
//! examples and queries.
//!
//! For each query row of `D = q·k / sqrt(d_qkv)` (computed on the `LN_a` output):
//! - dispersion delta = max - min of the logits the query may use: all keys for full
//!   attention, the k kept keys for top-k, the pattern's keys for band/bloc;
//! - separation Delta (top-k only) = smallest kept logit - largest masked logit;
//! - for every key (top-k only), beta = the number of queries of the same example, layer and
//!   head that kept it.
//!
//! Limits: when k >= the sequence length nothing is masked and Delta is not recorded.

use tch::{Device, Kind, Tensor};
use train::model::LayerLogits;

/// The pooled values, ready for percentiles.
#[derive(Debug, Default)]
pub struct Pool {
    /// delta per query.
    pub delta: Vec<f32>,
    /// Delta per query (top-k).
    pub separation: Vec<f32>,
    /// beta per key (top-k).
    pub beta: Vec<f32>,
    /// Query rows seen.
    pub queries: usize,
}

fn append(out: &mut Vec<f32>, t: &Tensor) {
    let flat = t.to_kind(Kind::Float).flatten(0, -1).to_device(Device::Cpu);
    out.extend(Vec::<f32>::try_from(flat).expect("float tensor"));
}

impl Pool {
    /// Adds one layer's logits (`[batch, heads, seq, seq]`).
    pub fn add(&mut self, layer: &LayerLogits) {
        let logits = layer.logits.to_kind(Kind::Float);
        let len = logits.size()[3];
        self.queries += (logits.numel() as i64 / len) as usize;
        match (&layer.kept, &layer.blocked) {
            (Some(index), _) => {
                // [batch, heads, seq, k]
                let kept = logits.gather(-1, index, false);
                let kept_min = kept.amin(-1, false);
                append(&mut self.delta, &(kept.amax(-1, false) - &kept_min));
                if index.size()[3] < len {
                    let masked_max = logits
                        .scatter_value(-1, index, f64::NEG_INFINITY)
                        .amax(-1, false);
                    append(&mut self.separation, &(kept_min - masked_max));
                }
                // [batch, heads, seq (keys)]: how many queries kept each key
                let chosen = logits.zeros_like().scatter_value(-1, index, 1.0);
                append(
                    &mut self.beta,
                    &chosen.sum_dim_intlist(-2, false, Kind::Float),
                );
            }
            (None, Some(blocked)) => {
                let max = logits
                    .masked_fill(blocked, f64::NEG_INFINITY)
                    .amax(-1, false);
                let min = logits.masked_fill(blocked, f64::INFINITY).amin(-1, false);
                append(&mut self.delta, &(max - min));
            }
            (None, None) => append(
                &mut self.delta,
                &(logits.amax(-1, false) - logits.amin(-1, false)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topk_statistics_of_a_small_example() {
        // one example, one head, 3 queries x 4 keys
        let logits = Tensor::from_slice(&[
            4.0f32, 3.0, 1.0, 0.0, 0.0, 2.0, 5.0, 1.0, 1.0, 1.5, 3.0, 2.5,
        ])
        .view([1, 1, 3, 4]);
        let index = logits.topk(2, -1, true, false).1;
        let mut pool = Pool::default();
        pool.add(&LayerLogits {
            logits: logits.shallow_clone(),
            kept: Some(index),
            blocked: None,
        });
        assert_eq!(pool.delta, vec![1.0, 3.0, 0.5]);
        assert_eq!(pool.separation, vec![2.0, 1.0, 1.0]);
        // keys kept: q0 {0,1}, q1 {2,1}, q2 {2,3}
        assert_eq!(pool.beta, vec![1.0, 2.0, 2.0, 1.0]);
        assert_eq!(pool.queries, 3);

        let mut full = Pool::default();
        full.add(&LayerLogits {
            logits,
            kept: None,
            blocked: None,
        });
        assert_eq!(full.delta, vec![4.0, 5.0, 2.0]);
        assert!(full.beta.is_empty());
    }
}
