//! Executors: how one instance's command is run. One trait, so that a batch system (Slurm,
//! calling `repro exec` per instance) can sit beside the local executor later.

mod local;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

pub use local::LocalExecutor;

/// Where the log of an instance's latest attempt is kept: `.repro/logs/<id>.log`, with
/// characters outside a safe set replaced by `_`.
pub fn log_path(root: &std::path::Path, id: &str) -> PathBuf {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.=,@+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    root.join(".repro").join("logs").join(format!("{safe}.log"))
}

/// One command to run.
#[derive(Debug, Clone)]
pub struct Job {
    /// Instance id (for messages).
    pub id: String,
    /// argv; `argv[0]` is resolved against `PATH` and the working directory.
    pub argv: Vec<String>,
    /// Variables added to the inherited environment.
    pub env: Vec<(String, String)>,
    /// Working directory (the workspace root).
    pub cwd: PathBuf,
    /// Where stdout and stderr go, combined.
    pub log: PathBuf,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Exited with status 0.
    Success,
    /// Exited non-zero or was killed by a signal.
    Failed(String),
    /// Could not be started (program not found, ...).
    SpawnError(String),
    /// Stopped because the run was cancelled.
    Cancelled,
}

/// The result of a job.
#[derive(Debug, Clone)]
pub struct JobResult {
    /// How it ended.
    pub outcome: Outcome,
    /// Wall time.
    pub duration: Duration,
}

/// Runs jobs to completion; must be callable from several worker threads at once.
pub trait Executor: Send + Sync {
    /// Runs `job`, blocking until it ends; stops it early when `cancel` becomes true.
    fn run(&self, job: &Job, cancel: &Arc<AtomicBool>) -> JobResult;
}
