//! `repro.lock`: the committed record of each instance's key and output digests, per profile.
//!
//! The format is line-based, sorted and merge-friendly: one block per (profile, instance),
//! blocks sorted, fields in a fixed order, so that two branches that ran different instances
//! merge without conflicts.
//!
//! ```text
//! # repro.lock v1: written by `repro run`; commit it
//! [quick] gen@seed=1,task=parity
//! key 3f2a…
//! skey 81c0…
//! out data/parity/1 dir:9ab0…
//! metric runs/x/metrics.json#best_acc 0.9731
//! ```
//!
//! Every kind of line and what the reader refuses: docs/cache.md, "The lock file".
//!
//! `metric` lines carry the numbers a stage declares under `metrics:`, so that a later run on
//! another machine can be compared within a tolerance even when its bytes differ.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use crate::cache::{is_digest, Tagged};

const HEADER: &str = "# repro.lock v1: written by `repro run`; commit it";

/// The message for a lock file with merge conflict markers (its hint names the way out).
const CONFLICT: &str = "unresolved merge conflict markers";

/// One instance's entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LockEntry {
    /// Cache key of the last successful run.
    pub key: String,
    /// Output path to tagged digest.
    pub outs: BTreeMap<String, String>,
    /// `file#field` to value, for stages that declare `metrics:`.
    pub metrics: BTreeMap<String, f64>,
    /// The structural key (dependency digests blanked), see `KeyInputs::structural_key`.
    pub skey: String,
}

/// The lock file contents: (profile, instance id) to entry, behind methods.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LockFile {
    entries: BTreeMap<(String, String), LockEntry>,
}

/// A malformed lock file.
#[derive(Debug, thiserror::Error)]
#[error("failed to parse `{path}` at line {line}: {message}")]
pub struct LockError {
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl LockError {
    /// The fix, when known.
    pub fn hint(&self) -> Option<String> {
        (self.message == CONFLICT).then(|| {
            "the lock is regenerated from the cache: take either side (`git checkout --ours repro.lock` or `--theirs`), then `repro run` re-records every instance it runs or finds cached".to_owned()
        })
    }
}

impl LockFile {
    /// The entry of `id` under `profile`.
    pub fn get(&self, profile: &str, id: &str) -> Option<&LockEntry> {
        self.entries.get(&(profile.to_owned(), id.to_owned()))
    }

    /// Records (or replaces) the entry of `id` under `profile`.
    pub fn insert(&mut self, profile: &str, id: &str, entry: LockEntry) {
        self.entries
            .insert((profile.to_owned(), id.to_owned()), entry);
    }

    /// Every entry, of every profile, by (profile, instance id).
    pub fn entries(&self) -> impl Iterator<Item = (&(String, String), &LockEntry)> {
        self.entries.iter()
    }

    /// The profiles other than `except` whose entries record `path` with the digest `tagged`,
    /// sorted: whose result a workspace output holds when it is not this profile's.
    pub fn profiles_with_output(&self, path: &str, tagged: &str, except: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .entries
            .iter()
            .filter(|((p, _), e)| p != except && e.outs.get(path).is_some_and(|t| t == tagged))
            .map(|((p, _), _)| p.clone())
            .collect();
        out.dedup();
        out
    }

    /// Every key that some entry, of any profile, names: what `gc` keeps.
    pub fn keys(&self) -> std::collections::BTreeSet<&str> {
        self.entries.values().map(|e| e.key.as_str()).collect()
    }

