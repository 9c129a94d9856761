//! Timing of the training step and of whole epochs, for `train-bench` (docs/benchmarks.md).
//!
//! Protocol (the Python reference's `--bench` mode follows the same one): build the paper's
//! model for the task and variant, run `warmup` training steps, then time `steps` single steps
//! (batch 25, forward + backward + clip + SGD; on CUDA each step is synchronised) and report
//! their median and mean; then time `epochs` whole epochs, each a shuffled pass over the
//! training set plus the evaluation passes over the training and held-out sets, and report
//! the training part, the evaluation part and their sum separately.

use std::time::Instant;

use tch::{nn, Device};

use crate::config::{RunConfig, PAPER};
use crate::dataset::Split;
use crate::error::TrainError;
use crate::eval::evaluate;
use crate::model::Model;
use crate::optim::Optim;
use crate::parallel::Workers;
use crate::train_loop::{train_epoch, Shuffler};

/// What `train-bench` measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BenchReport {
    /// Implementation name (`rust-tch`).
    pub implementation: String,
    /// Task name.
    pub task: String,
    /// Variant name.
    pub variant: String,
    /// Sequence length seen by the model.
    pub seq_len: usize,
    /// Number of blocks.
    pub blocks: usize,
    /// Training examples per epoch.
    pub train_examples: usize,
    /// Held-out examples per epoch.
    pub heldout_examples: usize,
    /// Thread budget (`REPRO_THREADS` / `OMP_NUM_THREADS`, else libtorch's default).
    pub threads: i32,
    /// Batch-sharing worker threads used (see `parallel`).
    pub workers: usize,
    /// Device name.
    pub device: String,
    /// Median time of one training step, milliseconds.
    pub step_ms_median: f64,
    /// Mean time of one training step, milliseconds.
    pub step_ms_mean: f64,
    /// Per timed epoch: seconds of the training pass.
    pub epoch_train_s: Vec<f64>,
    /// Per timed epoch: seconds of both evaluation passes.
    pub epoch_eval_s: Vec<f64>,
    /// Per timed epoch: total seconds.
    pub epoch_total_s: Vec<f64>,
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// Runs the benchmark protocol of the module doc.
pub fn run_bench(
    cfg: &RunConfig,
    train: &Split,
    heldout: &Split,
    warmup: usize,
    steps: usize,
    epochs: usize,
    threads: i32,
) -> Result<BenchReport, TrainError> {
    let device = train.labels.device();
    let vs = nn::VarStore::new(device);
    let model = Model::new(vs.root(), &cfg.model);
    let mut workers = Workers::new(&model, cfg.train.workers);
    let mut opt = Optim::new(&vs, cfg.train.optimizer, cfg.train.lr, cfg.train.clip)?;
    let mut shuffler = Shuffler::new(cfg.train.seed, train.len());
    let batch = cfg.train.batch;

    let order: Vec<i64> = shuffler.next_epoch().to_vec();
    let mut times = Vec::with_capacity(steps);
    for s in 0..warmup + steps {
        let start = (s * batch) % train.len().saturating_sub(batch).max(1);
        let slice = &order[start..(start + batch).min(order.len())];
        let started = Instant::now();
        let _ = train_epoch(&mut workers, &mut opt, train, slice, batch);
        sync(device);
        if s >= warmup {
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);

    let (mut tr, mut ev, mut tot) = (vec![], vec![], vec![]);
    for _ in 0..epochs {
        let started = Instant::now();
        let loss = train_epoch(&mut workers, &mut opt, train, shuffler.next_epoch(), batch);
        let _ = f64::try_from(loss);
        let trained = started.elapsed().as_secs_f64();
        let _ = evaluate(&mut workers, train, cfg.train.eval_batch);
        let _ = evaluate(&mut workers, heldout, cfg.train.eval_batch);
        let total = started.elapsed().as_secs_f64();
        tr.push(trained);
        ev.push(total - trained);
        tot.push(total);
    }
    Ok(BenchReport {
        implementation: "rust-tch".into(),
        task: cfg.train.task.to_string(),
        variant: cfg.model.variant.to_string(),
        seq_len: cfg.model.seq_len(),
        blocks: cfg.model.blocks,
        train_examples: train.len(),
        heldout_examples: heldout.len(),
        threads,
        workers: cfg.train.workers,
        device: common_torch::name(device),
        step_ms_median: median,
        step_ms_mean: mean,
        epoch_train_s: tr,
        epoch_eval_s: ev,
        epoch_total_s: tot,
    })
}

/// `train-bench` command line.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "train-bench")]
pub struct BenchArgs {
    /// Data directory written by `gen`.
    #[arg(long)]
    pub data: std::path::PathBuf,
    /// Task name.
    #[arg(long)]
    pub task: String,
    /// Attention variant.
    #[arg(long)]
    pub variant: String,
    /// Blocks (default: the paper's for the task).
    #[arg(long)]
    pub blocks: Option<usize>,
    /// Untimed steps first.
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    /// Timed single steps.
    #[arg(long, default_value_t = 50)]
    pub steps: usize,
    /// Timed whole epochs.
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    /// Use only the first N training examples.
    #[arg(long)]
    pub train_limit: Option<usize>,
    /// Use only the first N held-out examples.
    #[arg(long)]
    pub heldout_limit: Option<usize>,
    /// Evaluation batch size (default: from the sequence length).
    #[arg(long)]
    pub eval_batch: Option<usize>,
    /// Batch-sharing workers (default: as `train` chooses; 1 = libtorch intra-op threads only).
    #[arg(long)]
    pub workers: Option<usize>,
}

/// Resolves the configuration like `train` would, loads the data and runs [`run_bench`].
pub fn run_cli(args: &BenchArgs) -> Result<BenchReport, TrainError> {
    let task: common::Task = args.task.parse()?;
    let s = task.settings();
    let train_args = crate::cli::Args {
        data: args.data.clone(),
        task: args.task.clone(),
        variant: args.variant.clone(),
        activation: "relu".into(),
        seed: common::PAPER_SEEDS[0],
        epochs: 1,
        stop_after: "off".into(),
        lr: s.lr,
        gamma: s.gamma,
        blocks: args.blocks.unwrap_or(s.blocks),
        heads: PAPER.heads,
        d_model: PAPER.d_model,
        d_mlp: PAPER.d_mlp,
        dropout: PAPER.dropout,
        batch: PAPER.batch,
        clip: PAPER.clip,
        optimizer: PAPER.optimizer,
        train_limit: args.train_limit,
        eval_attn_dropout: false,
        first_ln_eps_zero: false,
        eval_batch: args.eval_batch,
        out: std::path::PathBuf::new(),
    };
    let names = train_args.names()?;
    let meta = crate::dataset::read_meta(&args.data, task)?;
    let device = common_torch::choose().map_err(TrainError::Device)?;
    let mut cfg = train_args.resolve(names, &meta, device)?;
    common_torch::init(cfg.train.seed);
    let threads = tch::get_num_threads();
    cfg.train.workers = args
        .workers
        .unwrap_or_else(|| crate::setup::use_workers(device, cfg.train.batch));
    if cfg.train.workers > 1 {
        tch::set_num_threads(1);
    }
    let train = crate::dataset::load_split(
        &args.data,
        "train",
        &meta,
        &cfg.model,
        args.train_limit,
        device,
    )?;
    let heldout = crate::dataset::load_split(
        &args.data,
        "heldout",
        &meta,
        &cfg.model,
        args.heldout_limit,
        device,
    )?;
    run_bench(
        &cfg,
        &train,
        &heldout,
        args.warmup,
        args.steps,
        args.epochs,
        threads,
    )
}
