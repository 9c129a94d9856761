//! Learning-curve figures like the paper's first figure: for each activation, one panel per
//! task with the training loss (log scale, top) and the held-out accuracy (bottom) per epoch;
//! one line per variant for the median over seeds, with a translucent band from the 25% to the
//! 75% quantile. Written as PNG (bitmap backend) and SVG.
//!
//! Runs stop at convergence, so with the runs' histories (`table --runs`) the median at an
//! epoch is over every seed, a run that stopped contributing its last value (as on the report
//! page); without them, the stats summaries' bands are over the seeds still training, and the
//! title says so. Epoch ticks are integers, each printed once; the title wraps to the figure's
//! width so a one-task figure does not cut it.
//!
//! Text in the PNG is rendered with the embedded DejaVu Sans (`assets/DejaVuSans.ttf`, licence
//! beside it) through plotters' pure-Rust `ab_glyph` path, so no system font, fontconfig or
//! FreeType is needed. The SVG names the `sans-serif` family and leaves glyphs to the viewer.
//!
//! A footer line names the profile and the table instance's cache key (`origin`), so a figure
//! copied out of `results/` still says which run drew it.
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
use crate::origin::Origin;
use crate::page::{carried_quantiles, Histories};
use crate::TableError;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

const PANEL_W: u32 = 440;
const PANEL_H: u32 = 280;
const COLUMNS: usize = 4;
const LEGEND_ENTRY_W: u32 = 118;
const LEGEND_ROW_H: u32 = 22;
const TITLE_H: u32 = 34;
const TITLE_FONT: u32 = 20;
const TITLE_LINE_H: u32 = 26;
const FOOTER_FONT: u32 = 13;
const FOOTER_LINE_H: u32 = 18;
/// Width of a title character as a fraction of the font size (DejaVu Sans averages about 0.55;
/// a little more keeps wide letters inside).
const CHAR_W: f64 = 0.6;

/// One figure: the curves of every task run under one activation.
#[derive(Clone, Debug)]
pub struct Figure<'a> {
    /// Activation.
    pub activation: Activation,
    /// Per task (paper order), its groups (paper variant order).
    pub panels: Vec<(Task, Vec<&'a GroupStats>)>,
    /// The runs' histories, when read: medians then carry stopped runs forward.
    pub histories: Option<&'a Histories>,
    /// The footer: the profile and key of the run that drew it ([`Origin::footer`]).
    pub footer: String,
}

/// One epoch of a curve: epoch, median, 25% and 75% quantiles; `None` where no seed has a
/// finite value (the line breaks there).
type CurvePoint = Option<(f64, f64, f64, f64)>;

