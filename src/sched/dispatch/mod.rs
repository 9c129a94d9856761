//! The dispatcher: an event loop that owns all scheduling state and all output.
//!
//! One turn of the loop is four named steps:
//! 1. [`evaluate_ready`](Dispatcher::evaluate_ready): each instance whose upstream settled is
//!    checked against the workspace: fresh (keep its lock entry), restore (from the store), or
//!    runnable;
//! 2. [`start_runnable`](Dispatcher::start_runnable): runnable instances are submitted to the
//!    executor as slots free up (the pipeline's `build:` command first, once, as a job of its
//!    own). The jobs that succeeded since the last turn are published
//!    ([`publish_finished`](Dispatcher::publish_finished)) after this step, so that the jobs
//!    just started run while their outputs are hashed, stored and fsynced, unless publishing
//!    them makes an instance ready: then before step 1, so that the order in which waiting
//!    instances take slots (and which instances form a pack) is what it would be had they been
//!    published at once;
//! 3. wait for the next [`Message`]: an executor event or an interrupt, with no polling
//!    interval (a deadline only while waiting for cancelled jobs, when a silence limit is set,
//!    or until a retry's back-off ends: with nothing running, the loop goes on while a retry
//!    waits);
//! 4. handle it: free the job's slots and keep a success for step 2's publication (which
//!    releases its dependents), report a failure and block its dependents, or stop.
//!
//! Failure stops new work (running jobs finish) unless `keep_going`; dependents of a failure
//! are skipped. An interrupt cancels every running job and publishes nothing for them; jobs the
//! executor does not confirm within [`Patience::cancel_wait`] are reported and left. An engine
//! error cancels what runs before it is returned. Limits: keys are computed on the dispatcher
//! thread, so hashing a very large new output delays scheduling by that long.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::cache::{ActionRecord, StoreError};
use crate::exec::{ExecError, Executor, Waited};
use crate::graph::Graph;
use crate::settings::RunSettings;
use crate::workspace::{CheckError, Dirty, RunFacts, State, Workspace, WorkspaceError};

use super::attempt::Attempt;
use super::cutoff::Cutoff;
use super::event::{Event, Reporter};
use super::inbox::{Inbox, Message};
use super::jobs::Jobs;
use super::queue::ReadyQueue;
use super::runqueue::RunQueue;
use super::slots::Slots;

/// Counts at the end of a dispatch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Ran successfully.
    pub ran: usize,
    /// Restored from cache.
    pub restored: usize,
    /// Already fresh.
    pub fresh: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
    /// Of those that ran, how many produced outputs identical to their previous lock entry's.
    pub unchanged: usize,
    /// Fresh or restored although an instance upstream of them ran (see `sched/cutoff.rs`).
    pub kept: usize,
    /// Stopped by an interrupt.
    pub interrupted: bool,
}

/// How long the dispatcher waits on its executor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Patience {
    /// After cancelling, how long to wait for the executor to confirm each job ended.
    pub cancel_wait: Duration,
    /// With jobs running, how long the executor may stay silent before they are failed
    /// (`None`: the executor's own [`Executor::silence_limit`], which is none for the local
    /// executor: a local process may legitimately run for days).
    pub silence: Option<Duration>,
}

impl Default for Patience {
    fn default() -> Self {
        Patience {
            cancel_wait: Duration::from_secs(15),
            silence: None,
        }
    }
}

/// A failure of the engine itself (not of a stage).
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// Checking an instance failed.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// The workspace failed.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The executor refused a job.
    #[error(transparent)]
    Executor(#[from] ExecError),
    /// The executor reported nothing for longer than its silence limit while the pipeline's
    /// `build` command ran (instances that were running then are failed instead).
    #[error("the `{executor}` executor reported nothing for {seconds:.0}s while the pipeline's `build` command ran")]
    Silent {
        /// The executor's name.
        executor: String,
        /// The silence limit, in seconds.
        seconds: f64,
    },
    /// The `build` command failed.
    #[error("the pipeline's `build` command `{argv}` failed: {message}")]
    Build {
        /// The command.
        argv: String,
        /// What happened.
        message: String,
    },
}

impl From<StoreError> for DispatchError {
    fn from(e: StoreError) -> Self {
        DispatchError::Workspace(e.into())
    }
}

/// What a submitted job is for.
enum Work {
    /// The pipeline's `build:` command.
    Build,
    /// One instance.
    Instance(Attempt),
    /// Several instances of one stage in one process.
    Pack(pack::PackRun),
}

