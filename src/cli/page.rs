//! A command's output on stdout, gathered and written at once, so that a write that fails (a
//! full disk behind a redirect) is an error with a message and exit code 3, never a panic. A
//! closed pipe still ends the process quietly (SIGPIPE keeps its default action).

use std::fmt;
use std::io::Write;

use super::CliError;

/// Lines for stdout.
#[derive(Debug, Default)]
pub(crate) struct Page {
    text: String,
}

/// `outln!(page, "...", args)`: one line onto a [`Page`].
macro_rules! outln {
    ($page:expr, $($arg:tt)*) => {
        $page.line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

impl Page {
    /// Adds one line.
    pub(crate) fn line(&mut self, args: fmt::Arguments<'_>) {
        use fmt::Write as _;
        let _ = self.text.write_fmt(args);
        self.text.push('\n');
    }

    /// Adds a value as pretty-printed JSON (the `--json` of a command).
    pub(crate) fn json(&mut self, value: &impl serde::Serialize) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::Internal(format!("cannot encode the JSON output: {e}")))?;
        self.text.push_str(&text);
        self.text.push('\n');
        Ok(())
    }

    /// The lines so far.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Writes everything to stdout.
    pub(crate) fn print(self) -> Result<(), CliError> {
        let mut out = std::io::stdout().lock();
        out.write_all(self.text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| CliError::Internal(format!("cannot write to stdout: {e}")))
    }
}
