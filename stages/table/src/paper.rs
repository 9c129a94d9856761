//! Numbers quoted from the paper, as reference points: Table 6 (the semantic dispersion probe)
//! and the largest speedup it reports. Source: `shared/SPEC.md` §5 and §6. They are shown
//! labelled "paper" and never mixed with numbers computed here.

use common::Task;

/// The largest speedup of top-k over full attention the paper reports.
pub const PAPER_MAX_SPEEDUP: f64 = 8.83;

/// The seed whose final weights the authors probed for Table 6.
pub const PAPER_PROBE_SEED: u64 = 140_439_608;

/// The tasks of the paper's first figure and of claim C1's explicit list.
pub const HEADLINE_TASKS: [Task; 3] = [Task::Listops, Task::EvenPairs, Task::MissingDuplicate];

/// One task's row of the paper's Table 6, as printed (strings keep the paper's precision).
#[derive(Clone, Copy, Debug)]
pub struct PaperTable6Row {
    /// Task.
    pub task: Task,
    /// Full-attention model: delta p75 / p90 / p95 / p100.
    pub full_delta: [&'static str; 4],
    /// top-5 model: delta p75 / p90 / p95 / p100.
    pub top5_delta: [&'static str; 4],
    /// top-5 model: separation Delta p25 / p10 / p5 / p0.
    pub top5_sep: [&'static str; 4],
    /// top-5 model: beta p75 / p90 / p95 / p100.
    pub top5_beta: [&'static str; 4],
}

/// The paper's Table 6 (SPEC §6).
pub const PAPER_TABLE6: [PaperTable6Row; 4] = [
    PaperTable6Row {
        task: Task::Listops,
        full_delta: ["8.61", "18.5", "29.4", "87.8"],
        top5_delta: ["3.51", "6.74", "9.67", "28.2"],
        top5_sep: [".016", ".005", ".002", "1e-9"],
        top5_beta: ["1", "3", "15", "598"],
    },
    PaperTable6Row {
        task: Task::Parity,
        full_delta: ["8.30", "10.1", "11.2", "19.4"],
        top5_delta: ["2.31", "3.13", "3.78", "9.16"],
        top5_sep: [".062", ".022", ".011", "1e-6"],
        top5_beta: ["8", "13", "16", "33"],
    },
    PaperTable6Row {
        task: Task::EvenPairs,
        full_delta: ["2.03", "4.73", "9.44", "14.6"],
        top5_delta: ["1.03", "2.84", "5.50", "8.25"],
        top5_sep: [".009", ".003", ".002", "3e-8"],
        top5_beta: ["6", "17", "26", "40"],
    },
    PaperTable6Row {
        task: Task::MissingDuplicate,
        full_delta: ["4.63", "9.25", "17.1", "23.9"],
        top5_delta: ["2.36", "4.25", "4.88", "10.5"],
        top5_sep: [".018", ".006", ".003", "1e-7"],
        top5_beta: ["7", "15", "21", "40"],
    },
];

/// The paper's Table 6 row of `task`, if the paper has one.
pub fn paper_table6(task: Task) -> Option<&'static PaperTable6Row> {
    PAPER_TABLE6.iter().find(|r| r.task == task)
}
