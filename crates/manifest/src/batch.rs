//! A batch job's manifest: `.repro/slurm/batches/<batch>.json`, written by the Slurm executor
//! for each submission, read by each of its array tasks (`repro exec --batch MANIFEST`), which
//! runs the member at its `SLURM_ARRAY_TASK_ID`.
//!
//! JSON, pretty-printed: `{"members": [{"instance": ..., "key": ... or null}, ...]}`, one
//! member per array index. `key` is the cache key the member was submitted for; `null` when it
//! is decided only when the job runs (`--detach`, after its upstream jobs).

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{self, ManifestError};

/// One array task of a submission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchMember {
    /// The instance id.
    pub instance: String,
    /// The cache key it was submitted for, if known then.
    #[serde(default)]
    pub key: Option<String>,
}

/// The whole manifest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchManifest {
    /// The members, by array index.
    pub members: Vec<BatchMember>,
}

impl BatchManifest {
    /// Reads `path`.
    pub fn read(path: &Path) -> Result<BatchManifest, ManifestError> {
        error::read(path)
    }

    /// Parses manifest text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<BatchManifest, ManifestError> {
        error::parse(text, path)
    }

    /// Writes the manifest to `w`, pretty-printed.
    pub fn to_writer(&self, mut w: impl Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut w, self)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_writer_writes_the_reader_reads_back() {
        let m = BatchManifest {
            members: vec![
                BatchMember {
                    instance: "train@seed=1".into(),
                    key: Some("ab12".into()),
                },
                BatchMember {
                    instance: "train@seed=2".into(),
                    key: None,
                },
            ],
        };
        let mut bytes = Vec::new();
        m.to_writer(&mut bytes).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(BatchManifest::parse(&text, Path::new("b.json")).unwrap(), m);
        // The field names the format has always had.
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["members"][0]["instance"], "train@seed=1");
        assert_eq!(v["members"][0]["key"], "ab12");
        assert!(v["members"][1]["key"].is_null());
    }

    #[test]
    fn a_malformed_manifest_names_the_file_the_place_and_the_field() {
        let e = BatchManifest::parse(
            "{\n  \"members\": [\n    {\"key\": \"k\"}\n  ]\n}",
            Path::new(".repro/slurm/batches/b1.json"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("failed to parse manifest `.repro/slurm/batches/b1.json` at 3:")
                && e.contains("missing field `instance`"),
            "{e}"
        );
    }
}
