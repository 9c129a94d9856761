//! Taking over the jobs an earlier run submitted: the first `squeue` query of a run (the
//! survey) says which registered jobs are still alive; the others are forgotten (their results,
//! if any, are in the store) and a job stuck behind a failed dependency is cancelled. Then each
//! job the run would submit is first matched against the registry: a live job for the same key
//! (or for a key not known at submission, `--detach`) is adopted instead of submitted again,
//! and a live job for another key (its inputs changed) is cancelled. A pack is never adopted as
//! a whole: the dispatcher runs alone each instance that has a live entry (an earlier run's
//! pack job has one entry per member), and each such instance adopts the job on its own; the
//! job publishes every member's record, which is what each adoption waits for.
//!
//! Both run on the executor's thread (or `--detach`'s), never on the dispatcher's: the survey
//! is a Slurm command, which may take a whole `command_timeout` and its retries, and the state
//! lock is not held while it runs. Which registered job is adopted is [`verdict`], a pure
//! function tested below; a job whose submission's id was never recorded (its controller died
//! inside `sbatch`) is found by the submission's comment ([`find_by_comment`]).

use std::collections::HashMap;

use super::jobid::SlurmJobId;
use super::state::{self, Phase, Seen};
use super::{Context, Shared, State, Tracked};
use crate::exec::job::JobSpec;

/// What becomes of a registered job when its instance is to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Adoption {
    /// Track it instead of submitting the instance again.
    Adopt,
    /// Forget it (and submit anew); `cancel`: it is still queued, running or stuck, so
    /// `scancel` it.
    Forget {
        /// Whether to cancel it in Slurm.
        cancel: bool,
    },
}

/// The decision for a registered job: `same_key` (or no key recorded), what the survey said of
/// it (`None`: not listed, or no id known; [`Phase::Unknown`] when the survey got no answer),
/// and whether the instance's record is in the store.
pub(super) fn verdict(same_key: bool, seen: Option<&Phase>, published: bool) -> Adoption {
    let alive = matches!(
        seen,
        Some(Phase::Queued | Phase::Running | Phase::Unknown | Phase::Completed)
    );
    if same_key && (alive || published) {
        return Adoption::Adopt;
    }
    Adoption::Forget {
        cancel: matches!(seen, Some(Phase::Queued | Phase::Running | Phase::Stuck)),
    }
}

/// The survey: one query of the registered jobs before anything is submitted, kept as the
/// snapshot that adoption reads. No query when nothing is registered; a failed query leaves no
/// snapshot (every registered job with an id then counts as alive).
pub(super) fn survey(ctx: &Context, shared: &Shared) {
    let registered = ctx.registry.all();
    if registered.is_empty() {
        return;
    }
    let answer = ctx.runner.run("squeue", &state::query_args(&ctx.name));
    let mut st = shared.state.lock().expect("slurm");
    let Ok(answer) = answer else {
        return;
    };
    let snapshot = state::parse(&answer);
    for e in registered {
        let Some(id) = e.job else { continue };
        match snapshot.get(&id).map(state::phase) {
            Some(Phase::Queued | Phase::Running | Phase::Unknown) => {}
            Some(Phase::Stuck) => {
                st.cancels.push(id);
                st.poll_now = true;
                ctx.registry.finish(&e.instance);
            }
            _ => ctx.registry.finish(&e.instance),
        }
    }
    st.snapshot = Some(snapshot);
}

/// Adopts what it can of `jobs` (in order); returns the others, to be submitted.
pub(super) fn adopt_all(ctx: &Context, shared: &Shared, jobs: Vec<JobSpec>) -> Vec<JobSpec> {
    let mut st = shared.state.lock().expect("slurm");
    let mut left = Vec::new();
    for job in jobs {
        if adopt(ctx, &mut st, &job) {
            st.poll_now = true;
        } else {
            left.push(job);
        }
    }
    left
}

