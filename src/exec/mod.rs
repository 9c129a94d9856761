//! Executors: how jobs run, behind one trait whose contract a batch system can meet.
//!
//! The dispatcher submits a [`JobSpec`] (command, environment, output, granted resources) and
//! gets typed [`ExecEvent`]s back through the [`EventSink`] it gave at [`Executor::start`]; it
//! can cancel one job or all. `submit` never blocks on the job. The dispatcher blocks in
//! [`Executor::wait`], which lets an executor wait for its jobs on the dispatcher's thread. The local executor runs child
//! processes; a batch executor (Slurm: one `repro exec INSTANCE` per job) submits and polls,
//! and reports a job its scheduler no longer knows as [`ExecEvent::Vanished`].

mod bell;
mod event;
mod exits;
mod guard;
mod job;
mod local;
pub mod procs;
pub mod slurm;
mod spawn;

pub use bell::Doorbell;
pub use event::{EventSink, ExecEvent, JobFailure, JobStatus, JobTimes, StartFailure};
pub use guard::JobGuard;
pub use job::{BatchInfo, JobId, JobOutput, JobResources, JobSpec};
pub use local::{reap, sweep, LocalExecutor};
pub use slurm::SlurmExecutor;
pub use spawn::handlers_installed;

/// An executor could not take a job (the job then produces no events).
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// `submit` came before `start`.
    #[error("the executor was not started")]
    NotStarted,
    /// The executor could not start (e.g. its thread could not be created): no job was taken.
    #[error("failed to start the `{executor}` executor: {message}")]
    Start {
        /// The executor's name.
        executor: String,
        /// What went wrong.
        message: String,
    },
    /// The executor could not hand the job on (e.g. a thread could not be created).
    #[error("failed to submit `{name}`: {message}")]
    Submit {
        /// The job's name.
        name: String,
        /// What went wrong.
        message: String,
    },
}

/// How [`Executor::wait`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    /// The executor waited: its jobs' news, if any, are in the inbox now.
    Here,
    /// The executor reports from threads of its own: wait on the inbox instead.
    Elsewhere,
}

/// Runs jobs and reports their state.
pub trait Executor: Send {
    /// A short name for messages (`local`, `slurm`).
    fn name(&self) -> &str;

    /// Called once before the first `submit`: where events go. An executor that needs a
    /// thread of its own starts it here, and fails here (not later, silently) if it cannot.
    fn start(&mut self, sink: EventSink) -> Result<(), ExecError>;

    /// Hands a job on; its events follow through the sink. Must not wait for the job.
    fn submit(&mut self, job: JobSpec) -> Result<(), ExecError>;

    /// Asks one job to stop; it ends with `Finished { status: Cancelled }` (or whatever it
    /// reached first). Unknown or ended jobs are ignored.
    fn cancel(&mut self, job: JobId);

    /// Asks every job of this executor to stop.
    fn cancel_all(&mut self);

    /// Called by the dispatcher, on its own thread, whenever it would block: an executor whose
    /// jobs are waited for here blocks until one of them has news (which it sends through the
    /// sink before returning), `bell` rings (a message arrived in the inbox), or `limit`
    /// passes, and returns [`Waited::Here`]; it may also return early with nothing sent. One
    /// that reports from threads of its own returns [`Waited::Elsewhere`] at once (the
    /// default).
    fn wait(&mut self, bell: &Doorbell, limit: Option<std::time::Duration>) -> Waited {
        let _ = (bell, limit);
        Waited::Elsewhere
    }

    /// Called after a round of `submit`s: a batch executor may hold jobs until then, to
    /// submit them together (one Slurm job array).
    fn flush(&mut self) {}

    /// How long this executor may send nothing at all while jobs run before the dispatcher
    /// fails them (`None`: no limit; a local process may legitimately run for days). A batch
    /// executor that sends [`ExecEvent::Alive`] after every poll sets one, so that a stuck or
    /// dead polling thread cannot make the dispatcher wait forever.
    fn silence_limit(&self) -> Option<std::time::Duration> {
        None
    }

    /// Whether this executor's jobs publish their own results in the store (a batch job runs
    /// `repro exec`): the dispatcher then adopts the published record instead of hashing
    /// outputs itself, and leaves clearing stale outputs to the job.
    fn publishes(&self) -> bool {
        false
    }

    /// The instances that already have a job of this executor from an earlier run (a batch
    /// executor's registry): the dispatcher runs each of them alone, so that the executor can
    /// adopt that job instead of submitting it again inside a new pack.
    fn registered(&self) -> std::collections::HashSet<String> {
        std::collections::HashSet::new()
    }
}
