//! The Slurm executor: each instance is a batch job running `repro exec` in the shared
//! workspace; that job publishes its own action record and outputs in the store.
//!
//! Truth lives in the cache, not in Slurm: a job is reported successful only once the record
//! of its key is in the store; Slurm's state says only whether it is alive. One `squeue` query
//! per poll interval covers every job of the workspace (all carry one job name); a job missing
//! from the answer or in a state this code does not know is asked about again, and only after
//! [`SlurmSettings::publish_grace`] without a record is it reported vanished. Slurm commands
//! run with a time limit and are retried with back-off; when Slurm stays unreachable for
//! [`SlurmSettings::unreachable_after`], the run stops submitting and reports its jobs lost
//! (they keep running, and the next `repro run` adopts them through the [`Registry`]).
//!
//! A background thread, started by `start` (which fails if it cannot be), does all the talking
//! to Slurm, so `start`, `submit` and `cancel` never block the dispatcher: the first query of
//! the jobs of earlier runs, adoption and submission all happen there. It sends `Alive` after
//! every poll and `sbatch`, and the executor declares [`SlurmSettings::silence_limit`], so a
//! stuck thread fails the run's jobs instead of hanging it. A job whose registry entry cannot be
//! written after `sbatch` is cancelled and fails, and nothing more is submitted. The
//! pipeline's `build:` command runs here, on a local executor.
//!
//! The files: `fsm.rs` decides, as a pure function, what becomes of a job after each poll;
//! `worker.rs` is the thread around it; `adopt.rs` takes over earlier runs' jobs; `submit.rs`
//! turns jobs into `sbatch` calls; `state.rs` reads `squeue`; `command.rs` runs Slurm's
//! commands; `registry.rs` records submitted jobs; `jobid.rs` parses Slurm's job ids;
//! `manifest.rs` is the batch manifest that the jobs read.

mod adopt;
mod command;
#[cfg(test)]
mod executor_tests;
mod fsm;
#[cfg(test)]
mod fsm_tests;
mod jobid;
mod manifest;
mod registry;
mod state;
mod submit;
mod worker;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

pub use command::{CallCounts, Runner, SlurmError};
pub use jobid::{JobIdError, SlurmJobId};
pub use manifest::{BatchManifest, BatchMember, PackedInstance};
pub use registry::{Entry, OutsideOut, Registry};
pub use state::{parse as parse_squeue, phase, query_args, Phase, Seen};
pub use submit::Paths;

use super::event::{EventSink, ExecEvent, JobStatus, JobTimes, StartFailure};
use super::job::{JobId, JobSpec};
use super::local::LocalExecutor;
use super::{Doorbell, ExecError, Executor, Waited};
use crate::settings::SlurmSettings;
use crate::workspace::Layout;