/// The figures to draw, one per activation with runs.
pub fn figures<'a>(
    inputs: &'a Inputs,
    histories: Option<&'a Histories>,
    origin: &Origin,
) -> Vec<Figure<'a>> {
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
            Figure {
                activation,
                panels,
                histories,
                footer: origin.footer(),
            }
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

    /// The title: what the lines are, and how runs that stopped count.
    pub fn title(&self) -> String {
        match self.histories {
            Some(_) => format!(
                "Learning curves, {}: median over seeds (a run that stopped at convergence counts with its last value), band 25–75%",
                self.activation
            ),
            None => format!(
                "Learning curves, {}: median over the seeds still training at each epoch, band 25–75%",
                self.activation
            ),
        }
    }

    /// The title broken into lines that fit `width` pixels.
    fn title_lines(&self, width: u32) -> Vec<String> {
        let per_line = ((width.saturating_sub(20)) as f64 / (TITLE_FONT as f64 * CHAR_W)) as usize;
        wrap(&self.title(), per_line.max(10))
    }

    /// The footer broken into lines that fit `width` pixels.
    fn footer_lines(&self, width: u32) -> Vec<String> {
        let per_line = ((width.saturating_sub(20)) as f64 / (FOOTER_FONT as f64 * CHAR_W)) as usize;
        wrap(&self.footer, per_line.max(10))
    }

    /// Height of the footer.
    fn footer_h(&self, width: u32) -> u32 {
        self.footer_lines(width).len() as u32 * FOOTER_LINE_H + 6
    }

    /// One group's curve on `task`, per epoch: carried forward from the histories when read,
    /// else the stats band.
    fn curve(&self, task: Task, g: &GroupStats, which: Which) -> Vec<CurvePoint> {
        let seeds = self
            .histories
            .and_then(|h| h.get(&(task, g.variant.to_string(), g.activation.to_string())));
        match seeds {
            Some(seeds) => {
                let pick: fn(&common::run_output::HistoryRow) -> f64 = match which {
                    Which::TrainLoss => |r| r.train_loss,
                    Which::HeldoutAcc => |r| r.heldout_acc,
                };
                carried_quantiles(seeds, pick)
                    .into_iter()
                    .map(|p| Some((p.x, p.y, p.lo.unwrap_or(p.y), p.hi.unwrap_or(p.y))))
                    .collect()
            }
            None => {
                let b = which.band(&g.curves);
                g.curves
                    .epochs
                    .iter()
                    .enumerate()
                    .map(|(i, e)| match (b.median[i], b.q25[i], b.q75[i]) {
                        (Some(m), Some(l), Some(h)) => Some((*e as f64, m, l, h)),
                        _ => None,
                    })
                    .collect()
            }
        }
    }

    fn size(&self) -> (u32, u32, u32) {
        let cols = self.panels.len().clamp(1, COLUMNS);
        let rows = self.panels.len().div_ceil(COLUMNS).max(1);
        let width = cols as u32 * PANEL_W;
        let per_row = (width / LEGEND_ENTRY_W).max(1) as usize;
        let legend_rows = self.variants().len().div_ceil(per_row).max(1) as u32;
        let title_rows = self.title_lines(width).len() as u32;
        let header = TITLE_H + (title_rows - 1) * TITLE_LINE_H + legend_rows * LEGEND_ROW_H + 6;
        (
            width,
            header + rows as u32 * 2 * PANEL_H + self.footer_h(width),
            header,
        )
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
        let (header, rest) = root.split_vertically(header_h);
        let (width, rest_h) = rest.dim_in_pixel();
        let (body, footer) = rest.split_vertically(rest_h.saturating_sub(self.footer_h(width)));
        for (i, line) in self.footer_lines(width).iter().enumerate() {
            footer.draw(&Text::new(
                line.clone(),
                (10, 2 + (i as u32 * FOOTER_LINE_H) as i32),
                ("sans-serif", FOOTER_FONT)
                    .into_font()
                    .color(&RGBColor(80, 80, 80)),
            ))?;
        }
        let title_lines = self.title_lines(width);
        for (i, line) in title_lines.iter().enumerate() {
            header.draw(&Text::new(
                line.clone(),
                (10, 8 + (i as u32 * TITLE_LINE_H) as i32),
                ("sans-serif", TITLE_FONT).into_font().color(&BLACK),
            ))?;
        }
        let legend_top = TITLE_H + (title_lines.len() as u32 - 1) * TITLE_LINE_H;
        let per_row = (width / LEGEND_ENTRY_W).max(1) as usize;
        for (i, v) in self.variants().into_iter().enumerate() {
            let x = 14 + (i % per_row) as i32 * LEGEND_ENTRY_W as i32;
            let y = legend_top as i32 + (i / per_row) as i32 * LEGEND_ROW_H as i32 + 8;
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
            let curves = |which: Which| -> Vec<(Variant, Vec<CurvePoint>)> {
                groups
                    .iter()
                    .map(|g| (g.variant, self.curve(*task, g, which)))
                    .collect()
            };
            loss_panel(loss, *task, &curves(Which::TrainLoss))?;
            accuracy_panel(acc, *task, &curves(Which::HeldoutAcc))?;
        }
        Ok(())
    }
}

