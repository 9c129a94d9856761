//! Scheduling: slots (CPU and GPU tokens), the ready queue, and the dispatcher,
//! an event loop that runs the selected instances on an executor and emits typed events.

mod attempt;
mod cutoff;
mod dispatch;
pub(crate) mod estimate;
mod event;
mod inbox;
mod job;
mod jobs;
mod lease;
mod manifest;
mod queue;
mod runqueue;
mod slots;

pub use dispatch::{DispatchError, Dispatcher, Patience, Tally};
pub use event::{Event, Reporter, Watch};
pub use inbox::{Inbox, Interrupts, Message, Sender};
pub(crate) use job::thread_env;
pub use job::{detached_job, detached_pack_job};
pub use slots::{Grant, Slots};
