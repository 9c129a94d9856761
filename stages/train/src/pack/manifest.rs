//! The manifest of `train --pack MANIFEST`, written by the engine.
//!
//! JSON: `{"members": [{"instance": ..., "key": ... or null, "cmd": [argv...], "outs": [...],
//! "done": path}]}`.
//! `cmd` is the exact argv of the member's single run (argv[0] the binary), parsed with the
//! single run's clap [`Args`](crate::cli::Args); `done`, if given, is created once the
//! member's files are complete (the engine publishes the members whose `done` exists even when
//! another member failed). Fields this trainer does not use (`key`, `outs`, and any the engine
//! may add later) are ignored: like a single run, which never writes its `REPRO_KEY` into an
//! output, a member's files hold no key, so that a re-run with a new key but the same result
//! leaves them byte-identical.
//!
//! A manifest that cannot be read, is not JSON of this shape, or lists no members is a user
//! error (exit 2) and nothing is written.

use std::path::{Path, PathBuf};

/// One member of a pack: one training run.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct ManifestMember {
    /// The engine's instance name, which prefixes every message about this member.
    pub instance: String,
    /// The argv of the member's single run, argv[0] the binary.
    pub cmd: Vec<String>,
    /// The member's declared outputs (informational here; `--out` in `cmd` is what is used).
    #[serde(default)]
    pub outs: Vec<String>,
    /// The file to create once the member's files are complete, if any.
    #[serde(default)]
    pub done: Option<PathBuf>,
}

/// The whole manifest.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct Manifest {
    /// The runs to train, in the engine's order.
    pub members: Vec<ManifestMember>,
}

/// Why a manifest cannot be used (all user errors: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file cannot be read.
    #[error("failed to read manifest `{path}`: {source}")]
    Read {
        /// The manifest.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not JSON of the manifest's shape.
    #[error("failed to parse manifest `{path}` at {line}:{column}: {message}")]
    Parse {
        /// The manifest.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde's message.
        message: String,
    },
    /// The manifest lists no members.
    #[error("failed to use manifest `{0}`: it lists no members")]
    Empty(PathBuf),
}

impl Manifest {
    /// Reads and checks `path` (see the module doc).
    pub fn read(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        Manifest::parse(&text, path)
    }

    /// Parses manifest text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        let manifest: Manifest = serde_json::from_str(text).map_err(|e| {
            // serde's text ends with the location, which the error states already.
            let location = format!(" at line {} column {}", e.line(), e.column());
            let text = e.to_string();
            ManifestError::Parse {
                path: path.to_owned(),
                line: e.line(),
                column: e.column(),
                message: text.strip_suffix(&location).unwrap_or(&text).to_owned(),
            }
        })?;
        if manifest.members.is_empty() {
            return Err(ManifestError::Empty(path.to_owned()));
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_the_key_are_ignored() {
        let text = r#"{"version": 3, "members": [
            {"instance": "a", "key": null, "cmd": ["train", "--out", "x"], "outs": ["x"], "gpu": 1},
            {"instance": "b", "key": "abc", "cmd": ["train"]}]}"#;
        let m = Manifest::parse(text, Path::new("m.json")).unwrap();
        assert_eq!(m.members.len(), 2);
        assert_eq!(m.members[1].instance, "b");
    }

    #[test]
    fn bad_json_and_empty_manifests_name_the_file() {
        let e = Manifest::parse(
            "{\"members\": [\n  {\"instance\": 1}]}",
            Path::new("m.json"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("failed to parse manifest `m.json` at 2:"),
            "{e}"
        );
        assert!(!e.contains("column"), "the location is given once: {e}");
        let e = Manifest::parse(r#"{"members": []}"#, Path::new("m.json"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "failed to use manifest `m.json`: it lists no members");
    }
}
