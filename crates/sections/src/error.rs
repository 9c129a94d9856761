//! Why a page's sections file cannot be used: a file that cannot be read or parsed (said as
//! every JSON file of the project says it, [`repro_jsonfile`]), or one that breaks a rule serde
//! cannot check.
//!
//! The error's `Display` and `Error` are written by hand rather than derived with `thiserror`:
//! the crate keeps to serde, serde_json and `repro-jsonfile`, since every stage that writes
//! sections builds it.

use std::fmt;
use std::path::PathBuf;

pub use repro_jsonfile::JsonFileError;

/// The kind of file, as error messages name it.
pub(crate) const WHAT: &str = "the sections file";

/// Why a sections file cannot be used (the page then names the file and the reason).
#[derive(Debug)]
pub enum SectionsError {
    /// The file cannot be read, or is not JSON of the sections' shape.
    File(JsonFileError),
    /// The file parses but breaks a rule serde cannot check (a report page's sections).
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the field path.
        message: String,
    },
}

impl From<JsonFileError> for SectionsError {
    fn from(e: JsonFileError) -> SectionsError {
        SectionsError::File(e)
    }
}

impl fmt::Display for SectionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SectionsError::File(e) => fmt::Display::fmt(e, f),
            SectionsError::Invalid { path, message } => {
                write!(f, "failed to use `{}`: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for SectionsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SectionsError::File(e) => e.source(),
            SectionsError::Invalid { .. } => None,
        }
    }
}
