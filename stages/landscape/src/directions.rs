//! Random directions in parameter space, one per parameter tensor, each scaled to the norm of
//! the tensor it perturbs (so a step of 1 along it moves every tensor by its own size).
//!
//! The normal variates come from a ChaCha8 stream (Box-Muller), not from libtorch's generator,
//! so the directions are the same on every machine and device for the same seed.

use rand::Rng;
use tch::{Kind, Tensor};

/// `n` standard normal variates (Box-Muller on `rng`).
pub fn normals(rng: &mut impl Rng, n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1 = 1.0 - rng.gen::<f64>(); // in (0, 1]
        let u2 = rng.gen::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        out.push((r * t.cos()) as f32);
        out.push((r * t.sin()) as f32);
    }
    out.truncate(n);
    out
}

/// A random direction shaped like `theta` (float, on its device) whose 2-norm equals
/// `theta`'s; zero when `theta` is zero.
pub fn scaled_direction(rng: &mut impl Rng, theta: &Tensor) -> Tensor {
    let values = normals(rng, theta.numel());
    let d = Tensor::from_slice(&values)
        .view(theta.size().as_slice())
        .to_device(theta.device())
        .to_kind(Kind::Float);
    let target = theta.norm().double_value(&[]);
    let norm = d.norm().double_value(&[]);
    if target == 0.0 || norm == 0.0 {
        return d.zeros_like();
    }
    d * (target / norm)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn normals_have_unit_variance_and_repeat_for_a_seed() {
        let a = normals(&mut ChaCha8Rng::seed_from_u64(7), 20_001);
        let b = normals(&mut ChaCha8Rng::seed_from_u64(7), 20_001);
        assert_eq!(a, b);
        assert_eq!(a.len(), 20_001);
        let mean = a.iter().map(|&x| f64::from(x)).sum::<f64>() / a.len() as f64;
        let var = a
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / a.len() as f64;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }

    #[test]
    fn direction_has_the_norm_of_its_tensor() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let theta = Tensor::from_slice(&[3.0f32, -4.0, 0.0, 12.0]).view([2, 2]);
        let d = scaled_direction(&mut rng, &theta);
        assert_eq!(d.size(), vec![2, 2]);
        assert!((d.norm().double_value(&[]) - 13.0).abs() < 1e-4);
        let zero = scaled_direction(
            &mut rng,
            &Tensor::zeros([3], (Kind::Float, tch::Device::Cpu)),
        );
        assert_eq!(zero.abs().sum(Kind::Float).double_value(&[]), 0.0);
    }
}
