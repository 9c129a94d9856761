//! Setting a run up, the same steps for a single run and for a pack member.
//!
//! [`prepare_run`], in this order: parse the names, read and check `meta.json`, choose the
//! device, resolve the [`RunConfig`], seed libtorch with `common::seed::derive(seed, "torch")`
//! through `common_torch::init` (which also applies the thread budget), fix the number of
//! batch-sharing workers ([`WorkerCount`]), load both splits onto the device, build the
//! [`Model`] in its own [`nn::VarStore`] (its initial parameters come from the seeded
//! generator), then create `--out` and write `config.json`.
//!
//! The caller then builds what differs: a single run its [`Workers`](crate::parallel::Workers)
//! and optimiser, a pack member the model's local replica (what `Workers::new(&model, 1)`
//! makes); neither draws from the generator before the model's replicas exist, so a member
//! starts from exactly its single run's parameters and dropout stream. The order is the
//! reproducibility contract: a new step that draws random numbers goes after the model.

use std::path::PathBuf;

use tch::{nn, Device};

use crate::cli::{Args, Names};
use crate::config::RunConfig;
use crate::dataset::{load_run_splits, read_meta, Split};
use crate::error::TrainError;
use crate::model::Model;
use crate::output::write_json;
use crate::parallel::plan;

/// How many batch-sharing workers a run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkerCount {
    /// As many as the device and the thread budget allow ([`use_workers`]): a single run.
    Planned,
    /// Exactly one: a pack member, which equals its single run with one worker.
    One,
}

/// A run set up and ready to train: its configuration is written, its model initialised.
#[derive(Debug)]
pub struct Prepared {
    /// Task, variant and activation.
    pub names: Names,
    /// The resolved configuration (as written to `config.json`).
    pub cfg: RunConfig,
    /// The device everything lives on.
    pub device: Device,
    /// The training split.
    pub train: Split,
    /// The held-out split.
    pub heldout: Split,
    /// The model's variables (the weights saved at the end).
    pub vs: nn::VarStore,
    /// The model on `vs`.
    pub model: Model,
    /// The output directory (`--out`), created.
    pub out: PathBuf,
}

/// Sets up the run of `args` (see the module doc). `device` is called once the names and
/// `meta.json` have been checked, so that a bad flag is reported before a bad `REPRO_DEVICE`;
/// a pack passes the device it chose once for all its members.
pub fn prepare_run(
    args: &Args,
    device: impl FnOnce() -> Result<Device, TrainError>,
    workers: WorkerCount,
) -> Result<Prepared, TrainError> {
    let names = args.names()?;
    let meta = read_meta(&args.data, names.task)?;
    let device = device()?;
    let mut cfg = args.resolve(names, &meta, device)?;
    common_torch::init(common::seed::derive(cfg.train.seed, "torch"));
    cfg.train.workers = match workers {
        WorkerCount::Planned => use_workers(device, cfg.train.batch),
        WorkerCount::One => 1,
    };
    let (train, heldout) = load_run_splits(&args.data, &meta, &cfg, device)?;
    let vs = nn::VarStore::new(device);
    let model = Model::new(vs.root(), &cfg.model);
    std::fs::create_dir_all(&args.out).map_err(|source| TrainError::Write {
        path: args.out.clone(),
        source,
    })?;
    write_json(&args.out, "config.json", &cfg)?;
    Ok(Prepared {
        names,
        cfg,
        device,
        train,
        heldout,
        vs,
        model,
        out: args.out.clone(),
    })
}

/// Number of batch-sharing workers for `device` under the thread budget that
/// `common_torch::init` applied; with more than one, each worker runs single-threaded.
pub fn use_workers(device: Device, batch: usize) -> usize {
    let threads = usize::try_from(tch::get_num_threads()).unwrap_or(1);
    let workers = plan(device, threads, batch);
    if workers > 1 {
        tch::set_num_threads(1);
    }
    workers
}
