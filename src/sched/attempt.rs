//! An attempt at running one instance, from the moment it is found runnable until it is
//! published, failed or given up, whether it runs alone or in a pack; and the one policy that
//! decides, when an attempt ends without a result, whether the instance is tried again.
//!
//! The policy (see [`after_setback`]):
//! - a job that ran and failed (or that the executor lost) is tried again, alone, while
//!   attempts are left (`retries`), no sooner than a back-off after the failure: 1s before the
//!   first retry, doubling for each one after, at most 30s (see [`backoff`]), so that a stage
//!   that fails at once cannot spin through its attempts or flood a batch system; one that
//!   could not start (a refused submission, a missing
//!   program), ran past its `timeout` or ended successfully without a usable result would
//!   only fail again, and fails;
//! - a member of a pack that ended before finishing it runs again alone: the pack's failure
//!   (or its running out of time) may belong to another member, so this does not use up one
//!   of its retries (it does not happen twice: an attempt that runs alone never joins a pack
//!   again). Packing thus never fails what would pass alone;
//! - nothing is tried again once the run is stopping (a failure without `--keep-going`, an
//!   interrupt).

use std::time::{Duration, Instant};

use crate::cache::KeyInputs;
use crate::workspace::Dirty;

/// One attempt at running an instance.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    /// The instance (an index into the graph's instances).
    pub(crate) index: usize,
    /// Its key's inputs, computed when it became runnable.
    pub(crate) inputs: Box<KeyInputs>,
    /// Why it runs.
    pub(crate) reasons: Vec<Dirty>,
    /// Retries used so far: 0 for the first attempt.
    pub(crate) retries_used: u32,
    /// It must run alone, with its stage's own command: it did not finish in a pack, or it is
    /// a retry.
    pub(crate) alone: bool,
    /// It may not start before this (a retry's back-off); `None`: at once.
    pub(crate) not_before: Option<Instant>,
}

impl Attempt {
    /// The first attempt at instance `index`.
    pub(crate) fn first(index: usize, inputs: Box<KeyInputs>, reasons: Vec<Dirty>) -> Attempt {
        Attempt {
            index,
            inputs,
            reasons,
            retries_used: 0,
            alone: false,
            not_before: None,
        }
    }

    /// Whether it may start at `now`.
    pub(crate) fn due(&self, now: Instant) -> bool {
        self.not_before.is_none_or(|t| t <= now)
    }
}

/// The wait before the first retry.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait before a retry.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The wait before retry number `n` (1 for the first): [`FIRST_BACKOFF`] doubled for each
/// retry before it, at most [`MAX_BACKOFF`].
pub(crate) fn backoff(n: u32) -> Duration {
    let doublings = n.saturating_sub(1).min(16);
    (FIRST_BACKOFF * 2u32.pow(doublings)).min(MAX_BACKOFF)
}

/// How an attempt ended without a result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Setback {
    /// Its job ran and failed, or the executor lost it.
    Failed(String),
    /// Its job could not start.
    NotStarted(String),
    /// Its job ended successfully but left no usable result (a declared output missing, no
    /// record in the store): running it again would hide the program's fault.
    Unusable(String),
    /// Its job, running it alone, ran past its `timeout` and was ended.
    TimedOut(Duration),
    /// Its pack of `size` ended (failed, lost, not started, or ran past the sum of its
    /// members' `timeout`s) before finishing it.
    PackEnded {
        /// The pack's size.
        size: usize,
        /// Why the pack ended, first line.
        why: String,
    },
}

impl Setback {
    /// The failure message, if the instance is not tried again.
    pub(crate) fn message(&self) -> String {
        match self {
            Setback::Failed(why) | Setback::NotStarted(why) | Setback::Unusable(why) => why.clone(),
            Setback::TimedOut(limit) => format!(
                "timed out after {} (its `timeout`); its processes were ended",
                show_duration(*limit)
            ),
            Setback::PackEnded { size, why } => {
                format!("its pack of {size} ended before finishing it: {why}")
            }
        }
    }
}

/// What happens to an instance after a setback.
#[derive(Debug, Clone)]
pub(crate) enum Next {
    /// Try again: the attempt (alone, its retries counted) and the note that says so.
    Retry(Attempt, String),
    /// It failed, with this message.
    Fail(String),
}

/// The failure-and-retry policy (see the module doc): what follows `setback` for `attempt`
/// of instance `id`, with `retries` allowed and the run `stopping` or not, at `now`.
pub(crate) fn after_setback(
    attempt: Attempt,
    id: &str,
    setback: Setback,
    retries: u32,
    stopping: bool,
    now: Instant,
) -> Next {
    if stopping {
        return Next::Fail(setback.message());
    }
    match &setback {
        Setback::Failed(why) if attempt.retries_used < retries => {
            let wait = backoff(attempt.retries_used + 1);
            let note = format!(
                "`{id}` failed ({}); retrying, attempt {} of {}, in {}",
                why.lines().next().unwrap_or_default(),
                attempt.retries_used + 2,
                retries + 1,
                show_duration(wait)
            );
            Next::Retry(
                Attempt {
                    retries_used: attempt.retries_used + 1,
                    alone: true,
                    not_before: Some(now + wait),
                    ..attempt
                },
                note,
            )
        }
        Setback::PackEnded { .. } if !attempt.alone => {
            let note = format!("`{id}`: {}; running it alone", setback.message());
            Next::Retry(
                Attempt {
                    alone: true,
                    ..attempt
                },
                note,
            )
        }
        _ => Next::Fail(setback.message()),
    }
}