    /// Reads the file; a missing file is an empty lock.
    pub fn read(path: &Path) -> Result<LockFile, LockError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(LockFile::default()),
            Err(e) => {
                return Err(LockError {
                    path: path.display().to_string(),
                    line: 0,
                    message: e.to_string(),
                })
            }
        };
        Self::parse_named(&text, &path.display().to_string())
    }

    /// Parses lock text read from elsewhere (`git show REV:repro.lock`); `name` stands for the
    /// file in messages (`HEAD:repro.lock`).
    pub fn parse_named(text: &str, name: &str) -> Result<LockFile, LockError> {
        Self::parse(text).map_err(|(line, message)| LockError {
            path: name.to_owned(),
            line,
            message,
        })
    }

    fn parse(text: &str) -> Result<LockFile, (usize, String)> {
        let mut lock = LockFile::default();
        let mut current: Option<((String, String), LockEntry)> = None;
        for (n, line) in text.lines().enumerate() {
            let n = n + 1;
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if ["<<<<<<<", "=======", ">>>>>>>", "|||||||"]
                .iter()
                .any(|m| line.starts_with(m))
            {
                return Err((n, CONFLICT.to_owned()));
            }
            if let Some(rest) = line.strip_prefix('[') {
                if let Some((k, e)) = current.take() {
                    lock.entries.insert(k, e);
                }
                let (profile, id) = rest
                    .split_once("] ")
                    .ok_or((n, "expected `[profile] instance`".to_owned()))?;
                current = Some((
                    (profile.to_owned(), id.to_owned()),
                    LockEntry {
                        key: String::new(),
                        outs: BTreeMap::new(),
                        metrics: BTreeMap::new(),
                        skey: String::new(),
                    },
                ));
            } else {
                let (field, rest) = line.split_once(' ').unwrap_or((line, ""));
                if !matches!(field, "key" | "skey" | "out" | "metric") {
                    return Err((n, format!("unexpected line `{line}`")));
                }
                let (_, e) = current
                    .as_mut()
                    .ok_or((n, format!("`{field}` outside an entry")))?;
                let digest = |d: &str| {
                    if is_digest(d) {
                        Ok(d.to_owned())
                    } else {
                        Err((n, format!("{field} `{}` is not a digest", d.escape_debug())))
                    }
                };
                match field {
                    "key" => e.key = digest(rest)?,
                    "skey" => e.skey = digest(rest)?,
                    "out" => {
                        let (path, d) = rest
                            .rsplit_once(' ')
                            .ok_or((n, "expected `out PATH DIGEST`".to_owned()))?;
                        Tagged::parse_checked(d).map_err(|why| (n, why))?;
                        e.outs.insert(path.to_owned(), d.to_owned());
                    }
                    _ => {
                        let (name, value) = rest
                            .rsplit_once(' ')
                            .ok_or((n, "expected `metric FILE#FIELD VALUE`".to_owned()))?;
                        let value: f64 = value
                            .parse()
                            .map_err(|_| (n, format!("metric value `{value}` is not a number")))?;
                        e.metrics.insert(name.to_owned(), value);
                    }
                }
            }
        }
        if let Some((k, e)) = current {
            lock.entries.insert(k, e);
        }
        Ok(lock)
    }

    /// The canonical text.
    pub fn render(&self) -> String {
        let mut text = String::from(HEADER);
        text.push('\n');
        for ((profile, id), e) in &self.entries {
            text.push_str(&format!("\n[{profile}] {id}\nkey {}\n", e.key));
            if !e.skey.is_empty() {
                text.push_str(&format!("skey {}\n", e.skey));
            }
            for (p, d) in &e.outs {
                text.push_str(&format!("out {p} {d}\n"));
            }
            for (m, v) in &e.metrics {
                text.push_str(&format!("metric {m} {v}\n"));
            }
        }
        text
    }

    /// Writes the file atomically if its text changed.
    /// The text is parsed back first: the writer never writes what the reader would reject
    /// (the loader keeps such values out; this is the last guard).
    pub fn write(&self, path: &Path) -> io::Result<()> {
        let text = self.render();
        match Self::parse(&text) {
            Ok(back) if back.render() == text => {}
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "refusing to write a lock file that reads back differently",
                ))
            }
            Err((line, message)) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "refusing to write a lock file that cannot be read back (line {line}: {message})"
                    ),
                ))
            }
        }
        if fs::read_to_string(path).is_ok_and(|old| old == text) {
            return Ok(());
        }
        crate::cache::atomic::write(path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::hash_bytes;

    #[test]
    fn names_that_are_not_digests_are_refused_with_their_line() {
        let good = hash_bytes(b"k");
        for (text, line) in [
            (
                format!("[p] a\nkey {good}\nout o file:../../../tmp/x/victim\n"),
                3,
            ),
            (
                format!("[p] a\nkey {good}\nout o dir:../../../dev/zero\n"),
                3,
            ),
            ("[p] a\nkey ../x\n".to_owned(), 2),
        ] {
            assert_eq!(LockFile::parse(&text).unwrap_err().0, line, "{text}");
        }
    }

    #[test]
    fn renders_sorted_and_round_trips() {
        let mut lock = LockFile::default();
        for id in ["train@seed=2", "gen@seed=1"] {
            lock.insert(
                "quick",
                id,
                LockEntry {
                    key: hash_bytes(format!("k-{id}").as_bytes()),
                    outs: BTreeMap::from([("a b/c".into(), format!("file:{}", hash_bytes(b"x")))]),
                    metrics: BTreeMap::from([("a b/c/m.json#acc".into(), 0.125)]),
                    skey: hash_bytes(format!("s-{id}").as_bytes()),
                },
            );
        }
        let text = lock.render();
        assert!(text.find("gen@seed=1").unwrap() < text.find("train@seed=2").unwrap());
        assert_eq!(LockFile::parse(&text).unwrap(), lock);
        assert_eq!(LockFile::parse("[x] y\nbogus\n").unwrap_err().0, 2);
    }

    #[test]
    fn the_writer_refuses_what_the_reader_would_reject() {
        let dir = tempfile::tempdir().unwrap();
        let mut lock = LockFile::default();
        lock.insert(
            "quick",
            "a\nkey x",
            LockEntry {
                key: hash_bytes(b"k"),
                outs: BTreeMap::new(),
                metrics: BTreeMap::new(),
                skey: String::new(),
            },
        );
        let path = dir.path().join("repro.lock");
        assert!(lock.write(&path).is_err());
        assert!(!path.exists(), "nothing is written");
    }

    #[test]
    fn conflict_markers_are_named_with_their_line() {
        let text = format!(
            "[x] y\nkey {}\n<<<<<<< HEAD\nout p file:00\n=======\n",
            hash_bytes(b"k")
        );
        let text = text.as_str();
        assert_eq!(LockFile::parse(text).unwrap_err(), (3, CONFLICT.to_owned()));
    }
}
