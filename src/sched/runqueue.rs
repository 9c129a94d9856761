//! The attempts waiting for slots, in the order they start: attempts to try again first (in
//! the order they were put back), then new ones by rank (highest `priority`, then lowest
//! instance index: stages by name, then matrix order), whichever upstream happened to finish
//! first. An attempt to try again may carry a back-off (`not_before`): it keeps its place but
//! is passed over until then, and [`next_due`](RunQueue::next_due) tells the dispatcher how
//! long to wait for it when nothing else would wake it.

use std::collections::VecDeque;
use std::time::Instant;

use super::attempt::Attempt;

/// Attempts waiting for slots.
#[derive(Default)]
pub(crate) struct RunQueue {
    items: VecDeque<Attempt>,
    /// How many items at the front are attempts to try again.
    again: usize,
}

impl RunQueue {
    /// Puts a new attempt in its place among the new ones, `rank` giving the order (lowest
    /// first). The new attempts stay sorted, so the place is found by bisection: a grid's
    /// first run queues thousands.
    pub(crate) fn push<R: Ord>(&mut self, attempt: Attempt, rank: impl Fn(usize) -> R) {
        debug_assert!(
            attempt.not_before.is_none(),
            "a back-off belongs to an attempt to try again (`push_again`)"
        );
        let key = rank(attempt.index);
        let (mut lo, mut hi) = (self.again, self.items.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if rank(self.items[mid].index) <= key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        self.items.insert(lo, attempt);
    }

    /// Puts an attempt to try again at the front, behind the others to try again.
    pub(crate) fn push_again(&mut self, attempt: Attempt) {
        self.items.insert(self.again, attempt);
        self.again += 1;
    }

    /// The waiting attempts, in start order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Attempt> {
        self.items.iter()
    }

    /// The earliest time a waiting attempt that is not yet due becomes due (`None`: every
    /// waiting attempt may start now, or none waits).
    pub(crate) fn next_due(&self, now: Instant) -> Option<Instant> {
        // Only attempts to try again carry a back-off, and they are the first `again`: the
        // dispatcher asks this at every turn, while thousands of new attempts may wait.
        self.items
            .iter()
            .take(self.again)
            .filter(|a| !a.due(now))
            .filter_map(|a| a.not_before)
            .min()
    }

    /// Takes the attempt at `pos` (a position from [`iter`](Self::iter)).
    pub(crate) fn take(&mut self, pos: usize) -> Attempt {
        if pos < self.again {
            self.again -= 1;
        }
        self.items.remove(pos).expect("position is valid")
    }

    /// Drops every waiting attempt (the run is stopping).
    pub(crate) fn clear(&mut self) {
        self.items.clear();
        self.again = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::attempt::test_attempt as attempt;

    fn order(q: &RunQueue) -> Vec<usize> {
        q.iter().map(|a| a.index).collect()
    }

    #[test]
    fn retries_go_first_in_order_and_new_attempts_by_rank() {
        let mut q = RunQueue::default();
        for i in [5, 1, 3] {
            q.push(attempt(i), |i| i);
        }
        assert_eq!(order(&q), [1, 3, 5]);
        q.push_again(attempt(9));
        q.push_again(attempt(8));
        q.push(attempt(0), |i| i);
        q.push(attempt(4), |i| i);
        assert_eq!(order(&q), [9, 8, 0, 1, 3, 4, 5]);
        assert_eq!(q.take(1).index, 8);
        q.push(attempt(2), |i| i);
        assert_eq!(order(&q), [9, 0, 1, 2, 3, 4, 5]);
        q.push_again(attempt(7));
        assert_eq!(order(&q), [9, 7, 0, 1, 2, 3, 4, 5]);
        assert_eq!(q.take(4).index, 2);
        q.clear();
        q.push(attempt(6), |i| i);
        assert_eq!(order(&q), [6]);
    }

    #[test]
    fn the_next_due_time_is_the_earliest_back_off_not_yet_over() {
        let now = Instant::now();
        let later = |s| now + std::time::Duration::from_secs(s);
        let mut q = RunQueue::default();
        q.push(attempt(1), |i| i);
        assert_eq!(q.next_due(now), None);
        for (i, s) in [(2, 5), (3, 2)] {
            let mut a = attempt(i);
            a.not_before = Some(later(s));
            q.push_again(a);
        }
        assert_eq!(q.next_due(now), Some(later(2)));
        assert_eq!(q.next_due(later(3)), Some(later(5)));
        assert_eq!(q.next_due(later(5)), None);
    }
}
