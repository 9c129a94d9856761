//! The `train` command line (docs/stages.md) and its resolution into a [`RunConfig`].
//!
//! [`Command`] is the whole command line: a single run's flags ([`Args`]), or `--pack
//! MANIFEST` alone (clap's `exclusive`: with any other flag it is a usage error, exit 2), which
//! trains the runs of the engine's manifest; every member's own argv is then parsed with
//! [`Args`]. Both forms are in `train --help`.
//!
//! Task, variant and activation are taken as strings and parsed here, so that a bad value
//! gives the shared one-line error of `common` (exit 2) instead of clap's multi-line usage.
//! Flags beyond the documented ones: `--first-ln-eps-zero` (the authors' eps-0 first LayerNorm)
//! and `--eval-batch` (evaluation batch size; does not change any number beyond rounding).
//! Defaults come from [`PAPER`]; the per-task settings (`--epochs`, `--lr`, `--gamma`,
//! `--blocks`) have none and must be given (the pipeline passes them as parameters).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches};
use common::{Activation, DataMeta, Task, Variant};

use crate::config::{
    default_eval_batch, ModelConfig, OptimizerKind, RunConfig, TrainConfig, CONFIG_FORMAT_VERSION,
    PAPER,
};
use crate::error::TrainError;

/// Trains one transformer on one task and writes history.csv, metrics.json, config.json and
/// model.safetensors into `--out`.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "train", version)]
pub struct Args {
    /// Data directory written by `gen` (meta.json, train.csv, heldout.csv).
    #[arg(long)]
    pub data: PathBuf,
    /// Task name (must match meta.json).
    #[arg(long)]
    pub task: String,
    /// Attention variant: full, topkK, bandK, blocK, bandK+Gg, blocK+Gg.
    #[arg(long)]
    pub variant: String,
    /// MLP activation: relu, gelu, mish.
    #[arg(long)]
    pub activation: String,
    /// Run seed (initialisation, dropout, shuffling).
    #[arg(long)]
    pub seed: u64,
    /// Number of epochs (the cap, with `--stop-after`).
    #[arg(long)]
    pub epochs: usize,
    /// Stop N epochs after the first epoch whose training accuracy reaches the convergence
    /// threshold (95%); `off` trains every epoch.
    #[arg(long, default_value = "off", value_name = "N|off")]
    pub stop_after: String,
    /// Initial learning rate.
    #[arg(long)]
    pub lr: f64,
    /// Learning-rate multiplier after every epoch.
    #[arg(long)]
    pub gamma: f64,
    /// Number of transformer blocks.
    #[arg(long)]
    pub blocks: usize,
    /// Attention heads (each of width 64).
    #[arg(long, default_value_t = PAPER.heads)]
    pub heads: usize,
    /// Model width.
    #[arg(long, default_value_t = PAPER.d_model)]
    pub d_model: usize,
    /// MLP hidden width.
    #[arg(long, default_value_t = PAPER.d_mlp)]
    pub d_mlp: usize,
    /// Dropout probability everywhere.
    #[arg(long, default_value_t = PAPER.dropout)]
    pub dropout: f64,
    /// Training batch size.
    #[arg(long, default_value_t = PAPER.batch)]
    pub batch: usize,
    /// Gradient-norm clipping threshold.
    #[arg(long, default_value_t = PAPER.clip)]
    pub clip: f64,
    /// Optimiser.
    #[arg(long, value_enum, default_value_t = PAPER.optimizer)]
    pub optimizer: OptimizerKind,
    /// Train on the first N training examples only.
    #[arg(long)]
    pub train_limit: Option<usize>,
    /// Apply attention-weight dropout at evaluation too (the authors' code did).
    #[arg(long)]
    pub eval_attn_dropout: bool,
    /// Use LayerNorm eps 0 in the first block's attention LayerNorm (the authors' code did).
    #[arg(long)]
    pub first_ln_eps_zero: bool,
    /// Evaluation batch size (default: from the sequence length).
    #[arg(long)]
    pub eval_batch: Option<usize>,
    /// Output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

/// What a `train` command line asks for.
#[derive(Debug, Clone)]
pub enum Command {
    /// One training run.
    Run(Box<Args>),
    /// `--pack MANIFEST`: every run of the engine's manifest in one process.
    Pack(PathBuf),
}

/// The id of the `--pack` argument.
const PACK: &str = "pack";

impl Command {
    /// The `train` command: the flags of [`Args`] and `--pack MANIFEST`, which must come alone.
    pub fn command() -> clap::Command {
        Args::command().arg(
            clap::Arg::new(PACK)
                .long("pack")
                .value_name("MANIFEST")
                .value_parser(clap::value_parser!(PathBuf))
                .exclusive(true)
                .help(
                    "Train every run of the engine's pack manifest in one process, as stacked \
                     models; alone on the command line (each run's flags are in the manifest)",
                ),
        )
    }

    /// Parses `argv` (argv[0] the binary); clap's error (usage, `--help`, `--version`) otherwise.
    pub fn try_parse_from<I, T>(argv: I) -> Result<Command, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let mut matches = Command::command().try_get_matches_from(argv)?;
        if let Some(manifest) = matches.remove_one::<PathBuf>(PACK) {
            return Ok(Command::Pack(manifest));
        }
        Args::from_arg_matches_mut(&mut matches).map(|args| Command::Run(Box::new(args)))
    }

    /// Parses the process's arguments; on a clap error prints it and exits (status 2 for a
    /// usage error, 0 for `--help` and `--version`).
    pub fn parse() -> Command {
        Command::try_parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }
}