/// Which curve a panel draws.
#[derive(Clone, Copy, Debug)]
enum Which {
    TrainLoss,
    HeldoutAcc,
}

impl Which {
    fn band(self, c: &Curves) -> &Band {
        match self {
            Which::TrainLoss => &c.train_loss,
            Which::HeldoutAcc => &c.heldout_acc,
        }
    }
}

/// Words of `text` in lines of at most `per_line` characters (a longer word gets its own line).
fn wrap(text: &str, per_line: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= per_line => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

type Curve = (Variant, Vec<CurvePoint>);

fn max_epoch(curves: &[Curve]) -> f64 {
    curves
        .iter()
        .flat_map(|(_, c)| c.iter().flatten().map(|p| p.0))
        .fold(1.0, f64::max)
}

fn x_range(curves: &[Curve]) -> std::ops::Range<f64> {
    let max = max_epoch(curves);
    if max <= 1.0 {
        0.5..1.5
    } else {
        1.0..max
    }
}

/// How many epoch ticks to ask for: one per epoch up to ten.
fn x_ticks(curves: &[Curve]) -> usize {
    (max_epoch(curves) as usize).clamp(1, 10)
}

/// An epoch tick's label: whole epochs only, so no label repeats (`1 1 1 2 2 2`).
fn epoch_label(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-6 {
        format!("{x:.0}")
    } else {
        String::new()
    }
}

fn finite_values(curves: &[Curve]) -> impl Iterator<Item = f64> + '_ {
    curves
        .iter()
        .flat_map(|(_, c)| c.iter().flatten().flat_map(|p| [p.1, p.2, p.3]))
        .filter(|v| v.is_finite())
}

fn loss_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    task: Task,
    curves: &[Curve],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let positive: Vec<f64> = finite_values(curves).filter(|v| *v > 0.0).collect();
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
        .build_cartesian_2d(x_range(curves), (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels(x_ticks(curves))
        .x_label_formatter(&epoch_label)
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 13))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(220, 220, 220))
        .draw()?;
    draw_curves(&mut chart, curves, lo)
}

fn accuracy_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    task: Task,
    curves: &[Curve],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let lowest = finite_values(curves).fold(1.0, f64::min);
    let lo = ((lowest * 10.0).floor() / 10.0).clamp(0.0, 0.4);
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{task}: held-out accuracy"), ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(34)
        .y_label_area_size(56)
        .build_cartesian_2d(x_range(curves), lo..1.005)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels(x_ticks(curves))
        .x_label_formatter(&epoch_label)
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 13))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(220, 220, 220))
        .draw()?;
    draw_curves(&mut chart, curves, f64::NEG_INFINITY)
}

