//! Errors of the `gen` stage and the exit status each maps to.
//!
//! User errors (a bad argument, an output directory that cannot be created or written) exit 2;
//! a failure after the output directory was found writable (a full disk) exits 1.

use std::path::PathBuf;

use common::CommonError;

/// What can go wrong in `gen`.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// `--task` names no task.
    #[error("invalid `--task`: {0}")]
    Task(#[source] CommonError),
    /// A numeric argument out of range, or an argument the task does not take.
    #[error("invalid `--{flag}` value `{value}`: {reason}")]
    BadArg {
        /// The flag, without the dashes.
        flag: &'static str,
        /// The value given.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// The output directory cannot be created or written into.
    #[error("failed to use `--out` directory `{path}`: {source}")]
    OutDir {
        /// The directory given with `--out`.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Writing a split or `meta.json` failed after the directory was found writable.
    #[error(transparent)]
    Write(CommonError),
}

impl GenError {
    /// The process exit status for this error: 2 for user errors, 1 for failures while working.
    pub fn exit_code(&self) -> u8 {
        match self {
            GenError::Write(_) => 1,
            GenError::Task(_) | GenError::BadArg { .. } | GenError::OutDir { .. } => 2,
        }
    }
}
