//! Table 6 (the semantic dispersion probe) side by side: the paper's values next to ours.
//!
//! For each task the paper reports and each task that was probed here, one "paper" row (quoted
//! from SPEC §6, or "–" where the paper has no row) and one "ours" row. Ours uses the probe of
//! the full-attention model for the first column group and of the topk5 model for the others,
//! each from the paper's probed seed 140439608 when available, else the smallest probed seed;
//! the row says which. Probes of other variants (topk9) are listed in the data section only.

use common::{Task, Variant};

use crate::format::{sig3, NOT_RUN};
use crate::input::Inputs;
use crate::paper::{paper_table6, PAPER_PROBE_SEED, PAPER_TABLE6};
use crate::probe::ProbeFile;

/// Where a Table 6 row's numbers come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// Quoted from the paper.
    Paper,
    /// Computed here from the probes of these seeds (full, topk5).
    Ours {
        /// Seed of the full-attention probe, if any.
        full_seed: Option<u64>,
        /// Seed of the topk5 probe, if any.
        top5_seed: Option<u64>,
    },
}

/// One row of Table 6: four column groups of four percentiles, as display strings.
#[derive(Clone, Debug)]
pub struct Table6Row {
    /// Task.
    pub task: Task,
    /// Paper or ours.
    pub source: Source,
    /// full delta p75/p90/p95/p100; top5 delta; top5 Delta p25/p10/p5/p0; top5 beta.
    pub groups: [[String; 4]; 4],
    /// Raw values of ours (None for the paper and for cells not run), same layout.
    pub values: [[Option<f64>; 4]; 4],
}

/// Column-group titles.
pub const GROUPS: [&str; 4] = [
    "full δ p75/p90/p95/p100",
    "top5 δ p75/p90/p95/p100",
    "top5 Δ p25/p10/p5/p0",
    "top5 β p75/p90/p95/p100",
];

/// Builds the rows: paper tasks first in the paper's order, then other probed tasks.
pub fn table6(inputs: &Inputs) -> Vec<Table6Row> {
    let mut tasks: Vec<Task> = PAPER_TABLE6.iter().map(|r| r.task).collect();
    for (_, p) in &inputs.probes {
        if !tasks.contains(&p.task) {
            tasks.push(p.task);
        }
    }
    tasks[PAPER_TABLE6.len()..].sort();
    let mut rows = Vec::new();
    for task in tasks {
        let paper = paper_table6(task);
        let quoted = |f: fn(&crate::paper::PaperTable6Row) -> [&'static str; 4]| {
            paper.map_or_else(dash4, |r| f(r).map(str::to_owned))
        };
        rows.push(Table6Row {
            task,
            source: Source::Paper,
            groups: [
                quoted(|r| r.full_delta),
                quoted(|r| r.top5_delta),
                quoted(|r| r.top5_sep),
                quoted(|r| r.top5_beta),
            ],
            values: [[None; 4]; 4],
        });
        let full = inputs.probe_for(task, Variant::Full).map(|(_, p)| p);
        let top5 = inputs
            .probe_for(task, Variant::Topk { k: 5 })
            .map(|(_, p)| p);
        let values: [[Option<f64>; 4]; 4] = [
            full.map(|p| p.delta.values().map(Some))
                .unwrap_or([None; 4]),
            top5.map(|p| p.delta.values().map(Some))
                .unwrap_or([None; 4]),
            top5.and_then(|p| p.sep)
                .map(|s| s.values().map(Some))
                .unwrap_or([None; 4]),
            top5.and_then(|p| p.beta)
                .map(|b| b.values().map(Some))
                .unwrap_or([None; 4]),
        ];
        let shown = |probe: Option<&ProbeFile>, vals: [Option<f64>; 4]| match probe {
            None => [
                NOT_RUN.to_owned(),
                String::new(),
                String::new(),
                String::new(),
            ],
            Some(_) => vals.map(|v| v.map_or("–".to_owned(), sig3)),
        };
        let groups = [
            shown(full, values[0]),
            shown(top5, values[1]),
            shown(top5, values[2]),
            shown(top5, values[3]),
        ];
        rows.push(Table6Row {
            task,
            source: Source::Ours {
                full_seed: full.map(|p| p.seed),
                top5_seed: top5.map(|p| p.seed),
            },
            groups,
            values,
        });
    }
    rows
}

fn dash4() -> [String; 4] {
    [
        "–".to_owned(),
        "–".to_owned(),
        "–".to_owned(),
        "–".to_owned(),
    ]
}

impl Table6Row {
    /// "paper (seed 140439608)" or "ours (full seed …, top5 seed …)".
    pub fn source_label(&self) -> String {
        match &self.source {
            Source::Paper if paper_table6(self.task).is_some() => {
                format!("paper (seed {PAPER_PROBE_SEED})")
            }
            Source::Paper => "paper (no value)".to_owned(),
            Source::Ours {
                full_seed: None,
                top5_seed: None,
            } => format!("ours ({NOT_RUN})"),
            Source::Ours {
                full_seed,
                top5_seed,
            } => {
                let seed = |s: &Option<u64>| s.map_or(NOT_RUN.to_owned(), |s| format!("seed {s}"));
                format!("ours (full {}, top5 {})", seed(full_seed), seed(top5_seed))
            }
        }
    }

    /// A column group joined as `a / b / c / d` (or the single "not run").
    pub fn group_cell(&self, i: usize) -> String {
        let g = &self.groups[i];
        if g[0] == NOT_RUN {
            NOT_RUN.to_owned()
        } else {
            g.join(" / ")
        }
    }
}
