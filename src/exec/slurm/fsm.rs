//! The Slurm executor's decisions about one job, as a pure function: [`next`] takes where a
//! job stands ([`Job`]), what one poll says of it ([`Observation`]) and the clock, and returns
//! where it stands now with the [`Action`]s the executor's thread carries out (report a start,
//! an end or a loss; cancel the job). Nothing here runs a command, reads a file or looks at
//! the time, so every transition is table-tested below without Slurm; `tests/slurm` then tests
//! the shell (`worker.rs`) against a real one. The table is in `fsm_tests.rs`.
//!
//! The rules: Slurm's state says only whether a job is alive. A job that is no longer queued
//! or running succeeded when the record of its key is in the store, whatever Slurm says. A job
//! `COMPLETED` without a record is given [`Limits::grace`] for a lagging filesystem, then
//! fails. A job missing from `squeue`, or in a state this code does not know, is in doubt: it
//! is asked about at every poll and reported vanished after the grace (at least three polls)
//! with no record. Seeing it queued or running again ends the doubt. When `squeue` has not
//! answered for [`Limits::unreachable_after`], every job is reported lost (its registry entry
//! stays, so that the next run adopts it).
//!
//! Limits: the clock is whatever the caller passes; a clock that goes backwards counts as no
//! time passing. The messages of failures are the shell's (it adds the job's id and the tail of
//! its output file); the outcome here is structured.

use std::time::{Duration, Instant};

use super::state::Phase;
use crate::exec::event::JobTimes;
use crate::settings::SlurmSettings;

/// The time limits the transitions use (from the site's Slurm settings).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Limits {
    /// How late a finished job's record may appear (`publish_grace`).
    pub grace: Duration,
    /// Between two polls (`poll_interval`).
    pub poll_interval: Duration,
    /// How long `squeue` may fail before the jobs are reported lost (`unreachable_after`).
    pub unreachable_after: Duration,
}

impl Limits {
    /// The limits the settings give.
    pub(super) fn new(cfg: &SlurmSettings) -> Limits {
        Limits {
            grace: cfg.publish_grace.get(),
            poll_interval: cfg.poll_interval.get(),
            unreachable_after: cfg.unreachable_after.get(),
        }
    }

    /// How long a job may be missing or in an unknown state: the grace, and at least three
    /// polls, so that one odd answer never loses a job.
    fn doubt_limit(&self) -> Duration {
        self.grace.max(self.poll_interval * 3)
    }

    /// Whether Slurm, silent since `last_answer`, is taken for unreachable at `now`.
    pub(super) fn unreachable(&self, last_answer: Instant, now: Instant) -> bool {
        now.saturating_duration_since(last_answer) >= self.unreachable_after
    }
}

/// Where a job stands in its life, as far as the executor knows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Life {
    /// Submitted or adopted, not yet seen running.
    Submitted,
    /// Seen running first at `at`; it may be back in the queue since (requeued).
    Started {
        /// When it was first seen running.
        at: Instant,
    },
    /// Missing from `squeue`, in an unknown state, or completed without a record, since
    /// `since`.
    InDoubt {
        /// When the doubt began.
        since: Instant,
        /// When it was first seen running, if it was.
        started: Option<Instant>,
    },
    /// Its end (or loss) was reported: nothing more happens to it.
    Ended,
}

impl Life {
    fn started(self) -> Option<Instant> {
        match self {
            Life::Started { at } => Some(at),
            Life::InDoubt { started, .. } => started,
            Life::Submitted | Life::Ended => None,
        }
    }
}

/// One job's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Job {
    /// When it was submitted (or adopted).
    pub submitted: Instant,
    /// Whether this run asked for it to be cancelled.
    pub cancelled: bool,
    /// Where it stands.
    pub life: Life,
}

impl Job {
    /// A job submitted (or adopted) at `now`.
    pub(super) fn new(now: Instant, cancelled: bool) -> Job {
        Job {
            submitted: now,
            cancelled,
            life: Life::Submitted,
        }
    }
}

/// What one `squeue` poll says of a job.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Squeue {
    /// The answer lists it: its phase, and Slurm's word for its state.
    Listed {
        /// What the state means.
        phase: Phase,
        /// `PENDING`, `RUNNING`, ... as Slurm wrote it.
        state: String,
    },
    /// The answer does not list it (or its id is not known yet).
    Missing,
    /// `squeue` failed; the last answer came at `last_answer`.
    NoAnswer {
        /// When `squeue` last answered.
        last_answer: Instant,
    },
}

/// Everything one poll observes of a job.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Observation {
    /// What `squeue` said.
    pub squeue: Squeue,
    /// Whether the record of the job's key is in the store.
    pub published: bool,
}

/// Why a job failed.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Failure {
    /// Slurm says `COMPLETED`, but no record appeared within the grace.
    Unpublished {
        /// The grace it was given.
        grace: Duration,
    },
    /// Slurm ended it otherwise; the words say how (from [`Phase::Ended`]).
    Ended(String),
    /// A job it depends on failed: it can never start.
    NeverStarts,
}

impl Failure {
    /// Whether the message should show the tail of the job's output file.
    pub(super) fn shows_output(&self) -> bool {
        !matches!(self, Failure::NeverStarts)
    }

