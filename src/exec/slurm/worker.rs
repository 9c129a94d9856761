//! The Slurm executor's thread, the shell around [`fsm::next`]: it surveys the jobs of earlier
//! runs first (`adopt.rs`), then adopts or submits what was flushed, cancels what was
//! cancelled, and polls `squeue` once per interval for every job of the workspace. Each poll
//! becomes one [`fsm::Observation`] per job (with whether its record is in the store), and the
//! shell carries out the actions the state machine returns: events to the dispatcher, registry
//! moves, `scancel`. All decisions about a job's life are in `fsm.rs`; what stays here is
//! talking to Slurm, to the registry and to the dispatcher.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::adopt::{self, find_by_comment};
use super::fsm::{self, Action, Observation, Outcome, Squeue};
use super::jobid::SlurmJobId;
use super::registry::Entry;
use super::state::{self, Seen};
use super::submit::{self, Submission};
use super::{not_started, send, Context, Shared, State, Tracked};
use crate::exec::event::{ExecEvent, JobFailure, JobStatus, StartFailure};
use crate::exec::job::{JobId, JobSpec};

/// The thread's loop, until the executor is dropped.
pub(super) fn run(ctx: &Context, shared: &Shared) {
    // Before any submission: which jobs of earlier runs are alive (adoption reads it).
    adopt::survey(ctx, shared);
    send(&shared.state.lock().expect("slurm"), ExecEvent::Alive);
    let interval = ctx.cfg.poll_interval.get();
    let mut last_poll = Instant::now();
    let mut last_ok = Instant::now();
    loop {
        let (pending, cancels, poll) = {
            let mut st = shared.state.lock().expect("slurm");
            loop {
                if st.stop {
                    return;
                }
                let due = last_poll + interval;
                let now = Instant::now();
                let work = (st.flush && !st.pending.is_empty()) || !st.cancels.is_empty();
                if work || st.poll_now || (!st.tracked.is_empty() && now >= due) {
                    break;
                }
                let wait = if st.tracked.is_empty() {
                    interval
                } else {
                    due.saturating_duration_since(now)
                };
                st = shared.wake.wait_timeout(st, wait).expect("slurm").0;
            }
            st.flush = false;
            let pending = std::mem::take(&mut st.pending);
            let cancels = std::mem::take(&mut st.cancels);
            let poll = st.poll_now || Instant::now() >= last_poll + interval;
            st.poll_now = false;
            (pending, cancels, poll)
        };
        if !pending.is_empty() {
            let pending = adopt::adopt_all(ctx, shared, pending);
            submit_all(ctx, shared, pending);
        }
        if !cancels.is_empty() {
            scancel(ctx, cancels);
            // See the cancellations confirmed soon, not a whole interval later.
            last_poll = Instant::now() - interval + Duration::from_millis(500).min(interval);
            continue;
        }
        if poll {
            last_poll = Instant::now();
            let answer = ctx.runner.run("squeue", &state::query_args(&ctx.name));
            let mut st = shared.state.lock().expect("slurm");
            // Alive, whatever Slurm said: the dispatcher's silence limit watches this thread.
            send(&st, ExecEvent::Alive);
            match answer {
                Ok(answer) => {
                    last_ok = Instant::now();
                    let seen = state::parse(&answer);
                    read_answer(ctx, &mut st, &seen);
                }
                Err(e) => no_answer(ctx, &mut st, &e.to_string(), last_ok),
            }
        }
    }
}

/// Cancels these jobs with one `scancel` (a failure shows at the next poll: they stay alive).
pub(super) fn scancel(ctx: &Context, ids: Vec<SlurmJobId>) {
    let mut args = vec!["--quiet".to_owned()];
    args.extend(ids.iter().map(SlurmJobId::to_string));
    let _ = ctx.runner.run("scancel", &args);
}

