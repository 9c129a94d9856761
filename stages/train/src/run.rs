//! One training run from parsed arguments to the four output files.
//!
//! Order of work: parse names, read and check `meta.json`, resolve the configuration, choose
//! the device and seed libtorch (`common_torch`, seed derived from the run seed), load both
//! splits onto the device, build the model, write `config.json`, train (rewriting
//! `history.csv` after every epoch), then write `model.safetensors` and finally
//! `metrics.json` (`record`), so that a present `metrics.json` means a finished run.
//!
//! Wall times go to stderr only (a line per reported epoch, `progress`, and the total at the
//! end, which the engine keeps in the instance's log: `repro logs INSTANCE`), never into the
//! output files: a re-run that reproduces every weight then reproduces every byte of the run
//! directory.

use std::time::Instant;

use tch::nn;

use crate::cli::Args;
use crate::dataset::{load_run_splits, read_meta};
use crate::error::TrainError;
use crate::model::Model;
use crate::optim::Optim;
use crate::output::write_json;
use crate::parallel::{plan, Workers};
use crate::progress::{diverged_line, epoch_line, Timing};
use crate::record::{run_metrics, write_final, write_history};
use crate::train_loop::train;

/// Runs `train` with `args`.
pub fn run(args: &Args) -> Result<(), TrainError> {
    let started = Instant::now();
    let names = args.names()?;
    let meta = read_meta(&args.data, names.task)?;
    let device = common_torch::choose().map_err(TrainError::Device)?;
    let mut cfg = args.resolve(names, &meta, device)?;
    common_torch::init(common::seed::derive(cfg.train.seed, "torch"));
    cfg.train.workers = use_workers(device, cfg.train.batch);

    let (train_set, heldout) = load_run_splits(&args.data, &meta, &cfg, device)?;

    let vs = nn::VarStore::new(device);
    let model = Model::new(vs.root(), &cfg.model);
    let mut workers = Workers::new(&model, cfg.train.workers);
    let mut opt = Optim::new(&vs, cfg.train.optimizer, cfg.train.lr, cfg.train.clip)?;

    std::fs::create_dir_all(&args.out).map_err(|source| TrainError::Write {
        path: args.out.clone(),
        source,
    })?;
    write_json(&args.out, "config.json", &cfg)?;
    eprintln!(
        "train: {} {} {} seed {} on {} x{} ({} train / {} held-out, length {}, {} epochs)",
        names.task,
        names.variant,
        names.activation,
        cfg.train.seed,
        common_torch::name(device),
        cfg.train.workers,
        train_set.len(),
        heldout.len(),
        cfg.model.seq_len(),
        cfg.train.epochs
    );

    let mut write_error = None;
    let outcome = train(
        &mut workers,
        &mut opt,
        &train_set,
        &heldout,
        &cfg.train,
        |rows, seconds| {
            let line = rows
                .last()
                .and_then(|r| epoch_line(r, cfg.train.epochs, seconds, Timing::Run));
            if let Some(line) = line {
                eprintln!("{line}");
            }
            if write_error.is_none() {
                write_error = write_history(&args.out, rows).err();
            }
        },
    );
    if let Some(e) = write_error {
        return Err(e);
    }
    if let Some(epoch) = outcome.stop.diverged_epoch() {
        eprintln!("{}", diverged_line(epoch));
    }

    let metrics = run_metrics(names, &cfg, &outcome.history, outcome.stop, device);
    write_final(&args.out, &vs, &metrics)?;
    eprintln!(
        "train: {} epochs in {:.3}s wall time",
        outcome.history.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Number of batch-sharing workers for `device` under the thread budget that
/// `common_torch::init` applied; with more than one, each worker runs single-threaded.
pub fn use_workers(device: tch::Device, batch: usize) -> usize {
    let threads = usize::try_from(tch::get_num_threads()).unwrap_or(1);
    let workers = plan(device, threads, batch);
    if workers > 1 {
        tch::set_num_threads(1);
    }
    workers
}
