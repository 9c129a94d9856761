//! Errors of the `stats` stage: bad input (exit 2) versus a failure while writing (exit 1).
//!
//! Every input error names the file, and where it can the 1-based line and the field, so that a
//! user can open the file at the right place. Messages are lowercase fragments that read after
//! "failed to".

use std::path::PathBuf;

/// What can go wrong while reading runs or writing the summary.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// A directory or file could not be read.
    #[error("failed to read `{path}`: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A run directory lacks one of its files.
    #[error("failed to find `{path}`\nhint: every run directory VARIANT/ACTIVATION/SEED needs `metrics.json` and `history.csv` (see docs/stages.md)")]
    Missing {
        /// The absent file.
        path: PathBuf,
    },
    /// A file that exists but does not follow docs/stages.md.
    #[error("failed to parse `{path}`{at}, field `{field}`: {message}", at = at_line(*line))]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: u64,
        /// The field or column at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A directory whose name does not fit the layout `DIR/VARIANT/ACTIVATION/SEED/`.
    #[error("failed to interpret `{path}`: {message}\nhint: the layout is DIR/VARIANT/ACTIVATION/SEED/{{metrics.json,history.csv}}")]
    Layout {
        /// The offending directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The runs directory holds no run at all.
    #[error("failed to find any run under `{dir}`\nhint: the layout is DIR/VARIANT/ACTIVATION/SEED/{{metrics.json,history.csv}}")]
    NoRuns {
        /// The runs directory.
        dir: PathBuf,
    },
    /// An output file could not be written.
    #[error("failed to write `{path}`: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
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

impl StatsError {
    /// The process exit status for this error: 2 for bad input, 1 for a failure while writing.
    pub fn exit_code(&self) -> i32 {
        match self {
            StatsError::Write { .. } => 1,
            _ => 2,
        }
    }
}