/// The build command's progress.
enum Build {
    Pending(Vec<String>),
    Running,
    Done,
}

/// Why no new work starts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stop {
    /// A failure without `keep_going`, or an unresponsive executor: running jobs finish.
    Failure,
    /// Interrupted: running jobs were cancelled; give up on them at the deadline.
    Interrupt { deadline: Instant },
}

/// Runs the selected instances: the loop's whole state lives here.
pub struct Dispatcher<'a, 'p> {
    graph: &'a Graph,
    ws: &'a mut Workspace<'p>,
    executor: &'a mut dyn Executor,
    settings: &'a RunSettings,
    reporter: &'a mut dyn Reporter,
    patience: Patience,
    forced: Vec<bool>,
    /// Instances waiting for their upstream.
    queue: ReadyQueue,
    /// Attempts waiting for slots.
    waiting: RunQueue,
    /// Submitted jobs and the slots they hold.
    jobs: Jobs<Work>,
    tally: Tally,
    /// What executed with unchanged outputs, and what was kept below it.
    cutoff: Cutoff,
    stop: Option<Stop>,
    build: Build,
    cpu_fallback_noted: bool,
    /// When the last message arrived (for the silence limit).
    last_message: Instant,
    /// Selected instances of packing stages, by pack group.
    groups: HashMap<String, Vec<usize>>,
    /// Instances with a job of an earlier run that the executor may adopt: they run alone.
    registered: HashSet<String>,
    /// The selection, for the estimate of the time left.
    selected: Vec<usize>,
    /// Instances found fresh or restored: nothing left to estimate for them.
    settled: Vec<bool>,
    /// Whether [`Event::Expected`] was reported.
    expected_sent: bool,
    /// Jobs that succeeded and are not yet published, in the order they ended, with when.
    finished: Vec<(Attempt, RunFacts, Instant)>,
    /// Whether some selected instance (or its pack) asks for no CPU slot: only then can
    /// anything start while every CPU slot is held.
    cpuless: bool,
}

impl<'a, 'p> Dispatcher<'a, 'p> {
    /// A dispatcher over `graph` publishing into `ws`, running jobs on `executor`.
    pub fn new(
        graph: &'a Graph,
        ws: &'a mut Workspace<'p>,
        executor: &'a mut dyn Executor,
        settings: &'a RunSettings,
        reporter: &'a mut dyn Reporter,
    ) -> Self {
        Dispatcher {
            graph,
            ws,
            executor,
            settings,
            reporter,
            patience: Patience::default(),
            forced: vec![false; graph.instances.len()],
            queue: ReadyQueue::new(graph, &[]),
            waiting: RunQueue::default(),
            jobs: Jobs::new(Slots::new(settings.jobs, settings.gpus.clone())),
            tally: Tally::default(),
            cutoff: Cutoff::new(graph.instances.len()),
            stop: None,
            build: match &settings.build {
                Some(argv) => Build::Pending(argv.clone()),
                None => Build::Done,
            },
            cpu_fallback_noted: false,
            last_message: Instant::now(),
            groups: HashMap::new(),
            registered: HashSet::new(),
            selected: Vec::new(),
            settled: vec![false; graph.instances.len()],
            expected_sent: false,
            finished: Vec::new(),
            cpuless: false,
        }
    }

    /// Replaces the default patience.
    pub fn with_patience(mut self, patience: Patience) -> Self {
        self.patience = patience;
        self
    }

    /// Dispatches `selected` (topologically ordered, upstream-closed); `forced[i]` forces
    /// instance `i` to run. Messages arrive through `inbox`.
    pub fn run(
        mut self,
        selected: &[usize],
        forced: &[bool],
        inbox: &Inbox,
    ) -> Result<Tally, DispatchError> {
        let start = Instant::now();
        self.forced = forced.to_vec();
        self.queue = ReadyQueue::new(self.graph, selected);
        self.selected = selected.to_vec();
        self.groups = pack::groups(self.graph, selected, self.settings);
        self.registered = self.executor.registered();
        self.cpuless = selected.iter().any(|&i| {
            let inst = &self.graph.instances[i];
            self.settings.slot_request(inst).cpus == 0
                || (inst.pack.is_some() && self.settings.pack_slot_request(inst).cpus == 0)
        });
        self.clear_stale_packs();
        self.executor.start(inbox.sink())?;
        if self.patience.silence.is_none() {
            self.patience.silence = self.executor.silence_limit();
        }
        self.reporter.event(&Event::Plan {
            total: selected.len(),
            profile: self.settings.profile.clone(),
        });
        if let Err(e) = self.drive(inbox) {
            // Jobs that succeeded are kept even now, as they were before publication waited
            // for the next start (best effort: the run's own error is the one to report).
            let _ = self.publish_finished();
            self.abort(inbox);
            return Err(e);
        }
        self.finish(selected, start);
        Ok(self.tally)
    }

