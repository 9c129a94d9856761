//! A batch job's manifest: `.repro/slurm/batches/<batch>.json`, written by the Slurm executor
//! for each submission, read by each of its array tasks (`repro exec --batch MANIFEST`), which
//! runs the member at its `SLURM_ARRAY_TASK_ID`. Writer and reader are both this engine, so the
//! type lives here (not in the `repro-manifest` crate that stage programs build: a change here
//! must not change their code keys).
//!
//! JSON, pretty-printed: `{"members": [{"instance": ..., "key": ... or null}, ...]}`, one
//! member per array index. `key` is the cache key the member was submitted for; `null` when it
//! is decided only when the job runs (`--detach`, after its upstream jobs). A member that runs a
//! pack (several instances of one stage in one process) lists the pack's other instances in
//! `packed_with` (same shape: `instance`, `key`); the field is absent for a single instance.
//! A file not of this shape is a [`JsonFileError`] naming its line, column and field.

use std::io::Write;
use std::path::Path;

use repro_jsonfile::JsonFileError;
use serde::{Deserialize, Serialize};

/// One array task of a submission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchMember {
    /// The instance id.
    pub instance: String,
    /// The cache key it was submitted for, if known then.
    #[serde(default)]
    pub key: Option<String>,
    /// The other instances of the pack this task runs (empty: it runs `instance` alone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packed_with: Vec<PackedInstance>,
}

/// One more instance of a pack that an array task runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackedInstance {
    /// The instance id.
    pub instance: String,
    /// The cache key it was submitted for, if known then.
    #[serde(default)]
    pub key: Option<String>,
}

impl BatchMember {
    /// A task that runs one instance.
    pub fn alone(instance: String, key: Option<String>) -> BatchMember {
        BatchMember {
            instance,
            key,
            packed_with: Vec::new(),
        }
    }

    /// Every instance the task runs, with its key: `instance` first, then `packed_with`.
    pub fn instances(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        std::iter::once((self.instance.as_str(), self.key.as_deref())).chain(
            self.packed_with
                .iter()
                .map(|p| (p.instance.as_str(), p.key.as_deref())),
        )
    }
}

/// The whole manifest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchManifest {
    /// The members, by array index.
    pub members: Vec<BatchMember>,
}

impl BatchManifest {
    /// Parses manifest text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<BatchManifest, JsonFileError> {
        repro_jsonfile::parse("manifest", text, path)
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
                BatchMember::alone("train@seed=1".into(), Some("ab12".into())),
                BatchMember::alone("train@seed=2".into(), None),
                BatchMember {
                    instance: "train@seed=3".into(),
                    key: Some("cd34".into()),
                    packed_with: vec![PackedInstance {
                        instance: "train@seed=4".into(),
                        key: None,
                    }],
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
        // A single instance's task has no `packed_with`; a pack's lists its other instances.
        assert!(v["members"][0].get("packed_with").is_none());
        assert_eq!(
            v["members"][2]["packed_with"][0]["instance"],
            "train@seed=4"
        );
        let all: Vec<_> = m.members[2].instances().collect();
        assert_eq!(
            all,
            [("train@seed=3", Some("cd34")), ("train@seed=4", None)]
        );
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
