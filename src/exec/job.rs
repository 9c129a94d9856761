//! What an executor is asked to run: one command with its environment, working directory,
//! where its output goes, and the resources it was granted.

use std::fmt;
use std::path::PathBuf;

/// A job's handle, unique within one dispatch; chosen by the dispatcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {}", self.0)
    }
}

/// Where a job's stdout and stderr go.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutput {
    /// Both streams, combined, into this file (created or truncated).
    Log(PathBuf),
    /// Both streams to the engine's stderr (the `build:` command: its progress is for the
    /// user, and stdout stays free for `--json`).
    Stderr,
}

/// What the job holds while it runs; a batch executor turns it into its own request.
#[derive(Debug, Clone, PartialEq)]
pub struct JobResources {
    /// CPU slots granted.
    pub cpus: u32,
    /// GPUs granted (a fraction shares one device).
    pub gpus: f64,
    /// The device ids given (`CUDA_VISIBLE_DEVICES`), empty for none.
    pub devices: String,
}

/// One command to run.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The handle events will carry.
    pub id: JobId,
    /// What it is, for messages (an instance id, or `build`).
    pub name: String,
    /// argv; `argv[0]` with a `/` is relative to `cwd`, a bare name goes through `PATH`.
    pub argv: Vec<String>,
    /// Variables added to the inherited environment.
    pub env: Vec<(String, String)>,
    /// Working directory (the workspace root).
    pub cwd: PathBuf,
    /// Where output goes.
    pub output: JobOutput,
    /// What it was granted.
    pub resources: JobResources,
    /// For an instance's job: what a batch executor needs (the build job has none).
    pub batch: Option<BatchInfo>,
}

/// What a batch executor needs to submit an instance, or a pack of instances: it runs
/// `repro exec` for them rather than the stage's command, and asks its scheduler for the
/// declared request.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchInfo {
    /// The instance id (a pack's first member).
    pub instance: String,
    /// The cache key it must produce (`None`: known only once its upstream ran, `--detach`).
    pub key: Option<String>,
    /// A pack's other members, run with `instance` in one process (empty: it runs alone).
    pub packed_with: Vec<crate::exec::slurm::PackedInstance>,
    /// The declared request (after `--set-resources`).
    pub request: crate::spec::Resources,
    /// Jobs of this dispatch it must wait for (`--detach` submits ahead of its upstream).
    pub after: Vec<JobId>,
}

impl BatchInfo {
    /// What the batch job runs, as its manifest lists it.
    pub fn task(&self) -> crate::exec::slurm::BatchMember {
        crate::exec::slurm::BatchMember {
            instance: self.instance.clone(),
            key: self.key.clone(),
            packed_with: self.packed_with.clone(),
        }
    }

    /// Every instance the job runs: `instance`, then the pack's other members.
    pub fn instances(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.instance.as_str())
            .chain(self.packed_with.iter().map(|p| p.instance.as_str()))
    }
}