    /// The loop: evaluate, start, wait, handle; until nothing runs and nothing can start.
    fn drive(&mut self, inbox: &Inbox) -> Result<(), DispatchError> {
        loop {
            let ended: Vec<usize> = self.finished.iter().map(|(a, ..)| a.index).collect();
            if self.queue.would_release(self.graph, &ended) {
                self.publish_finished()?;
            }
            if self.stop.is_none() {
                self.evaluate_ready()?;
                self.start_runnable()?;
            }
            // Published after the next jobs started; what they release is evaluated at once.
            if self.publish_finished()? {
                continue;
            }
            if self.jobs.is_empty() {
                if self.waiting.next_due(Instant::now()).is_none() {
                    return Ok(());
                }
                // Only a retry's back-off is left: nothing runs that could be silent.
                self.last_message = Instant::now();
            }
            self.expire_timeouts();
            match self.receive(inbox, self.wait_limit()) {
                Some(m) => {
                    self.on_message(m)?;
                    // Whatever else has arrived too, before the next turn refills the slots
                    // and publishes: jobs that end together are replaced together.
                    while let Some(m) = inbox.ready() {
                        self.on_message(m)?;
                    }
                }
                None => self.on_quiet()?,
            }
        }
    }

    /// The next message, waiting up to `limit`: in the executor when it waits for its jobs on
    /// this thread ([`Executor::wait`]), else on the inbox. `None` when nothing came: the
    /// limit passed, or the executor's wait ended with nothing to report.
    fn receive(&mut self, inbox: &Inbox, limit: Option<Duration>) -> Option<Message> {
        // Armed before the last look: a message sent after it rings, so the wait cannot miss it.
        inbox.bell().arm();
        if let Some(m) = inbox.ready() {
            inbox.bell().disarm();
            return Some(m);
        }
        let waited = self.executor.wait(inbox.bell(), limit);
        inbox.bell().disarm();
        match waited {
            Waited::Here => inbox.ready(),
            Waited::Elsewhere => inbox.next(limit),
        }
    }

    /// Step 4 for one message.
    fn on_message(&mut self, m: Message) -> Result<(), DispatchError> {
        match m {
            Message::Exec(e) => {
                self.last_message = Instant::now();
                self.on_exec(e)
            }
            Message::Interrupt => {
                self.on_interrupt();
                Ok(())
            }
        }
    }

    /// Step 1: decide what each ready instance needs. Cache hits are gathered while the ready
    /// queue drains and restored together (`Workspace::restore_many`, their copies and fsyncs
    /// overlapping on the restore pool); settling them readies their dependents, which are
    /// evaluated in turn, so each wave of hits is restored at once.
    fn evaluate_ready(&mut self) -> Result<(), DispatchError> {
        let graph = self.graph;
        loop {
            let mut hits = Vec::new();
            while let Some(i) = self.queue.pop() {
                let inst = &graph.instances[i];
                let state = self.ws.evaluate(inst, None, self.forced[i])?;
                for message in self.ws.take_notes() {
                    self.reporter.event(&Event::Note { message });
                }
                if !matches!(state, State::Fresh { .. }) {
                    if let Some(why) = self.ws.outputs_outside(inst) {
                        self.fail(i, why);
                        continue;
                    }
                    // Remembered before anything replaces the entry, in case the instance runs.
                    let before = self.ws.lock_entry(&inst.id);
                    self.cutoff.will_run(i, before.as_ref().map(|e| &e.outs));
                }
                match state {
                    State::Fresh { entry, held } => {
                        if held {
                            self.ws.keep(&entry);
                        } else {
                            self.ws.accept(inst, entry);
                        }
                        self.tally.fresh += 1;
                        self.cutoff.settled(graph, i);
                        self.settled[i] = true;
                        self.reporter.event(&Event::Fresh {
                            id: inst.id.clone(),
                        });
                        self.queue.settle(self.graph, i);
                    }
                    State::Restore {
                        key,
                        record,
                        reasons,
                    } => hits.push((i, key, record, reasons)),
                    State::Run { inputs, reasons } => self.enqueue(Attempt::first(
                        i,
                        inputs.expect("a ready instance's upstream has settled"),
                        reasons,
                    )),
                }
            }
            if hits.is_empty() {
                return Ok(());
            }
            self.restore_hits(hits)?;
        }
    }

