//! A pack's manifest: `.repro/packs/<job>/manifest.json`, written by the engine when several
//! instances of a stage run as one process, read by that process (`train --pack MANIFEST`).
//!
//! JSON, one member per line so that a person can read it:
//!
//! ```text
//! {"members": [
//! {"instance":"train@seed=1","key":"ab…","matrix":{"seed":"1"},"params":{…},"env":{},"cmd":["train","--out","runs/1"],"outs":["runs/1"],"done":".repro/packs/pack-7/0.done"},
//! …
//! ]}
//! ```
//!
//! Per member: its instance id, its cache key, its matrix values, parameters and extra
//! environment, the exact argv of its single run (`cmd`, argv[0] the binary), its declared
//! outputs, and `done`, a file the program creates once that member's outputs are complete.
//! A reader needs only `instance` and `cmd`; the other fields may be missing (they default to
//! empty) and fields it does not know are ignored.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ManifestError, WHAT};

/// One member of a pack: one instance, as its single run would be.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackMember {
    /// The instance id, which prefixes every message the program prints about this member.
    pub instance: String,
    /// The cache key the member runs for (`None` in a hand-written manifest).
    #[serde(default)]
    pub key: Option<String>,
    /// Its matrix values, dimension → value.
    #[serde(default)]
    pub matrix: BTreeMap<String, String>,
    /// Its parameters, path → value.
    #[serde(default)]
    pub params: BTreeMap<String, serde_json::Value>,
    /// Its extra environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The argv of the member's single run, argv[0] the binary.
    pub cmd: Vec<String>,
    /// Its declared outputs, relative to the workspace root.
    #[serde(default)]
    pub outs: Vec<String>,
    /// The file to create once its outputs are complete, relative to the workspace root.
    #[serde(default)]
    pub done: Option<PathBuf>,
}

/// The whole manifest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PackManifest {
    /// The members, in the engine's order.
    pub members: Vec<PackMember>,
}

impl PackManifest {
    /// Reads and checks `path`: it must parse and list at least one member.
    pub fn read(path: &Path) -> Result<PackManifest, ManifestError> {
        let manifest: PackManifest = repro_jsonfile::read(WHAT, path)?;
        manifest.nonempty(path)
    }

    /// Parses manifest text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<PackManifest, ManifestError> {
        let manifest: PackManifest = repro_jsonfile::parse(WHAT, text, path)?;
        manifest.nonempty(path)
    }

    fn nonempty(self, path: &Path) -> Result<PackManifest, ManifestError> {
        if self.members.is_empty() {
            return Err(ManifestError::Empty(path.to_owned()));
        }
        Ok(self)
    }

    /// Writes the manifest to `w`, one member per line.
    pub fn to_writer(&self, mut w: impl Write) -> std::io::Result<()> {
        w.write_all(b"{\"members\": [\n")?;
        for (n, member) in self.members.iter().enumerate() {
            if n > 0 {
                w.write_all(b",\n")?;
            }
            serde_json::to_writer(&mut w, member)?;
        }
        w.write_all(b"\n]}\n")
    }

    /// Writes the manifest to the file `path` (replacing it).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        self.to_writer(&mut bytes)?;
        std::fs::write(path, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::JsonFileError;

    fn member(n: u32) -> PackMember {
        PackMember {
            instance: format!("train@seed={n}"),
            key: Some(format!("k{n}")),
            matrix: BTreeMap::from([("seed".to_owned(), n.to_string())]),
            params: BTreeMap::from([
                ("lr".to_owned(), serde_json::json!(0.5)),
                ("layers".to_owned(), serde_json::json!([1, 2])),
            ]),
            env: BTreeMap::from([("MODE".to_owned(), "fast \"quoted\"\nline".to_owned())]),
            cmd: vec!["train".into(), "--out".into(), format!("runs/{n}")],
            outs: vec![format!("runs/{n}")],
            done: Some(format!(".repro/packs/p/{n}.done").into()),
        }
    }

    #[test]
    fn what_the_writer_writes_the_reader_reads_back() {
        let m = PackManifest {
            members: vec![member(1), member(2), member(3)],
        };
        let dir = std::env::temp_dir().join(format!("repro-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("manifest.json");
        m.write(&path).unwrap();
        let back = PackManifest::read(&path);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(back.unwrap(), m);
        // One member per line, between the opening and the closing line.
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2 + m.members.len(), "{text}");
        assert_eq!(lines[0], "{\"members\": [");
        assert_eq!(lines[lines.len() - 1], "]}");
    }

    #[test]
    fn the_written_fields_keep_their_names() {
        let mut text = Vec::new();
        PackManifest {
            members: vec![member(1)],
        }
        .to_writer(&mut text)
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
        let m = &v["members"][0];
        for field in [
            "instance", "key", "matrix", "params", "env", "cmd", "outs", "done",
        ] {
            assert!(m.get(field).is_some(), "`{field}` missing from {m}");
        }
        assert_eq!(m["done"], ".repro/packs/p/1.done");
        assert_eq!(m["matrix"]["seed"], "1");
    }

    #[test]
    fn unknown_fields_are_ignored_and_only_instance_and_cmd_are_required() {
        let text = r#"{"version": 3, "members": [
            {"instance": "a", "key": null, "cmd": ["train", "--out", "x"], "outs": ["x"], "gpu": 1},
            {"instance": "b", "cmd": ["train"]}]}"#;
        let m = PackManifest::parse(text, Path::new("m.json")).unwrap();
        assert_eq!(m.members.len(), 2);
        assert_eq!(m.members[1].instance, "b");
        assert_eq!(m.members[1].key, None);
        assert_eq!(m.members[1].done, None);
    }

    #[test]
    fn a_malformed_manifest_names_the_file_the_place_and_the_field() {
        let e = PackManifest::parse(
            "{\"members\": [\n  {\"instance\": \"a\", \"cmd\": \"train\"}]}",
            Path::new("packs/m.json"),
        )
        .unwrap_err();
        let ManifestError::File(JsonFileError::Parse { line, column, .. }) = &e else {
            panic!("{e:?}")
        };
        assert_eq!((*line, *column), (2, 34));
        let text = e.to_string();
        assert!(
            text.starts_with("failed to parse manifest `packs/m.json` at 2:34: invalid type: string \"train\", expected a sequence"),
            "{text}"
        );
        assert!(
            !text.contains("column"),
            "the location is given once: {text}"
        );
        let e = PackManifest::parse(
            "{\"members\": [\n  {\"instance\": \"a\"}]}",
            Path::new("m.json"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("failed to parse manifest `m.json` at 2:") && e.contains("`cmd`"),
            "{e}"
        );
    }

    #[test]
    fn an_empty_or_missing_manifest_is_an_error() {
        let e = PackManifest::parse(r#"{"members": []}"#, Path::new("m.json"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "failed to use manifest `m.json`: it lists no members");
        let e = PackManifest::read(Path::new("/nonexistent/repro/m.json")).unwrap_err();
        assert!(
            matches!(e, ManifestError::File(JsonFileError::Read { .. })),
            "{e:?}"
        );
        assert!(e
            .to_string()
            .starts_with("failed to read manifest `/nonexistent/repro/m.json`: "));
    }
}
