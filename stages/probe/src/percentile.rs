//! Percentiles with linear interpolation between order statistics (numpy's default method):
//! the q-th percentile of n sorted values is at fractional rank `q/100 * (n-1)`.

/// Sorts `values` (NaNs last) and returns the requested percentiles (each in 0..=100);
/// `None` for an empty input.
pub fn percentiles(values: &mut [f32], qs: &[f64]) -> Option<Vec<f64>> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable_by(f32::total_cmp);
    let n = values.iter().take_while(|v| !v.is_nan()).count();
    if n == 0 {
        return Some(vec![f64::NAN; qs.len()]);
    }
    let sorted = &values[..n];
    Some(
        qs.iter()
            .map(|&q| {
                let rank = q.clamp(0.0, 100.0) / 100.0 * (n - 1) as f64;
                let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
                let (a, b) = (f64::from(sorted[lo]), f64::from(sorted[hi]));
                a + (b - a) * (rank - lo as f64)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_linear_interpolation() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        let p = percentiles(&mut v, &[0.0, 25.0, 50.0, 90.0, 100.0]).unwrap();
        // numpy.percentile([1,2,3,4], [0,25,50,90,100]) = [1, 1.75, 2.5, 3.7, 4]
        let want = [1.0, 1.75, 2.5, 3.7, 4.0];
        for (a, b) in p.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{p:?}");
        }
        assert!(percentiles(&mut [], &[50.0]).is_none());
    }
}
