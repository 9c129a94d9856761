//! Why a manifest cannot be read: a file that cannot be read or parsed (said as every JSON file
//! of the project says it, [`repro_jsonfile`]), or one that lists no members.
//!
//! The error's `Display` and `Error` are written by hand rather than derived with `thiserror`:
//! the crate keeps to serde, serde_json and `repro-jsonfile`, since every stage that reads a
//! manifest builds it.

use std::fmt;
use std::path::PathBuf;

pub use repro_jsonfile::JsonFileError;

/// The kind of file, as error messages name it.
pub(crate) const WHAT: &str = "manifest";

/// Why a manifest cannot be used (for the reader, a user error: nothing runs).
#[derive(Debug)]
pub enum ManifestError {
    /// The file cannot be read, or is not JSON of the manifest's shape.
    File(JsonFileError),
    /// The manifest lists no members.
    Empty(PathBuf),
}

impl From<JsonFileError> for ManifestError {
    fn from(e: JsonFileError) -> ManifestError {
        ManifestError::File(e)
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::File(e) => fmt::Display::fmt(e, f),
            ManifestError::Empty(path) => write!(
                f,
                "failed to use manifest `{}`: it lists no members",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ManifestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ManifestError::File(e) => e.source(),
            ManifestError::Empty(_) => None,
        }
    }
}
