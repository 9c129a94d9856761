//! Progress output, fed only by the dispatcher's events: a live terminal display, plain lines
//! when stderr is not a terminal, or JSON lines on stdout (`--json`).

mod json;
mod progress;

pub use json::JsonReporter;
pub use progress::ProgressReporter;
