//! Descriptive statistics over seeds: mean, sample standard deviation, Student-t confidence
//! intervals (one sample and Welch's two-sample), and quantiles.
//!
//! Conventions: the standard deviation divides by n - 1 (it is `None` for fewer than two
//! values); an interval needs at least two values; quantiles interpolate linearly between order
//! statistics (Hyndman and Fan's type 7, the default of R and NumPy). Non-finite values must be
//! filtered out by the caller: these functions trust their input.

/// Mean, standard deviation and a two-sided t-interval of a sample.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Describe {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean (`None` when n = 0).
    pub mean: Option<f64>,
    /// Sample standard deviation, denominator n - 1 (`None` when n < 2).
    pub std: Option<f64>,
    /// Lower end of the two-sided t-interval for the mean (`None` when n < 2).
    pub ci_low: Option<f64>,
    /// Upper end of the interval.
    pub ci_high: Option<f64>,
}

/// Describes `values` with a two-sided `confidence` t-interval (e.g. 0.95).
pub fn describe(values: &[f64], confidence: f64) -> Describe {
    let n = values.len();
    let mean = mean(values);
    let std = std_dev(values);
    let (ci_low, ci_high) = match (mean, std) {
        (Some(m), Some(s)) => {
            let half = t_critical(confidence, (n - 1) as f64) * s / (n as f64).sqrt();
            (Some(m - half), Some(m + half))
        }
        _ => (None, None),
    };
    Describe {
        n,
        mean,
        std,
        ci_low,
        ci_high,
    }
}

/// Arithmetic mean, `None` for an empty slice.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Sample standard deviation (denominator n - 1), `None` for fewer than two values.
pub fn std_dev(values: &[f64]) -> Option<f64> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let m = mean(values)?;
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    Some((ss / (n - 1) as f64).sqrt())
}

/// The two-sided critical value t_{(1 + confidence) / 2, df}.
pub fn t_critical(confidence: f64, df: f64) -> f64 {
    crate::special::student_t_quantile(0.5 + confidence / 2.0, df)
}

/// Welch's interval for mean(a) - mean(b): estimate, standard error and degrees of freedom
/// (Welch-Satterthwaite). `None` when either sample has fewer than two values or both have zero
/// variance.
pub fn welch(a: &[f64], b: &[f64]) -> Option<(f64, f64, f64)> {
    let (va, vb) = (
        std_dev(a)?.powi(2) / a.len() as f64,
        std_dev(b)?.powi(2) / b.len() as f64,
    );
    let se2 = va + vb;
    if se2 == 0.0 {
        return None;
    }
    let df = se2 * se2 / (va * va / (a.len() - 1) as f64 + vb * vb / (b.len() - 1) as f64);
    Some((mean(a)? - mean(b)?, se2.sqrt(), df))
}

/// The `p`-quantile (0 <= p <= 1) of an ascending-sorted, non-empty slice, type 7.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of an empty sample");
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The median, 25% and 75% quantiles of a sample (`None` when empty).
pub fn quartiles(values: &[f64]) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some((
        quantile_sorted(&sorted, 0.5),
        quantile_sorted(&sorted, 0.25),
        quantile_sorted(&sorted, 0.75),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn mean_std_interval_by_hand() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares 32, sample variance 32/7.
        let d = describe(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 0.95);
        assert_eq!(d.n, 8);
        assert!(close(d.mean.unwrap(), 5.0));
        assert!(close(d.std.unwrap(), (32.0f64 / 7.0).sqrt()));
        // t_{0.975, 7} = 2.364624252; half-width = t * s / sqrt(8).
        let half = 2.364_624_252 * (32.0f64 / 7.0).sqrt() / 8f64.sqrt();
        assert!((d.ci_low.unwrap() - (5.0 - half)).abs() < 1e-7);
        assert!((d.ci_high.unwrap() - (5.0 + half)).abs() < 1e-7);
    }

    #[test]
    fn small_samples_have_no_spread_or_interval() {
        let d = describe(&[3.0], 0.95);
        assert_eq!((d.n, d.mean, d.std, d.ci_low), (1, Some(3.0), None, None));
        let d = describe(&[], 0.95);
        assert_eq!((d.n, d.mean), (0, None));
        let d = describe(&[2.0, 2.0], 0.95);
        assert_eq!((d.ci_low, d.ci_high), (Some(2.0), Some(2.0)));
    }

    #[test]
    fn quantiles_interpolate_like_type_7() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!(close(quantile_sorted(&v, 0.25), 1.75));
        assert!(close(quantile_sorted(&v, 0.5), 2.5));
        assert!(close(quantile_sorted(&v, 0.75), 3.25));
        assert_eq!(quartiles(&[5.0, 1.0, 3.0]), Some((3.0, 2.0, 4.0)));
    }

    #[test]
    fn welch_by_hand() {
        // a: mean 2, var 1; b: mean 5, var 4; n = 3 each: se^2 = 1/3 + 4/3 = 5/3.
        let (diff, se, df) = welch(&[1.0, 2.0, 3.0], &[3.0, 5.0, 7.0]).unwrap();
        assert!(close(diff, -3.0));
        assert!(close(se, (5.0f64 / 3.0).sqrt()));
        // df = (5/3)^2 / ((1/3)^2/2 + (4/3)^2/2) = (25/9) / (17/18) = 50/17.
        assert!(close(df, 50.0 / 17.0));
    }
}
