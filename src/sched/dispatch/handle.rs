//! The dispatcher's step 4: handling what woke it. An executor event ends a job (publish a
//! success through the workspace, report a failure and block its dependents, note a cancelled
//! job); an interrupt cancels everything; a wait that ended with no message means the executor
//! was silent too long, or did not confirm cancelled jobs in time. After an engine error,
//! [`abort`](Dispatcher::abort) cancels what runs before the error is returned.

use std::time::Instant;

use crate::cache::KeyInputs;
use crate::exec::{ExecEvent, JobFailure, JobStatus, JobTimes};
use crate::workspace::{PublishError, RunFacts, State};

use super::{tail, Build, DispatchError, Dispatcher, Stop, Work};
use crate::sched::attempt::{after_setback, Attempt, Next, Setback};
use crate::sched::event::Event;
use crate::sched::inbox::{Inbox, Message};
use crate::sched::jobs::Held;
use crate::sched::lease::Lease;

impl Dispatcher<'_, '_> {
    /// Step 4: one executor event.
    pub(super) fn on_exec(&mut self, e: ExecEvent) -> Result<(), DispatchError> {
        let (job, status, times) = match e {
            ExecEvent::Started { .. } | ExecEvent::Alive => return Ok(()),
            ExecEvent::Finished { job, status, times } => (job, status, times),
            ExecEvent::Vanished { job, reason } => (
                job,
                JobStatus::Failed(JobFailure::Lost(reason)),
                JobTimes::default(),
            ),
        };
        // An event for a job this dispatch no longer tracks (given up after an interrupt, or
        // reported twice) changes nothing.
        let Some(Held { lease, work }) = self.jobs.retire(job) else {
            return Ok(());
        };
        match work {
            Work::Build => self.on_build_end(status),
            Work::Pack(pack) => self.on_pack_end(pack, lease, status, times),
            Work::Instance(attempt) => self.on_instance_end(attempt, lease, status, times),
        }
    }

    fn on_build_end(&mut self, status: JobStatus) -> Result<(), DispatchError> {
        self.build = Build::Done;
        let message = match status {
            JobStatus::Succeeded => return Ok(()),
            JobStatus::Cancelled => {
                self.tally.interrupted = true;
                return Ok(());
            }
            JobStatus::Failed(_) | JobStatus::NotStarted(_) => status.why(),
        };
        Err(self.build_error(message))
    }

    fn build_error(&self, message: String) -> DispatchError {
        DispatchError::Build {
            argv: self.settings.build.clone().unwrap_or_default().join(" "),
            message,
        }
    }

    fn on_instance_end(
        &mut self,
        attempt: Attempt,
        lease: Lease,
        status: JobStatus,
        times: JobTimes,
    ) -> Result<(), DispatchError> {
        let i = attempt.index;
        let seconds = times.ran.as_secs_f64();
        let setback = match status {
            _ if lease.timed_out && status != JobStatus::Succeeded => {
                Setback::TimedOut(lease.limit.unwrap_or_default())
            }
            // A job that publishes itself: its record in the store is the only proof.
            JobStatus::Succeeded if self.executor.publishes() => {
                match self.adopt(i, &attempt.inputs)? {
                    None => {
                        self.ran(i, seconds, Instant::now());
                        return Ok(());
                    }
                    Some(why) => Setback::Unusable(why),
                }
            }
            JobStatus::Succeeded => match self.ws.missing_output(&self.graph.instances[i]) {
                // Found at once, so that the failure-and-retry policy acts before new jobs
                // take the slots (publication would find it only after).
                Some(why) => Setback::Unusable(why),
                None => {
                    let facts = RunFacts {
                        device: lease.device,
                        slot: lease.slot,
                        seconds,
                    };
                    // Its slots are free already; it is published once the next jobs started.
                    self.finished.push((attempt, facts, Instant::now()));
                    return Ok(());
                }
            },
            JobStatus::Failed(f) => Setback::Failed(f.to_string()),
            JobStatus::NotStarted(f) => Setback::NotStarted(f.to_string()),
            JobStatus::Cancelled => {
                self.skip_interrupted(i);
                self.stop_with(Stop::Failure);
                return Ok(());
            }
        };
        self.after_setback(attempt, setback);
        Ok(())
    }

