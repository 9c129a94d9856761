//! Why a page's sections file cannot be read, and the one place that reads it into its type.
//!
//! The error's `Display` and `Error` are written by hand rather than derived with `thiserror`:
//! the crate keeps to serde and serde_json, since every stage that writes sections builds it.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Why a sections file cannot be used (the page then names the file and the reason).
#[derive(Debug)]
pub enum SectionsError {
    /// The file cannot be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not JSON of the sections' shape.
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde's message (which names the field at fault), without its location.
        message: String,
    },
    /// The file parses but breaks a rule serde cannot check (a report page's sections).
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the field path.
        message: String,
    },
}

impl fmt::Display for SectionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SectionsError::Read { path, source } => {
                write!(
                    f,
                    "failed to read the sections file `{}`: {source}",
                    path.display()
                )
            }
            SectionsError::Parse {
                path,
                line,
                column,
                message,
            } => write!(
                f,
                "failed to parse the sections file `{}` at {line}:{column}: {message}",
                path.display()
            ),
            SectionsError::Invalid { path, message } => {
                write!(f, "failed to use `{}`: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for SectionsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SectionsError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Reads `path` as JSON of type `T`.
pub(crate) fn read<T: DeserializeOwned>(path: &Path) -> Result<T, SectionsError> {
    let text = std::fs::read_to_string(path).map_err(|source| SectionsError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// Parses `text` as JSON of type `T`; `path` only names the file in errors.
pub(crate) fn parse<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, SectionsError> {
    serde_json::from_str(text).map_err(|e| {
        // serde's text ends with the location, which the error states already.
        let location = format!(" at line {} column {}", e.line(), e.column());
        let text = e.to_string();
        SectionsError::Parse {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: text.strip_suffix(&location).unwrap_or(&text).to_owned(),
        }
    })
}