/// Whether the registry holds a live job for this instance that this run can adopt; if so it
/// is tracked (and cancelled at once when the run cancelled it meanwhile). A registered job
/// for another key is cancelled (its inputs changed).
fn adopt(ctx: &Context, st: &mut State, job: &JobSpec) -> bool {
    let batch = job.batch.as_ref().expect("an instance job");
    if !batch.packed_with.is_empty() {
        // A new pack is always submitted: the dispatcher runs alone every instance that has a
        // live entry (`Executor::registered`), so that its job is adopted on its own. Should a
        // member have one all the same, that job is forgotten (cancelled when alive) rather
        // than left to run beside the pack.
        for instance in batch.instances() {
            let Some(entry) = ctx.registry.get(instance) else {
                continue;
            };
            let seen = match (&st.snapshot, &entry.job) {
                (Some(snap), Some(id)) => snap.get(id).map(state::phase),
                (None, Some(_)) => Some(Phase::Unknown),
                _ => None,
            };
            if let (
                Some(id),
                Some(Phase::Queued | Phase::Running | Phase::Stuck | Phase::Unknown),
            ) = (entry.job, seen)
            {
                st.cancels.push(id);
            }
            ctx.registry.finish(instance);
        }
        return false;
    }
    let Some(mut entry) = ctx.registry.get(&batch.instance) else {
        return false;
    };
    let same_key = entry.key.is_none() || entry.key == batch.key;
    let id_unrecorded = entry.job.is_none();
    if entry.job.is_none() {
        // The controller died inside `sbatch`: find the job by its submission's comment.
        if let Some(snap) = &st.snapshot {
            entry.job = find_by_comment(snap, &entry.batch, entry.index);
        }
    }
    let seen = match (&st.snapshot, &entry.job) {
        (Some(snap), Some(id)) => snap.get(id).map(state::phase),
        (None, Some(_)) => Some(Phase::Unknown),
        _ => None,
    };
    let published = batch.key.as_deref().is_some_and(|k| (ctx.published)(k));
    if let Adoption::Forget { cancel } = verdict(same_key, seen.as_ref(), published) {
        if let (Some(id), true) = (entry.job, cancel) {
            st.cancels.push(id);
        }
        ctx.registry.finish(&batch.instance);
        return false;
    }
    if entry.key != batch.key || (id_unrecorded && entry.job.is_some()) {
        entry.key = batch.key.clone();
        if let Err(err) = ctx.registry.put(&entry) {
            // Not adopted: submitting anew records first, and fails there with this error.
            if let (Some(id), Some(Phase::Queued | Phase::Running)) = (entry.job, &seen) {
                st.cancels.push(id);
            }
            st.unrecorded.get_or_insert_with(|| {
                format!(
                    "cannot record the adopted job of `{}` in the registry ({err}): this run submits nothing more",
                    batch.instance
                )
            });
            return false;
        }
    }
    let cancelled = st.cancelling || st.cancel_on_submit.remove(&job.id);
    if let (true, Some(id)) = (cancelled, entry.job) {
        st.cancels.push(id);
    }
    st.tracked
        .insert(job.id, Tracked::new(entry, Vec::new(), cancelled));
    true
}

/// Slurm's id of member `index` of the submission whose comment is `batch`, if `seen` lists
/// any of its jobs (an array's tasks carry an index).
pub(super) fn find_by_comment(
    seen: &HashMap<SlurmJobId, Seen>,
    batch: &str,
    index: u32,
) -> Option<SlurmJobId> {
    let ids: Vec<&SlurmJobId> = seen
        .iter()
        .filter(|(_, s)| s.comment == batch)
        .map(|(id, _)| id)
        .collect();
    let first = ids.iter().min()?;
    let array = ids.iter().any(|id| id.index().is_some());
    Some(first.member(index, array))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_jobs_are_adopted_only_when_alive_or_published_for_the_same_key() {
        let ended = Phase::Ended("failed".into());
        // (same key, survey says, published) → decision
        let rows = [
            (true, Some(Phase::Queued), false, Adoption::Adopt),
            (true, Some(Phase::Running), false, Adoption::Adopt),
            (true, Some(Phase::Completed), false, Adoption::Adopt),
            (true, Some(Phase::Unknown), false, Adoption::Adopt),
            (true, None, true, Adoption::Adopt),
            (true, Some(ended.clone()), true, Adoption::Adopt),
            (true, None, false, Adoption::Forget { cancel: false }),
            (
                true,
                Some(ended.clone()),
                false,
                Adoption::Forget { cancel: false },
            ),
            (
                true,
                Some(Phase::Stuck),
                false,
                Adoption::Forget { cancel: true },
            ),
            (
                false,
                Some(Phase::Queued),
                false,
                Adoption::Forget { cancel: true },
            ),
            (
                false,
                Some(Phase::Running),
                true,
                Adoption::Forget { cancel: true },
            ),
            (
                false,
                Some(Phase::Completed),
                true,
                Adoption::Forget { cancel: false },
            ),
            (
                false,
                Some(Phase::Unknown),
                false,
                Adoption::Forget { cancel: false },
            ),
        ];
        for (same_key, seen, published, want) in rows {
            assert_eq!(
                verdict(same_key, seen.as_ref(), published),
                want,
                "same key {same_key}, seen {seen:?}, published {published}"
            );
        }
    }

    #[test]
    fn a_submission_is_found_by_its_comment_single_or_array() {
        let seen = state::parse(
            "41|PENDING|None|run-1\n42_0|RUNNING|None|run-2\n42_1|PENDING|None|run-2\n",
        );
        let found = |batch, index| find_by_comment(&seen, batch, index).map(|id| id.to_string());
        assert_eq!(found("run-1", 0).as_deref(), Some("41"));
        assert_eq!(found("run-2", 1).as_deref(), Some("42_1"));
        // A task already gone from the answer is still named from its array's id.
        assert_eq!(found("run-2", 5).as_deref(), Some("42_5"));
        assert_eq!(find_by_comment(&seen, "run-3", 0), None);
    }
}
