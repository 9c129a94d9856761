//! The command line of `stats` and the run it drives: load, summarise, write.

use std::path::PathBuf;

use clap::Parser;
use common::Task;

use crate::StatsError;

/// Statistics over seeds for one task of "Transformers Learn Faster with Semantic Focus".
#[derive(Debug, Parser)]
#[command(name = "stats", version, about)]
pub struct Args {
    /// Task whose runs are summarised (e.g. `listops`).
    #[arg(long)]
    pub task: Task,
    /// Directory laid out as VARIANT/ACTIVATION/SEED/{metrics.json,history.csv}.
    #[arg(long)]
    pub runs: PathBuf,
    /// Where to write the JSON summary (read by `table`).
    #[arg(long)]
    pub out_json: PathBuf,
    /// Where to write the CSV summary (one row per variant and activation).
    #[arg(long)]
    pub out_csv: PathBuf,
}

/// Runs `stats` with parsed arguments; progress goes to stderr.
pub fn run(args: &Args) -> Result<(), StatsError> {
    let runs = crate::load::load_runs(&args.runs, args.task)?;
    eprintln!(
        "stats: {} runs of `{}` under `{}`",
        runs.len(),
        args.task,
        args.runs.display()
    );
    let stats = crate::summary::summarise(args.task, &runs);
    crate::output::write_outputs(&stats, &args.out_json, &args.out_csv)?;
    eprintln!(
        "stats: wrote {} groups to `{}` and `{}`",
        stats.groups.len(),
        args.out_json.display(),
        args.out_csv.display()
    );
    Ok(())
}