/// The unbroken runs of `curve` (epochs without a finite value break it), each point clamped
/// below at `floor` (for the log axis).
fn segments(curve: &[CurvePoint], floor: f64) -> Vec<Vec<(f64, f64, f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64, f64, f64)>> = vec![vec![]];
    for p in curve {
        match p {
            Some((e, m, l, h)) if m.is_finite() && l.is_finite() && h.is_finite() => {
                if let Some(last) = out.last_mut() {
                    last.push((*e, m.max(floor), l.max(floor), h.max(floor)));
                }
            }
            _ => out.push(vec![]),
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Draws bands first (so no band hides a line), then median lines.
fn draw_curves<DB, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    curves: &[Curve],
    floor: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64>,
{
    for (variant, curve) in curves {
        let fill = colour(*variant).mix(0.14).filled();
        for seg in segments(curve, floor) {
            let mut points: Vec<(f64, f64)> = seg.iter().map(|p| (p.0, p.3)).collect();
            points.extend(seg.iter().rev().map(|p| (p.0, p.2)));
            chart.draw_series(std::iter::once(Polygon::new(points, fill)))?;
        }
    }
    for (variant, curve) in curves {
        let style = colour(*variant).stroke_width(stroke(*variant));
        for seg in segments(curve, floor) {
            chart.draw_series(LineSeries::new(seg.iter().map(|p| (p.0, p.1)), style))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use common::run_output::HistoryRow;

    use super::*;
    use crate::claims::fixture::{by_epochs, group, TOPK5};

    fn row(epoch: usize, acc: f64) -> HistoryRow {
        HistoryRow {
            epoch,
            lr: 0.1,
            train_loss: 1.0 / epoch as f64,
            train_acc: acc,
            heldout_loss: 1.0,
            heldout_acc: acc,
        }
    }

    #[test]
    fn with_histories_a_stopped_run_counts_at_later_epochs_and_the_title_says_so() {
        let g = group(TOPK5, Activation::Relu, &by_epochs(1, &[2, 4]));
        let mut histories = Histories::new();
        histories.insert(
            (
                Task::EvenPairs,
                TOPK5.to_string(),
                Activation::Relu.to_string(),
            ),
            vec![
                // Seed 1 stopped at epoch 2 with 0.9; seed 2 trains to epoch 4.
                (1, vec![row(1, 0.5), row(2, 0.9)]),
                (2, vec![row(1, 0.5), row(2, 0.5), row(3, 0.6), row(4, 0.7)]),
            ],
        );
        let carried = Figure {
            activation: Activation::Relu,
            panels: vec![(Task::EvenPairs, vec![&g])],
            histories: Some(&histories),
            footer: String::new(),
        };
        let curve = carried.curve(Task::EvenPairs, &g, Which::HeldoutAcc);
        assert_eq!(curve.len(), 4);
        // Epoch 4: 0.9 (carried) and 0.7 -> median 0.8, not 0.7 from seed 2 alone.
        let (epoch, median, _, _) = curve[3].expect("epoch 4 has values");
        assert_eq!(epoch, 4.0);
        assert!((median - 0.8).abs() < 1e-12, "{median}");
        assert!(carried.title().contains("counts with its last value"));

        let still_training = Figure {
            histories: None,
            ..carried
        };
        assert!(still_training
            .title()
            .contains("median over the seeds still training"));
    }

    #[test]
    fn the_footer_names_the_profile_and_key_in_the_svg_and_fits_one_panel() {
        let g = group(TOPK5, Activation::Relu, &by_epochs(1, &[2, 4]));
        let origin = Origin::new("smoke", Some("0123456789abcdef".repeat(4))).unwrap();
        let fig = Figure {
            activation: Activation::Relu,
            panels: vec![(Task::EvenPairs, vec![&g])],
            histories: None,
            footer: origin.footer(),
        };
        assert_eq!(fig.footer_lines(PANEL_W).len(), 1, "{:?}", fig.footer);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.svg");
        fig.write_svg(&path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(
            svg.contains("profile smoke · table key 0123456789abcdef…"),
            "{svg}"
        );
        let (_, h, _) = fig.size();
        assert!(svg.contains(&format!("height=\"{h}\"")), "{svg}");
    }

    #[test]
    fn epoch_ticks_print_each_whole_epoch_once() {
        let labels: Vec<String> = [1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0]
            .iter()
            .map(epoch_label)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(labels, ["1", "2", "3"]);
    }

    #[test]
    fn titles_wrap_to_the_width_of_a_one_task_figure() {
        let title = "Learning curves, relu: median over seeds (a run that stopped at convergence counts with its last value), band 25–75%";
        let per_line = ((PANEL_W - 20) as f64 / (TITLE_FONT as f64 * CHAR_W)) as usize;
        let lines = wrap(title, per_line);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(
            lines.iter().all(|l| l.chars().count() <= per_line),
            "{lines:?}"
        );
        assert_eq!(lines.join(" "), title);
    }
}