/// Whether the record of a key is in the store (a shared filesystem may show it late).
pub type Published = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The job name every job of the workspace at `root` carries (`repro-` and 8 hex digits of its
/// canonical path), so that one `squeue --name` query sees them all and no other workspace's.
pub fn job_name(root: &Path) -> String {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    let h = blake3::hash(root.as_os_str().as_encoded_bytes()).to_hex();
    format!("repro-{}", &h[..8])
}

/// The workspace folder of the executor's files (registry, manifests, scripts, job output).
pub fn state_dir(root: &Path) -> PathBuf {
    Layout::new(root).slurm()
}

/// The jobs registered in the workspace at `root` (submitted and not yet handled by a run),
/// each with what one `squeue` query says of it (`None`: not in the answer). No query is made
/// when nothing is registered.
pub fn registered_jobs(
    root: &Path,
    timeout: std::time::Duration,
) -> Result<Vec<(Entry, Option<Seen>)>, SlurmError> {
    let entries = Registry::new(&state_dir(root)).all();
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let answer = Runner::new(timeout).run("squeue", &query_args(&job_name(root)))?;
    let seen = parse_squeue(&answer);
    Ok(entries
        .into_iter()
        .map(|e| {
            let s = e.job.and_then(|id| seen.get(&id)).cloned();
            (e, s)
        })
        .collect())
}

/// What the executor knows of one job.
#[derive(Debug)]
struct Tracked {
    instance: String,
    key: Option<String>,
    /// A pack's other members (empty for a job that runs one instance).
    others: Vec<manifest::PackedInstance>,
    /// Slurm's id, once known.
    slurm: Option<SlurmJobId>,
    /// The submission and index (found by `--comment` when the id was never recorded).
    batch: String,
    index: u32,
    out: String,
    /// Where it stands (what the state machine of `fsm.rs` reads and returns).
    fsm: fsm::Job,
}

impl Tracked {
    /// A job just submitted or adopted, as its registry entry describes it (for a pack: its
    /// first member's entry), with the pack's other members.
    fn new(e: Entry, others: Vec<manifest::PackedInstance>, cancelled: bool) -> Tracked {
        Tracked {
            instance: e.instance,
            key: e.key,
            others,
            slurm: e.job,
            batch: e.batch,
            index: e.index,
            out: e.out,
            fsm: fsm::Job::new(Instant::now(), cancelled),
        }
    }
}

impl Tracked {
    /// Whether the job's result is in the store: the record of every instance it runs (a job
    /// whose key was not known at submission never counts as published).
    fn published(&self, published: &Published) -> bool {
        std::iter::once(self.key.as_deref())
            .chain(self.others.iter().map(|p| p.key.as_deref()))
            .all(|k| k.is_some_and(|k| published(k)))
    }

    /// Moves the registry entries of every instance the job runs to `done/`.
    fn finish(&self, registry: &Registry) {
        registry.finish(&self.instance);
        for p in &self.others {
            registry.finish(&p.instance);
        }
    }
}

/// Everything the executor and its thread share.
#[derive(Default)]
struct State {
    sink: Option<EventSink>,
    /// Jobs to submit at the next flush, in submission order.
    pending: Vec<JobSpec>,
    flush: bool,
    cancels: Vec<SlurmJobId>,
    tracked: HashMap<JobId, Tracked>,
    /// States from the first query (the survey), for adopting registered jobs.
    snapshot: Option<HashMap<SlurmJobId, Seen>>,
    /// Poll at the next turn (after a cancel or an adoption).
    poll_now: bool,
    /// Slurm stayed unreachable: submit nothing more.
    unreachable: Option<String>,
    /// A submitted job could not be recorded in the registry: submit nothing more.
    unrecorded: Option<String>,
    stop: bool,
    /// Submissions made, for unique batch names.
    batches: u64,
    /// Jobs cancelled while their `sbatch` was in flight: cancelled as soon as it answers.
    cancel_on_submit: std::collections::HashSet<JobId>,
    /// `cancel_all` was called: every job submitted from now on is cancelled at once.
    cancelling: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

/// Fixed facts of one executor.
struct Context {
    cfg: SlurmSettings,
    runner: Runner,
    paths: Paths,
    name: String,
    layout: Layout,
    registry: Registry,
    published: Published,
    /// Unique per controller: batch names start with it.
    run: String,
    /// The cluster's array size limit, once asked.
    max_array: std::sync::OnceLock<usize>,
}

/// Submits instances to Slurm.
pub struct SlurmExecutor {
    shared: Arc<Shared>,
    ctx: Arc<Context>,
    local: LocalExecutor,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for SlurmExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlurmExecutor")
    }
}

impl SlurmExecutor {
    /// An executor for the workspace at `paths.root`; `published` tells whether a key's
    /// record is in the store.
    pub fn new(cfg: SlurmSettings, paths: Paths, published: Published) -> SlurmExecutor {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let layout = Layout::new(&paths.root);
        let mut runner = Runner::new(cfg.command_timeout.get());
        runner.backoff = std::time::Duration::from_millis(500);
        SlurmExecutor {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
            }),
            ctx: Arc::new(Context {
                name: job_name(&paths.root),
                registry: Registry::new(&layout.slurm()),
                layout,
                runner,
                paths,
                published,
                cfg,
                run: format!(
                    "{:x}-{}",
                    nanos as u64 & 0xffff_ffff_ffff,
                    std::process::id()
                ),
                max_array: std::sync::OnceLock::new(),
            }),
            local: LocalExecutor::new(),
            worker: None,
        }
    }

    /// The Slurm commands made so far.
    pub fn counts(&self) -> Arc<CallCounts> {
        self.ctx.runner.counts.clone()
    }

    /// `--detach`: submits everything queued now, with its dependencies, in this thread, and
    /// leaves the jobs to Slurm. Returns (jobs submitted, `sbatch` calls); the jobs that could
    /// not be submitted were reported through the sink as not started.
    pub fn detach(&mut self) -> (usize, usize) {
        adopt::survey(&self.ctx, &self.shared);
        let pending = std::mem::take(&mut self.shared.state.lock().expect("slurm").pending);
        let pending = adopt::adopt_all(&self.ctx, &self.shared, pending);
        let done = worker::submit_all(&self.ctx, &self.shared, pending);
        // Jobs of earlier submissions whose inputs changed (or that can never start).
        let cancels = std::mem::take(&mut self.shared.state.lock().expect("slurm").cancels);
        if !cancels.is_empty() {
            worker::scancel(&self.ctx, cancels);
        }
        done
    }

    fn ensure_worker(&mut self) -> Result<(), ExecError> {
        if self.worker.is_some() {
            return Ok(());
        }
        let (ctx, shared) = (self.ctx.clone(), self.shared.clone());
        let worker = std::thread::Builder::new()
            .name("slurm".into())
            .spawn(move || worker::run(&ctx, &shared))
            .map_err(|e| ExecError::Start {
                executor: "slurm".into(),
                message: format!("cannot start its polling thread: {e}"),
            })?;
        self.worker = Some(worker);
        Ok(())
    }

    /// Takes the sink, without starting the polling thread: `--detach` submits in its own
    /// thread and leaves. Asks Slurm nothing: the jobs of earlier runs are surveyed by the
    /// polling thread, or by [`SlurmExecutor::detach`].
    pub fn attach(&mut self, sink: EventSink) -> Result<(), ExecError> {
        self.local.start(sink.clone())?;
        self.shared.state.lock().expect("slurm").sink = Some(sink);
        Ok(())
    }
}

