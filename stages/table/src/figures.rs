//! Learning-curve figures like the paper's first figure: for each activation, one panel per
//! task with the training loss (log scale, top) and the held-out accuracy (bottom) per epoch;
//! one line per variant for the median over seeds, with a translucent band from the 25% to the
//! 75% quantile. Written as PNG (bitmap backend) and SVG.
//!
//! Text in the PNG is rendered with the embedded DejaVu Sans (`assets/DejaVuSans.ttf`, licence
//! beside it) through plotters' pure-Rust `ab_glyph` path, so no system font, fontconfig or
//! FreeType is needed. The SVG names the `sans-serif` family and leaves glyphs to the viewer.
//!
//! Colours are fixed per variant (full black, topk red, band blues, bloc greens, global-token
//! variants in their own hues) so the same variant looks the same in every figure. Up to four
//! tasks share a row; more tasks wrap onto further rows.

use std::path::Path;
use std::sync::OnceLock;

use common::{Activation, Task, Variant};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use stats::schema::{activation_order, variant_order, Band, Curves, GroupStats};

use crate::input::Inputs;
use crate::TableError;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

const PANEL_W: u32 = 440;
const PANEL_H: u32 = 280;
const COLUMNS: usize = 4;
const LEGEND_ENTRY_W: u32 = 118;
const LEGEND_ROW_H: u32 = 22;
const TITLE_H: u32 = 34;

/// One figure: the curves of every task run under one activation.
#[derive(Clone, Debug)]
pub struct Figure<'a> {
    /// Activation.
    pub activation: Activation,
    /// Per task (paper order), its groups (paper variant order).
    pub panels: Vec<(Task, Vec<&'a GroupStats>)>,
}

/// The figures to draw, one per activation with runs.
pub fn figures(inputs: &Inputs) -> Vec<Figure<'_>> {
    let mut activations: Vec<Activation> = inputs
        .stats
        .values()
        .flat_map(|(_, f)| f.groups.iter().map(|g| g.activation))
        .collect();
    activations.sort_by_key(activation_order);
    activations.dedup();
    activations
        .into_iter()
        .map(|activation| {
            let panels = inputs
                .stats
                .values()
                .filter_map(|(_, f)| {
                    let mut groups: Vec<&GroupStats> = f
                        .groups
                        .iter()
                        .filter(|g| g.activation == activation)
                        .collect();
                    groups.sort_by_key(|g| variant_order(&g.variant));
                    (!groups.is_empty()).then_some((f.task, groups))
                })
                .collect::<Vec<_>>();
            let mut panels = panels;
            panels.sort_by_key(|(t, _)| Task::ALL.iter().position(|x| x == t));
            Figure { activation, panels }
        })
        .collect()
}

/// Registers the embedded font with plotters (once per process).
fn register_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| "the embedded font `DejaVuSans.ttf` could not be parsed".to_owned())
    })
    .clone()
}

/// Line colour of a variant.
pub fn colour(v: Variant) -> RGBColor {
    match v {
        Variant::Full => RGBColor(0, 0, 0),
        Variant::Topk { k: 5 } => RGBColor(214, 39, 40),
        Variant::Topk { .. } => RGBColor(140, 20, 60),
        Variant::Band { k: 5, globals: 0 } => RGBColor(31, 119, 180),
        Variant::Band { globals: 0, .. } => RGBColor(23, 190, 207),
        Variant::Bloc { k: 5, globals: 0 } => RGBColor(44, 160, 44),
        Variant::Bloc { globals: 0, .. } => RGBColor(150, 170, 30),
        Variant::Band { k: 5, globals: 1 } => RGBColor(148, 103, 189),
        Variant::Band { k: 5, .. } => RGBColor(190, 160, 215),
        Variant::Band { globals: 1, .. } => RGBColor(140, 86, 75),
        Variant::Band { .. } => RGBColor(196, 146, 128),
        Variant::Bloc { k: 5, globals: 1 } => RGBColor(255, 127, 14),
        Variant::Bloc { k: 5, .. } => RGBColor(250, 180, 100),
        Variant::Bloc { globals: 1, .. } => RGBColor(227, 119, 194),
        Variant::Bloc { .. } => RGBColor(127, 127, 127),
    }
}

fn stroke(v: Variant) -> u32 {
    if matches!(v, Variant::Full | Variant::Topk { .. }) {
        3
    } else {
        2
    }
}