    /// Restores a wave of cache hits; one whose cache entry turns out damaged runs instead.
    fn restore_hits(
        &mut self,
        hits: Vec<(usize, String, Box<ActionRecord>, Vec<Dirty>)>,
    ) -> Result<(), DispatchError> {
        let graph = self.graph;
        let items: Vec<_> = hits
            .iter()
            .map(|(i, key, record, _)| (&graph.instances[*i], key.as_str(), &**record))
            .collect();
        let results = self.ws.restore_many(&items);
        drop(items);
        for ((i, _, record, reasons), r) in hits.into_iter().zip(results) {
            let inst = &graph.instances[i];
            match r {
                Ok(()) => {
                    self.tally.restored += 1;
                    self.cutoff.settled(graph, i);
                    self.settled[i] = true;
                    self.reporter.event(&Event::Restored {
                        id: inst.id.clone(),
                    });
                    self.queue.settle(self.graph, i);
                }
                // A damaged cache entry is not fatal: run the instance again (same key, so
                // the record's inputs are the current ones).
                Err(
                    e @ (StoreError::Corrupt { .. }
                    | StoreError::Missing(_)
                    | StoreError::NotADigest(_)),
                ) => {
                    self.reporter.event(&Event::Note {
                        message: format!(
                            "cannot restore `{}` from the cache ({e}); running it instead",
                            inst.id
                        ),
                    });
                    self.enqueue(Attempt::first(i, Box::new(record.inputs.clone()), reasons));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Queues a first attempt among the waiting ones: of the instances waiting for slots,
    /// the highest `priority` starts first, then the lowest index (stages by name, then matrix
    /// order), behind the attempts to try again.
    fn enqueue(&mut self, attempt: Attempt) {
        let instances = &self.graph.instances;
        self.waiting
            .push(attempt, |i| (std::cmp::Reverse(instances[i].priority), i));
    }

    /// Step 3's deadline: only while waiting for cancelled jobs, with a silence limit, or
    /// until a retry's back-off ends.
    fn wait_limit(&self) -> Option<Duration> {
        let now = Instant::now();
        let mut until: Option<Instant> = match self.stop {
            Some(Stop::Interrupt { deadline }) => Some(deadline),
            _ => self
                .patience
                .silence
                .filter(|_| !self.jobs.is_empty())
                .map(|s| self.last_message + s),
        };
        for d in [self.jobs.next_deadline(), self.waiting.next_due(now)]
            .into_iter()
            .flatten()
        {
            until = Some(until.map_or(d, |u| u.min(d)));
        }
        until.map(|u| u.saturating_duration_since(now))
    }

    /// Everything selected that neither settled nor failed was skipped; then the summary.
    fn finish(&mut self, selected: &[usize], start: Instant) {
        let t = &mut self.tally;
        let done = t.ran + t.restored + t.fresh + t.failed + t.skipped;
        if done < selected.len() {
            for &i in selected {
                if self.queue.is_blocked(i) {
                    self.reporter.event(&Event::Skipped {
                        id: self.graph.instances[i].id.clone(),
                        because: "an upstream instance failed".into(),
                    });
                }
            }
            let t = &mut self.tally;
            t.skipped = selected.len() - (t.ran + t.restored + t.fresh + t.failed);
        }
        self.tally.unchanged = self.cutoff.unchanged;
        self.tally.kept = self.cutoff.kept;
        let t = &self.tally;
        self.reporter.event(&Event::Summary {
            ran: t.ran,
            restored: t.restored,
            fresh: t.fresh,
            failed: t.failed,
            skipped: t.skipped,
            unchanged: t.unchanged,
            kept: t.kept,
            interrupted: t.interrupted,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
}

fn tail(path: &std::path::Path, n: usize) -> Vec<String> {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

mod handle;
mod pack;
mod start;

#[cfg(test)]
mod tests;
