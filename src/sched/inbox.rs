//! The dispatcher's inbox: one channel that carries executor events and interrupts, so that
//! the loop blocks on a single receive with no polling interval. Signal handling is a
//! component ([`Interrupts`]) with a no-op variant for tests.

use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use crate::exec::{EventSink, ExecEvent};

/// What wakes the dispatcher.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A job changed state.
    Exec(ExecEvent),
    /// The user asked the run to stop (Ctrl-C, SIGTERM).
    Interrupt,
}

/// Both ends of the dispatcher's channel.
#[derive(Debug)]
pub struct Inbox {
    tx: Sender<Message>,
    rx: Receiver<Message>,
}

impl Default for Inbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Inbox {
    /// A new, empty inbox.
    pub fn new() -> Inbox {
        let (tx, rx) = mpsc::channel();
        Inbox { tx, rx }
    }

    /// A sender, for interrupts (or tests).
    pub fn sender(&self) -> Sender<Message> {
        self.tx.clone()
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
    pub fn install(self, tx: Sender<Message>) {
        if self == Interrupts::Signals {
            let _ = ctrlc::set_handler(move || {
                let _ = tx.send(Message::Interrupt);
            });
        }
    }
}