    /// Publishes the jobs that succeeded since the last call, in the order they ended, each
    /// releasing its dependents; one whose outputs are unusable goes through the
    /// failure-and-retry policy. Returns whether there were any.
    pub(super) fn publish_finished(&mut self) -> Result<bool, DispatchError> {
        if self.finished.is_empty() {
            return Ok(false);
        }
        let graph = self.graph;
        let mut finished = std::mem::take(&mut self.finished).into_iter();
        while let Some((attempt, facts, ended)) = finished.next() {
            let i = attempt.index;
            match self
                .ws
                .publish(&graph.instances[i], &attempt.inputs, &facts)
            {
                Ok(()) => self.ran(i, facts.seconds, ended),
                // The program said it was done: running it again would hide its fault.
                Err(PublishError::Stage(m)) => self.after_setback(attempt, Setback::Unusable(m)),
                Err(PublishError::Engine(e)) => {
                    // The others stay for the error path, which publishes what it can.
                    self.finished.extend(finished);
                    return Err(e.into());
                }
            }
        }
        Ok(true)
    }

    /// Applies the failure-and-retry policy (`sched/attempt.rs`) to an attempt that ended
    /// without a result: queue it again at the front, or fail the instance.
    /// Inside a batch job a member that its pack left unfinished fails here: the controller
    /// takes in the members the job published and runs the others again alone, so the job
    /// does not run them alone a second time.
    pub(super) fn after_setback(&mut self, attempt: Attempt, setback: Setback) {
        let i = attempt.index;
        if self.settings.in_job && matches!(setback, Setback::PackEnded { .. }) {
            self.fail(i, setback.message());
            return;
        }
        let next = after_setback(
            attempt,
            &self.graph.instances[i].id,
            setback,
            self.settings.retries,
            self.stop.is_some(),
            Instant::now(),
        );
        match next {
            Next::Retry(attempt, note) => {
                self.reporter.event(&Event::Note { message: note });
                self.waiting.push_again(attempt);
            }
            Next::Fail(message) => self.fail(i, message),
        }
    }

    /// Counts instance `i`, whose job was cancelled, as skipped by an interrupt.
    pub(super) fn skip_interrupted(&mut self, i: usize) {
        self.tally.interrupted = true;
        self.tally.skipped += 1;
        self.reporter.event(&Event::Skipped {
            id: self.graph.instances[i].id.clone(),
            because: "interrupted".into(),
        });
    }

    /// Counts a published run, whose job ended at `ended`, and releases its dependents.
    pub(super) fn ran(&mut self, i: usize, seconds: f64, ended: Instant) {
        self.tally.ran += 1;
        let id = &self.graph.instances[i].id;
        let entry = self.ws.lock_entry(id);
        self.cutoff.executed(i, entry.as_ref().map(|e| &e.outs));
        let key = entry.map(|e| e.into_owned().key);
        self.reporter.event(&Event::Finished {
            id: self.graph.instances[i].id.clone(),
            seconds,
            key,
            ended,
        });
        self.queue.settle(self.graph, i);
    }

    /// Takes in what a job published itself: its key's record, with the workspace outputs
    /// checked against it (restored from the store where they differ). Returns why not, when
    /// the record is missing or is for other inputs.
    pub(super) fn adopt(
        &mut self,
        i: usize,
        inputs: &KeyInputs,
    ) -> Result<Option<String>, DispatchError> {
        let inst = &self.graph.instances[i];
        let key = inputs.key();
        let state = self.ws.evaluate(inst, None, false)?;
        Ok(match state {
            State::Fresh { entry, .. } if entry.key == key => {
                self.ws.accept(inst, entry);
                None
            }
            State::Restore {
                key: found, record, ..
            } if found == key => match self.ws.restore(inst, found, &record) {
                Ok(()) => None,
                Err(e) => Some(format!(
                    "the job's published outputs cannot be restored: {e}"
                )),
            },
            State::Fresh { .. } | State::Restore { .. } => Some(
                "the job published a result for other inputs: the workspace changed while it ran"
                    .to_owned(),
            ),
            State::Run { .. } => Some(format!(
                "the job ended successfully but its result (key {}) is not in the store",
                &key[..12.min(key.len())]
            )),
        })
    }

    pub(super) fn fail(&mut self, i: usize, error: String) {
        let graph = self.graph;
        let inst = &graph.instances[i];
        let log = self.ws.layout().log(&inst.id);
        self.tally.failed += 1;
        self.reporter.event(&Event::Failed {
            id: inst.id.clone(),
            error,
            log_tail: tail(&log, 20),
            log: log.display().to_string(),
        });
        self.queue.block_downstream(self.graph, i);
        if !self.settings.keep_going {
            self.stop_with(Stop::Failure);
        }
    }

