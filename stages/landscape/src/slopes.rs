//! Neighbour slopes of a loss grid: |L(i+1, j) - L(i, j)| / h and |L(i, j+1) - L(i, j)| / h for
//! a G x G grid with spacing h, the local Lipschitz estimates whose percentiles are reported.

/// The slopes of a row-major `g x g` grid of losses with spacing `h`, horizontal pairs first;
/// pairs with a non-finite loss are left out. Returns the slopes and how many pairs were left
/// out.
pub fn neighbour_slopes(losses: &[f64], g: usize, h: f64) -> (Vec<f32>, usize) {
    assert_eq!(losses.len(), g * g, "a g x g grid");
    let mut slopes = Vec::with_capacity(2 * g * g.saturating_sub(1));
    let mut skipped = 0;
    let mut pair = |a: f64, b: f64| {
        let s = (b - a).abs() / h;
        if s.is_finite() {
            slopes.push(s as f32);
        } else {
            skipped += 1;
        }
    };
    for i in 0..g {
        for j in 0..g.saturating_sub(1) {
            pair(losses[i * g + j], losses[i * g + j + 1]);
        }
    }
    for i in 0..g.saturating_sub(1) {
        for j in 0..g {
            pair(losses[i * g + j], losses[(i + 1) * g + j]);
        }
    }
    (slopes, skipped)
}

/// The coordinates of a `g`-point axis over [-1, 1] and its spacing.
pub fn axis(g: usize) -> (Vec<f64>, f64) {
    assert!(g >= 2, "at least two points per axis");
    let h = 2.0 / (g - 1) as f64;
    ((0..g).map(|i| -1.0 + h * i as f64).collect(), h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plane_has_its_two_gradients_as_slopes() {
        let g = 5;
        let (xs, h) = axis(g);
        assert_eq!(xs.first(), Some(&-1.0));
        assert!((xs[g - 1] - 1.0).abs() < 1e-12);
        // L(a, b) = 3a - 0.5b + 2, row i = a, column j = b.
        let losses: Vec<f64> = (0..g * g)
            .map(|n| 3.0 * xs[n / g] - 0.5 * xs[n % g] + 2.0)
            .collect();
        let (slopes, skipped) = neighbour_slopes(&losses, g, h);
        assert_eq!(skipped, 0);
        assert_eq!(slopes.len(), 2 * g * (g - 1));
        let (along_b, along_a) = slopes.split_at(g * (g - 1));
        assert!(
            along_b.iter().all(|s| (s - 0.5).abs() < 1e-5),
            "{along_b:?}"
        );
        assert!(
            along_a.iter().all(|s| (s - 3.0).abs() < 1e-5),
            "{along_a:?}"
        );
    }

    #[test]
    fn non_finite_losses_are_left_out_and_counted() {
        let losses = [0.0, 1.0, f64::INFINITY, 2.0];
        let (slopes, skipped) = neighbour_slopes(&losses, 2, 2.0);
        // pairs: (0,1) ok, (inf,2) out, (0,inf) out, (1,2) ok
        assert_eq!(skipped, 2);
        assert_eq!(slopes, vec![0.5, 0.5]);
    }
}
