//! Setting up one member of a pack exactly as its single run sets itself up, and grouping the
//! members into stacks.
//!
//! [`prepare`] parses the member's argv with the single run's [`Args`] and sets it up with the
//! single run's own [`prepare_run`] (one worker, the pack's device): the same configuration,
//! seeding, data, initial parameters and `config.json`. It then takes the model's local replica
//! (what `Workers::new(&model, 1)` makes), so that the dropout stream is the single run's too.
//! The variable store is kept: the member's final parameters are copied back into it and saved
//! under the single run's names.
//!
//! [`GroupKey`] holds every setting that fixes a tensor shape or is shared by the whole stack;
//! members with equal keys train as one stack.

use std::path::PathBuf;

use clap::Parser;
use common::run_output::HistoryRow;
use tch::{nn, Device};

use crate::cli::{Args, Names};
use crate::config::{OptimizerKind, RunConfig};
use crate::dataset::Split;
use crate::error::TrainError;
use crate::model::Model;
use crate::pack::manifest::PackMember;
use crate::setup::{prepare_run, Prepared, WorkerCount};
use crate::train_loop::Shuffler;

/// A member ready to train.
#[derive(Debug)]
pub struct Member {
    /// The engine's instance name (prefixes the member's messages).
    pub instance: String,
    /// The output directory (`--out`).
    pub out: PathBuf,
    /// The file to create once the member's files are complete (the manifest's `done`).
    pub done: Option<PathBuf>,
    /// Task, variant and activation.
    pub names: Names,
    /// The resolved configuration, as a single run with one worker resolves it.
    pub cfg: RunConfig,
    /// The training split.
    pub train: Split,
    /// The held-out split.
    pub heldout: Split,
    /// The single-run variables (initial values; final values are copied back at the end).
    pub vs: nn::VarStore,
    /// The local replica of the single run's model on `vs` (what `Workers::new(&model, 1)`
    /// makes): its dropout stream is the member's.
    pub replica: Model,
    /// The member's data order.
    pub shuffler: Shuffler,
    /// The learning rate of the current epoch.
    pub lr: f64,
    /// The rows of the epochs trained so far.
    pub history: Vec<HistoryRow>,
}

/// Sets a member up as its single run would (see the module doc).
pub fn prepare(entry: &PackMember, device: Device) -> Result<Member, TrainError> {
    let args = Args::try_parse_from(&entry.cmd).map_err(|e| {
        let text = e.to_string();
        TrainError::Cli(text.lines().next().unwrap_or_default().to_owned())
    })?;
    let Prepared {
        names,
        cfg,
        device: _,
        train,
        heldout,
        vs,
        model,
        out,
    } = prepare_run(&args, || Ok(device), WorkerCount::One)?;
    Ok(Member {
        instance: entry.instance.clone(),
        done: entry.done.clone(),
        out,
        names,
        shuffler: Shuffler::new(cfg.train.seed, train.len()),
        lr: cfg.train.lr,
        history: Vec::with_capacity(cfg.train.epochs),
        replica: model.replica(),
        cfg,
        train,
        heldout,
        vs,
    })
}

/// What members of one stack must share: every shape and every setting that is applied to the
/// stack as a whole. Floats are compared by their bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupKey {
    task: common::Task,
    blocks: usize,
    heads: usize,
    d_model: usize,
    d_mlp: usize,
    d_qkv: usize,
    seq_len: usize,
    vocab: usize,
    classes: usize,
    batch: usize,
    train_examples: usize,
    heldout_examples: usize,
    eval_batch: usize,
    dropout: u64,
    ln_eps: u64,
    clip: u64,
    optimizer: OptimizerKind,
    eval_attn_dropout: bool,
    first_ln_eps_zero: bool,
}

impl GroupKey {
    /// The key of a member.
    pub fn of(m: &Member) -> GroupKey {
        let (model, train) = (&m.cfg.model, &m.cfg.train);
        GroupKey {
            task: train.task,
            blocks: model.blocks,
            heads: model.heads,
            d_model: model.d_model,
            d_mlp: model.d_mlp,
            d_qkv: model.d_qkv,
            seq_len: model.seq_len(),
            vocab: model.vocab,
            classes: model.classes,
            batch: train.batch,
            train_examples: m.train.len(),
            heldout_examples: m.heldout.len(),
            eval_batch: train.eval_batch,
            dropout: model.dropout.to_bits(),
            ln_eps: model.ln_eps.to_bits(),
            clip: train.clip.to_bits(),
            optimizer: train.optimizer,
            eval_attn_dropout: model.eval_attn_dropout,
            first_ln_eps_zero: model.first_ln_eps_zero,
        }
    }
}

/// Partitions `members` into groups of equal [`GroupKey`], in order of first appearance, each
/// group keeping the manifest order.
pub fn group(members: Vec<Member>) -> Vec<Vec<Member>> {
    let mut groups: Vec<(GroupKey, Vec<Member>)> = Vec::new();
    for m in members {
        let key = GroupKey::of(&m);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(m),
            None => groups.push((key, vec![m])),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}
