//! A stage's chart ([`repro_sections::Chart`]) as inline SVG: axes with ticks whose labels are
//! all different, a translucent band where points carry `lo` and `hi`, one polyline per line,
//! and a marker with a tooltip (`<title>`: the line's name and the values) on up to
//! [`MAX_MARKERS`] points of each line, evenly spread, and at most [`MAX_CHART_MARKERS`] per
//! chart (at least [`MIN_MARKERS`] per line), so that long curves or many lines do not bloat
//! the page. The legend is HTML below the figure. Nothing here needs script.

use std::fmt::Write as _;

use repro_sections::{Chart, Line};

use super::html::{esc, human, num};

/// Most tooltip markers per line.
pub(crate) const MAX_MARKERS: usize = 50;
/// Most tooltip markers per chart, shared by its lines (the paper grid's 15 variants get 10
/// each).
pub(crate) const MAX_CHART_MARKERS: usize = 150;
/// Fewest tooltip markers per line, however many lines.
pub(crate) const MIN_MARKERS: usize = 8;

const W: f64 = 560.0;
const H: f64 = 300.0;
const LEFT: f64 = 58.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 44.0;

/// Renders `c` as a `<figure>` holding the SVG and its legend.
pub(crate) fn chart(out: &mut String, c: &Chart) {
    let pts = || c.lines.iter().flat_map(|l| l.points.iter());
    let (mut x0, mut x1) = bounds(pts().map(|p| p.x));
    let (mut y0, mut y1) = match c.y_range {
        Some(r) => r,
        None => bounds(pts().flat_map(|p| [Some(p.y), p.lo, p.hi]).flatten()),
    };
    widen(&mut x0, &mut x1);
    widen(&mut y0, &mut y1);
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let sy = |y: f64| H - BOTTOM - (y - y0) / (y1 - y0) * (H - TOP - BOTTOM);
    let _ = write!(
        out,
        "<figure class=\"chart\"><svg class=\"chart\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(&c.title)
    );
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"18\" text-anchor=\"middle\" class=\"title\">{}</text>",
        num(W / 2.0),
        esc(&c.title)
    );
    // Axes and ticks.
    for t in ticks(x0, x1) {
        let x = sx(t);
        let _ = write!(
            out,
            "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" class=\"grid\"/><text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>",
            num(x),
            num(TOP),
            num(H - BOTTOM),
            num(H - BOTTOM + 14.0),
            esc(&human(t))
        );
    }
    for t in ticks(y0, y1) {
        let y = sy(t);
        let _ = write!(
            out,
            "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" class=\"grid\"/><text x=\"{3}\" y=\"{4}\" text-anchor=\"end\">{5}</text>",
            num(LEFT),
            num(W - RIGHT),
            num(y),
            num(LEFT - 4.0),
            num(y + 4.0),
            esc(&human(t))
        );
    }
    let _ = write!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"frame\"/>",
        num(LEFT),
        num(TOP),
        num(W - LEFT - RIGHT),
        num(H - TOP - BOTTOM)
    );
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text><text transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        num((LEFT + W - RIGHT) / 2.0),
        num(H - 8.0),
        esc(&c.x_label),
        num((TOP + H - BOTTOM) / 2.0),
        esc(&c.y_label)
    );
    // Bands first, then faint lines, then the others, so the main lines stay on top.
    for l in &c.lines {
        band(out, l, &sx, &sy);
    }
    let order = c
        .lines
        .iter()
        .filter(|l| l.faint)
        .chain(c.lines.iter().filter(|l| !l.faint));
    let solid = c.lines.iter().filter(|l| !l.faint).count().max(1);
    let markers = (MAX_CHART_MARKERS / solid).clamp(MIN_MARKERS, MAX_MARKERS);
    for l in order {
        line(out, l, markers, &sx, &sy);
    }
    out.push_str("</svg><figcaption><ul class=\"legend\">");
    for l in c.lines.iter().filter(|l| !l.faint) {
        let _ = write!(
            out,
            "<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>",
            esc(&l.colour),
            esc(&l.name)
        );
    }
    out.push_str("</ul></figcaption></figure>");
}

fn band(out: &mut String, l: &Line, sx: &impl Fn(f64) -> f64, sy: &impl Fn(f64) -> f64) {
    let edged: Vec<(f64, f64, f64)> = l
        .points
        .iter()
        .filter_map(|p| Some((p.x, p.lo?, p.hi?)))
        .collect();
    if edged.len() < 2 {
        return;
    }
    let mut d = String::new();
    for (x, _, hi) in &edged {
        let _ = write!(d, "{},{} ", num(sx(*x)), num(sy(*hi)));
    }
    for (x, lo, _) in edged.iter().rev() {
        let _ = write!(d, "{},{} ", num(sx(*x)), num(sy(*lo)));
    }
    let _ = write!(
        out,
        "<polygon points=\"{}\" fill=\"{}\" fill-opacity=\"0.15\" stroke=\"none\"/>",
        d.trim_end(),
        esc(&l.colour)
    );
}

