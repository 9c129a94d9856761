//! Errors of the probe: user errors (exit 2) and failures while working (exit 1).

use std::path::PathBuf;

/// What can go wrong while probing a run.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Reading the data or building the model failed (the trainer's error).
    #[error(transparent)]
    Train(#[from] train::TrainError),
    /// A file of the run directory is missing or malformed.
    #[error("failed to read `{path}`: {message}")]
    BadRunFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A command-line value that cannot be used.
    #[error("failed to accept `--{flag}`: {message}")]
    BadArg {
        /// The flag, without dashes.
        flag: &'static str,
        /// Why.
        message: String,
    },
    /// Writing the output failed.
    #[error("failed to write `{path}`: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl ProbeError {
    /// Whether the error is the user's: exit status 2.
    pub fn is_user_error(&self) -> bool {
        match self {
            ProbeError::Train(e) => e.is_user_error(),
            ProbeError::BadRunFile { .. } | ProbeError::BadArg { .. } => true,
            ProbeError::Write { .. } => false,
        }
    }
}
