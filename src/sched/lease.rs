//! What a running job holds: its slots, where it runs, and its time limit. One lease per job,
//! whether the job runs one instance or a pack; it is given back in one place
//! ([`Jobs::retire`](super::jobs::Jobs::retire)).

use std::time::{Duration, Instant};

use super::slots::Grant;

/// The slots and time limit of one running job.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    /// The slots it holds.
    pub(crate) grant: Grant,
    /// Where it runs: the batch executor's name, `cpu` or `cuda:<devices>`.
    pub(crate) device: String,
    /// Which slots it holds, in words (`cpu 2`, `gpu 0 · cpu 1`, or the batch executor's name):
    /// recorded in the action record and the run record, never keyed.
    pub(crate) slot: String,
    /// Its time limit (an instance's `timeout`; a pack's longest), if it has one.
    pub(crate) limit: Option<Duration>,
    /// When that limit passes.
    deadline: Option<Instant>,
    /// Cancelled because the limit passed.
    pub(crate) timed_out: bool,
}

impl Lease {
    /// A lease on `grant` (its slots named `slot`) from now, ending at `limit` if there is one.
    pub(crate) fn new(
        grant: Grant,
        device: String,
        slot: String,
        limit: Option<Duration>,
    ) -> Lease {
        Lease {
            grant,
            device,
            slot,
            limit,
            deadline: limit.map(|l| Instant::now() + l),
            timed_out: false,
        }
    }

    /// When the limit passes, unless there is none or it already passed.
    pub(crate) fn pending_deadline(&self) -> Option<Instant> {
        if self.timed_out {
            None
        } else {
            self.deadline
        }
    }

    /// Marks the lease timed out if its limit passed by `now`; whether it did just now.
    pub(crate) fn expire(&mut self, now: Instant) -> bool {
        let passed = self.pending_deadline().is_some_and(|d| d <= now);
        if passed {
            self.timed_out = true;
        }
        passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_expires_once_and_only_after_its_limit() {
        let grant = Grant {
            cpus: 1,
            cpu_slots: vec![0],
            gpus: vec![],
        };
        let mut free = Lease::new(grant.clone(), "cpu".into(), "cpu 0".into(), None);
        assert!(!free.expire(Instant::now() + Duration::from_secs(1 << 30)));
        let mut l = Lease::new(
            grant,
            "cpu".into(),
            "cpu 0".into(),
            Some(Duration::from_secs(60)),
        );
        assert!(!l.expire(Instant::now()));
        let later = Instant::now() + Duration::from_secs(61);
        assert!(l.expire(later));
        assert!(l.timed_out);
        assert!(!l.expire(later), "expires once");
        assert_eq!(l.pending_deadline(), None);
    }
}