/// `squeue` failed: when Slurm has not answered for `unreachable_after`, every tracked job is
/// reported lost (its registry entry stays, so that the next run adopts it) and nothing more
/// is submitted.
fn no_answer(ctx: &Context, st: &mut State, error: &str, last_answer: Instant) {
    let now = Instant::now();
    let limits = fsm::Limits::new(&ctx.cfg);
    if !limits.unreachable(last_answer, now) {
        return;
    }
    let why = format!(
        "cannot reach Slurm for {:.0}s ({error}); its jobs may still run: `repro run` again adopts them",
        now.saturating_duration_since(last_answer).as_secs_f64()
    );
    st.unreachable = Some(why.clone());
    let seen = Observation {
        squeue: Squeue::NoAnswer { last_answer },
        published: false,
    };
    let mut jobs: Vec<JobId> = st.tracked.keys().copied().collect();
    jobs.sort();
    for job in jobs {
        let Some(t) = st.tracked.get_mut(&job) else {
            continue;
        };
        let (next, actions) = fsm::next(t.fsm, &seen, now, &limits);
        t.fsm = next;
        carry_out(ctx, st, job, actions, &why);
    }
}

/// Submits jobs: those with the same request and the same (already submitted) dependencies go
/// out as one array, chunked to the array limit. Returns (jobs submitted, `sbatch` calls).
pub(super) fn submit_all(ctx: &Context, shared: &Shared, pending: Vec<JobSpec>) -> (usize, usize) {
    let mut left = pending;
    let (mut submitted, mut calls) = (0, 0);
    let max_array = max_array_size(ctx);
    loop {
        // Jobs whose dependencies all have Slurm ids now, grouped.
        let mut groups: BTreeMap<String, (Submission, Vec<JobSpec>)> = BTreeMap::new();
        let mut blocked = Vec::new();
        {
            let st = shared.state.lock().expect("slurm");
            for job in left.drain(..) {
                let b = job.batch.as_ref().expect("an instance job");
                let after: Option<Vec<SlurmJobId>> = b
                    .after
                    .iter()
                    .map(|d| st.tracked.get(d).and_then(|t| t.slurm).map(|id| id.whole()))
                    .collect();
                let Some(mut after) = after else {
                    blocked.push(job);
                    continue;
                };
                after.sort();
                after.dedup();
                let group = format!("{:?}|{}", b.request, submit::after_list(&after));
                let entry = groups.entry(group).or_insert_with(|| {
                    (
                        Submission {
                            batch: String::new(),
                            request: b.request,
                            after,
                            members: Vec::new(),
                        },
                        Vec::new(),
                    )
                });
                entry.0.members.push(b.task());
                entry.1.push(job);
            }
        }
        if groups.is_empty() {
            break;
        }
        for (_, (proto, jobs)) in groups {
            for range in submit::chunks(jobs.len(), max_array) {
                let mut s = proto.clone();
                s.members = proto.members[range.clone()].to_vec();
                let part = &jobs[range];
                let stopped = shared.state.lock().expect("slurm").unrecorded.clone();
                if let Some(why) = stopped {
                    let st = shared.state.lock().expect("slurm");
                    for job in part {
                        not_started(&st, job.id, StartFailure::Refused(why.clone()));
                    }
                    continue;
                }
                calls += 1;
                if sbatch(ctx, shared, s, part) {
                    submitted += part.len();
                }
            }
        }
        left = blocked;
        if left.is_empty() {
            break;
        }
    }
    let st = shared.state.lock().expect("slurm");
    for job in left {
        not_started(&st, job.id, StartFailure::Upstream);
    }
    (submitted, calls)
}

/// The largest array to submit: the site's setting, else the cluster's `MaxArraySize` (asked
/// once), else 1,000.
fn max_array_size(ctx: &Context) -> usize {
    if let Some(n) = ctx.cfg.max_array_size {
        return n.get() as usize;
    }
    *ctx.max_array.get_or_init(|| {
        ctx.runner
            .run("scontrol", &["show".to_owned(), "config".to_owned()])
            .ok()
            .and_then(|text| {
                text.lines().find_map(|l| {
                    let (k, v) = l.split_once('=')?;
                    (k.trim() == "MaxArraySize").then(|| v.trim().parse::<usize>().ok())?
                })
            })
            // Indices run from 0 to MaxArraySize - 1.
            .filter(|&n| n >= 1)
            .unwrap_or(1000)
    })
}

