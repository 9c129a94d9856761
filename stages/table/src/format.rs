//! Number formatting shared by the Markdown, LaTeX and CSV writers, so that every output shows
//! the same digits. Cells use the Unicode signs ± and × (and an en dash for "no value"); the
//! LaTeX writer maps them to math mode. Accuracies are shown in percent with one decimal,
//! epochs with one decimal, speedups with two.

use stats::describe::Describe;
use stats::schema::GroupStats;

/// Marker for anything that was not run.
pub const NOT_RUN: &str = "not run";

/// `mean ± std` with `digits` decimals; the mean alone when there is one value; `–` for none.
pub fn mean_std(d: &Describe, scale: f64, digits: usize) -> String {
    match (d.mean, d.std) {
        (Some(m), Some(s)) => format!("{:.digits$} ± {:.digits$}", m * scale, s * scale),
        (Some(m), None) => format!("{:.digits$}", m * scale),
        _ => "–".to_owned(),
    }
}

/// Convergence cell: `mean ± std (converged/seeds)` over converged seeds, `not reached (0/n)`
/// when none converged, with the number of diverged seeds when there are any.
pub fn convergence(g: &GroupStats) -> String {
    let count = if g.diverged > 0 {
        format!(
            "({}/{}, {} diverged)",
            g.seeds_converged, g.seeds_run, g.diverged
        )
    } else {
        format!("({}/{})", g.seeds_converged, g.seeds_run)
    };
    if g.seeds_converged == 0 {
        format!("not reached {count}")
    } else {
        format!("{} {count}", mean_std(&g.convergence, 1.0, 1))
    }
}

/// Speedup cell: `4.35× [3.10, 5.90]`, `1 (ref.)` for full attention, `no full run` when the
/// activation has no full-attention group.
pub fn speedup(g: &GroupStats) -> String {
    if g.variant == common::Variant::Full {
        return "1 (ref.)".to_owned();
    }
    match &g.speedup_vs_full {
        Some(s) => format!("{:.2}× [{:.2}, {:.2}]", s.estimate, s.ci_low, s.ci_high),
        None => "no full run".to_owned(),
    }
}

/// Accuracy cell in percent: `85.0 ± 0.3`.
pub fn accuracy(d: &Describe) -> String {
    mean_std(d, 100.0, 1)
}

/// A number with about three significant digits, for the probe percentiles: 87.8, 8.61, 0.016,
/// 1e-9; whole numbers (beta counts) without decimals.
pub fn sig3(x: f64) -> String {
    let a = x.abs();
    if !x.is_finite() {
        format!("{x}")
    } else if x.fract() == 0.0 && a < 1e6 {
        // Counts (beta) and whole numbers print without decimals.
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else if a >= 0.001 {
        format!("{x:.3}")
    } else {
        format!("{x:.0e}")
    }
}

/// A p-value: four decimals, or `<0.0001`.
pub fn p_value(p: f64) -> String {
    if p < 1e-4 {
        "<0.0001".to_owned()
    } else {
        format!("{p:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_significant_digits() {
        assert_eq!(sig3(87.84), "87.8");
        assert_eq!(sig3(187.4), "187");
        assert_eq!(sig3(18.54), "18.5");
        assert_eq!(sig3(8.612), "8.61");
        assert_eq!(sig3(0.0163), "0.016");
        assert_eq!(sig3(1.2e-9), "1e-9");
        assert_eq!(sig3(598.0), "598");
        assert_eq!(sig3(3.0), "3");
        assert_eq!(p_value(0.0625), "0.0625");
        assert_eq!(p_value(1e-6), "<0.0001");
    }
}
