//! Errors of the `stats` stage: bad input (exit 2) versus a failure while writing (exit 1).
//!
//! Every input error names the file, and where it can the 1-based line and the field, so that a
//! user can open the file at the right place; the errors of a run's files come from
//! `common::run_output` as they are. Messages are lowercase fragments that read after
//! "failed to".

use std::path::PathBuf;

use common::run_output::RunOutputError;

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
    /// A run's `metrics.json` or `history.csv` is missing, unreadable or malformed.
    #[error(transparent)]
    RunOutput(#[from] RunOutputError),
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

impl StatsError {
    /// The process exit status for this error: 2 for bad input, 1 for a failure while writing.
    pub fn exit_code(&self) -> i32 {
        match self {
            StatsError::Write { .. } => 1,
            _ => 2,
        }
    }
}
