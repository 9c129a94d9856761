//! The main results table as data: per activation, per task, per variant, the group of the
//! stats summary or a "not run" marker. Markdown, LaTeX and CSV render this one model.
//!
//! Which rows exist: every activation that has at least one run gets a section; within it every
//! task of the paper appears (a task without runs for that activation as a single "not run"
//! row), and a task that was run lists every variant run for any task under that activation, in
//! the paper's order, so a variant missing for one task shows as "not run" beside the others.
//! Paper-grid variants and activations never run anywhere are listed once, not row by row.

use common::{Activation, Task, Variant};
use stats::schema::{activation_order, variant_order, GroupStats};

use crate::input::Inputs;

/// One row: a variant of a task, with its statistics if it was run.
#[derive(Clone, Debug)]
pub struct Row<'a> {
    /// Variant.
    pub variant: Variant,
    /// Its statistics, `None` when not run.
    pub group: Option<&'a GroupStats>,
}

/// The rows of one task under one activation (empty when the task was not run).
#[derive(Clone, Debug)]
pub struct TaskBlock<'a> {
    /// Task.
    pub task: Task,
    /// Epoch counts of its runs (empty when not run).
    pub epochs: Vec<usize>,
    /// Rows; empty when the task was not run under this activation.
    pub rows: Vec<Row<'a>>,
}

/// All tasks under one activation.
#[derive(Clone, Debug)]
pub struct Section<'a> {
    /// Activation.
    pub activation: Activation,
    /// One block per task of the paper, in the paper's order.
    pub blocks: Vec<TaskBlock<'a>>,
}

/// The whole main table.
#[derive(Clone, Debug)]
pub struct MainTable<'a> {
    /// One section per activation that has runs.
    pub sections: Vec<Section<'a>>,
    /// Activations with no run at all.
    pub activations_not_run: Vec<Activation>,
    /// Variants of the paper's grid with no run at all.
    pub variants_not_run: Vec<Variant>,
}

/// Builds the main table from the inputs.
pub fn main_table(inputs: &Inputs) -> MainTable<'_> {
    let groups: Vec<(Task, &GroupStats)> = inputs
        .stats
        .values()
        .flat_map(|(_, f)| f.groups.iter().map(move |g| (f.task, g)))
        .collect();
    let mut activations: Vec<Activation> = groups.iter().map(|(_, g)| g.activation).collect();
    activations.sort_by_key(activation_order);
    activations.dedup();

    let sections = activations
        .iter()
        .map(|&activation| {
            let mut variants: Vec<Variant> = groups
                .iter()
                .filter(|(_, g)| g.activation == activation)
                .map(|(_, g)| g.variant)
                .collect();
            variants.sort_by_key(variant_order);
            variants.dedup();
            let blocks = Task::ALL
                .iter()
                .map(|&task| {
                    let of_task: Vec<&(Task, &GroupStats)> = groups
                        .iter()
                        .filter(|(t, g)| *t == task && g.activation == activation)
                        .collect();
                    if of_task.is_empty() {
                        return TaskBlock {
                            task,
                            epochs: vec![],
                            rows: vec![],
                        };
                    }
                    let rows = variants
                        .iter()
                        .map(|&variant| Row {
                            variant,
                            group: of_task
                                .iter()
                                .find(|(_, g)| g.variant == variant)
                                .map(|(_, g)| *g),
                        })
                        .collect();
                    let mut epochs: Vec<usize> = of_task
                        .iter()
                        .flat_map(|(_, g)| g.epochs.iter().copied())
                        .collect();
                    epochs.sort_unstable();
                    epochs.dedup();
                    TaskBlock { task, epochs, rows }
                })
                .collect();
            Section { activation, blocks }
        })
        .collect();

    let ran = |v: &Variant| groups.iter().any(|(_, g)| g.variant == *v);
    MainTable {
        sections,
        activations_not_run: Activation::ALL
            .into_iter()
            .filter(|a| !activations.contains(a))
            .collect(),
        variants_not_run: Variant::paper_grid()
            .into_iter()
            .filter(|v| !ran(v))
            .collect(),
    }
}

/// The group of (`task`, `variant`, `activation`), if run.
pub fn find_group(
    inputs: &Inputs,
    task: Task,
    variant: Variant,
    activation: Activation,
) -> Option<&GroupStats> {
    let (_, file) = inputs.stats.get(&task)?;
    file.groups
        .iter()
        .find(|g| g.variant == variant && g.activation == activation)
}
