//! The dispatcher's inbox: one channel that carries executor events and interrupts, so that
//! the loop blocks on a single receive with no polling interval, and a [`Doorbell`] that every
//! send rings, so that an executor that waits on the dispatcher's thread
//! ([`Executor::wait`](crate::exec::Executor::wait)) wakes for the inbox too. Signal handling
//! is a component ([`Interrupts`]) with a no-op variant for tests.

use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::Duration;

use crate::exec::{Doorbell, EventSink, ExecEvent};

/// What wakes the dispatcher.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A job changed state.
    Exec(ExecEvent),
    /// The user asked the run to stop (Ctrl-C, SIGTERM).
    Interrupt,
}

/// A sending end of the inbox: it sends, then rings the doorbell.
#[derive(Debug, Clone)]
pub struct Sender {
    tx: mpsc::Sender<Message>,
    bell: Arc<Doorbell>,
}

impl Sender {
    /// Puts `m` in the inbox; fails only when the inbox is gone.
    pub fn send(&self, m: Message) -> Result<(), mpsc::SendError<Message>> {
        self.tx.send(m)?;
        self.bell.ring();
        Ok(())
    }
}

/// Both ends of the dispatcher's channel, and its doorbell.
#[derive(Debug)]
pub struct Inbox {
    tx: Sender,
    rx: Receiver<Message>,
}

impl Inbox {
    /// A new, empty inbox; fails when no `eventfd` can be made for its doorbell.
    pub fn new() -> std::io::Result<Inbox> {
        let (tx, rx) = mpsc::channel();
        let bell = Arc::new(Doorbell::new()?);
        Ok(Inbox {
            tx: Sender { tx, bell },
            rx,
        })
    }

    /// A sender, for interrupts (or tests).
    pub fn sender(&self) -> Sender {
        self.tx.clone()
    }

    /// The bell that sends ring.
    pub(crate) fn bell(&self) -> &Doorbell {
        &self.tx.bell
    }

    /// The sink an executor sends its events to.
    pub(crate) fn sink(&self) -> EventSink {
        let tx = self.tx.clone();
        EventSink::new(move |e| {
            let _ = tx.send(Message::Exec(e));
        })
    }

    /// A message that has already arrived, without waiting.
    pub(crate) fn ready(&self) -> Option<Message> {
        self.rx.try_recv().ok()
    }

    /// The next message; `None` when `limit` passes first.
    pub(crate) fn next(&self, limit: Option<Duration>) -> Option<Message> {
        match limit {
            None => self.rx.recv().ok(),
            Some(d) => self.rx.recv_timeout(d).ok(),
        }
    }
}

/// Where interrupts come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Interrupts {
    /// Ctrl-C and SIGTERM (one handler per process; a second install keeps the first).
    Signals,
    /// None (tests, embedding).
    Off,
}

impl Interrupts {
    /// Starts delivering interrupts to `tx`.
    pub fn install(self, tx: Sender) {
        if self == Interrupts::Signals {
            // The `termination` feature's three; local jobs' children reset them before `exec`.
            crate::exec::handlers_installed(&[libc::SIGINT, libc::SIGTERM, libc::SIGHUP]);
            let _ = ctrlc::set_handler(move || {
                let _ = tx.send(Message::Interrupt);
            });
        }
    }
}
