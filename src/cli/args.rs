//! clap definitions for every command and flag.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A declarative pipeline engine with a content-addressed cache.
#[derive(Debug, Parser)]
#[command(name = "repro", version, about)]
pub struct Cli {
    /// The pipeline file; its directory is the workspace root. Default: `pipeline.yaml` in
    /// the current directory or the nearest parent directory that has one.
    #[arg(long, short = 'f', global = true, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Profile to apply (default: the one marked `default: true`).
    #[arg(long, short = 'p', global = true)]
    pub profile: Option<String>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Bring targets (and what they depend on) up to date.
    Run(RunArgs),
    /// Show stale instances and why.
    Status(StatusArgs),
    /// Re-hash cached objects and workspace outputs against `repro.lock`.
    Verify(VerifyArgs),
    /// Print the dependency graph.
    Dag(DagArgs),
    /// Show one instance: key, inputs, outputs, record.
    Show(ShowArgs),
    /// Print the log of an instance's last run (`--follow`: of the attempt running now).
    Logs(LogsArgs),
    /// Delete cached objects and records that `repro.lock` no longer refers to.
    Gc(GcArgs),
    /// Write the profile's HTML report page (the pipeline's `report.out`) from the workspace:
    /// `repro run` does this at its end when the pipeline declares `report:`.
    Report,
    /// Run exactly one instance (its upstream must be up to date) and publish the result.
    Exec(ExecArgs),
    /// Upload the records and objects of the targets' `repro.lock` entries to a remote.
    Push(RemoteArgs),
    /// Download and check the records and objects `repro.lock` names for the targets, then
    /// restore their outputs into the workspace.
    Pull(RemoteArgs),
    /// Check a produced lock from a fresh checkout: pull and re-hash everything it names,
    /// recompute every key from the checkout and compare (audit steps 1-2; docs/cache.md).
    Audit(AuditArgs),
    /// Compare the parameters recorded for each instance between two revisions of
    /// `repro.lock` (`repro params diff [REV [REV]]`).
    Params(super::params::ParamsArgs),
    /// The declared metrics `repro.lock` records: `repro metrics show [TARGETS]`,
    /// `repro metrics diff [REV [REV]]`.
    Metrics(super::metrics::MetricsArgs),
    /// Write a commented starter `pipeline.yaml` and the `.gitignore` lines into a directory.
    Init(super::init::InitArgs),
    /// Delete the profile's declared outputs from the workspace (the cache keeps them:
    /// `repro run` restores them).
    Clean(super::clean::CleanArgs),
    /// List the profiles: which is the default, instances, skipped stages, description.
    Profiles {
        /// JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (README.md says where to put it).
    Completions(super::completions::CompletionsArgs),
    /// Internal: the reaper a run starts beside itself (`exec::reap`); not for users.
    #[command(hide = true)]
    InternalReaper {
        /// The run's token.
        run: String,
        /// The run's registry file, removed when done.
        file: PathBuf,
    },
}

/// `repro run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Targets: `all`, instance ids, or patterns such as `train@task=listops` (default: all).
    pub targets: Vec<String>,
    /// CPU slots (default: the number of cores).
    #[arg(long, short = 'j')]
    pub jobs: Option<u32>,
    /// GPU ids to use, comma-separated (`none` for none); default: detected.
    #[arg(long)]
    pub gpus: Option<String>,
    /// Keep running independent instances after a failure.
    #[arg(long)]
    pub keep_going: bool,
    /// Run the named targets even if they are up to date.
    #[arg(long)]
    pub force: bool,
    /// Print what would run and why, with counts; change nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Emit events as JSON lines on stdout instead of the progress display (with `-n`: the
    /// planned events, then one `plan` object with the counts per stage).
    #[arg(long)]
    pub json: bool,
    /// With `-n`: list every instance that would run or be restored, with its reasons, even
    /// when more than 20 would (fewer are always listed).
    #[arg(long, short = 'v')]
    pub instances: bool,
    /// Skip the pipeline's `build:` command (the binaries were built elsewhere, e.g. carried
    /// to a machine without the toolchain). Cache keys hash the declared code, not binaries.
    #[arg(long)]
    pub no_build: bool,
    /// Before running, pull from the remote the results of instances that would run and
    /// whose key it holds (checked by digest, as `repro pull` checks them); they are restored
    /// instead of executed.
    #[arg(long)]
    pub pull: bool,
    /// Push each instance's record and objects to the remote as soon as it is published, on a
    /// thread beside the run (a push that fails is reported at the end and makes the run exit
    /// 1; the results stay published here, and `repro push` sends them later).
    #[arg(long)]
    pub push: bool,
    /// The remote for `--pull` and `--push`: a name of `repro.local.yaml` or a URL (default:
    /// `REPRO_REMOTE`, else `remote.default`).
    #[arg(long, short = 'r', value_name = "NAME|URL")]
    pub remote: Option<String>,
    /// Run every instance alone, even of stages that declare `pack:` (cache keys do not
    /// depend on packing).
    #[arg(long)]
    pub no_pack: bool,
    /// Override a stage's resources for this run (repeatable), e.g. `train.gpus=0.0625` to
    /// pack sixteen training runs per GPU. Scheduling only: cache keys do not change.
    #[arg(long = "set-resources", value_name = "STAGE.FIELD=VALUE")]
    pub set_resources: Vec<String>,
    /// Set a site setting for this run (repeatable), e.g. `slurm.partition=gpu` or
    /// `slurm.poll_interval=2s`: any key of `repro.local.yaml`, over the file and the
    /// `REPRO_*` environment (docs/slurm.md lists them).
    #[arg(long = "set-site", value_name = "KEY=VALUE")]
    pub set_site: Vec<String>,
    /// Where jobs run: `local` (child processes) or `slurm` (one batch job per instance).
    /// Default: `REPRO_EXECUTOR`, else `executor:` in `repro.local.yaml`, else local.
    #[arg(long, value_name = "NAME")]
    pub executor: Option<String>,
    /// Attempts after a failed one, per instance (default: 0 locally, 1 with Slurm).
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// With a batch executor: submit everything left, each job waiting on its upstream jobs
    /// (`afterok`), and exit. `repro status` shows their progress; `repro run` re-attaches.
    #[arg(long)]
    pub detach: bool,
}

