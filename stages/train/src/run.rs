//! One training run from parsed arguments to the four output files.
//!
//! Order of work: set the run up with [`prepare_run`] (the steps a pack member shares: names,
//! `meta.json`, device, configuration, seeding, workers, data, model, `config.json`), build the
//! batch-sharing workers and the optimiser, train (rewriting `history.csv` after every epoch),
//! then write `model.safetensors` and finally `metrics.json` (`record`), so that a present
//! `metrics.json` means a finished run.
//!
//! Wall times go to stderr only (a line per reported epoch, `progress`, and the total at the
//! end, which the engine keeps in the instance's log: `repro logs INSTANCE`), never into the
//! output files: a re-run that reproduces every weight then reproduces every byte of the run
//! directory.

use std::time::Instant;

use crate::cli::Args;
use crate::error::TrainError;
use crate::optim::Optim;
use crate::parallel::Workers;
use crate::progress::{diverged_line, epoch_line, Timing};
use crate::record::{run_metrics, write_final, write_history};
use crate::setup::{prepare_run, WorkerCount};
use crate::train_loop::train;

/// Runs `train` with `args`.
pub fn run(args: &Args) -> Result<(), TrainError> {
    let started = Instant::now();
    let run = prepare_run(
        args,
        || common_torch::choose().map_err(TrainError::Device),
        WorkerCount::Planned,
    )?;
    let cfg = &run.cfg;
    let mut workers = Workers::new(&run.model, cfg.train.workers);
    let mut opt = Optim::new(&run.vs, cfg.train.optimizer, cfg.train.lr, cfg.train.clip)?;
    eprintln!(
        "train: {} {} {} seed {} on {} x{} ({} train / {} held-out, length {}, {} epochs)",
        run.names.task,
        run.names.variant,
        run.names.activation,
        cfg.train.seed,
        common_torch::name(run.device),
        cfg.train.workers,
        run.train.len(),
        run.heldout.len(),
        cfg.model.seq_len(),
        cfg.train.epochs
    );

    let mut write_error = None;
    let outcome = train(
        &mut workers,
        &mut opt,
        &run.train,
        &run.heldout,
        &cfg.train,
        |rows, seconds| {
            let line = rows
                .last()
                .and_then(|r| epoch_line(r, cfg.train.epochs, seconds, Timing::Run));
            if let Some(line) = line {
                eprintln!("{line}");
            }
            if write_error.is_none() {
                write_error = write_history(&run.out, rows).err();
            }
        },
    );
    if let Some(e) = write_error {
        return Err(e);
    }
    if let Some(epoch) = outcome.stop.diverged_epoch() {
        eprintln!("{}", diverged_line(epoch));
    }

    let metrics = run_metrics(run.names, cfg, &outcome.history, outcome.stop, run.device);
    write_final(&run.out, &run.vs, &metrics)?;
    eprintln!(
        "train: {} epochs in {:.3}s wall time",
        outcome.history.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