/// Task, variant and activation parsed from [`Args`].
#[derive(Debug, Clone, Copy)]
pub struct Names {
    /// The task.
    pub task: Task,
    /// The attention variant.
    pub variant: Variant,
    /// The activation.
    pub activation: Activation,
}

impl Args {
    /// Parses the name flags.
    pub fn names(&self) -> Result<Names, TrainError> {
        Ok(Names {
            task: self.task.parse()?,
            variant: self.variant.parse()?,
            activation: self.activation.parse()?,
        })
    }

    /// Resolves the run configuration for `device`: the paper's presets, overridden by the
    /// flags, checked. The device only sizes the default evaluation batch.
    pub fn resolve(
        &self,
        names: Names,
        meta: &DataMeta,
        device: tch::Device,
    ) -> Result<RunConfig, TrainError> {
        let bad = |flag, message: String| Err(TrainError::BadArg { flag, message });
        let mut model = ModelConfig::paper(
            names.task,
            names.variant,
            names.activation,
            meta.vocab.len(),
            meta.pad_id,
            meta.max_len,
        );
        model.blocks = self.blocks;
        model.heads = self.heads;
        model.d_model = self.d_model;
        model.d_mlp = self.d_mlp;
        model.dropout = self.dropout;
        model.eval_attn_dropout = self.eval_attn_dropout;
        model.first_ln_eps_zero = self.first_ln_eps_zero;
        let eval_batch = self
            .eval_batch
            .unwrap_or_else(|| default_eval_batch(model.seq_len(), device));
        let mut train = TrainConfig::paper(names.task, self.seed, eval_batch);
        train.epochs = self.epochs;
        train.lr = self.lr;
        train.gamma = self.gamma;
        train.batch = self.batch;
        train.clip = self.clip;
        train.optimizer = self.optimizer;
        train.train_limit = self.train_limit;
        train.stop_after = match self.stop_after.trim() {
            "off" => None,
            n => match n.parse::<usize>() {
                Ok(k) => Some(k),
                Err(_) => {
                    return bad(
                        "stop-after",
                        format!("`{n}` is neither a number of epochs nor `off`"),
                    )
                }
            },
        };

        for (flag, value) in [
            ("blocks", model.blocks),
            ("heads", model.heads),
            ("d-mlp", model.d_mlp),
            ("epochs", train.epochs),
            ("batch", train.batch),
            ("eval-batch", train.eval_batch),
        ] {
            if value == 0 {
                return bad(flag, "must be at least 1".into());
            }
        }
        if model.d_model == 0 || model.d_model % 2 == 1 {
            return bad(
                "d-model",
                format!(
                    "`{}` must be even and positive (sinusoidal encoding)",
                    model.d_model
                ),
            );
        }
        if !(0.0..1.0).contains(&model.dropout) {
            return bad("dropout", format!("`{}` must be in [0, 1)", model.dropout));
        }
        if train.train_limit == Some(0) {
            return bad("train-limit", "must be at least 1".into());
        }
        let k = names.variant.pad_multiple();
        if k > model.padded_len() {
            return bad(
                "variant",
                format!(
                    "`{}` needs k <= padded length {}",
                    names.variant,
                    model.padded_len()
                ),
            );
        }
        if !(train.lr.is_finite()
            && train.lr > 0.0
            && train.gamma.is_finite()
            && train.gamma > 0.0
            && train.clip > 0.0)
        {
            return bad(
                "lr",
                "learning rate, gamma and clip must be positive and finite".into(),
            );
        }
        Ok(RunConfig {
            format: CONFIG_FORMAT_VERSION,
            model,
            train,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: [&str; 19] = [
        "train",
        "--data",
        "d",
        "--task",
        "parity",
        "--variant",
        "full",
        "--activation",
        "relu",
        "--seed",
        "1",
        "--epochs",
        "2",
        "--lr",
        "0.1",
        "--gamma",
        "0.9",
        "--blocks",
        "2",
    ];

    fn parse(argv: &[&str]) -> Result<Command, clap::Error> {
        Command::try_parse_from(argv)
    }

    #[test]
    fn pack_is_recognised_alone_only() {
        for argv in [
            &["train", "--pack", "m.json"][..],
            &["train", "--pack=m.json"],
        ] {
            match parse(argv) {
                Ok(Command::Pack(path)) => assert_eq!(path, PathBuf::from("m.json")),
                other => panic!("{argv:?}: {other:?}"),
            }
        }
        for argv in [
            &["train", "--pack", "m.json", "--seed", "1"][..],
            &["train", "--seed", "1", "--pack", "m.json"],
            &["train", "--pack"],
            &["train", "--pack="],
            &["train", "--pack", "m.json", "--pack", "n.json"],
        ] {
            let e = parse(argv).expect_err(&format!("{argv:?}"));
            assert_eq!(e.exit_code(), 2, "{argv:?}: {e}");
        }
    }

    #[test]
    fn a_single_run_parses_as_before() {
        let mut argv = RUN.to_vec();
        argv.extend(["--out", "o"]);
        match parse(&argv) {
            Ok(Command::Run(args)) => {
                assert_eq!(args.seed, 1);
                assert_eq!(args.out, PathBuf::from("o"));
                assert_eq!(args.stop_after, "off");
            }
            other => panic!("{other:?}"),
        }
        let e = parse(&RUN).expect_err("`--out` is required");
        assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        let e = parse(&["train"]).expect_err("a run's flags are required");
        assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn help_lists_pack() {
        let help = Command::command().render_long_help().to_string();
        assert!(help.contains("--pack <MANIFEST>"), "{help}");
        assert!(help.contains("--data <DATA>"), "{help}");
    }
}
