//! Why a manifest cannot be read, and the one place that reads a manifest file into its type.
//!
//! The error's `Display` and `Error` are written by hand rather than derived with `thiserror`:
//! the crate keeps to serde and serde_json, since every stage that reads a manifest builds it.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Why a manifest cannot be used (for the reader, a user error: nothing runs).
#[derive(Debug)]
pub enum ManifestError {
    /// The file cannot be read.
    Read {
        /// The manifest.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not JSON of the manifest's shape.
    Parse {
        /// The manifest.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde's message (which names the field at fault), without its location.
        message: String,
    },
    /// The manifest lists no members.
    Empty(PathBuf),
    /// The file parses but breaks a rule serde cannot check (a report page's sections).
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the field path.
        message: String,
    },
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::Read { path, source } => {
                write!(f, "failed to read manifest `{}`: {source}", path.display())
            }
            ManifestError::Parse {
                path,
                line,
                column,
                message,
            } => write!(
                f,
                "failed to parse manifest `{}` at {line}:{column}: {message}",
                path.display()
            ),
            ManifestError::Empty(path) => write!(
                f,
                "failed to use manifest `{}`: it lists no members",
                path.display()
            ),
            ManifestError::Invalid { path, message } => {
                write!(f, "failed to use `{}`: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for ManifestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ManifestError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Reads `path` as JSON of type `T`.
pub(crate) fn read<T: DeserializeOwned>(path: &Path) -> Result<T, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// Parses `text` as JSON of type `T`; `path` only names the file in errors.
pub(crate) fn parse<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, ManifestError> {
    serde_json::from_str(text).map_err(|e| {
        // serde's text ends with the location, which the error states already.
        let location = format!(" at line {} column {}", e.line(), e.column());
        let text = e.to_string();
        ManifestError::Parse {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: text.strip_suffix(&location).unwrap_or(&text).to_owned(),
        }
    })
}
