//! Errors of the run-output readers. Every one names the file, and where it can the 1-based
//! line and the field, so that a user can open the file at the right place. The `stats` stage
//! shows them as they are (exit status 2).

use std::path::PathBuf;

/// What can go wrong while reading a run's `metrics.json` or `history.csv`.
#[derive(Debug, thiserror::Error)]
pub enum RunOutputError {
    /// A file could not be read.
    #[error("failed to read `{path}`: {source}")]
    Read {
        /// The file.
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
}

/// ` at line N`, or nothing when the line is unknown (0).
fn at_line(line: u64) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" at line {line}")
    }
}

/// Reads `path` as text; a file that does not exist is [`RunOutputError::Missing`].
pub(crate) fn read_text(path: &std::path::Path) -> Result<String, RunOutputError> {
    std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            RunOutputError::Missing {
                path: path.to_owned(),
            }
        } else {
            RunOutputError::Read {
                path: path.to_owned(),
                source,
            }
        }
    })
}