fn line(
    out: &mut String,
    l: &Line,
    markers: usize,
    sx: &impl Fn(f64) -> f64,
    sy: &impl Fn(f64) -> f64,
) {
    let mut d = String::new();
    for p in &l.points {
        let _ = write!(d, "{},{} ", num(sx(p.x)), num(sy(p.y)));
    }
    let (width, opacity) = if l.faint { ("1", "0.45") } else { ("2", "1") };
    let _ = write!(
        out,
        "<g><title>{}</title><polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{width}\" stroke-opacity=\"{opacity}\"/></g>",
        esc(&l.name),
        d.trim_end(),
        esc(&l.colour)
    );
    if l.faint {
        return;
    }
    let n = l.points.len();
    let step = n.div_ceil(markers).max(1);
    for (i, p) in l.points.iter().enumerate() {
        if i % step != 0 && i + 1 != n {
            continue;
        }
        let mut tip = format!("{}: {} → {}", l.name, human(p.x), human(p.y));
        if let (Some(lo), Some(hi)) = (p.lo, p.hi) {
            let _ = write!(tip, " (band {} – {})", human(lo), human(hi));
        }
        let _ = write!(
            out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{}\"><title>{}</title></circle>",
            num(sx(p.x)),
            num(sy(p.y)),
            esc(&l.colour),
            esc(&tip)
        );
    }
}

/// The smallest and largest of `values`, `(0, 1)` when there are none.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc: Option<(f64, f64)>, v| match acc {
            None => Some((v, v)),
            Some((a, b)) => Some((a.min(v), b.max(v))),
        })
        .unwrap_or((0.0, 1.0))
}

/// Gives an empty range some width, so that one point still has an axis.
fn widen(lo: &mut f64, hi: &mut f64) {
    if *hi - *lo <= f64::EPSILON * lo.abs().max(1.0) {
        *lo -= 0.5;
        *hi += 0.5;
    }
}

/// Tick positions at a step of 1, 2 or 5 times a power of ten, at most about eight of them,
/// each inside `[lo, hi]`; with a whole step for whole-number axes, labels never repeat.
pub(crate) fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return vec![];
    }
    let raw = span / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| span / s <= 8.0)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use repro_sections::Point;

    #[test]
    fn tick_labels_never_repeat_on_a_short_epoch_axis() {
        for (lo, hi) in [
            (1.0, 3.0),
            (1.0, 100.0),
            (0.0, 1.0),
            (0.49, 0.51),
            (1.0, 1000.0),
        ] {
            let t = ticks(lo, hi);
            assert!(t.len() >= 2 && t.len() <= 9, "{lo}..{hi}: {t:?}");
            let labels: Vec<String> = t.iter().map(|v| human(*v)).collect();
            let mut unique = labels.clone();
            unique.dedup();
            assert_eq!(labels, unique, "{lo}..{hi}");
            assert!(t.iter().all(|v| *v >= lo - 1e-9 && *v <= hi + 1e-9));
        }
    }

    fn chart_of(n: usize, band: bool) -> Chart {
        Chart {
            title: "acc <even_pairs>".into(),
            x_label: "epoch".into(),
            y_label: "accuracy".into(),
            y_range: Some((0.0, 1.0)),
            lines: vec![Line {
                name: "full & co".into(),
                colour: "#112233".into(),
                points: (0..n)
                    .map(|i| Point {
                        x: i as f64 + 1.0,
                        y: 0.5,
                        lo: band.then_some(0.4),
                        hi: band.then_some(0.6),
                    })
                    .collect(),
                faint: false,
            }],
        }
    }

    #[test]
    fn a_long_line_gets_at_most_the_capped_number_of_tooltips() {
        let mut out = String::new();
        chart(&mut out, &chart_of(1000, true));
        let markers = out.matches("<circle").count();
        assert!(
            (MAX_MARKERS / 2..=MAX_MARKERS + 1).contains(&markers),
            "{markers}"
        );
        assert_eq!(out.matches("<polygon").count(), 1);
        assert!(out.contains("acc &lt;even_pairs&gt;"));
        assert!(out.contains("full &amp; co: 1 → 0.5 (band 0.4 – 0.6)"));
        assert!(!out.contains("NaN"));
    }

    #[test]
    fn a_single_point_without_band_still_draws_an_axis() {
        let mut out = String::new();
        let mut c = chart_of(1, false);
        c.y_range = None;
        chart(&mut out, &c);
        assert_eq!(out.matches("<polygon").count(), 0);
        assert_eq!(out.matches("<circle").count(), 1);
        assert!(out.matches("class=\"grid\"").count() >= 4);
    }
}
