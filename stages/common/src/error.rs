//! Errors of the shared types: parse failures and data-file problems.

use std::path::PathBuf;

/// What can go wrong when parsing a shared type or reading a data file.
#[derive(Debug, thiserror::Error)]
pub enum CommonError {
    /// A task name that is not one of the eight tasks.
    #[error("unknown task `{0}` (expected one of: {list})", list = crate::task::Task::ALL.iter().map(|t| t.name()).collect::<Vec<_>>().join(", "))]
    UnknownTask(String),
    /// A variant string that does not follow the grammar `full | topkK | bandK[+Gg] | blocK[+Gg]`.
    #[error("invalid attention variant `{0}` (expected `full`, `topkK`, `bandK`, `blocK`, optionally `+G1`/`+G3` after band/bloc)")]
    BadVariant(String),
    /// An activation name that is not relu, gelu or mish.
    #[error("unknown activation `{0}` (expected relu, gelu or mish)")]
    UnknownActivation(String),
    /// An I/O failure on a named file.
    #[error("failed to access `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A malformed data file, with the 1-based line and a description.
    #[error("failed to read `{path}` at line {line}: {message}")]
    BadData {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when unknown).
        line: u64,
        /// What is wrong.
        message: String,
    },
}