    /// The failure in words, for Slurm job `id`; `tail` is appended as is.
    pub(super) fn message(&self, id: &str, tail: &str) -> String {
        match self {
            Failure::Unpublished { grace } => format!(
                "Slurm job {id} completed, but no result was published within {:.0}s{tail}",
                grace.as_secs_f64()
            ),
            Failure::Ended(why) => format!("Slurm job {id} {why}{tail}"),
            Failure::NeverStarts => {
                format!("Slurm job {id} can never start: a job it depends on failed{tail}")
            }
        }
    }
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Outcome {
    /// Its record is in the store.
    Succeeded,
    /// It ended after this run cancelled it.
    Cancelled,
    /// It ended without a record.
    Failed(Failure),
}

/// Why a job is reported vanished (neither success nor failure can be told).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Loss {
    /// Missing from `squeue` this long, with no record.
    Missing {
        /// How long.
        for_: Duration,
    },
    /// In a state this code does not know this long, with no record.
    Unknown {
        /// Slurm's word for the state.
        state: String,
        /// How long.
        for_: Duration,
    },
    /// Slurm has not answered this long: the job may still run, and the next run adopts it.
    Unreachable {
        /// How long.
        for_: Duration,
    },
}

impl Loss {
    /// Whether the job's registry entry stays live (so that the next run adopts the job).
    pub(super) fn keeps_entry(&self) -> bool {
        matches!(self, Loss::Unreachable { .. })
    }

    /// The loss in words, for Slurm job `id` (`of submission B` when its id is unknown);
    /// `None` for [`Loss::Unreachable`], whose words name Slurm's error and are the shell's.
    pub(super) fn message(&self, id: &str) -> Option<String> {
        let (what, for_) = match self {
            Loss::Missing { for_ } => ("has been missing from `squeue`".to_owned(), for_),
            Loss::Unknown { state, for_ } => (format!("has been in the state `{state}`"), for_),
            Loss::Unreachable { .. } => return None,
        };
        Some(format!(
            "Slurm job {id} {what} for {:.0}s and no result was published",
            for_.as_secs_f64()
        ))
    }
}

/// What the executor's thread does for a job after an observation.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    /// Report that the job started.
    Start,
    /// Cancel the job in Slurm (`scancel`).
    Cancel,
    /// Report the job's end and stop tracking it.
    Finish {
        /// How it ended.
        outcome: Outcome,
        /// How long it waited and ran.
        times: JobTimes,
    },
    /// Report the job vanished and stop tracking it.
    Vanish(Loss),
}

/// The transition of `job` on `seen` at `now`: its new state and what to do.
pub(super) fn next(
    job: Job,
    seen: &Observation,
    now: Instant,
    limits: &Limits,
) -> (Job, Vec<Action>) {
    if job.life == Life::Ended {
        return (job, Vec::new());
    }
    let started = job.life.started();
    let with = |life: Life| Job { life, ..job };
    let ended = |actions: Vec<Action>| (with(Life::Ended), actions);
    let finish = |outcome: Outcome| {
        let times = JobTimes {
            waited: started
                .unwrap_or(now)
                .saturating_duration_since(job.submitted),
            ran: started.map_or(Duration::ZERO, |s| now.saturating_duration_since(s)),
        };
        Action::Finish { outcome, times }
    };
    // The doubt that began earlier, or now; and how long it has lasted.
    let since = match job.life {
        Life::InDoubt { since, .. } => since,
        _ => now,
    };
    let doubt = now.saturating_duration_since(since);
    let in_doubt = with(Life::InDoubt { since, started });
    let phase = match &seen.squeue {
        Squeue::NoAnswer { last_answer } => {
            return if limits.unreachable(*last_answer, now) {
                ended(vec![Action::Vanish(Loss::Unreachable {
                    for_: now.saturating_duration_since(*last_answer),
                })])
            } else {
                (job, Vec::new())
            };
        }
        Squeue::Listed { phase, .. } => Some(phase),
        Squeue::Missing => None,
    };
    match phase {
        Some(Phase::Queued) => (
            with(started.map_or(Life::Submitted, |at| Life::Started { at })),
            Vec::new(),
        ),
        Some(Phase::Running) => match started {
            Some(at) => (with(Life::Started { at }), Vec::new()),
            None => (with(Life::Started { at: now }), vec![Action::Start]),
        },
        // Not queued or running: the store decides, whatever Slurm says.
        _ if seen.published => ended(vec![finish(Outcome::Succeeded)]),
        Some(Phase::Completed) if doubt >= limits.grace => {
            ended(vec![finish(Outcome::Failed(Failure::Unpublished {
                grace: limits.grace,
            }))])
        }
        Some(Phase::Completed) => (in_doubt, Vec::new()),
        Some(Phase::Ended(_) | Phase::Stuck) if job.cancelled => {
            ended(vec![finish(Outcome::Cancelled)])
        }
        Some(Phase::Ended(why)) => {
            ended(vec![finish(Outcome::Failed(Failure::Ended(why.clone())))])
        }
        Some(Phase::Stuck) => ended(vec![
            finish(Outcome::Failed(Failure::NeverStarts)),
            Action::Cancel,
        ]),
        Some(Phase::Unknown) | None if doubt >= limits.doubt_limit() => {
            let loss = match &seen.squeue {
                Squeue::Listed { state, .. } => Loss::Unknown {
                    state: state.clone(),
                    for_: doubt,
                },
                _ => Loss::Missing { for_: doubt },
            };
            ended(vec![Action::Vanish(loss)])
        }
        Some(Phase::Unknown) | None => (in_doubt, Vec::new()),
    }
}
