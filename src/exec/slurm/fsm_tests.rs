//! The table of the Slurm executor's per-job transitions (`fsm.rs`): one row per rule, run by
//! `make test` without Slurm.

use std::time::{Duration, Instant};

use super::fsm::*;
use super::state::{self, Phase};
use crate::exec::event::JobTimes;

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
    let seen = state::Seen {
        state: state.into(),
        reason: reason.into(),
        comment: "b1".into(),
    };
    Squeue::Listed {
        phase: state::phase(&seen),
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
