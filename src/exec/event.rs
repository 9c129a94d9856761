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
    /// Exited non-zero or was killed; the reason says which (`exit status 3`, `killed by
    /// signal 9`, a batch system's own reason).
    Failed(String),
    /// Could not be started at all (program not found, log not writable, ...).
    NotStarted(String),
    /// Stopped because it was cancelled.
    Cancelled,
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
