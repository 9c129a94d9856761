//! `--json`: every event as one JSON object per line on stdout (data, not logs).

use std::io::Write;

use crate::sched::{Event, Reporter};

/// Writes events as JSON lines to stdout, remembering the first write that failed.
#[derive(Debug, Default)]
pub struct JsonReporter {
    error: Option<String>,
}

impl Reporter for JsonReporter {
    fn event(&mut self, e: &Event) {
        let mut line = serde_json::to_vec(e).expect("events serialise");
        line.push(b'\n');
        let mut out = std::io::stdout().lock();
        if let Err(err) = out.write_all(&line).and_then(|()| out.flush()) {
            self.error.get_or_insert_with(|| err.to_string());
        }
    }

    fn output_error(&self) -> Option<String> {
        self.error.clone()
    }
}