/// `repro exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The instance id (or a pattern matching exactly one instance).
    #[arg(required_unless_present = "batch")]
    pub instance: Option<String>,
    /// Internal, for batch jobs: run the member of this submission manifest that
    /// `SLURM_ARRAY_TASK_ID` picks (0 when unset), beside a controller holding the workspace.
    #[arg(long, hide = true, conflicts_with = "instance", value_name = "FILE")]
    pub batch: Option<PathBuf>,
}

/// `repro status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Targets (default: all).
    pub targets: Vec<String>,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Exit 1 when anything is stale.
    #[arg(long)]
    pub check: bool,
    /// List every instance that is not fresh, with its reasons, even when more than 20 are
    /// (fewer are always listed; the per-stage counts are printed either way).
    #[arg(long, short = 'v')]
    pub instances: bool,
    /// Also say which locked instances a remote holds (the configured default, or the
    /// remote named as the value: a name of `repro.local.yaml` or a URL).
    #[arg(long, value_name = "NAME|URL", num_args = 0..=1, default_missing_value = "")]
    pub remote: Option<String>,
}

/// `repro audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// What to pull from where.
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// The report as JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
    /// Re-execute this many randomly drawn instances of stages marked `audit: sample`
    /// (stratified across stages and matrix values), or `all` (default: 0).
    #[arg(long, value_name = "K|all")]
    pub sample: Option<super::audit::SampleSize>,
    /// The sample's seed (default: random, and printed in the report).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Skip the pipeline's `build:` command before re-running instances (the binaries were
    /// built for this checkout already).
    #[arg(long)]
    pub no_build: bool,
    /// Also compare the audited lock's results with another lock file (e.g. an earlier
    /// reproduction, or a CPU run of the same profile), as `verify --reference` does: keys,
    /// then outputs bit for bit, then declared metrics within the stage's tolerance.
    #[arg(long, value_name = "LOCK")]
    pub reference: Option<PathBuf>,
}

/// `repro push` and `repro pull`.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// Targets (default: all); their upstream instances are included.
    pub targets: Vec<String>,
    /// The remote: a name of `repro.local.yaml` or a URL (default: `REPRO_REMOTE`, else
    /// `remote.default` of `repro.local.yaml`).
    #[arg(long, short = 'r', value_name = "NAME|URL")]
    pub remote: Option<String>,
    /// Transfers at once (default: `remote.connections`, 8).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<u32>,
}

/// `repro verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Targets (default: all).
    pub targets: Vec<String>,
    /// Also compare with a reference lock file (e.g. the committed one, saved before a fresh
    /// run): keys must match; outputs must match bit for bit, or, for stages that declare
    /// `metrics:`, their metrics must agree within the stage's tolerance.
    #[arg(long)]
    pub reference: Option<std::path::PathBuf>,
    /// JSON on stdout (docs/cli.md describes its shape).
    #[arg(long)]
    pub json: bool,
}

/// `repro dag`.
#[derive(Debug, Args)]
pub struct DagArgs {
    /// Targets (default: all).
    pub targets: Vec<String>,
    /// Graphviz output.
    #[arg(long, conflicts_with = "json")]
    pub dot: bool,
    /// JSON on stdout (docs/cli.md describes its shape).
    #[arg(long)]
    pub json: bool,
    /// One node per stage, with its instance count, and the edges between stages.
    #[arg(long)]
    pub stages: bool,
}

/// `repro show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The instance id (or a pattern matching exactly one instance).
    pub instance: String,
    /// JSON on stdout (docs/cli.md describes its shape).
    #[arg(long)]
    pub json: bool,
}

/// `repro logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The instance id (or a pattern matching exactly one instance).
    pub instance: String,
    /// While a local run is running the instance, print its log as it grows, until the
    /// attempt ends (the process writing it closes it); otherwise print the log as without it.
    #[arg(long, short = 'f')]
    pub follow: bool,
}

/// `repro gc`.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// Only print what would be deleted.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Also remove orphaned outputs from the workspace: outputs of instances no longer in the
    /// pipeline (or not in this profile) that still hold what repro wrote.
    #[arg(long)]
    pub orphans: bool,
    /// JSON on stdout (docs/cli.md describes its shape).
    #[arg(long)]
    pub json: bool,
}
