//! Scheduling: slots (CPU and GPU tokens), GPU discovery, planning, and the dispatcher that
//! runs a ready queue over the DAG and emits typed events.

mod dispatch;
mod event;
pub mod gpus;
mod plan;
mod slots;

pub use dispatch::{hostname, DispatchError, Dispatcher, Options, Reporter, Tally};
pub use event::Event;
pub use plan::plan;
pub use slots::{Grant, Slots};