/// One `sbatch` call; the jobs are recorded in the registry before it and get their ids
/// after. A timed-out `sbatch` is not blindly repeated: the queue is first searched for the
/// submission's comment. Returns whether it was submitted.
fn sbatch(ctx: &Context, shared: &Shared, mut s: Submission, jobs: &[JobSpec]) -> bool {
    let now_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    {
        let mut st = shared.state.lock().expect("slurm");
        st.batches += 1;
        s.batch = format!("{}-{}", ctx.run, st.batches);
    }
    // Per array task, one entry per instance it runs (a pack's members share the task).
    let entries: Vec<Vec<Entry>> = (0..)
        .zip(&s.members)
        .map(|(index, task)| {
            let pack: Vec<String> = if task.packed_with.is_empty() {
                Vec::new()
            } else {
                task.instances().map(|(i, _)| i.to_owned()).collect()
            };
            task.instances()
                .map(|(instance, key)| Entry {
                    instance: instance.to_owned(),
                    key: key.map(str::to_owned),
                    job: None,
                    batch: s.batch.clone(),
                    index,
                    out: s.out(&ctx.layout, index),
                    submitted: now_unix,
                    pack: pack.clone(),
                })
                .collect()
        })
        .collect();
    let fail = |message: String| {
        let st = shared.state.lock().expect("slurm");
        for (task, job) in entries.iter().zip(jobs) {
            for e in task {
                ctx.registry.forget(&e.instance);
            }
            not_started(&st, job.id, StartFailure::Refused(message.clone()));
        }
        false
    };
    let script = match submit::write_files(&ctx.layout, &ctx.paths, &s) {
        Ok(p) => p,
        Err(e) => return fail(format!("cannot write the job script: {e}")),
    };
    for e in entries.iter().flatten() {
        if let Err(err) = ctx.registry.put(e) {
            return fail(format!("cannot record the submission: {err}"));
        }
    }
    let args = submit::sbatch_args(&ctx.cfg, &ctx.name, &ctx.paths, &ctx.layout, &script, &s);
    // A failed `sbatch` may have reached the controller after all: before trying again, the
    // queue is searched for the submission's comment.
    let landed = || {
        let answer = ctx
            .runner
            .run("squeue", &state::query_args(&ctx.name))
            .ok()?;
        let found = find_by_comment(&state::parse(&answer), &s.batch, 0)?;
        Some(found.whole().to_string())
    };
    // `--parsable` answers `JOB` or `JOB;CLUSTER`.
    let id = match ctx.runner.run_or_find("sbatch", &args, landed) {
        Ok(out) => {
            let text = out.trim().split(';').next().unwrap_or_default();
            match text.parse::<SlurmJobId>() {
                Ok(id) if id.index().is_none() => id,
                _ => return fail(format!("sbatch answered `{}`, not a job id", out.trim())),
            }
        }
        Err(e) => return fail(format!("sbatch refused the job: {}", e.message)),
    };
    let mut st = shared.state.lock().expect("slurm");
    send(&st, ExecEvent::Alive);
    let mut unrecorded = Vec::new();
    let mut first: Option<Entry> = None;
    'tasks: for (task, job) in entries.into_iter().zip(jobs) {
        let index = task.first().map_or(0, |e| e.index);
        let id = id.member(index, s.is_array());
        let mut recorded: Vec<String> = Vec::with_capacity(task.len());
        for mut e in task {
            e.job = Some(id);
            // The id is what lets a later run adopt the job after a crash: a job that cannot
            // be recorded is cancelled rather than left running unknown, and nothing more is
            // submitted.
            if let Err(err) = ctx.registry.put(&e) {
                let why = format!(
                    "cannot record Slurm job {id} in `{}` ({err}): it was cancelled, and this run submits nothing more",
                    ctx.registry.live().display()
                );
                st.unrecorded.get_or_insert_with(|| why.clone());
                unrecorded.push(id);
                ctx.registry.forget(&e.instance);
                for r in &recorded {
                    ctx.registry.forget(r);
                }
                not_started(&st, job.id, StartFailure::Refused(why));
                continue 'tasks;
            }
            recorded.push(e.instance.clone());
            if recorded.len() == 1 {
                first = Some(e);
            }
        }
        let Some(e) = first.take() else { continue };
        let cancelled = st.cancelling || st.cancel_on_submit.remove(&job.id);
        if cancelled {
            st.cancels.push(id);
        }
        let others = job
            .batch
            .as_ref()
            .map(|b| b.packed_with.clone())
            .unwrap_or_default();
        st.tracked
            .insert(job.id, Tracked::new(e, others, cancelled));
    }
    drop(st);
    if !unrecorded.is_empty() {
        scancel(ctx, unrecorded);
    }
    true
}

