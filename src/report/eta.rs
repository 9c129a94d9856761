//! The time left in a run, from earlier durations ([`Event::Expected`](crate::sched::Event))
//! and the progress running instances report: work left over the run's parallelism, and never
//! less than what its slowest running instance still needs.
//!
//! A running instance with a reported fraction `f` (past 2%) needs `elapsed * (1 - f) / f`
//! more; else its expected duration less its elapsed time (at least nothing). Every selected
//! instance not yet settled counts as going to run (as cargo counts every pending unit): its
//! expected duration. No instance is split across slots, so the time left is never less than
//! the longest single instance left. Instances without an estimate make the result a lower
//! bound.

use std::collections::HashMap;
use std::time::Instant;

use crate::spec::progress::ProgressLine;

/// A fraction below this is too early to extrapolate from.
const MIN_FRACTION: f64 = 0.02;

/// The run's bookkeeping for the estimate.
#[derive(Debug, Default)]
pub(crate) struct TimeLeft {
    /// Expected seconds of the instances not settled yet.
    expected: HashMap<String, f64>,
    /// Instances not settled yet without an estimate.
    unknown: usize,
    parallel: usize,
    known: bool,
    running: HashMap<String, Instant>,
}

/// An estimate of the time left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Left {
    /// Seconds.
    pub(crate) seconds: f64,
    /// Some instance left has no estimate: the time left is at least this.
    pub(crate) lower_bound: bool,
}

impl TimeLeft {
    /// Takes the expected durations of the run's instances not settled yet (`unknown` of
    /// them have none).
    pub(crate) fn expected(
        &mut self,
        by_id: &HashMap<String, f64>,
        unknown: usize,
        parallel: usize,
    ) {
        self.expected = by_id.clone();
        self.unknown = unknown;
        self.parallel = parallel.max(1);
        self.known = !by_id.is_empty();
    }

    /// `id` started now.
    pub(crate) fn started(&mut self, id: &str, now: Instant) {
        self.running.insert(id.to_owned(), now);
    }

    /// `id` ended, one way or another (or never needed to run). Before the estimates arrive
    /// nothing is kept: they cover only what had not settled by then.
    pub(crate) fn settled(&mut self, id: &str) {
        self.running.remove(id);
        if self.known && self.expected.remove(id).is_none() {
            self.unknown = self.unknown.saturating_sub(1);
        }
    }

    /// The time left at `now`, given the running instances' latest progress; `None` before
    /// any estimate is known.
    pub(crate) fn left(
        &self,
        now: Instant,
        progress: &HashMap<String, ProgressLine>,
    ) -> Option<Left> {
        if !self.known {
            return None;
        }
        let mut work = 0.0;
        let mut longest: f64 = 0.0;
        let mut unknown_running = false;
        for (id, since) in &self.running {
            let elapsed = now.saturating_duration_since(*since).as_secs_f64();
            let from_progress = progress
                .get(id)
                .and_then(ProgressLine::fraction)
                .filter(|&f| f >= MIN_FRACTION)
                .map(|f| elapsed * (1.0 - f) / f);
            let need = match (from_progress, self.expected.get(id)) {
                (Some(n), _) => n,
                (None, Some(&e)) => (e - elapsed).max(0.0),
                (None, None) => {
                    unknown_running = true;
                    0.0
                }
            };
            work += need;
            longest = longest.max(need);
        }
        for (id, &e) in &self.expected {
            if !self.running.contains_key(id) {
                work += e;
                longest = longest.max(e);
            }
        }
        Some(Left {
            seconds: (work / self.parallel as f64).max(longest),
            lower_bound: unknown_running || self.unknown > 0,
        })
    }
}

/// `seconds` as the live view shows a duration: `45s`, `12m`, `3h05m`.
pub(crate) fn human(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", (s + 30) / 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn left(t: &TimeLeft, now: Instant) -> Left {
        t.left(now, &HashMap::new()).unwrap()
    }

    #[test]
    fn pending_work_is_shared_by_the_slots_and_running_work_counts_what_is_left() {
        let t0 = Instant::now();
        let mut t = TimeLeft::default();
        let exp: HashMap<String, f64> = [("a", 100.0), ("b", 100.0), ("c", 100.0), ("d", 100.0)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        t.expected(&exp, 0, 2);
        assert_eq!(left(&t, t0).seconds, 200.0);
        t.started("a", t0);
        t.started("b", t0);
        // 40 s in: a and b need 60 each, c and d 100 each: 320 over 2 slots.
        let l = left(&t, t0 + Duration::from_secs(40));
        assert_eq!((l.seconds, l.lower_bound), (160.0, false));
        t.settled("a");
        t.settled("b");
        t.settled("c");
        // Only d is left, not started: one instance cannot use both slots.
        assert_eq!(left(&t, t0 + Duration::from_secs(100)).seconds, 100.0);
    }

    #[test]
    fn a_reported_fraction_beats_the_expected_duration() {
        let t0 = Instant::now();
        let mut t = TimeLeft::default();
        t.expected(&HashMap::from([("a".to_owned(), 1000.0)]), 0, 1);
        t.started("a", t0);
        let progress = HashMap::from([(
            "a".to_owned(),
            ProgressLine {
                done: Some(25.0),
                total: Some(100.0),
                text: String::new(),
            },
        )]);
        let l = t.left(t0 + Duration::from_secs(10), &progress).unwrap();
        assert_eq!(l.seconds, 30.0);
    }

    #[test]
    fn without_history_there_is_no_estimate_and_unknown_instances_make_a_lower_bound() {
        let t = TimeLeft::default();
        assert!(t.left(Instant::now(), &HashMap::new()).is_none());
        let mut t = TimeLeft::default();
        t.settled("fresh-before-the-estimates");
        t.expected(&HashMap::from([("a".to_owned(), 10.0)]), 1, 1);
        assert!(left(&t, Instant::now()).lower_bound);
        t.settled("x");
        assert!(!left(&t, Instant::now()).lower_bound);
        assert_eq!(left(&t, Instant::now()).seconds, 10.0);
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human(42.4), "42s");
        assert_eq!(human(725.0), "12m");
        assert_eq!(human(3600.0 * 3.0 + 300.0), "3h05m");
    }
}