    /// Step 4: an interrupt cancels every running job.
    pub(super) fn on_interrupt(&mut self) {
        self.tally.interrupted = true;
        if !matches!(self.stop, Some(Stop::Interrupt { .. })) {
            self.stop = Some(Stop::Interrupt {
                deadline: Instant::now() + self.patience.cancel_wait,
            });
            self.queue.clear();
            self.waiting.clear();
            self.executor.cancel_all();
        }
    }

    /// Cancels every running job whose time limit has passed (once each); its end is then
    /// reported as timed out.
    pub(super) fn expire_timeouts(&mut self) {
        for id in self.jobs.expire(Instant::now()) {
            self.executor.cancel(id);
        }
    }

    /// Step 4: the wait ended with no message: a timeout passed (handled by the next turn),
    /// the wait for cancelled jobs ended, or the executor was silent too long.
    pub(super) fn on_quiet(&mut self) -> Result<(), DispatchError> {
        let now = Instant::now();
        match self.stop {
            Some(Stop::Interrupt { deadline }) if now >= deadline => self.on_silence(),
            Some(Stop::Interrupt { .. }) => Ok(()),
            _ => match self.patience.silence {
                Some(s) if now >= self.last_message + s => self.on_silence(),
                _ => Ok(()),
            },
        }
    }

    /// After an interrupt, the jobs not confirmed by the deadline are given up; otherwise the
    /// executor was silent too long and every running job fails.
    fn on_silence(&mut self) -> Result<(), DispatchError> {
        let interrupted = matches!(self.stop, Some(Stop::Interrupt { .. }));
        if !interrupted {
            self.executor.cancel_all();
        }
        let silence = self.patience.silence.unwrap_or_default().as_secs_f64();
        for (_, held) in self.jobs.retire_all() {
            match held.work {
                Work::Pack(pack) => {
                    self.close_pack(&pack);
                    for m in pack.members {
                        self.give_up(m.attempt.index, interrupted, silence);
                    }
                }
                Work::Instance(attempt) => self.give_up(attempt.index, interrupted, silence),
                Work::Build if interrupted => {}
                Work::Build => {
                    return Err(DispatchError::Silent {
                        executor: self.executor.name().to_owned(),
                        seconds: silence,
                    })
                }
            }
        }
        Ok(())
    }

    /// Gives up on instance `index` whose job did not end in time: skipped after an
    /// interrupt, failed when the executor was silent for `silence` seconds.
    fn give_up(&mut self, index: usize, interrupted: bool, silence: f64) {
        if interrupted {
            self.tally.skipped += 1;
            self.reporter.event(&Event::Skipped {
                id: self.graph.instances[index].id.clone(),
                because: format!(
                    "interrupted; the `{}` executor did not confirm that the job ended within {:.0}s",
                    self.executor.name(),
                    self.patience.cancel_wait.as_secs_f64()
                ),
            });
        } else {
            self.fail(
                index,
                format!(
                    "the `{}` executor reported nothing for {silence:.0}s",
                    self.executor.name()
                ),
            );
            self.stop_with(Stop::Failure);
        }
    }

    pub(super) fn stop_with(&mut self, stop: Stop) {
        if self.stop.is_none() {
            self.stop = Some(stop);
            self.queue.clear();
            self.waiting.clear();
        }
    }

    /// After an engine error: cancel what runs and wait (bounded) for it to end, publishing
    /// nothing, so that no job outlives the error unreported.
    pub(super) fn abort(&mut self, inbox: &Inbox) {
        self.executor.cancel_all();
        let deadline = Instant::now() + self.patience.cancel_wait;
        while !self.jobs.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.receive(inbox, Some(left)) {
                Some(Message::Exec(e)) => {
                    if matches!(e, ExecEvent::Finished { .. } | ExecEvent::Vanished { .. }) {
                        if let Some(Held {
                            work: Work::Pack(pack),
                            ..
                        }) = e.job().and_then(|j| self.jobs.retire(j))
                        {
                            self.close_pack(&pack);
                        }
                    }
                }
                Some(Message::Interrupt) => {}
                None if Instant::now() >= deadline => break,
                None => {}
            }
        }
    }
}