/// Applies one `squeue` answer to every tracked job.
fn read_answer(ctx: &Context, st: &mut State, seen: &HashMap<SlurmJobId, Seen>) {
    let now = Instant::now();
    let limits = fsm::Limits::new(&ctx.cfg);
    let mut jobs: Vec<JobId> = st.tracked.keys().copied().collect();
    jobs.sort();
    for job in jobs {
        let Some(t) = st.tracked.get_mut(&job) else {
            continue;
        };
        if t.slurm.is_none() {
            t.slurm = find_by_comment(seen, &t.batch, t.index);
        }
        let squeue = match t.slurm.and_then(|id| seen.get(&id)) {
            Some(s) => Squeue::Listed {
                phase: state::phase(s),
                state: s.state.clone(),
            },
            None => Squeue::Missing,
        };
        let published = t.published(&ctx.published);
        let (next, actions) = fsm::next(t.fsm, &Observation { squeue, published }, now, &limits);
        t.fsm = next;
        carry_out(ctx, st, job, actions, "");
    }
}

/// Does what the state machine decided for `job`: events, `scancel`, and, once it ended, the
/// move of its registry entry to `done/` (unless it is lost for want of Slurm: `unreachable`
/// is then the reason reported).
fn carry_out(ctx: &Context, st: &mut State, job: JobId, actions: Vec<Action>, unreachable: &str) {
    for action in actions {
        let Some(t) = st.tracked.get(&job) else {
            return;
        };
        let id = t.slurm.map_or_else(|| "?".to_owned(), |id| id.to_string());
        match action {
            Action::Start => send(st, ExecEvent::Started { job }),
            Action::Cancel => {
                let id = t.slurm;
                st.cancels.extend(id);
            }
            Action::Finish { outcome, times } => {
                let status = match outcome {
                    Outcome::Succeeded => JobStatus::Succeeded,
                    Outcome::Cancelled => JobStatus::Cancelled,
                    Outcome::Failed(f) => {
                        let tail = if f.shows_output() {
                            out_tail(ctx, t)
                        } else {
                            String::new()
                        };
                        JobStatus::Failed(JobFailure::Reported(f.message(&id, &tail)))
                    }
                };
                t.finish(&ctx.registry);
                send(st, ExecEvent::Finished { job, status, times });
            }
            Action::Vanish(loss) => {
                let label = t
                    .slurm
                    .map_or_else(|| format!("of submission {}", t.batch), |id| id.to_string());
                let reason = loss
                    .message(&label)
                    .unwrap_or_else(|| unreachable.to_owned());
                if !loss.keeps_entry() {
                    t.finish(&ctx.registry);
                }
                send(st, ExecEvent::Vanished { job, reason });
            }
        }
    }
    if st
        .tracked
        .get(&job)
        .is_some_and(|t| t.fsm.life == fsm::Life::Ended)
    {
        st.tracked.remove(&job);
    }
}

/// `; output <file>:` and its last lines, for a failure message.
fn out_tail(ctx: &Context, t: &Tracked) -> String {
    let entry = Entry {
        instance: t.instance.clone(),
        key: None,
        job: None,
        batch: t.batch.clone(),
        index: t.index,
        out: t.out.clone(),
        submitted: 0,
        pack: Vec::new(),
    };
    let path = match entry.out_file(&ctx.layout) {
        Ok(path) => path,
        Err(e) => return format!("; {e}"),
    };
    let text = std::fs::read(&path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(5)..].join("\n    ");
    if tail.is_empty() {
        format!("; its output file {} is empty", t.out)
    } else {
        format!("; output {}:\n    {tail}", t.out)
    }
}
