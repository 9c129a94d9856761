//! One training run from parsed arguments to the four output files.
//!
//! Order of work: parse names, read and check `meta.json`, resolve the configuration, choose
//! the device and seed libtorch (`common_torch`, seed derived from the run seed), load both
//! splits onto the device, build the model, write `config.json`, train (rewriting
//! `history.csv` after every epoch), then write `model.safetensors` and finally
//! `metrics.json`, so that a present `metrics.json` means a finished run.
//!
//! Wall times go to stderr only (a line per reported epoch and the total at the end, which the
//! engine keeps in the instance's log: `repro logs INSTANCE`), never into the output files: a
//! re-run that reproduces every weight then reproduces every byte of the run directory.

use std::time::Instant;

use common::run_output::{
    history, CurveSummary, Metrics, HISTORY_FILE, METRICS_FILE, METRICS_FORMAT_VERSION,
};
use tch::nn;

use crate::cli::Args;
use crate::dataset::{load_run_splits, read_meta};
use crate::error::TrainError;
use crate::model::Model;
use crate::optim::Optim;
use crate::output::{save_weights, write_atomic, write_json};
use crate::parallel::{plan, Workers};
use crate::train_loop::train;

/// Version string of the libtorch this binary was built for.
pub const TORCH_VERSION: &str = "2.11.0";

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

    let every = (cfg.train.epochs / 100).max(1);
    let mut write_error = None;
    let outcome = train(
        &mut workers,
        &mut opt,
        &train_set,
        &heldout,
        &cfg.train,
        |rows, seconds| {
            let r = rows.last().expect("one row");
            if r.epoch % every == 0
                || r.epoch == 1
                || r.epoch == cfg.train.epochs
                || !r.train_loss.is_finite()
            {
                eprintln!(
                "epoch {}/{}: lr {:.4e} train loss {:.4} acc {:.4} held-out loss {:.4} acc {:.4} ({:.3}s)",
                r.epoch, cfg.train.epochs, r.lr, r.train_loss, r.train_acc, r.heldout_loss, r.heldout_acc, seconds
            );
            }
            if write_error.is_none() {
                write_error =
                    write_atomic(&args.out, HISTORY_FILE, history::to_csv(rows).as_bytes()).err();
            }
        },
    );
    if let Some(e) = write_error {
        return Err(e);
    }
    if let Some(epoch) = outcome.stop.diverged_epoch() {
        eprintln!("train: loss became NaN in epoch {epoch}; stopped");
    }

    save_weights(&vs, &args.out, "model.safetensors")?;
    let curve = CurveSummary::of(&outcome.history);
    let metrics = Metrics {
        format: METRICS_FORMAT_VERSION,
        task: names.task.to_string(),
        variant: names.variant.to_string(),
        activation: names.activation.to_string(),
        seed: cfg.train.seed,
        epochs: cfg.train.epochs,
        convergence_epoch: curve.convergence_epoch,
        best_heldout_acc: curve.best_heldout_acc,
        best_epoch: curve.best_epoch,
        last_heldout_acc: curve.last_heldout_acc,
        last_train_acc: curve.last_train_acc,
        diverged: outcome.stop.diverged_epoch().is_some(),
        diverged_epoch: outcome.stop.diverged_epoch(),
        device: common_torch::name(device),
        torch_version: TORCH_VERSION.to_owned(),
        config: cfg,
    };
    write_atomic(&args.out, METRICS_FILE, metrics.to_json().as_bytes())?;
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
