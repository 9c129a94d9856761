//! Action records: what one execution of an instance produced, stored as
//! `cache/actions/<key>.json` and published atomically after every output is in the store.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use super::key::KeyInputs;
use super::tagged::{is_digest, Tagged};

/// Version of the action record format; bump when a field changes meaning.
pub const ACTION_VERSION: u32 = 1;

/// The record of a successful execution.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ActionRecord {
    /// [`ACTION_VERSION`].
    pub format: u32,
    /// The cache key.
    pub key: String,
    /// The instance id at the time of the run.
    pub instance: String,
    /// The inputs the key was computed from (used to explain staleness).
    pub inputs: KeyInputs,
    /// Output path to tagged digest.
    pub outputs: BTreeMap<String, String>,
    /// `file#field` to value, for stages that declare `metrics:`.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Exit status (always 0: failures are not recorded).
    pub exit_status: i32,
    /// Wall time in seconds.
    pub duration_s: f64,
    /// Host name.
    pub host: String,
    /// Devices assigned (`cpu`, or the GPU ids given through `CUDA_VISIBLE_DEVICES`).
    pub device: String,
    /// Which slots it held (`cpu 2`, `gpu 0 · cpu 1`, or the batch executor's name): recorded,
    /// never keyed; absent from records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    /// Digest of the combined stdout/stderr log object.
    pub log: String,
    /// Seconds since the Unix epoch when the run finished.
    pub finished_at: u64,
    /// What may change its numbers without changing its key: the device model and the tool
    /// versions (recorded, never keyed; absent from records written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The commit of the checkout that produced it (recorded, never keyed: the key already
    /// names the code that ran; absent when the workspace is not a git checkout, and from
    /// records written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout: Option<CheckoutRecord>,
}

/// The git commit a record was produced at (`workspace::platform`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CheckoutRecord {
    /// `HEAD`'s commit.
    pub commit: String,
    /// Whether tracked files differed from it (`None` when `git status` could not tell).
    #[serde(default)]
    pub dirty: Option<bool>,
}

impl std::fmt::Display for CheckoutRecord {
    /// `abc123…` with ` (tracked files modified)` or ` (state of tracked files unknown)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.commit)?;
        match self.dirty {
            Some(true) => f.write_str(" (tracked files modified)"),
            Some(false) => Ok(()),
            None => f.write_str(" (state of tracked files unknown)"),
        }
    }
}

/// The device and tool versions a record was produced with (`workspace::platform`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Platform {
    /// `cpu: MODEL`, or `gpu ID: MODEL` for each GPU given.
    pub device: String,
    /// Tool label (`rustc`, `libtorch`) to the first line its version command printed.
    #[serde(default)]
    pub versions: BTreeMap<String, String>,
}

impl Platform {
    /// How `other` differs from this one, one phrase per difference (`device: A here, B
    /// there`), tools missing on either side included.
    pub fn differences(&self, other: &Platform) -> Vec<String> {
        let mut out = Vec::new();
        if self.device != other.device {
            out.push(format!("device `{}` vs `{}`", self.device, other.device));
        }
        let labels: std::collections::BTreeSet<&String> =
            self.versions.keys().chain(other.versions.keys()).collect();
        for l in labels {
            let a = self.versions.get(l).map_or("not recorded", String::as_str);
            let b = other.versions.get(l).map_or("not recorded", String::as_str);
            if a != b {
                out.push(format!("{l} `{a}` vs `{b}`"));
            }
        }
        out
    }
}

impl ActionRecord {
    /// Reads a record; `Ok(None)` when absent, an error when unreadable or of another format.
    pub fn read(path: &Path) -> io::Result<Option<ActionRecord>> {
        match fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<ActionRecord>(&bytes) {
                Ok(r) if r.format == ACTION_VERSION => match r.check() {
                    Ok(()) => Ok(Some(r)),
                    Err(why) => Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("`{}`: {why}", path.display()),
                    )),
                },
                Ok(_) => Ok(None),
                Err(e) => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("`{}`: {e}", path.display()),
                )),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Parses a record read from elsewhere (a remote): it must be of this format and pass the
    /// same checks as [`ActionRecord::read`]; the error says why not.
    pub fn parse(bytes: &[u8]) -> Result<ActionRecord, String> {
        let r: ActionRecord = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if r.format != ACTION_VERSION {
            return Err(format!(
                "record format {} (this repro reads {ACTION_VERSION})",
                r.format
            ));
        }
        r.check()?;
        Ok(r)
    }

    /// Checks every name that will become a path: the key, each output's tagged digest and
    /// the log digest (empty when there was no log), and each output path (relative, inside).
    fn check(&self) -> Result<(), String> {
        if !is_digest(&self.key) {
            return Err(format!("key `{}` is not a digest", self.key.escape_debug()));
        }
        if !self.log.is_empty() && !is_digest(&self.log) {
            return Err(format!("log `{}` is not a digest", self.log.escape_debug()));
        }
        for (path, tagged) in &self.outputs {
            Tagged::parse_checked(tagged)?;
            if path.starts_with('/') || path.split('/').any(|c| c.is_empty() || c == "..") {
                return Err(format!(
                    "output path `{}` leaves the workspace",
                    path.escape_debug()
                ));
            }
        }
        Ok(())
    }

    /// Publishes the record atomically, durable when `durability` says (the store's
    /// [`Store::put_record`](super::Store::put_record) chooses).
    pub fn write(&self, path: &Path, durability: super::atomic::Durability) -> io::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("record serialises");
        bytes.push(b'\n');
        super::atomic::write_as(path, &bytes, durability)
    }
}
