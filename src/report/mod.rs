//! Progress output, fed only by the dispatcher's events: a live terminal display, plain lines
//! when stderr is not a terminal, or JSON lines on stdout (`--json`).

mod eta;
mod json;
mod progress;
mod watch;

pub(crate) use eta::human as human_duration;
pub use json::JsonReporter;
pub use progress::ProgressReporter;
