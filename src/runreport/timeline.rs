//! The run's timeline: one bar per executed instance, from its start to its end, on a lane.
//!
//! Lanes are slots: the scheduler numbers its CPU slots and records, in the run record and the
//! action record, which ones each instance held with its GPUs (`cpu 2`, `gpu 0 · cpu 1`, or a
//! batch executor's name such as `slurm`, whose node or job is its own business). One lane per
//! distinct slot, in the order the labels sort (`cpu 0`, `cpu 1`, … then `gpu …`). Two bars on
//! one lane never overlap: where they would (a batch executor runs many jobs at once under one
//! name, or a record written before slots were recorded names only its device), the later one
//! takes a second lane of that label (`slurm #2`), placed greedily in order of start.
//! Each bar's tooltip names the instance, its slot, its device, its start and its duration;
//! bars are coloured by stage (a fixed palette, in stage-name order). Time 0 is the first
//! instance's start, so the `build:` command before it (minutes after a code change) does not
//! squeeze the bars into a corner.

use std::fmt::Write as _;

use super::html::{duration, esc, num};

/// One executed instance.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Span {
    /// Instance id.
    pub(crate) id: String,
    /// Index of its stage in the legend.
    pub(crate) stage: usize,
    /// `cpu`, `cuda:…` or the batch executor's name.
    pub(crate) device: String,
    /// The slots it held (`cpu 2`, `gpu 0 · cpu 1`), when recorded.
    pub(crate) slot: Option<String>,
    /// Seconds from the run's start.
    pub(crate) start: f64,
    /// Seconds from the run's start.
    pub(crate) end: f64,
}

impl Span {
    /// The lane's label: its slot, or its device when no slot was recorded.
    fn lane_label(&self) -> &str {
        self.slot.as_deref().unwrap_or(&self.device)
    }
}

/// Lane of each span (index into `spans`), and each lane's label (`cpu 2`, or `slurm #2` for
/// a label's second lane).
pub(crate) fn lanes(spans: &[Span]) -> (Vec<usize>, Vec<String>) {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by(|&a, &b| {
        (natural(spans[a].lane_label()), spans[a].start)
            .partial_cmp(&(natural(spans[b].lane_label()), spans[b].start))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut lane_of = vec![0; spans.len()];
    // (label, free from)
    let mut lanes: Vec<(&str, f64)> = Vec::new();
    for i in order {
        let s = &spans[i];
        let label = s.lane_label();
        let free = lanes
            .iter()
            .position(|(d, until)| *d == label && *until <= s.start + 1e-6);
        let lane = match free {
            Some(l) => l,
            None => {
                lanes.push((label, f64::NEG_INFINITY));
                lanes.len() - 1
            }
        };
        lanes[lane].1 = s.end.max(s.start);
        lane_of[i] = lane;
    }
    let mut seen: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    let labels = lanes
        .into_iter()
        .map(|(label, _)| {
            let n = seen.entry(label).or_insert(0);
            *n += 1;
            if *n == 1 {
                label.to_owned()
            } else {
                format!("{label} #{n}")
            }
        })
        .collect();
    (lane_of, labels)
}

/// A sort key that orders the numbers inside a label by value (`cpu 2` before `cpu 10`).
fn natural(label: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in label.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                out.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u64::MAX),
                ));
                digits.clear();
            }
            text.push(c);
        }
    }
    out.push((text, digits.parse().unwrap_or(0)));
    out
}

/// Stage colours, in stage order (repeating past the end).
pub(crate) const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

const LANE_H: f64 = 14.0;
const LABEL_W: f64 = 110.0;
const W: f64 = 900.0;

