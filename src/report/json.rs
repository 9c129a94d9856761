//! `--json`: every event as one JSON object per line on stdout (data, not logs).

use std::io::Write;

use crate::sched::{Event, Reporter};

/// Writes events as JSON lines to stdout.
#[derive(Debug, Default)]
pub struct JsonReporter;

impl Reporter for JsonReporter {
    fn event(&mut self, e: &Event) {
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer(&mut out, e);
        let _ = out.write_all(b"\n");
    }
}
