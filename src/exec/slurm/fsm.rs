//! The Slurm executor's decisions about one job, as a pure function: [`next`] takes where a
//! job stands ([`Job`]), what one poll says of it ([`Observation`]) and the clock, and returns
//! where it stands now with the [`Action`]s the executor's thread carries out (report a start,
//! an end or a loss; cancel the job). Nothing here runs a command, reads a file or looks at
//! the time, so every transition is table-tested below without Slurm; `tests/slurm` then tests
//! the shell (`worker.rs`) against a real one.
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
            grace: cfg.publish_grace,
            poll_interval: cfg.poll_interval,
            unreachable_after: cfg.unreachable_after,
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

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: u64 = 60;
    const POLL: u64 = 10;

    fn limits() -> Limits {
        Limits {
            grace: Duration::from_secs(GRACE),
            poll_interval: Duration::from_secs(POLL),
            unreachable_after: Duration::from_secs(600),
        }
    }

    /// A clock: `at(s)` is `s` seconds after the job was submitted.
    struct Clock(Instant);

    impl Clock {
        fn at(&self, s: u64) -> Instant {
            self.0 + Duration::from_secs(s)
        }
    }

    fn listed(state: &str, reason: &str) -> Squeue {
        let seen = super::super::state::Seen {
            state: state.into(),
            reason: reason.into(),
            comment: "b1".into(),
        };
        Squeue::Listed {
            phase: super::super::state::phase(&seen),
            state: state.into(),
        }
    }

    fn times(waited: u64, ran: u64) -> JobTimes {
        JobTimes {
            waited: Duration::from_secs(waited),
            ran: Duration::from_secs(ran),
        }
    }

    fn finish(outcome: Outcome, waited: u64, ran: u64) -> Action {
        Action::Finish {
            outcome,
            times: times(waited, ran),
        }
    }

    /// One row: a job in `life` (`cancelled` or not) sees `squeue` (with or without a record)
    /// at second `now`, and must end up in `then` having done `actions`.
    struct Row {
        name: &'static str,
        life: Life,
        cancelled: bool,
        squeue: Squeue,
        published: bool,
        now: u64,
        then: Life,
        actions: Vec<Action>,
    }

    #[test]
    fn every_transition_of_the_table() {
        let c = Clock(Instant::now());
        let ended_why = |s: &str, r: &str| match listed(s, r) {
            Squeue::Listed {
                phase: Phase::Ended(why),
                ..
            } => why,
            other => panic!("{other:?}"),
        };
        let started = Life::Started { at: c.at(5) };
        let doubt_from = |s: u64, started: Option<u64>| Life::InDoubt {
            since: c.at(s),
            started: started.map(|t| c.at(t)),
        };
        let rows = vec![
            Row {
                name: "a submitted job seen pending keeps waiting",
                life: Life::Submitted,
                cancelled: false,
                squeue: listed("PENDING", "Resources"),
                published: false,
                now: 3,
                then: Life::Submitted,
                actions: vec![],
            },
            Row {
                name: "a job seen running for the first time is reported started",
                life: Life::Submitted,
                cancelled: false,
                squeue: listed("RUNNING", "None"),
                published: false,
                now: 5,
                then: started,
                actions: vec![Action::Start],
            },
            Row {
                name: "a running job seen running again reports nothing",
                life: started,
                cancelled: false,
                squeue: listed("COMPLETING", "None"),
                published: false,
                now: 30,
                then: started,
                actions: vec![],
            },
            Row {
                name: "a requeued job keeps the time it first started",
                life: started,
                cancelled: false,
                squeue: listed("REQUEUED", "None"),
                published: false,
                now: 30,
                then: started,
                actions: vec![],
            },
            Row {
                name: "a running job seen running while its record is already there keeps waiting",
                life: started,
                cancelled: false,
                squeue: listed("RUNNING", "None"),
                published: true,
                now: 30,
                then: started,
                actions: vec![],
            },
            Row {
                name: "a completed job with its record succeeded",
                life: started,
                cancelled: false,
                squeue: listed("COMPLETED", "None"),
                published: true,
                now: 20,
                then: Life::Ended,
                actions: vec![finish(Outcome::Succeeded, 5, 15)],
            },
            Row {
                name: "a job never seen running that left the queue with its record succeeded",
                life: Life::Submitted,
                cancelled: false,
                squeue: Squeue::Missing,
                published: true,
                now: 20,
                then: Life::Ended,
                actions: vec![finish(Outcome::Succeeded, 20, 0)],
            },
            Row {
                name: "a failed job with a record (published before it failed) succeeded",
                life: started,
                cancelled: false,
                squeue: listed("FAILED", "NonZeroExitCode"),
                published: true,
                now: 20,
                then: Life::Ended,
                actions: vec![finish(Outcome::Succeeded, 5, 15)],
            },
            Row {
                name: "a job completed without a record is in doubt",
                life: started,
                cancelled: false,
                squeue: listed("COMPLETED", "None"),
                published: false,
                now: 20,
                then: doubt_from(20, Some(5)),
                actions: vec![],
            },
            Row {
                name: "a completed job's record may come within the grace",
                life: doubt_from(20, Some(5)),
                cancelled: false,
                squeue: listed("COMPLETED", "None"),
                published: false,
                now: 20 + GRACE - 1,
                then: doubt_from(20, Some(5)),
                actions: vec![],
            },
            Row {
                name: "a completed job's record found late, within the grace, is a success",
                life: doubt_from(20, Some(5)),
                cancelled: false,
                squeue: listed("COMPLETED", "None"),
                published: true,
                now: 20 + GRACE - 1,
                then: Life::Ended,
                actions: vec![finish(Outcome::Succeeded, 5, 14 + GRACE)],
            },
            Row {
                name: "a job completed without a record after the grace failed",
                life: doubt_from(20, Some(5)),
                cancelled: false,
                squeue: listed("COMPLETED", "None"),
                published: false,
                now: 20 + GRACE,
                then: Life::Ended,
                actions: vec![finish(
                    Outcome::Failed(Failure::Unpublished {
                        grace: Duration::from_secs(GRACE),
                    }),
                    5,
                    15 + GRACE,
                )],
            },
            Row {
                name: "a timed-out job failed, saying so",
                life: started,
                cancelled: false,
                squeue: listed("TIMEOUT", "TimeLimit"),
                published: false,
                now: 90,
                then: Life::Ended,
                actions: vec![finish(
                    Outcome::Failed(Failure::Ended(ended_why("TIMEOUT", "TimeLimit"))),
                    5,
                    85,
                )],
            },
            Row {
                name: "a job cancelled outside this run failed",
                life: Life::Submitted,
                cancelled: false,
                squeue: listed("CANCELLED", "None"),
                published: false,
                now: 7,
                then: Life::Ended,
                actions: vec![finish(
                    Outcome::Failed(Failure::Ended(ended_why("CANCELLED", "None"))),
                    7,
                    0,
                )],
            },
            Row {
                name: "a job this run cancelled ended cancelled",
                life: started,
                cancelled: true,
                squeue: listed("CANCELLED", "None"),
                published: false,
                now: 9,
                then: Life::Ended,
                actions: vec![finish(Outcome::Cancelled, 5, 4)],
            },
            Row {
                name: "a job this run cancelled still queued keeps waiting for Slurm",
                life: Life::Submitted,
                cancelled: true,
                squeue: listed("PENDING", "None"),
                published: false,
                now: 9,
                then: Life::Submitted,
                actions: vec![],
            },
            Row {
                name: "a job whose dependency failed fails and is cancelled",
                life: Life::Submitted,
                cancelled: false,
                squeue: listed("PENDING", "DependencyNeverSatisfied"),
                published: false,
                now: 12,
                then: Life::Ended,
                actions: vec![
                    finish(Outcome::Failed(Failure::NeverStarts), 12, 0),
                    Action::Cancel,
                ],
            },
            Row {
                name: "a stuck job this run cancelled ended cancelled",
                life: Life::Submitted,
                cancelled: true,
                squeue: listed("PENDING", "DependencyNeverSatisfied"),
                published: false,
                now: 12,
                then: Life::Ended,
                actions: vec![finish(Outcome::Cancelled, 12, 0)],
            },
            Row {
                name: "a job missing from squeue is in doubt",
                life: started,
                cancelled: false,
                squeue: Squeue::Missing,
                published: false,
                now: 30,
                then: doubt_from(30, Some(5)),
                actions: vec![],
            },
            Row {
                name: "a job in an unknown state is in doubt",
                life: Life::Submitted,
                cancelled: false,
                squeue: listed("UNKNOWN", "None"),
                published: false,
                now: 30,
                then: doubt_from(30, None),
                actions: vec![],
            },
            Row {
                name: "a job in doubt seen running again is no longer in doubt",
                life: doubt_from(30, Some(5)),
                cancelled: false,
                squeue: listed("RUNNING", "None"),
                published: false,
                now: 40,
                then: started,
                actions: vec![],
            },
            Row {
                name: "a job in doubt never seen running, seen running now, is reported started",
                life: doubt_from(30, None),
                cancelled: false,
                squeue: listed("RUNNING", "None"),
                published: false,
                now: 40,
                then: Life::Started { at: c.at(40) },
                actions: vec![Action::Start],
            },
            Row {
                name: "a job in doubt seen queued again is no longer in doubt",
                life: doubt_from(30, None),
                cancelled: false,
                squeue: listed("PENDING", "None"),
                published: false,
                now: 40,
                then: Life::Submitted,
                actions: vec![],
            },
            Row {
                name: "a job missing just short of the grace keeps waiting",
                life: doubt_from(30, Some(5)),
                cancelled: false,
                squeue: Squeue::Missing,
                published: false,
                now: 30 + GRACE - 1,
                then: doubt_from(30, Some(5)),
                actions: vec![],
            },
            Row {
                name: "a job missing for the grace with no record vanished",
                life: doubt_from(30, Some(5)),
                cancelled: false,
                squeue: Squeue::Missing,
                published: false,
                now: 30 + GRACE,
                then: Life::Ended,
                actions: vec![Action::Vanish(Loss::Missing {
                    for_: Duration::from_secs(GRACE),
                })],
            },
            Row {
                name: "a job completed without a record, then missing, keeps its doubt's start",
                life: doubt_from(20, Some(5)),
                cancelled: false,
                squeue: Squeue::Missing,
                published: false,
                now: 20 + GRACE,
                then: Life::Ended,
                actions: vec![Action::Vanish(Loss::Missing {
                    for_: Duration::from_secs(GRACE),
                })],
            },
            Row {
                name: "a job in an unknown state for the grace vanished, naming the state",
                life: doubt_from(30, None),
                cancelled: false,
                squeue: listed("UNKNOWN", "None"),
                published: false,
                now: 30 + GRACE,
                then: Life::Ended,
                actions: vec![Action::Vanish(Loss::Unknown {
                    state: "UNKNOWN".into(),
                    for_: Duration::from_secs(GRACE),
                })],
            },
            Row {
                name: "a job in an unknown state whose record appears succeeded",
                life: doubt_from(30, Some(5)),
                cancelled: false,
                squeue: listed("SOMETHING_NEW", "None"),
                published: true,
                now: 31,
                then: Life::Ended,
                actions: vec![finish(Outcome::Succeeded, 5, 26)],
            },
            Row {
                name: "an unanswered poll within the limit changes nothing",
                life: started,
                cancelled: false,
                squeue: Squeue::NoAnswer {
                    last_answer: c.at(10),
                },
                published: false,
                now: 609,
                then: started,
                actions: vec![],
            },
            Row {
                name: "a job is lost when Slurm stays unreachable",
                life: doubt_from(30, Some(5)),
                cancelled: false,
                squeue: Squeue::NoAnswer {
                    last_answer: c.at(10),
                },
                published: true,
                now: 610,
                then: Life::Ended,
                actions: vec![Action::Vanish(Loss::Unreachable {
                    for_: Duration::from_secs(600),
                })],
            },
            Row {
                name: "an ended job stays ended",
                life: Life::Ended,
                cancelled: false,
                squeue: listed("RUNNING", "None"),
                published: true,
                now: 50,
                then: Life::Ended,
                actions: vec![],
            },
        ];
        let mut wrong = Vec::new();
        for row in &rows {
            let job = Job {
                submitted: c.at(0),
                cancelled: row.cancelled,
                life: row.life,
            };
            let seen = Observation {
                squeue: row.squeue.clone(),
                published: row.published,
            };
            let (got, actions) = next(job, &seen, c.at(row.now), &limits());
            let want = Job {
                life: row.then,
                ..job
            };
            if got != want || actions != row.actions {
                wrong.push(format!(
                    "{}:\n  state   {:?}\n  wanted  {:?}\n  actions {:?}\n  wanted  {:?}",
                    row.name, got.life, want.life, actions, row.actions
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn one_odd_answer_never_loses_a_job_even_with_no_grace() {
        // With no grace, a missing job is still asked about for three polls.
        let c = Clock(Instant::now());
        let limits = Limits {
            grace: Duration::ZERO,
            ..limits()
        };
        let missing = Observation {
            squeue: Squeue::Missing,
            published: false,
        };
        let mut job = Job::new(c.at(0), false);
        let mut lost_at = None;
        for poll in 1..=5 {
            let (j, actions) = next(job, &missing, c.at(poll * POLL), &limits);
            job = j;
            if !actions.is_empty() {
                lost_at = Some(poll);
                break;
            }
        }
        // Missing first at poll 1; three intervals later, at poll 4, it vanishes.
        assert_eq!(lost_at, Some(4));
        // A completed job without a record fails at once with no grace.
        let completed = Observation {
            squeue: listed("COMPLETED", "None"),
            published: false,
        };
        let (job, actions) = next(Job::new(c.at(0), false), &completed, c.at(1), &limits);
        assert_eq!(job.life, Life::Ended);
        assert!(
            matches!(
                actions.as_slice(),
                [Action::Finish {
                    outcome: Outcome::Failed(Failure::Unpublished { .. }),
                    ..
                }]
            ),
            "{actions:?}"
        );
    }

    #[test]
    fn failures_and_losses_read_as_before() {
        let grace = Failure::Unpublished {
            grace: Duration::from_secs(60),
        };
        assert_eq!(
            grace.message("7_1", "; its output file o is empty"),
            "Slurm job 7_1 completed, but no result was published within 60s; its output file o is empty"
        );
        assert_eq!(
            Failure::NeverStarts.message("8", ""),
            "Slurm job 8 can never start: a job it depends on failed"
        );
        assert!(!Failure::NeverStarts.shows_output());
        let lost = Loss::Unknown {
            state: "UNKNOWN".into(),
            for_: Duration::from_secs(61),
        };
        assert_eq!(
            lost.message("9").as_deref(),
            Some("Slurm job 9 has been in the state `UNKNOWN` for 61s and no result was published")
        );
        assert!(!lost.keeps_entry());
        let unreachable = Loss::Unreachable {
            for_: Duration::from_secs(600),
        };
        assert!(unreachable.keeps_entry() && unreachable.message("9").is_none());
    }
}
