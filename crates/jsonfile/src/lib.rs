//! Reading a JSON file into a serde type: [`read`] and [`parse`], whose [`JsonFileError`] names
//! the file, the line and column, and serde's account of the field at fault, said once.
//!
//! The engine's batch manifests, the pack manifest (`repro-manifest`) and a report page's
//! sections (`repro-sections`) are read through it, so the three say a bad file's place the
//! same way. A crate of its own with no dependency but serde and serde_json, for the reason
//! those two crates give: stage programs build it (the trainer through `repro-manifest`, the
//! table stage through `repro-sections`), and a stage's code key covers its path dependencies,
//! so any change here, even to a comment, changes their keys: it stays small and changes
//! rarely. `Display` and `Error` are written by hand, not derived with `thiserror`, for the
//! same reason.
//!
//! Limits: the whole file is read into memory, with no bound on its size; it is meant for the
//! small files named above.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Why a JSON file cannot be read into its type. `what` names the kind of file in the message
/// ("manifest", "the sections file").
#[derive(Debug)]
pub enum JsonFileError {
    /// The file cannot be read.
    Read {
        /// The kind of file.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not JSON of the type's shape.
    Parse {
        /// The kind of file.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde's message (which names the field at fault), without its location.
        message: String,
    },
}

impl JsonFileError {
    /// The file at fault.
    pub fn path(&self) -> &Path {
        match self {
            JsonFileError::Read { path, .. } | JsonFileError::Parse { path, .. } => path,
        }
    }
}

impl fmt::Display for JsonFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonFileError::Read { what, path, source } => {
                write!(f, "failed to read {what} `{}`: {source}", path.display())
            }
            JsonFileError::Parse {
                what,
                path,
                line,
                column,
                message,
            } => write!(
                f,
                "failed to parse {what} `{}` at {line}:{column}: {message}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for JsonFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JsonFileError::Read { source, .. } => Some(source),
            JsonFileError::Parse { .. } => None,
        }
    }
}

/// Reads `path`, a `what`, as JSON of type `T`.
pub fn read<T: DeserializeOwned>(what: &'static str, path: &Path) -> Result<T, JsonFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| JsonFileError::Read {
        what,
        path: path.to_owned(),
        source,
    })?;
    parse(what, &text, path)
}

/// Parses `text`, a `what`, as JSON of type `T`; `path` only names the file in errors.
pub fn parse<T: DeserializeOwned>(
    what: &'static str,
    text: &str,
    path: &Path,
) -> Result<T, JsonFileError> {
    serde_json::from_str(text).map_err(|e| {
        // serde's text ends with the location, which the error states already.
        let location = format!(" at line {} column {}", e.line(), e.column());
        let text = e.to_string();
        JsonFileError::Parse {
            what,
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: text.strip_suffix(&location).unwrap_or(&text).to_owned(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Pair {
        name: String,
        count: u32,
    }

    #[test]
    fn a_parse_error_names_the_file_the_place_and_the_field_once() {
        let e = parse::<Pair>(
            "thing",
            "{\"name\": \"a\",\n \"count\": \"two\"}",
            Path::new("d/p.json"),
        )
        .unwrap_err();
        let JsonFileError::Parse { line, column, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!((*line, *column), (2, 15));
        assert_eq!(e.path(), Path::new("d/p.json"));
        let text = e.to_string();
        assert!(
            text.starts_with(
                "failed to parse thing `d/p.json` at 2:15: invalid type: string \"two\", expected u32"
            ),
            "{text}"
        );
        assert!(!text.contains("column"), "the place is given once: {text}");
        let missing = parse::<Pair>("thing", "{\"name\": \"a\"}", Path::new("p.json"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("`count`"), "{missing}");
    }

    #[test]
    fn a_file_that_cannot_be_read_is_a_read_error_with_its_cause() {
        let e = read::<Pair>("thing", Path::new("/nonexistent/repro/p.json")).unwrap_err();
        assert!(matches!(e, JsonFileError::Read { .. }), "{e:?}");
        assert!(std::error::Error::source(&e).is_some());
        assert!(e
            .to_string()
            .starts_with("failed to read thing `/nonexistent/repro/p.json`: "));
    }

    #[test]
    fn a_good_file_reads_into_its_type() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        std::fs::write(&path, r#"{"name": "a", "count": 2, "extra": true}"#).unwrap();
        let p: Pair = read("thing", &path).unwrap();
        assert_eq!((p.name.as_str(), p.count), ("a", 2));
    }
}
