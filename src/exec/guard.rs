//! The executor contract on every path: each job's state (on the thread that waits for it, or
//! in the executor) holds a [`JobGuard`], which sends the job's one `Finished` when it is
//! reported, and a `Vanished` when it is dropped unreported (a panic unwinding it, or a path
//! that forgot to report), so the dispatcher never waits for an event that
//! cannot come. An executor whose job owns processes runs its clean-up (ending them) in
//! [`JobGuard::on_drop`] first, so that a job reported lost is also a job that writes nothing
//! more. Limits: a thread that blocks forever sends nothing; that is what a batch executor's
//! silence limit is for.

use super::event::{EventSink, ExecEvent, JobStatus, JobTimes};
use super::job::JobId;

type Cleanup = Box<dyn FnOnce() + Send>;

/// Sends a job's last event exactly once: `Finished` through [`JobGuard::finish`], or
/// `Vanished` when dropped unfinished.
pub struct JobGuard {
    sink: EventSink,
    job: JobId,
    done: bool,
    cleanup: Option<Cleanup>,
}

impl JobGuard {
    /// A guard for `job`, reporting through `sink`.
    pub fn new(sink: EventSink, job: JobId) -> JobGuard {
        JobGuard {
            sink,
            job,
            done: false,
            cleanup: None,
        }
    }

    /// Runs `f` before `Vanished` is sent by an unfinished drop (e.g. ending the job's
    /// processes).
    pub fn on_drop(mut self, f: impl FnOnce() + Send + 'static) -> JobGuard {
        self.cleanup = Some(Box::new(f));
        self
    }

    /// Reports the job's end.
    pub fn finish(mut self, status: JobStatus, times: JobTimes) {
        self.done = true;
        self.sink.send(ExecEvent::Finished {
            job: self.job,
            status,
            times,
        });
    }
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(f) = self.cleanup.take() {
            // A second panic here would abort the process; the clean-up is best effort.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        }
        let reason = if std::thread::panicking() {
            "the executor's thread for the job panicked; its processes were ended"
        } else {
            "the executor's thread for the job ended without reporting it"
        };
        let (sink, job) = (self.sink.clone(), self.job);
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            sink.send(ExecEvent::Vanished {
                job,
                reason: reason.to_owned(),
            })
        }));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[test]
    fn a_thread_that_panics_holding_the_guard_reports_the_job_vanished_once() {
        let (tx, rx) = mpsc::channel();
        let sink = EventSink::new(move |e| {
            let _ = tx.send(e);
        });
        let (cleaned_tx, cleaned) = mpsc::channel();
        let guard = JobGuard::new(sink.clone(), JobId(7)).on_drop(move || {
            let _ = cleaned_tx.send(());
        });
        let t = std::thread::spawn(move || {
            let _guard = guard;
            panic!("injected");
        });
        assert!(t.join().is_err());
        assert!(cleaned.try_recv().is_ok(), "the clean-up ran");
        match rx.try_recv() {
            Ok(ExecEvent::Vanished { job, reason }) => {
                assert_eq!(job, JobId(7));
                assert!(reason.contains("panicked"), "{reason}");
            }
            other => panic!("expected Vanished, got {other:?}"),
        }
        assert!(rx.try_recv().is_err(), "one event only");
        let guard = JobGuard::new(sink, JobId(8));
        guard.finish(JobStatus::Succeeded, JobTimes::default());
        assert!(matches!(rx.try_recv(), Ok(ExecEvent::Finished { .. })));
        assert!(
            rx.try_recv().is_err(),
            "a finished guard sends nothing more"
        );
    }
}
