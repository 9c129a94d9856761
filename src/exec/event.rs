//! What executors report: typed state events for each job, sent through an [`EventSink`] that
//! the dispatcher hands to the executor. Every submitted job ends with exactly one `Finished`
//! or `Vanished`; `Started` comes first when the executor can tell.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::job::JobId;

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobStatus {
    /// Exited with status 0.
    Succeeded,
    /// Ran and did not succeed.
    Failed(JobFailure),
    /// Could not be started at all.
    NotStarted(StartFailure),
    /// Stopped because it was cancelled.
    Cancelled,
}

/// Why a job that ran did not succeed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobFailure {
    /// Exited with a non-zero status.
    #[error("exit status {0}")]
    Exit(i32),
    /// Killed by a signal.
    #[error("killed by signal {0}")]
    Signal(i32),
    /// Ended with neither an exit status nor a signal.
    #[error("ended abnormally")]
    Abnormal,
    /// Its end could not be waited for.
    #[error("cannot wait for the child: {0}")]
    Wait(String),
    /// Processes that carry the job's token outlived it and SIGKILL.
    #[error("{} process(es) of the job survived SIGKILL (pids {pids:?}); they may still write its outputs", pids.len())]
    Survivors {
        /// Their pids.
        pids: Vec<i32>,
    },
    /// The executor lost track of the job (`ExecEvent::Vanished`).
    #[error("the executor lost the job: {0}")]
    Lost(String),
    /// A batch system's own account of how the job ended.
    #[error("{0}")]
    Reported(String),
}

/// Why a job could not start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StartFailure {
    /// Its output (log) could not be opened.
    #[error("{0}")]
    Output(String),
    /// Its program could not be started.
    #[error("cannot start `{program}`: {reason}")]
    Spawn {
        /// `argv[0]`.
        program: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The batch system refused the submission, or cannot be reached or recorded.
    #[error("{0}")]
    Refused(String),
    /// A job it waits for could not be submitted.
    #[error("an upstream job could not be submitted")]
    Upstream,
}

impl JobStatus {
    /// Why the job did not succeed, in words (empty for a success or a cancel).
    pub fn why(&self) -> String {
        match self {
            JobStatus::Failed(f) => f.to_string(),
            JobStatus::NotStarted(f) => f.to_string(),
            JobStatus::Succeeded | JobStatus::Cancelled => String::new(),
        }
    }
}

/// Times of a finished job.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct JobTimes {
    /// From submission to start (a batch queue's wait; near zero locally).
    pub waited: Duration,
    /// From start to end.
    pub ran: Duration,
}

/// One state change of one job.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecEvent {
    /// The job started running.
    Started {
        /// Which job.
        job: JobId,
    },
    /// The job ended.
    Finished {
        /// Which job.
        job: JobId,
        /// How.
        status: JobStatus,
        /// When.
        times: JobTimes,
    },
    /// The executor lost track of the job (a batch system no longer knows it, a node
    /// vanished): nothing can be said of its outputs.
    Vanished {
        /// Which job.
        job: JobId,
        /// What the executor knows.
        reason: String,
    },
    /// The executor is alive and watching its jobs (a batch executor sends it after every
    /// poll): it resets the dispatcher's silence limit and changes nothing else.
    Alive,
}

impl ExecEvent {
    /// The job the event is about (`None` for [`ExecEvent::Alive`]).
    pub fn job(&self) -> Option<JobId> {
        match self {
            ExecEvent::Started { job }
            | ExecEvent::Finished { job, .. }
            | ExecEvent::Vanished { job, .. } => Some(*job),
            ExecEvent::Alive => None,
        }
    }
}

/// Where an executor sends its events (cheap to clone; callable from any thread).
#[derive(Clone)]
pub struct EventSink(Arc<dyn Fn(ExecEvent) + Send + Sync>);

impl EventSink {
    /// A sink that calls `f` for every event.
    pub fn new(f: impl Fn(ExecEvent) + Send + Sync + 'static) -> EventSink {
        EventSink(Arc::new(f))
    }

    /// Sends one event.
    pub fn send(&self, e: ExecEvent) {
        (self.0)(e)
    }
}

impl fmt::Debug for EventSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EventSink")
    }
}