impl Figure<'_> {
    fn variants(&self) -> Vec<Variant> {
        let mut vs: Vec<Variant> = self
            .panels
            .iter()
            .flat_map(|(_, gs)| gs.iter().map(|g| g.variant))
            .collect();
        vs.sort_by_key(variant_order);
        vs.dedup();
        vs
    }

    fn size(&self) -> (u32, u32, u32) {
        let cols = self.panels.len().clamp(1, COLUMNS);
        let rows = self.panels.len().div_ceil(COLUMNS).max(1);
        let width = cols as u32 * PANEL_W;
        let per_row = (width / LEGEND_ENTRY_W).max(1) as usize;
        let legend_rows = self.variants().len().div_ceil(per_row).max(1) as u32;
        let header = TITLE_H + legend_rows * LEGEND_ROW_H + 6;
        (width, header + rows as u32 * 2 * PANEL_H, header)
    }

    /// Writes the PNG.
    pub fn write_png(&self, path: &Path) -> Result<(), TableError> {
        register_font().map_err(|e| TableError::write(path, e))?;
        let (w, h, header) = self.size();
        let root = BitMapBackend::new(path, (w, h)).into_drawing_area();
        self.draw(&root, header)
            .map_err(|e| TableError::write(path, e))?;
        root.present().map_err(|e| TableError::write(path, e))
    }

    /// Writes the SVG.
    pub fn write_svg(&self, path: &Path) -> Result<(), TableError> {
        register_font().map_err(|e| TableError::write(path, e))?;
        let (w, h, header) = self.size();
        let root = SVGBackend::new(path, (w, h)).into_drawing_area();
        self.draw(&root, header)
            .map_err(|e| TableError::write(path, e))?;
        root.present().map_err(|e| TableError::write(path, e))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        header_h: u32,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let (header, body) = root.split_vertically(header_h);
        header.draw(&Text::new(
            format!(
                "Learning curves, {} — median over seeds, band 25–75%",
                self.activation
            ),
            (10, 8),
            ("sans-serif", 20).into_font().color(&BLACK),
        ))?;
        let (width, _) = header.dim_in_pixel();
        let per_row = (width / LEGEND_ENTRY_W).max(1) as usize;
        for (i, v) in self.variants().into_iter().enumerate() {
            let x = 14 + (i % per_row) as i32 * LEGEND_ENTRY_W as i32;
            let y = TITLE_H as i32 + (i / per_row) as i32 * LEGEND_ROW_H as i32 + 8;
            header.draw(&PathElement::new(
                vec![(x, y), (x + 26, y)],
                colour(v).stroke_width(stroke(v) + 1),
            ))?;
            header.draw(&Text::new(
                v.to_string(),
                (x + 32, y - 8),
                ("sans-serif", 15).into_font().color(&BLACK),
            ))?;
        }
        let cols = self.panels.len().clamp(1, COLUMNS);
        let rows = self.panels.len().div_ceil(COLUMNS).max(1);
        let cells = body.split_evenly((rows * 2, cols));
        for (i, (task, groups)) in self.panels.iter().enumerate() {
            let (r, c) = (i / cols, i % cols);
            let loss = &cells[(2 * r) * cols + c];
            let acc = &cells[(2 * r + 1) * cols + c];
            loss_panel(loss, *task, groups)?;
            accuracy_panel(acc, *task, groups)?;
        }
        Ok(())
    }
}

fn max_epoch(groups: &[&GroupStats]) -> f64 {
    groups
        .iter()
        .map(|g| g.curves.epochs.len())
        .max()
        .unwrap_or(1)
        .max(1) as f64
}

fn x_range(groups: &[&GroupStats]) -> std::ops::Range<f64> {
    let max = max_epoch(groups);
    if max <= 1.0 {
        0.5..1.5
    } else {
        1.0..max
    }
}

fn finite_values<'g>(
    groups: &'g [&GroupStats],
    band: fn(&Curves) -> &Band,
) -> impl Iterator<Item = f64> + 'g {
    groups.iter().flat_map(move |g| {
        let b = band(&g.curves);
        b.q25
            .iter()
            .chain(&b.q75)
            .chain(&b.median)
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
    })
}

fn loss_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    task: Task,
    groups: &[&GroupStats],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let band: fn(&Curves) -> &Band = |c| &c.train_loss;
    let positive: Vec<f64> = finite_values(groups, band).filter(|v| *v > 0.0).collect();
    let lo = positive.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = positive.iter().copied().fold(0.0, f64::max);
    let (lo, hi) = if positive.is_empty() {
        (1e-3, 1.0)
    } else {
        (lo / 1.5, hi * 1.5)
    };
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{task}: training loss"), ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(34)
        .y_label_area_size(56)
        .build_cartesian_2d(x_range(groups), (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 13))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(220, 220, 220))
        .draw()?;
    draw_curves(&mut chart, groups, band, lo)
}

fn accuracy_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    task: Task,
    groups: &[&GroupStats],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let band: fn(&Curves) -> &Band = |c| &c.heldout_acc;
    let lowest = finite_values(groups, band).fold(1.0, f64::min);
    let lo = ((lowest * 10.0).floor() / 10.0).clamp(0.0, 0.4);
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{task}: held-out accuracy"), ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(34)
        .y_label_area_size(56)
        .build_cartesian_2d(x_range(groups), lo..1.005)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 13))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(220, 220, 220))
        .draw()?;
    draw_curves(&mut chart, groups, band, f64::NEG_INFINITY)
}

/// Draws bands first (so no band hides a line), then median lines; epochs where no seed has a
/// finite value break the line. `floor` clamps values (for the log axis).
fn draw_curves<DB, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    groups: &[&GroupStats],
    band: fn(&Curves) -> &Band,
    floor: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64>,
{
    let segments = |g: &GroupStats| -> Vec<Vec<(f64, f64, f64, f64)>> {
        let b = band(&g.curves);
        let mut out: Vec<Vec<(f64, f64, f64, f64)>> = vec![vec![]];
        for (i, e) in g.curves.epochs.iter().enumerate() {
            match (b.median[i], b.q25[i], b.q75[i]) {
                (Some(m), Some(l), Some(h)) => out.last_mut().expect("non-empty").push((
                    *e as f64,
                    m.max(floor),
                    l.max(floor),
                    h.max(floor),
                )),
                _ => out.push(vec![]),
            }
        }
        out.retain(|s| !s.is_empty());
        out
    };
    for g in groups {
        let fill = colour(g.variant).mix(0.14).filled();
        for seg in segments(g) {
            let mut points: Vec<(f64, f64)> = seg.iter().map(|p| (p.0, p.3)).collect();
            points.extend(seg.iter().rev().map(|p| (p.0, p.2)));
            chart.draw_series(std::iter::once(Polygon::new(points, fill)))?;
        }
    }
    for g in groups {
        let style = colour(g.variant).stroke_width(stroke(g.variant));
        for seg in segments(g) {
            chart.draw_series(LineSeries::new(seg.iter().map(|p| (p.0, p.1)), style))?;
        }
    }
    Ok(())
}