impl Drop for SlurmExecutor {
    fn drop(&mut self) {
        self.shared.state.lock().expect("slurm").stop = true;
        self.shared.wake.notify_all();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl Executor for SlurmExecutor {
    fn name(&self) -> &str {
        "slurm"
    }

    fn start(&mut self, sink: EventSink) -> Result<(), ExecError> {
        self.attach(sink)?;
        self.ensure_worker()
    }

    fn silence_limit(&self) -> Option<std::time::Duration> {
        Some(self.ctx.cfg.silence_limit.get())
    }

    /// The local jobs (the `build:` command) are waited for here; the batch jobs' news comes
    /// from the polling thread, which rings `bell`.
    fn wait(&mut self, bell: &Doorbell, limit: Option<std::time::Duration>) -> Waited {
        self.local.wait(bell, limit)
    }

    fn submit(&mut self, job: JobSpec) -> Result<(), ExecError> {
        if job.batch.is_none() {
            return self.local.submit(job);
        }
        let mut st = self.shared.state.lock().expect("slurm");
        if st.sink.is_none() {
            return Err(ExecError::NotStarted);
        }
        if let Some(why) = st.unreachable.as_ref().or(st.unrecorded.as_ref()) {
            let why = why.clone();
            not_started(&st, job.id, StartFailure::Refused(why));
            return Ok(());
        }
        // Adopted or submitted by the thread, at the next flush.
        st.pending.push(job);
        Ok(())
    }

    fn flush(&mut self) {
        let mut st = self.shared.state.lock().expect("slurm");
        if st.pending.is_empty() && !st.poll_now {
            return;
        }
        st.flush = true;
        drop(st);
        self.shared.wake.notify_all();
    }

    fn publishes(&self) -> bool {
        true
    }

    fn registered(&self) -> std::collections::HashSet<String> {
        self.ctx
            .registry
            .all()
            .into_iter()
            .map(|e| e.instance)
            .collect()
    }

    fn cancel(&mut self, job: JobId) {
        let mut st = self.shared.state.lock().expect("slurm");
        if let Some(pos) = st.pending.iter().position(|j| j.id == job) {
            let spec = st.pending.remove(pos);
            let registered = self.cancel_registered(&mut st, &spec);
            send(
                &st,
                ExecEvent::Finished {
                    job,
                    status: JobStatus::Cancelled,
                    times: JobTimes::default(),
                },
            );
            drop(st);
            if registered {
                self.shared.wake.notify_all();
            }
            return;
        }
        let Some(t) = st.tracked.get_mut(&job) else {
            // Perhaps inside an `sbatch` call right now.
            st.cancel_on_submit.insert(job);
            drop(st);
            self.local.cancel(job);
            return;
        };
        t.fsm.cancelled = true;
        if let Some(id) = t.slurm {
            st.cancels.push(id);
        }
        drop(st);
        self.shared.wake.notify_all();
    }

    fn cancel_all(&mut self) {
        self.local.cancel_all();
        let mut st = self.shared.state.lock().expect("slurm");
        for j in std::mem::take(&mut st.pending) {
            self.cancel_registered(&mut st, &j);
            send(
                &st,
                ExecEvent::Finished {
                    job: j.id,
                    status: JobStatus::Cancelled,
                    times: JobTimes::default(),
                },
            );
        }
        st.cancelling = true;
        let mut ids = Vec::new();
        for t in st.tracked.values_mut() {
            t.fsm.cancelled = true;
            ids.extend(t.slurm);
        }
        st.cancels.extend(ids);
        drop(st);
        self.shared.wake.notify_all();
    }
}

impl SlurmExecutor {
    /// A job cancelled before the thread took it may have a live job of an earlier run that
    /// the thread would have adopted: that job is cancelled too (and its entry moved to
    /// `done/`), as it would be once adopted. An entry without an id (its controller died
    /// inside `sbatch`) stays for the next run to find. Returns whether a cancel was queued.
    fn cancel_registered(&self, st: &mut State, job: &JobSpec) -> bool {
        let Some(batch) = &job.batch else {
            return false;
        };
        let Some(Entry { job: Some(id), .. }) = self.ctx.registry.get(&batch.instance) else {
            return false;
        };
        st.cancels.push(id);
        self.ctx.registry.finish(&batch.instance);
        true
    }
}

fn send(st: &State, e: ExecEvent) {
    if let Some(s) = &st.sink {
        s.send(e);
    }
}

/// Reports that `job` could not start, for `why`.
fn not_started(st: &State, job: JobId, why: StartFailure) {
    send(
        st,
        ExecEvent::Finished {
            job,
            status: JobStatus::NotStarted(why),
            times: JobTimes::default(),
        },
    );
}
