//! The Slurm executor's thread: it submits what was flushed, cancels what was cancelled, and
//! polls `squeue` once per interval for every job of the workspace, turning what it reads
//! (and what the store holds) into events.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::registry::Entry;
use super::state::{self, Phase, Seen};
use super::submit::{self, Submission};
use super::{send, Context, Shared, State, Tracked};
use crate::exec::event::{ExecEvent, JobStatus, JobTimes};
use crate::exec::job::{JobId, JobSpec};

/// The thread's loop, until the executor is dropped.
pub(super) fn run(ctx: &Context, shared: &Shared) {
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
                Err(e) if last_ok.elapsed() >= ctx.cfg.unreachable_after.get() => {
                    give_up(&mut st, &e.to_string(), last_ok.elapsed());
                }
                Err(_) => {}
            }
        }
    }
}

/// Cancels these jobs with one `scancel` (a failure shows at the next poll: they stay alive).
pub(super) fn scancel(ctx: &Context, ids: Vec<String>) {
    let mut args = vec!["--quiet".to_owned()];
    args.extend(ids);
    let _ = ctx.runner.run("scancel", &args);
}

/// Slurm stayed unreachable: every tracked job is reported lost (its registry entry stays,
/// so that the next run adopts it) and nothing more is submitted.
fn give_up(st: &mut State, error: &str, for_how_long: Duration) {
    let why = format!(
        "cannot reach Slurm for {:.0}s ({error}); its jobs may still run: `repro run` again adopts them",
        for_how_long.as_secs_f64()
    );
    st.unreachable = Some(why.clone());
    let jobs: Vec<JobId> = st.tracked.keys().copied().collect();
    for job in jobs {
        st.tracked.remove(&job);
        send(
            st,
            ExecEvent::Vanished {
                job,
                reason: why.clone(),
            },
        );
    }
}