/// `90s`, `30m`, `2h`, `1.5d`: a duration as a `timeout` is written.
pub(crate) fn show_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    let (value, unit) = if s >= 86400.0 {
        (s / 86400.0, "d")
    } else if s >= 3600.0 {
        (s / 3600.0, "h")
    } else if s >= 60.0 {
        (s / 60.0, "m")
    } else {
        (s, "s")
    };
    format!("{}{unit}", (value * 100.0).round() / 100.0)
}

/// A first attempt at instance `index` with empty key inputs, for tests.
#[cfg(test)]
pub(crate) fn test_attempt(index: usize) -> Attempt {
    let inputs = KeyInputs {
        version: 0,
        argv: Vec::new(),
        env: Default::default(),
        params: Default::default(),
        deps: Default::default(),
        code: Default::default(),
        outs: Vec::new(),
    };
    Attempt::first(index, Box::new(inputs), Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(retries_used: u32, alone: bool) -> Attempt {
        Attempt {
            retries_used,
            alone,
            ..test_attempt(7)
        }
    }

    fn decide(a: Attempt, s: Setback, retries: u32, stopping: bool) -> Result<Attempt, String> {
        match after_setback(a, "s@x", s, retries, stopping, Instant::now()) {
            Next::Retry(a, _) => Ok(a),
            Next::Fail(m) => Err(m),
        }
    }

    #[test]
    fn a_failed_run_is_retried_alone_while_retries_are_left() {
        let a = decide(
            attempt(0, false),
            Setback::Failed("boom\nmore".into()),
            2,
            false,
        );
        let a = a.expect("retried");
        assert_eq!((a.retries_used, a.alone, a.index), (1, true, 7));
        let a = decide(a, Setback::Failed("boom".into()), 2, false).expect("retried");
        assert_eq!(a.retries_used, 2);
        assert_eq!(
            decide(a, Setback::Failed("boom".into()), 2, false).unwrap_err(),
            "boom"
        );
        match after_setback(
            attempt(0, false),
            "s@x",
            Setback::Failed("boom\nx".into()),
            1,
            false,
            Instant::now(),
        ) {
            Next::Retry(_, note) => {
                assert_eq!(note, "`s@x` failed (boom); retrying, attempt 2 of 2, in 1s")
            }
            Next::Fail(m) => panic!("failed: {m}"),
        }
    }

    #[test]
    fn a_retry_waits_a_doubling_back_off_and_running_alone_after_a_pack_does_not() {
        let now = Instant::now();
        let mut a = attempt(0, false);
        let mut waits = Vec::new();
        for _ in 0..7 {
            match after_setback(a, "s@x", Setback::Failed("boom".into()), 10, false, now) {
                Next::Retry(next, _) => {
                    let at = next.not_before.expect("a retry waits");
                    assert!(!next.due(now) && next.due(at));
                    waits.push((at - now).as_secs());
                    a = next;
                }
                Next::Fail(m) => panic!("failed: {m}"),
            }
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
        let ended = Setback::PackEnded {
            size: 2,
            why: "x".into(),
        };
        match after_setback(attempt(0, false), "s@x", ended, 0, false, now) {
            Next::Retry(next, _) => assert!(next.due(now)),
            Next::Fail(m) => panic!("failed: {m}"),
        }
        assert!(attempt(0, false).due(now));
    }

    #[test]
    fn no_retries_means_a_failure_is_final() {
        assert_eq!(
            decide(attempt(0, false), Setback::Failed("boom".into()), 0, false).unwrap_err(),
            "boom"
        );
    }

    #[test]
    fn what_could_not_start_or_timed_out_is_never_retried() {
        assert_eq!(
            decide(
                attempt(0, false),
                Setback::NotStarted("no such program".into()),
                5,
                false
            )
            .unwrap_err(),
            "no such program"
        );
        assert!(decide(
            attempt(0, false),
            Setback::Unusable("no out".into()),
            5,
            false
        )
        .is_err());
        let limit = Duration::from_secs(90);
        assert_eq!(
            decide(attempt(0, false), Setback::TimedOut(limit), 5, false).unwrap_err(),
            "timed out after 1.5m (its `timeout`); its processes were ended"
        );
        // A pack that ran out of time is not its members' failure: they run alone.
        let ran_out = Setback::PackEnded {
            size: 3,
            why: "it ran past 3m".into(),
        };
        assert!(decide(attempt(0, false), ran_out, 0, false).is_ok());
    }

    #[test]
    fn a_member_of_a_failed_pack_runs_alone_once_without_using_a_retry() {
        let ended = || Setback::PackEnded {
            size: 4,
            why: "killed".into(),
        };
        let a = decide(attempt(0, false), ended(), 0, false).expect("runs alone");
        assert_eq!((a.retries_used, a.alone), (0, true));
        assert_eq!(
            decide(a, ended(), 0, false).unwrap_err(),
            "its pack of 4 ended before finishing it: killed"
        );
    }

    #[test]
    fn nothing_is_retried_once_the_run_stops() {
        assert!(decide(attempt(0, false), Setback::Failed("boom".into()), 3, true).is_err());
        assert!(decide(
            attempt(0, false),
            Setback::PackEnded {
                size: 2,
                why: "x".into()
            },
            3,
            true
        )
        .is_err());
    }

    #[test]
    fn durations_read_as_a_timeout_is_written() {
        assert_eq!(show_duration(Duration::from_secs(45)), "45s");
        assert_eq!(show_duration(Duration::from_secs(1800)), "30m");
        assert_eq!(show_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(show_duration(Duration::from_secs(129600)), "1.5d");
    }
}
