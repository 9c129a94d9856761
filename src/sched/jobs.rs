//! The jobs a dispatch has submitted and not yet settled, with the slots they hold: every job
//! enters through [`Jobs::hold`], taking its lease (the pipeline's `build:` command holds a
//! lease of no slot and no limit), and leaves through [`Jobs::retire`] or
//! [`Jobs::retire_all`], which give its slots back. Nothing else releases slots.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::exec::JobId;
use crate::spec::Resources;

use super::lease::Lease;
use super::slots::{Grant, Slots};

/// A job in the table: its lease and what it is for.
pub(crate) struct Held<W> {
    /// The slots and limit it holds.
    pub(crate) lease: Lease,
    /// What the job is for.
    pub(crate) work: W,
}

/// Running jobs and the pool of slots they hold.
pub(crate) struct Jobs<W> {
    held: HashMap<JobId, Held<W>>,
    slots: Slots,
    last_id: u64,
}

impl<W> Jobs<W> {
    /// An empty table over `slots`.
    pub(crate) fn new(slots: Slots) -> Jobs<W> {
        Jobs {
            held: HashMap::new(),
            slots,
            last_id: 0,
        }
    }

    /// A new job handle, unique within the dispatch.
    pub(crate) fn next_id(&mut self) -> JobId {
        self.last_id += 1;
        JobId(self.last_id)
    }

    /// The pool (for `CUDA_VISIBLE_DEVICES` and thread counts).
    pub(crate) fn slots(&self) -> &Slots {
        &self.slots
    }

    /// Whether `request` could be granted now.
    pub(crate) fn fits(&self, request: &Resources) -> bool {
        self.slots.fits(request)
    }

    /// Enters job `id`, taking the slots for `request` (the caller checked that it fits) and a
    /// lease that ends at `limit`; `device` names where a grant runs and which slots it holds
    /// (its lane on the report's timeline).
    pub(crate) fn hold(
        &mut self,
        id: JobId,
        request: &Resources,
        limit: Option<Duration>,
        device: impl FnOnce(&Grant, &Slots) -> (String, String),
        work: W,
    ) -> &Lease {
        let grant = self.slots.try_take(request).expect("checked to fit");
        let (device, slot) = device(&grant, &self.slots);
        let lease = Lease::new(grant, device, slot, limit);
        &self
            .held
            .entry(id)
            .insert_entry(Held { lease, work })
            .into_mut()
            .lease
    }

    /// Removes job `id` and gives its slots back; `None` when it is not (or no longer) held.
    pub(crate) fn retire(&mut self, id: JobId) -> Option<Held<W>> {
        let held = self.held.remove(&id)?;
        self.slots.release(&held.lease.grant);
        Some(held)
    }

    /// Removes every job, in submission order, giving their slots back.
    pub(crate) fn retire_all(&mut self) -> Vec<(JobId, Held<W>)> {
        let mut ids: Vec<JobId> = self.held.keys().copied().collect();
        ids.sort();
        ids.into_iter()
            .filter_map(|id| self.retire(id).map(|h| (id, h)))
            .collect()
    }

    /// Whether no job is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Marks the jobs whose limit passed by `now` as timed out and returns them (each once).
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<JobId> {
        let mut expired: Vec<JobId> = self
            .held
            .iter_mut()
            .filter_map(|(id, h)| h.lease.expire(now).then_some(*id))
            .collect();
        expired.sort();
        expired
    }

    /// The earliest limit still to pass.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.held
            .values()
            .filter_map(|h| h.lease.pending_deadline())
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpus(n: u32) -> Resources {
        Resources {
            cpus: n,
            ..Resources::default()
        }
    }

    #[test]
    fn retiring_a_job_gives_its_slots_back_once() {
        let mut jobs: Jobs<&str> = Jobs::new(Slots::new(2, vec![]));
        let (a, b) = (jobs.next_id(), jobs.next_id());
        jobs.hold(
            a,
            &cpus(1),
            None,
            |_, _| ("cpu".into(), "cpu 0".into()),
            "a",
        );
        jobs.hold(
            b,
            &cpus(1),
            None,
            |_, _| ("cpu".into(), "cpu 0".into()),
            "b",
        );
        assert!(!jobs.fits(&cpus(1)));
        assert_eq!(jobs.retire(a).map(|h| h.work), Some("a"));
        assert!(jobs.fits(&cpus(1)));
        assert!(jobs.retire(a).is_none(), "a second retire frees nothing");
        assert!(!jobs.fits(&cpus(2)));
        let all = jobs.retire_all();
        assert_eq!(all.len(), 1);
        assert!(jobs.is_empty() && jobs.slots().idle());
    }

    #[test]
    fn only_leases_past_their_limit_expire() {
        let mut jobs: Jobs<()> = Jobs::new(Slots::new(4, vec![]));
        let (a, b, c) = (jobs.next_id(), jobs.next_id(), jobs.next_id());
        jobs.hold(
            a,
            &cpus(1),
            Some(Duration::from_secs(10)),
            |_, _| ("cpu".into(), "cpu 0".into()),
            (),
        );
        jobs.hold(b, &cpus(1), None, |_, _| ("cpu".into(), "cpu 0".into()), ());
        jobs.hold(
            c,
            &cpus(0),
            None,
            |_, _| ("build".into(), "build".into()),
            (),
        );
        assert!(jobs.next_deadline().is_some());
        let later = Instant::now() + Duration::from_secs(11);
        assert_eq!(jobs.expire(later), vec![a]);
        assert!(jobs.expire(later).is_empty());
        assert_eq!(jobs.next_deadline(), None);
    }
}