/// Renders the spans as SVG (nothing when there are none).
pub(crate) fn render(out: &mut String, spans: &[Span]) {
    if spans.is_empty() {
        return;
    }
    let (lane_of, labels) = lanes(spans);
    // Time 0 is when the first instance started: a build before it is not drawn.
    let t0 = spans.iter().map(|s| s.start).fold(f64::INFINITY, f64::min);
    let end = spans
        .iter()
        .map(|s| s.end - t0)
        .fold(0.0f64, f64::max)
        .max(1e-3);
    let h = labels.len() as f64 * LANE_H + 30.0;
    let sx = |t: f64| LABEL_W + t.max(0.0) / end * (W - LABEL_W - 10.0);
    let _ = write!(
        out,
        "<svg class=\"timeline\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" height=\"{1}\" role=\"img\" aria-label=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\">",
        num(W),
        num(h)
    );
    for (l, label) in labels.iter().enumerate() {
        let _ = write!(
            out,
            "<text x=\"4\" y=\"{}\">{}</text>",
            num(l as f64 * LANE_H + 11.0),
            esc(label),
        );
    }
    // A tick whose label reads like the previous one's (0.05 s and 0.1 s both print `0.1 s`)
    // keeps its grid line and loses its label.
    let mut last_label = String::new();
    for t in super::chart::ticks(0.0, end) {
        let label = duration(t);
        let _ = write!(
            out,
            "<line x1=\"{0}\" x2=\"{0}\" y1=\"0\" y2=\"{1}\" class=\"grid\"/>",
            num(sx(t)),
            num(h - 22.0),
        );
        if label != last_label {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                num(sx(t)),
                num(h - 8.0),
                esc(&label)
            );
        }
        last_label = label;
    }
    for (i, s) in spans.iter().enumerate() {
        let x = sx(s.start - t0);
        let w = (sx(s.end - t0) - x).max(1.0);
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} on {}{}: from {} for {}</title></rect>",
            num(x),
            num(lane_of[i] as f64 * LANE_H + 1.0),
            num(w),
            num(LANE_H - 2.0),
            PALETTE[s.stage % PALETTE.len()],
            esc(&s.id),
            esc(s.lane_label()),
            match &s.slot {
                Some(_) => format!(" ({})", esc(&s.device)),
                None => String::new(),
            },
            esc(&duration(s.start - t0)),
            esc(&duration(s.end - s.start))
        );
    }
    out.push_str("</svg>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, device: &str, start: f64, end: f64) -> Span {
        Span {
            id: id.into(),
            stage: 0,
            device: device.into(),
            slot: None,
            start,
            end,
        }
    }

    fn on(slot: &str, s: Span) -> Span {
        Span {
            slot: Some(slot.into()),
            ..s
        }
    }

    fn assert_no_overlap(spans: &[Span], lane: &[usize]) {
        for i in 0..spans.len() {
            for j in 0..i {
                if lane[i] == lane[j] {
                    let (a, b) = (&spans[i], &spans[j]);
                    assert!(
                        a.end <= b.start || b.end <= a.start,
                        "{} and {}",
                        a.id,
                        b.id
                    );
                }
            }
        }
    }

    #[test]
    fn bars_on_one_lane_never_overlap_and_devices_keep_their_own_lanes() {
        let spans = [
            span("a", "cpu", 0.0, 5.0),
            span("b", "cpu", 1.0, 3.0),
            span("c", "cpu", 3.0, 4.0),
            span("d", "cpu", 5.0, 6.0),
            span("g", "0", 0.0, 9.0),
        ];
        let (lane, labels) = lanes(&spans);
        assert_eq!(labels, ["0", "cpu", "cpu #2"]);
        assert_eq!(labels[lane[4]], "0");
        assert_no_overlap(&spans, &lane);
        assert_eq!(lane[2], lane[1], "c reuses b's lane once b ended");
    }

    #[test]
    fn recorded_slots_are_the_lanes_in_numeric_order() {
        let spans = [
            on("cpu 10", span("a", "cpu", 0.0, 5.0)),
            on("cpu 2", span("b", "cpu", 1.0, 3.0)),
            on("cpu 2", span("c", "cpu", 3.0, 4.0)),
            on("gpu 0 · cpu 1", span("g", "cuda:0", 0.0, 9.0)),
            on("gpu 0 · cpu 3", span("h", "cuda:0", 0.0, 9.0)),
        ];
        let (lane, labels) = lanes(&spans);
        assert_eq!(
            labels,
            ["cpu 2", "cpu 10", "gpu 0 · cpu 1", "gpu 0 · cpu 3"]
        );
        assert_eq!(lane[1], lane[2], "one slot, one lane");
        assert_eq!(labels[lane[0]], "cpu 10");
        assert_no_overlap(&spans, &lane);
        let mut out = String::new();
        render(&mut out, &spans);
        assert!(out.contains(">gpu 0 · cpu 3</text>"), "{out}");
        assert!(
            out.contains("<title>g on gpu 0 · cpu 1 (cuda:0): from 0.0 s for 9.0 s</title>"),
            "{out}"
        );
    }

    #[test]
    fn jobs_that_overlap_under_one_batch_label_get_numbered_lanes() {
        let spans = [
            on("slurm", span("a", "slurm", 0.0, 5.0)),
            on("slurm", span("b", "slurm", 1.0, 3.0)),
        ];
        let (lane, labels) = lanes(&spans);
        assert_eq!(labels, ["slurm", "slurm #2"]);
        assert_ne!(lane[0], lane[1]);
    }

    #[test]
    fn time_tick_labels_never_repeat() {
        let mut out = String::new();
        render(&mut out, &[span("short", "cpu", 0.0, 0.2)]);
        let labels: Vec<&str> = out
            .split("text-anchor=\"middle\">")
            .skip(1)
            .filter_map(|t| t.split('<').next())
            .collect();
        assert!(labels.len() >= 2, "{out}");
        for pair in labels.windows(2) {
            assert_ne!(pair[0], pair[1], "{labels:?}");
        }
    }

    #[test]
    fn time_starts_when_the_first_instance_started() {
        let mut out = String::new();
        render(&mut out, &[span("late", "cpu", 600.0, 602.0)]);
        assert!(
            out.contains("<title>late on cpu: from 0.0 s for 2.0 s</title>"),
            "{out}"
        );
    }

    #[test]
    fn every_span_is_one_bar_with_a_tooltip() {
        let mut out = String::new();
        render(
            &mut out,
            &[span("x<1>", "cpu", 0.0, 2.0), span("y", "cpu", 2.0, 4.0)],
        );
        assert_eq!(out.matches("<rect").count(), 2);
        assert!(out.contains("<title>x&lt;1&gt; on cpu: from 0.0 s for 2.0 s</title>"));
        let mut none = String::new();
        render(&mut none, &[]);
        assert!(none.is_empty());
    }
}
