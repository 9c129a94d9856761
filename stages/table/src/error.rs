//! Errors of the `table` stage: bad input (exit 2) versus a failure while writing (exit 1).

use std::path::PathBuf;

/// What can go wrong while reading summaries and probes or writing the table.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// A directory or file could not be read.
    #[error("failed to read `{path}`: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An input file that does not follow its format.
    #[error("failed to parse `{path}`{at}: {message}", at = at_line(*line))]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: u64,
        /// What is wrong, naming the field where known.
        message: String,
    },
    /// Two input files describe the same thing.
    #[error("failed to combine `{first}` and `{second}`: both hold {what}\nhint: give each task's summary (and each probed run) exactly one file")]
    Duplicate {
        /// The file read first.
        first: PathBuf,
        /// The file read second.
        second: PathBuf,
        /// What they both hold.
        what: String,
    },
    /// The profile or key the files would name is unusable (`--profile`, `REPRO_KEY`).
    #[error("failed to name the run: {0}")]
    Origin(String),
    /// An output file could not be written.
    #[error("failed to write `{path}`: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// ` at line N`, or nothing when the line is unknown (0).
fn at_line(line: u64) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" at line {line}")
    }
}

impl TableError {
    /// The process exit status for this error: 2 for bad input, 1 for a failure while writing.
    pub fn exit_code(&self) -> i32 {
        match self {
            TableError::Write { .. } => 1,
            _ => 2,
        }
    }

    /// A write error for `path`.
    pub(crate) fn write(path: &std::path::Path, message: impl ToString) -> TableError {
        TableError::Write {
            path: path.to_owned(),
            message: message.to_string(),
        }
    }
}
