//! The output ledger, `.repro/outputs`: every path that an instance of this workspace has
//! declared as an output, with the digest of what the engine last put there.
//!
//! It is how the engine knows which files under a directory are its own after the instance
//! that declared them has left the graph (a matrix value removed, a profile switched): such a
//! path is an *orphan* (`workspace/orphans.rs`). A path enters the ledger, without a digest,
//! before any instance of a run executes ([`Ledger::claim`]), so that what an interrupted
//! attempt left half-written is known to be the engine's too; its digest is recorded when the
//! instance is published, restored or found fresh.
//!
//! The file is line-based: a header, then `<tagged digest or ->\t<path>` per path, sorted. It
//! is written atomically, and only when something changed, so a no-op run writes nothing. A
//! workspace without the file (made by an older `repro`) starts from the outputs that
//! `repro.lock` records, of every profile; a file that cannot be parsed is treated the same way,
//! with a note.
//!
//! Known limit: a path claimed by an attempt killed before it was published carries no digest,
//! so if its instance then leaves the graph the engine cannot tell its bytes from the user's and
//! asks before removing it (see `orphans.rs`).

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use crate::cache::atomic;

use super::lockfile::LockFile;

const HEADER: &str =
    "# repro outputs v1: paths declared as outputs in this workspace, and the digest repro last put there";

/// Declared output paths and what the engine last put at each (`None`: never published).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Ledger {
    entries: BTreeMap<String, Option<String>>,
    changed: bool,
}

impl Ledger {
    /// Reads the ledger at `path`. Without a readable one, starts from the outputs `lock`
    /// records (preferring `profile`'s digest where profiles share a path) and marks the ledger
    /// changed, so the next save writes it; the `Err` side carries a note for the user when a
    /// file existed but could not be parsed.
    pub(super) fn load(path: &Path, lock: &LockFile, profile: &str) -> (Ledger, Option<String>) {
        // Read line by line: the text of a 50,000-output ledger is never held beside its map.
        let read = std::fs::File::open(path)
            .and_then(|f| Self::parse(io::BufReader::with_capacity(1 << 16, f)));
        match read {
            Ok(parsed) => match parsed {
                Some(entries) => (
                    Ledger {
                        entries,
                        changed: false,
                    },
                    None,
                ),
                None => (
                    Self::from_lock(lock, profile),
                    Some(format!(
                        "`{}` is damaged; rebuilt from `repro.lock`",
                        path.display()
                    )),
                ),
            },
            Err(_) => (Self::from_lock(lock, profile), None),
        }
    }

    /// The entries, `Ok(None)` when the text is not a ledger, `Err` when it cannot be read.
    fn parse(mut reader: impl io::BufRead) -> io::Result<Option<BTreeMap<String, Option<String>>>> {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line.trim_end_matches(['\n', '\r']) != HEADER {
            return Ok(None);
        }
        let mut entries = BTreeMap::new();
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(Some(entries));
            }
            let text = line.strip_suffix('\n').unwrap_or(&line);
            let text = text.strip_suffix('\r').unwrap_or(text);
            let Some((digest, path)) = text.split_once('\t') else {
                return Ok(None);
            };
            if path.is_empty() {
                return Ok(None);
            }
            let digest = (digest != "-").then(|| digest.to_owned());
            entries.insert(path.to_owned(), digest);
        }
    }

    fn from_lock(lock: &LockFile, profile: &str) -> Ledger {
        let mut entries = BTreeMap::new();
        for (p, _, entry) in lock.entries() {
            for (path, digest) in &entry.outs {
                let slot = entries.entry(path.clone()).or_insert(None);
                if slot.is_none() || p == profile {
                    *slot = Some(digest.clone());
                }
            }
        }
        Ledger {
            entries,
            changed: true,
        }
    }

    /// Adds each path not yet known, without a digest. Returns whether any was added.
    pub(super) fn claim<'a>(&mut self, paths: impl IntoIterator<Item = &'a String>) -> bool {
        let mut added = false;
        for p in paths {
            if !self.entries.contains_key(p) {
                self.entries.insert(p.clone(), None);
                added = true;
            }
        }
        self.changed |= added;
        added
    }

    /// Records what the engine put at each path (published, restored, or found fresh).
    pub(super) fn record(&mut self, outs: &BTreeMap<String, String>) {
        for (path, digest) in outs {
            if self.entries.get(path).and_then(Option::as_ref) != Some(digest) {
                self.entries.insert(path.clone(), Some(digest.clone()));
                self.changed = true;
            }
        }
    }

    /// Forgets a path (removed, or no longer present).
    pub(super) fn forget(&mut self, path: &str) {
        if self.entries.remove(path).is_some() {
            self.changed = true;
        }
    }

    /// Every known path with its digest.
    pub(super) fn entries(&self) -> impl Iterator<Item = (&String, Option<&String>)> {
        self.entries.iter().map(|(p, d)| (p, d.as_ref()))
    }

    /// Writes the ledger if it changed since it was read or last written.
    pub(super) fn save(&mut self, path: &Path) -> io::Result<()> {
        if !self.changed {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        atomic::write(path, self.render().as_bytes())?;
        self.changed = false;
        Ok(())
    }

    fn render(&self) -> String {
        let mut text = String::with_capacity(64 * (self.entries.len() + 1));
        text.push_str(HEADER);
        text.push('\n');
        for (path, digest) in &self.entries {
            text.push_str(digest.as_deref().unwrap_or("-"));
            text.push('\t');
            text.push_str(path);
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(p, d)| ((*p).to_owned(), (*d).to_owned()))
            .collect()
    }

    #[test]
    fn a_ledger_survives_its_own_rendering_and_is_written_only_when_changed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(".repro/outputs");
        let mut l = Ledger::default();
        assert!(l.claim(&["runs/1".to_owned(), "runs/2".to_owned()]));
        l.record(&outs(&[("runs/1", "dir:ab")]));
        l.save(&path).expect("save");
        let (back, note) = Ledger::load(&path, &LockFile::default(), "p");
        assert!(note.is_none());
        let got: Vec<_> = back.entries().collect();
        assert_eq!(
            got,
            vec![
                (&"runs/1".to_owned(), Some(&"dir:ab".to_owned())),
                (&"runs/2".to_owned(), None)
            ]
        );
        // Unchanged: saving writes nothing (the file may even be gone).
        let mut back = back;
        std::fs::remove_file(&path).expect("rm");
        back.save(&path).expect("save");
        assert!(!path.exists(), "an unchanged ledger is not rewritten");
        assert!(
            !back.claim(&["runs/1".to_owned()]),
            "a known path is not claimed again"
        );
    }

    #[test]
    fn a_damaged_ledger_is_rebuilt_from_the_lock_with_a_note() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("outputs");
        std::fs::write(&path, "not a ledger\n").expect("write");
        let (l, note) = Ledger::load(&path, &LockFile::default(), "p");
        assert!(note.expect("note").contains("damaged"));
        assert_eq!(l.entries().count(), 0);
        assert!(l.changed, "the rebuilt ledger is saved by the next run");
    }
}