/// Whether the registry holds a live job for this instance that this run can adopt; if so it
/// is tracked. A registered job for another key is cancelled (its inputs changed).
pub(super) fn adopt(ctx: &Context, st: &mut State, job: &JobSpec) -> bool {
    let batch = job.batch.as_ref().expect("an instance job");
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
    let alive = matches!(
        seen,
        Some(Phase::Queued | Phase::Running | Phase::Unknown | Phase::Completed)
    );
    let published = batch.key.as_deref().is_some_and(|k| (ctx.published)(k));
    if !same_key || !(alive || published) {
        if let (Some(id), Some(Phase::Queued | Phase::Running | Phase::Stuck)) = (&entry.job, &seen)
        {
            st.cancels.push(id.clone());
        }
        ctx.registry.finish(&batch.instance);
        return false;
    }
    if entry.key != batch.key || (id_unrecorded && entry.job.is_some()) {
        entry.key = batch.key.clone();
        if let Err(err) = ctx.registry.put(&entry) {
            // Not adopted: submitting anew records first, and fails there with this error.
            if let (Some(id), Some(Phase::Queued | Phase::Running)) = (&entry.job, &seen) {
                st.cancels.push(id.clone());
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
    st.tracked.insert(job.id, Tracked::new(entry, false));
    true
}

fn find_by_comment(seen: &HashMap<String, Seen>, batch: &str, index: usize) -> Option<String> {
    let mut ids: Vec<&String> = seen
        .iter()
        .filter(|(_, s)| s.comment == batch)
        .map(|(id, _)| id)
        .collect();
    ids.sort();
    let base = ids.first()?.split('_').next()?.to_owned();
    let array = ids.iter().any(|id| id.contains('_'));
    Some(Entry::task_id(&base, index, array))
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
                let after: Option<Vec<String>> = b
                    .after
                    .iter()
                    .map(|d| {
                        st.tracked
                            .get(d)
                            .and_then(|t| t.slurm.as_ref())
                            .map(|id| id.split('_').next().unwrap_or(id).to_owned())
                    })
                    .collect();
                let Some(mut after) = after else {
                    blocked.push(job);
                    continue;
                };
                after.sort();
                after.dedup();
                let group = format!("{:?}|{}", b.request, after.join(":"));
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
                entry.0.members.push((b.instance.clone(), b.key.clone()));
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
                        send(
                            &st,
                            ExecEvent::Finished {
                                job: job.id,
                                status: JobStatus::NotStarted(why.clone()),
                                times: JobTimes::default(),
                            },
                        );
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
        send(
            &st,
            ExecEvent::Finished {
                job: job.id,
                status: JobStatus::NotStarted("an upstream job could not be submitted".into()),
                times: JobTimes::default(),
            },
        );
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
    let entries: Vec<Entry> = s
        .members
        .iter()
        .enumerate()
        .map(|(index, (instance, key))| Entry {
            instance: instance.clone(),
            key: key.clone(),
            job: None,
            batch: s.batch.clone(),
            index,
            out: s.out(index),
            submitted: now_unix,
        })
        .collect();
    let fail = |message: String| {
        let st = shared.state.lock().expect("slurm");
        for (e, job) in entries.iter().zip(jobs) {
            ctx.registry.forget(&e.instance);
            send(
                &st,
                ExecEvent::Finished {
                    job: job.id,
                    status: JobStatus::NotStarted(message.clone()),
                    times: JobTimes::default(),
                },
            );
        }
        false
    };
    let script = match submit::write_files(&ctx.dir, &ctx.paths, &s) {
        Ok(p) => p,
        Err(e) => return fail(format!("cannot write the job script: {e}")),
    };
    for e in &entries {
        if let Err(err) = ctx.registry.put(e) {
            return fail(format!("cannot record the submission: {err}"));
        }
    }
    let args = submit::sbatch_args(&ctx.cfg, &ctx.name, &ctx.paths, &script, &s);
    let once = super::Runner {
        attempts: 1,
        ..ctx.runner.clone()
    };
    let mut wait = ctx.runner.backoff;
    let mut id = None;
    let mut error = String::new();
    for attempt in 1..=ctx.runner.attempts.max(1) {
        match once.run("sbatch", &args) {
            Ok(out) => {
                id = out.trim().split(';').next().map(str::to_owned);
                break;
            }
            Err(e) if e.transient && attempt < ctx.runner.attempts => {
                error = e.message;
                std::thread::sleep(wait);
                wait *= 2;
                // It may have been submitted after all.
                if let Ok(answer) = ctx.runner.run("squeue", &state::query_args(&ctx.name)) {
                    let seen = state::parse(&answer);
                    if let Some(found) = find_by_comment(&seen, &s.batch, 0) {
                        id = Some(found.split('_').next().unwrap_or(&found).to_owned());
                        break;
                    }
                }
            }
            Err(e) => {
                error = e.message;
                break;
            }
        }
    }
    let Some(id) = id.filter(|i| !i.is_empty()) else {
        return fail(format!("sbatch refused the job: {error}"));
    };
    let mut st = shared.state.lock().expect("slurm");
    send(&st, ExecEvent::Alive);
    let mut unrecorded = Vec::new();
    for (mut e, job) in entries.into_iter().zip(jobs) {
        let task = Entry::task_id(&id, e.index, s.is_array());
        e.job = Some(task.clone());
        // The id is what lets a later run adopt the job after a crash: a job that cannot be
        // recorded is cancelled rather than left running unknown, and nothing more is
        // submitted.
        if let Err(err) = ctx.registry.put(&e) {
            let why = format!(
                "cannot record Slurm job {task} in `{}` ({err}): it was cancelled, and this run submits nothing more",
                ctx.dir.join("jobs").display()
            );
            st.unrecorded.get_or_insert_with(|| why.clone());
            unrecorded.push(task);
            ctx.registry.forget(&e.instance);
            send(
                &st,
                ExecEvent::Finished {
                    job: job.id,
                    status: JobStatus::NotStarted(why),
                    times: JobTimes::default(),
                },
            );
            continue;
        }
        let cancelled = st.cancelling || st.cancel_on_submit.remove(&job.id);
        if cancelled {
            st.cancels.push(task.clone());
        }
        st.tracked.insert(job.id, Tracked::new(e, cancelled));
    }
    drop(st);
    if !unrecorded.is_empty() {
        scancel(ctx, unrecorded);
    }
    true
}

/// Applies one `squeue` answer to every tracked job.
fn read_answer(ctx: &Context, st: &mut State, seen: &HashMap<String, Seen>) {
    let now = Instant::now();
    let grace = ctx.cfg.publish_grace.get();
    let mut events = Vec::new();
    let mut ended = Vec::new();
    for (&job, t) in st.tracked.iter_mut() {
        if t.slurm.is_none() {
            t.slurm = find_by_comment(seen, &t.batch, t.index);
        }
        let phase = t.slurm.as_ref().and_then(|id| seen.get(id)).map(|s| {
            t.last = s.state.clone();
            state::phase(s)
        });
        let published = t.key.as_deref().is_some_and(|k| (ctx.published)(k));
        let doubt_for = |t: &mut Tracked| now - *t.doubt.get_or_insert(now);
        let status = match phase {
            Some(Phase::Queued) => {
                t.doubt = None;
                None
            }
            Some(Phase::Running) => {
                t.doubt = None;
                if t.started.is_none() {
                    t.started = Some(now);
                    events.push(ExecEvent::Started { job });
                }
                None
            }
            _ if published => Some(JobStatus::Succeeded),
            Some(Phase::Completed) if doubt_for(t) >= grace => Some(JobStatus::Failed(format!(
                "Slurm job {} completed, but no result was published within {:.0}s{}",
                t.slurm.as_deref().unwrap_or("?"),
                grace.as_secs_f64(),
                out_tail(ctx, t)
            ))),
            Some(Phase::Completed) => None,
            Some(Phase::Ended(_)) | Some(Phase::Stuck) if t.cancelled => Some(JobStatus::Cancelled),
            Some(Phase::Ended(why)) => Some(JobStatus::Failed(format!(
                "Slurm job {} {why}{}",
                t.slurm.as_deref().unwrap_or("?"),
                out_tail(ctx, t)
            ))),
            Some(Phase::Stuck) => {
                if let Some(id) = &t.slurm {
                    ended.push((job, Some(id.clone())));
                }
                Some(JobStatus::Failed(format!(
                    "Slurm job {} can never start: a job it depends on failed",
                    t.slurm.as_deref().unwrap_or("?")
                )))
            }
            Some(Phase::Unknown) | None
                if doubt_for(t) >= grace.max(ctx.cfg.poll_interval.get() * 3) =>
            {
                let what = match phase {
                    Some(_) => format!("has been in the state `{}`", t.last),
                    None => "has been missing from `squeue`".to_owned(),
                };
                let id = t
                    .slurm
                    .clone()
                    .unwrap_or_else(|| format!("of submission {}", t.batch));
                events.push(ExecEvent::Vanished {
                    job,
                    reason: format!(
                        "Slurm job {id} {what} for {:.0}s and no result was published",
                        doubt_for(t).as_secs_f64()
                    ),
                });
                ended.push((job, None));
                None
            }
            Some(Phase::Unknown) | None => None,
        };
        if let Some(status) = status {
            let times = JobTimes {
                waited: t.started.unwrap_or(now) - t.submitted,
                ran: t.started.map_or(Duration::ZERO, |s| now - s),
            };
            events.push(ExecEvent::Finished { job, status, times });
            ended.push((job, None));
        }
    }
    for (job, cancel) in ended {
        if let Some(t) = st.tracked.remove(&job) {
            ctx.registry.finish(&t.instance);
        }
        st.cancels.extend(cancel);
    }
    for e in events {
        send(st, e);
    }
}

/// `; output <file>:` and its last lines, for a failure message.
fn out_tail(ctx: &Context, t: &Tracked) -> String {
    let path = ctx.paths.root.join(&t.out);
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
