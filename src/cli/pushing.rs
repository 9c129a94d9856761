//! `repro run --push`: each instance's record and objects go to the remote as soon as the
//! instance is published, on a thread beside the dispatcher (never on its path): the reporter
//! in front of the display hands each `Finished` instance's key to the thread, which pushes
//! whatever has gathered since its last push as one batch (`remote::push`: objects before the
//! record, absent ones only, `connections` at once). At the end of the run the thread is
//! joined and what it did is said; a push that failed makes the run fail (exit 1) after its
//! instances were published here, and `repro push` sends them later.

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use crate::cache::Store;
use crate::remote::{PushReport, Transport};
use crate::sched::{Event, Reporter};

use super::remote::Opened;
use super::CliError;

/// A reporter that passes every event on and queues each published instance for the remote.
pub(crate) struct Pushing<'r> {
    inner: &'r mut dyn Reporter,
    tx: Option<Sender<(String, String)>>,
    thread: Option<JoinHandle<PushReport>>,
    /// The remote's label; `None` without `--push`.
    label: Option<String>,
}

impl<'r> Pushing<'r> {
    /// In front of `inner`: with a remote, starts the pushing thread for it, reading from the
    /// store; without one, only passes events on.
    pub(crate) fn start(inner: &'r mut dyn Reporter, remote: Option<(Store, Opened)>) -> Self {
        let Some((store, remote)) = remote else {
            return Pushing {
                inner,
                tx: None,
                thread: None,
                label: None,
            };
        };
        let (tx, rx) = mpsc::channel();
        let label = Some(remote.label.clone());
        let thread = std::thread::Builder::new()
            .name("repro-push".into())
            .spawn(move || pushing(&store, remote.transport.as_ref(), remote.connections, &rx))
            .ok();
        Pushing {
            inner,
            tx: thread.is_some().then_some(tx),
            thread,
            label,
        }
    }

    /// Waits for the pushes still going, says what was pushed, and fails when a push failed
    /// (nothing to do without a remote).
    pub(crate) fn finish(mut self) -> Result<(), CliError> {
        let Some(label) = self.label.take() else {
            return Ok(());
        };
        self.tx = None;
        let Some(report) = self.thread.take().and_then(|t| t.join().ok()) else {
            return Err(CliError::Internal(
                "the pushing thread could not start or stopped".into(),
            ));
        };
        let mut err = std::io::stderr().lock();
        use std::io::Write;
        for (id, key) in &report.conflicts {
            let _ = writeln!(
                err,
                "repro: warning: {id}: {label} already holds a different record for key `{key}`; kept it, not overwritten"
            );
        }
        for p in &report.problems {
            let _ = writeln!(err, "repro: push FAILED {p}");
        }
        let _ = writeln!(
            err,
            "repro: pushed to {label} during the run: {} of {} records, {} of {} objects ({} bytes) uploaded",
            report.records_uploaded,
            report.records,
            report.objects_uploaded,
            report.objects,
            report.bytes
        );
        if report.problems.is_empty() {
            Ok(())
        } else {
            Err(CliError::Failed(format!(
                "{} result(s) not pushed (they are published here: `repro push` sends them)",
                report.problems.len()
            )))
        }
    }
}

impl Reporter for Pushing<'_> {
    fn event(&mut self, e: &Event) {
        if let Event::Finished {
            id, key: Some(key), ..
        } = e
        {
            if let Some(tx) = &self.tx {
                let _ = tx.send((id.clone(), key.clone()));
            }
        }
        self.inner.event(e);
    }

    fn output_error(&self) -> Option<String> {
        self.inner.output_error()
    }
}

/// The thread: pushes what has gathered, batch after batch, until the run closes the channel.
fn pushing(
    store: &Store,
    remote: &dyn Transport,
    connections: usize,
    rx: &Receiver<(String, String)>,
) -> PushReport {
    let mut total = PushReport::default();
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        match crate::remote::push(store, remote, &batch, connections) {
            Ok(r) => {
                total.records += r.records;
                total.records_uploaded += r.records_uploaded;
                total.objects += r.objects;
                total.objects_uploaded += r.objects_uploaded;
                total.bytes += r.bytes;
                total.requests += r.requests;
                total.conflicts.extend(r.conflicts);
                total.problems.extend(r.problems);
            }
            Err(e) => {
                total.records += batch.len();
                total
                    .problems
                    .extend(batch.iter().map(|(id, _)| format!("{id}: {e}")));
            }
        }
    }
    total
}
