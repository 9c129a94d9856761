//! Dropout that is cheap on the CPU.
//!
//! libtorch's CPU dropout draws one Bernoulli variate per element (about 7 ns each here), which
//! made dropout the largest cost of a training step at these sizes (21 dropout sites, ~0.45 ms
//! each for a 25 x 40 x 64 tensor). With p = 0.01 almost nothing is dropped, so on the CPU we
//! draw only the *positions* of the dropped elements: the gaps between successive dropped
//! elements of an i.i.d. Bernoulli(p) sequence are i.i.d. Geometric(p), sampled as
//! `floor(ln U / ln(1-p)) + 1`. The result has exactly the distribution of standard dropout
//! (each element independently zeroed with probability p, survivors scaled by 1/(1-p)); only
//! the random stream differs. The stream is a ChaCha8 generator seeded once from libtorch's
//! generator, so runs stay reproducible under `common_torch::init`'s seed.
//!
//! On CUDA the native kernel is used (it is fast there, and host-side positions would need a
//! transfer per call).

use std::sync::{Arc, Mutex};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

/// A dropout site with probability `p`; clones share one random stream.
#[derive(Clone, Debug)]
pub struct Dropout {
    p: f64,
    rng: Arc<Mutex<ChaCha8Rng>>,
}

/// Positions (in `0..n`) of the elements an i.i.d. Bernoulli(`p`) process drops, in order.
pub fn drop_positions(rng: &mut impl Rng, n: usize, p: f64) -> Vec<i64> {
    let mut positions = Vec::with_capacity((n as f64 * p * 1.25) as usize + 8);
    if p <= 0.0 {
        return positions;
    }
    if p >= 1.0 {
        return (0..n as i64).collect();
    }
    let log_keep = (-p).ln_1p();
    let mut i: i64 = -1;
    loop {
        let u = 1.0 - rng.gen::<f64>(); // in (0, 1]
        let gap = (u.ln() / log_keep).floor();
        if gap >= (n as f64) {
            break;
        }
        i = i.saturating_add(gap as i64 + 1);
        if i >= n as i64 {
            break;
        }
        positions.push(i);
    }
    positions
}

impl Dropout {
    /// A dropout site with its own stream seeded from libtorch's CPU generator.
    pub fn new(p: f64) -> Dropout {
        let seed = i64::try_from(Tensor::randint(i64::MAX, [1], (Kind::Int64, Device::Cpu)))
            .expect("scalar");
        Dropout::seeded(p, seed as u64)
    }

    /// A dropout site whose stream is seeded with `seed` (what [`Dropout::new`] does with its
    /// libtorch draw).
    pub(crate) fn seeded(p: f64, seed: u64) -> Dropout {
        Dropout {
            p,
            rng: Arc::new(Mutex::new(ChaCha8Rng::seed_from_u64(seed))),
        }
    }

    /// The dropout probability.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// The same random stream with another probability.
    pub fn with_p(&self, p: f64) -> Dropout {
        Dropout {
            p,
            rng: Arc::clone(&self.rng),
        }
    }

    /// The next draw of this stream: the positions (in `0..n`) that a CPU dropout over `n`
    /// elements drops. [`Dropout::forward`] uses it; so does the packed trainer, which draws
    /// each member's positions from that member's stream (`pack::dropout`).
    pub(crate) fn positions(&self, n: usize) -> Vec<i64> {
        let mut rng = self.rng.lock().expect("dropout rng poisoned");
        drop_positions(&mut *rng, n, self.p)
    }

    /// Applies dropout when `active`, else returns `xs` unchanged.
    pub fn forward(&self, xs: Tensor, active: bool) -> Tensor {
        if !active || self.p <= 0.0 {
            return xs;
        }
        if xs.device() != Device::Cpu {
            return xs.dropout(self.p, true);
        }
        let positions = self.positions(xs.numel());
        drop_at(xs, self.p, &positions)
    }
}

/// `xs` scaled by `1/(1-p)` with the elements at `positions` (of its flattened, contiguous
/// form) zeroed: standard dropout with the dropped elements already drawn.
pub(crate) fn drop_at(xs: Tensor, p: f64, positions: &[i64]) -> Tensor {
    let scale = 1.0 / (1.0 - p);
    if positions.is_empty() {
        return xs * scale;
    }
    // One product with a constant mask (`scale`, 0 at the dropped positions): its backward is
    // one product too. Zeroing the scaled tensor in place instead made autograd copy the
    // gradient twice per site (once to undo the in-place write, once for `index_fill`).
    let mask = Tensor::full(xs.size(), scale, (xs.kind(), xs.device()));
    let _ = mask
        .view([-1])
        .index_fill_(0, &Tensor::from_slice(positions), 0.0);
    xs * mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_rate_and_independence_match_bernoulli() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let n = 2_000_000;
        let pos = drop_positions(&mut rng, n, 0.01);
        let rate = pos.len() as f64 / n as f64;
        assert!((rate - 0.01).abs() < 0.0005, "{rate}");
        assert!(pos.windows(2).all(|w| w[0] < w[1]));
        // adjacent pairs both dropped: p^2 of all pairs
        let pairs = pos.windows(2).filter(|w| w[1] == w[0] + 1).count() as f64 / n as f64;
        assert!((pairs - 1e-4).abs() < 3e-5, "{pairs}");
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let half = drop_positions(&mut rng, 100_000, 0.5).len() as f64 / 1e5;
        assert!((half - 0.5).abs() < 0.01, "{half}");
    }

    #[test]
    fn dropout_zeroes_and_rescales() {
        tch::manual_seed(3);
        let d = Dropout::new(0.5);
        let x = Tensor::ones([1000], (Kind::Float, Device::Cpu));
        let y: Vec<f32> = Vec::try_from(d.forward(x.shallow_clone(), true)).unwrap();
        assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
        let zeros = y.iter().filter(|&&v| v == 0.0).count();
        assert!((400..600).contains(&zeros), "{zeros}");
        let same: Vec<f32> = Vec::try_from(d.forward(x, false)).unwrap();
        assert!(same.iter().all(|&v| v == 1.0));
    }

    #[test]
    fn drop_at_zeroes_exactly_the_positions_in_value_and_gradient() {
        let x = Tensor::from_slice(&[1.5f32, -2.0, 3.0, 4.0, -0.5, 6.0])
            .view([2, 3])
            .set_requires_grad(true);
        let y = drop_at(x.shallow_clone(), 0.2, &[1, 4]);
        let scale = (1.0 / (1.0 - 0.2)) as f32;
        let values: Vec<f32> = Vec::try_from(y.view([-1])).unwrap();
        let expected = [1.5 * scale, 0.0, 3.0 * scale, 4.0 * scale, 0.0, 6.0 * scale];
        assert_eq!(values, expected);
        (y * Tensor::from_slice(&[1f32, 2., 3., 4., 5., 6.]).view([2, 3]))
            .sum(Kind::Float)
            .backward();
        let grad: Vec<f32> = Vec::try_from(x.grad().view([-1])).unwrap();
        assert_eq!(
            grad,
            [scale, 0.0, 3.0 * scale, 4.0 * scale, 0.0, 6.0 * scale]
        );
        let kept: Vec<f32> = Vec::try_from(drop_at(x.detach(), 0.2, &[]).view([-1])).unwrap();
        assert_eq!(kept[5], 6.0 * scale);
    }
}
