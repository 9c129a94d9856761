//! The content store: `cache/objects/<first two hex>/<rest>` holds blobs by digest;
//! `cache/actions/<key>.json` holds action records; `cache/VERSION` names the layout.
//!
//! Objects are immutable once published (atomic rename) and made read-only. Outputs are
//! materialised into the workspace by copying, never by hard link, so that editing a workspace
//! file can never corrupt the cache. Storing an object that is already there re-hashes the
//! stored copy: a damaged one (a flipped bit, a truncated file) is replaced by the new copy,
//! atomically, and the caller is told, so that a run that reproduces a digest heals the store.
//! The cost is one read of each object already stored, no more than the copy it saves, and a
//! store makes it once per digest: a copy it re-hashed and found sound is trusted by its later
//! puts (a failed check, a restore that finds damage, or `gc` forgets it).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use std::sync::{Arc, OnceLock};

use super::action::ActionRecord;
use super::atomic::{self, Durability};
use super::commit::GroupCommit;
use super::digest::{manifest_bytes, PathDigest, TreeEntry};
use super::hash::{hash_file_uncached, Digest};
use super::tagged::{is_digest, Kind, Tagged};

/// Version of the store layout; bump when the meaning of a stored file changes.
pub const STORE_VERSION: u32 = 1;

/// What storing an object did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Put {
    /// The object was absent and is now stored.
    Stored,
    /// A sound copy was already stored; nothing was written.
    Present,
    /// The stored copy was damaged (it hashed to `was`) and is now replaced.
    Repaired {
        /// What the damaged copy hashed to (or why it was no object).
        was: String,
    },
}

/// An object found damaged and replaced while storing an output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    /// The object's digest (its name).
    pub digest: Digest,
    /// What the damaged copy hashed to (or why it was no object).
    pub was: String,
}

/// A content store rooted at a directory (usually `cache/`).
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    /// The committer that makes objects and records durable, once [`Store::group_commits`]
    /// started it (shared by every clone, made before or after); until then each file is
    /// fsynced as it is written.
    commit: Arc<OnceLock<GroupCommit>>,
    /// The objects this store re-hashed and found sound while putting (shared by every
    /// clone): another put of the same digest trusts them instead of re-hashing the stored
    /// copy again (in a run where many outputs are alike, each put read the object again).
    /// Only puts are spared: a restore re-hashes every object it copies, a failed check
    /// forgets the digest, and the next command's store starts with none. A copy this store
    /// wrote itself is not trusted until it is re-hashed: the source could have changed
    /// between its hashing and the copy.
    known: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

/// Problems with the store itself.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An I/O failure on a named path.
    #[error("failed to access `{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// `cache/VERSION` names another layout.
    #[error("cache at `{path}` has layout version {found}, this repro uses {STORE_VERSION}")]
    Version {
        /// The cache directory.
        path: PathBuf,
        /// The version found.
        found: String,
    },
    /// A stored object does not hash to its name.
    #[error("object `{digest}` is corrupt (hashes to `{actual}`)")]
    Corrupt {
        /// Expected digest.
        digest: Digest,
        /// Actual digest.
        actual: Digest,
    },
    /// The store's files could not be made durable (`syncfs` failed, or its thread could not
    /// start or ended early).
    #[error("failed to sync the file system holding `{path}` to disk: {source}")]
    Sync {
        /// The store's root.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A needed object is absent.
    #[error("object `{0}` is missing from the cache")]
    Missing(Digest),
    /// A name read back (from a record, a manifest or `repro.lock`) is not a digest: it must
    /// never become a path.
    #[error("refusing {0}: a damaged or hostile record, manifest or lock entry")]
    NotADigest(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Store {
    /// Opens (creating if needed) the store at `root`, checking its layout version.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        let version = root.join("VERSION");
        match fs::read_to_string(&version) {
            Ok(v) if v.trim() == STORE_VERSION.to_string() => {}
            Ok(v) => {
                return Err(StoreError::Version {
                    path: root.to_owned(),
                    found: v.trim().to_owned(),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(root.join("objects")).map_err(io_err(root))?;
                fs::create_dir_all(root.join("actions")).map_err(io_err(root))?;
                atomic::write(&version, format!("{STORE_VERSION}\n").as_bytes())
                    .map_err(io_err(&version))?;
            }
            Err(e) => {
                return Err(StoreError::Io {
                    path: version,
                    source: e,
                })
            }
        }
        Ok(Store {
            root: root.to_owned(),
            commit: Arc::new(OnceLock::new()),
            known: Arc::default(),
        })
    }

    /// From now on, objects and action records written through this store (and every clone
    /// of it) are made durable by a group commit (`commit.rs`) instead of one by one;
    /// [`Store::settle`] waits for them.
    pub fn group_commits(&self) -> Result<(), StoreError> {
        if self.commit.get().is_none() {
            let (objects, actions) = (self.root.join("objects"), self.root.join("actions"));
            // Both are created when first written to; a cleared store may lack them now.
            for dir in [&objects, &actions] {
                fs::create_dir_all(dir).map_err(io_err(dir))?;
            }
            let commit =
                GroupCommit::start(&[&self.root, &objects, &actions]).map_err(|source| {
                    StoreError::Sync {
                        path: self.root.clone(),
                        source,
                    }
                })?;
            // Another thread may have won the race: its committer serves; this one ends.
            let _ = self.commit.set(commit);
        }
        Ok(())
    }

    /// Waits until everything written so far is durable (at once without a group commit);
    /// a failed sync is an error here.
    pub fn settle(&self) -> Result<(), StoreError> {
        match self.commit.get() {
            Some(c) => c.settle().map_err(|source| StoreError::Sync {
                path: self.root.clone(),
                source,
            }),
            None => Ok(()),
        }
    }

    /// How this store's writes reach the disk.
    fn durability(&self) -> Durability {
        match self.commit.get() {
            Some(_) => Durability::Grouped,
            None => Durability::Now,
        }
    }

    /// Tells the committer, if there is one, of a file just written.
    fn wrote(&self) {
        if let Some(c) = self.commit.get() {
            c.wrote();
        }
    }

    /// Publishes the action record `record` under its key.
    pub fn put_record(&self, record: &ActionRecord) -> Result<(), StoreError> {
        let path = self.action_path(&record.key);
        record
            .write(&path, self.durability())
            .map_err(io_err(&path))?;
        self.wrote();
        Ok(())
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the object `digest` lives.
    pub fn object_path(&self, digest: &str) -> PathBuf {
        let (a, b) = digest.split_at(2.min(digest.len()));
        self.root.join("objects").join(a).join(b)
    }

    /// Where the action record of `key` lives.
    pub fn action_path(&self, key: &str) -> PathBuf {
        self.root.join("actions").join(format!("{key}.json"))
    }

    /// Whether the object exists (a name that is not a digest never does).
    pub fn has(&self, digest: &str) -> bool {
        is_digest(digest) && self.object_path(digest).exists()
    }

    fn check(digest: &str) -> Result<(), StoreError> {
        if is_digest(digest) {
            Ok(())
        } else {
            Err(StoreError::NotADigest(format!(
                "`{}` as an object name",
                digest.escape_debug()
            )))
        }
    }

    /// Stores a copy of the file `src` whose digest is already known. An object already
    /// stored under `digest` is re-hashed first (unless this store found it sound before); a
    /// damaged one is replaced (atomically) with the copy, and the answer says so.
    pub fn put_file(&self, src: &Path, digest: &str) -> Result<Put, StoreError> {
        self.put_with(digest, |dest| atomic::copy_as(src, dest, self.durability()))
    }

    /// Stores bytes whose digest is already known, replacing a damaged object as
    /// [`Store::put_file`] does.
    pub fn put_bytes(&self, bytes: &[u8], digest: &str) -> Result<Put, StoreError> {
        self.put_with(digest, |dest| {
            atomic::write_as(dest, bytes, self.durability())
        })
    }

    /// Writes the object `digest` with `write` (an atomic write to the given path) unless a
    /// sound copy is already there.
    fn put_with(
        &self,
        digest: &str,
        write: impl FnOnce(&Path) -> io::Result<()>,
    ) -> Result<Put, StoreError> {
        Self::check(digest)?;
        if self.is_known(digest) {
            return Ok(Put::Present);
        }
        let dest = self.object_path(digest);
        let put = match self.verify_object(digest) {
            Ok(()) => {
                self.know(digest, true);
                return Ok(Put::Present);
            }
            Err(StoreError::Missing(_)) => Put::Stored,
            Err(StoreError::Corrupt { actual, .. }) => {
                // Only a planted directory cannot be renamed over; a damaged file can.
                if fs::symlink_metadata(&dest).is_ok_and(|m| m.is_dir()) {
                    atomic::remove_path(&dest).map_err(io_err(&dest))?;
                }
                Put::Repaired { was: actual }
            }
            Err(e) => return Err(e),
        };
        write(&dest).map_err(io_err(&dest))?;
        let _ = set_readonly(&dest);
        self.wrote();
        Ok(put)
    }

    fn is_known(&self, digest: &str) -> bool {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(digest)
    }

    /// Remembers (or forgets) that the object `digest` is sound.
    fn know(&self, digest: &str, sound: bool) {
        let mut known = self
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if sound {
            known.insert(digest.to_owned());
        } else {
            known.remove(digest);
        }
    }

    /// A temporary path beside where the object `digest` will live (its directory created),
    /// for a download that [`Store::adopt`] then checks and enters.
    pub fn object_temp(&self, digest: &str) -> Result<PathBuf, StoreError> {
        Self::check(digest)?;
        let dest = self.object_path(digest);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        Ok(atomic::temp_sibling(&dest))
    }

    /// Enters the file `tmp` (from [`Store::object_temp`]) as the object `digest` after
    /// hashing it: a file that does not hash to its name is deleted and refused
    /// ([`StoreError::Corrupt`]), so nothing unchecked ever enters the store. The rename is
    /// atomic; the file is fsynced first.
    pub fn adopt(&self, tmp: &Path, digest: &str) -> Result<(), StoreError> {
        Self::check(digest)?;
        let actual = match hash_file_uncached(tmp) {
            Ok(a) => a,
            Err(e) => {
                let _ = fs::remove_file(tmp);
                return Err(StoreError::Io {
                    path: tmp.to_owned(),
                    source: e,
                });
            }
        };
        if actual != digest {
            let _ = fs::remove_file(tmp);
            return Err(StoreError::Corrupt {
                digest: digest.to_owned(),
                actual,
            });
        }
        let dest = self.object_path(digest);
        let result = (|| {
            fs::File::open(tmp)?.sync_all()?;
            let _ = set_readonly(tmp);
            fs::rename(tmp, &dest)?;
            atomic::sync_dir(&dest)
        })();
        if result.is_err() {
            let _ = fs::remove_file(tmp);
        }
        result.map_err(io_err(&dest))
    }

    /// Stores the workspace path `abs` whose digest was computed as `d` (a directory stores
    /// every file plus its manifest). Returns the objects that were damaged and are now
    /// replaced, with what each hashed to.
    pub fn put_path(&self, abs: &Path, d: &PathDigest) -> Result<Vec<Repaired>, StoreError> {
        let mut repaired = Vec::new();
        let mut note = |digest: &str, put: Put| {
            if let Put::Repaired { was } = put {
                repaired.push(Repaired {
                    digest: digest.to_owned(),
                    was,
                });
            }
        };
        match d {
            PathDigest::File { digest, .. } => note(digest, self.put_file(abs, digest)?),
            PathDigest::Dir { digest, entries } => {
                for e in entries.iter().filter(|e| !e.dir) {
                    note(&e.digest, self.put_file(&abs.join(&e.path), &e.digest)?);
                }
                note(digest, self.put_bytes(&manifest_bytes(entries), digest)?);
            }
        }
        Ok(repaired)
    }

    /// Reads a directory manifest object back into entries, refusing any entry whose path
    /// could leave the directory or whose digest is not one.
    pub fn read_manifest(&self, digest: &str) -> Result<Vec<TreeEntry>, StoreError> {
        Self::check(digest)?;
        let path = self.object_path(digest);
        let text = fs::read_to_string(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::Missing(digest.to_owned()),
            _ => StoreError::Io {
                path: path.clone(),
                source: e,
            },
        })?;
        let mut lines = text.lines();
        if lines.next() != Some("repro-tree v1") {
            return Err(StoreError::Corrupt {
                digest: digest.to_owned(),
                actual: "not a manifest".into(),
            });
        }
        let mut entries = Vec::new();
        let bad = |why: &str| StoreError::Corrupt {
            digest: digest.to_owned(),
            actual: format!("malformed manifest: {why}"),
        };
        for line in lines {
            let mut f = line.splitn(3, '\t');
            let (Some(x), Some(d), Some(p)) = (f.next(), f.next(), f.next()) else {
                return Err(bad("a line without three fields"));
            };
            if !relative_inside(p) {
                return Err(bad(&format!(
                    "path `{}` leaves the output",
                    p.escape_debug()
                )));
            }
            let dir = x == "d";
            if !(dir && d == "-" || matches!(x, "x" | "-") && is_digest(d)) {
                return Err(bad(&format!("entry `{}`", line.escape_debug())));
            }
            entries.push(TreeEntry {
                path: p.to_owned(),
                digest: if dir { String::new() } else { d.to_owned() },
                exec: x == "x",
                dir,
            });
        }
        Ok(entries)
    }

    /// Materialises the stored output `tagged` (`file:<d>` or `dir:<d>`) at `dest`, replacing
    /// what is there. Each file is copied atomically; a directory is assembled beside `dest`
    /// and renamed into place. Every object is re-hashed first: a corrupt or missing object is
    /// an error (and `dest` is left as it was for a file, untouched for a directory).
    pub fn restore(&self, tagged: &str, dest: &Path) -> Result<(), StoreError> {
        let Tagged { kind, digest } = Tagged::parse(tagged);
        Self::check(digest)?;
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        if kind == Kind::Dir {
            self.checked(digest)?;
            let entries = self.read_manifest(digest)?;
            let tmp = atomic::temp_sibling(dest);
            let result = (|| {
                fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
                for e in &entries {
                    let to = tmp.join(&e.path);
                    if e.dir {
                        fs::create_dir_all(&to).map_err(io_err(&to))?;
                        continue;
                    }
                    let obj = self.checked(&e.digest)?;
                    atomic::copy(&obj, &to).map_err(io_err(&to))?;
                    set_mode(&to, e.exec).map_err(io_err(&to))?;
                }
                atomic::remove_path(dest).map_err(io_err(dest))?;
                fs::rename(&tmp, dest).map_err(io_err(dest))?;
                atomic::sync_dir(dest).map_err(io_err(dest))
            })();
            if result.is_err() {
                let _ = atomic::remove_path(&tmp);
            }
            result
        } else {
            let obj = self.checked(digest)?;
            if fs::metadata(dest).is_ok_and(|m| m.is_dir()) {
                atomic::remove_path(dest).map_err(io_err(dest))?;
            }
            atomic::copy(&obj, dest).map_err(io_err(dest))?;
            set_mode(dest, false).map_err(io_err(dest))
        }
    }

    /// The path of an object about to be restored, after re-hashing it: a corrupt object must
    /// never reach the workspace. A corrupt object is deleted, so that the re-run that replaces
    /// the restore stores a good copy.
    fn checked(&self, digest: &str) -> Result<PathBuf, StoreError> {
        match self.verify_object(digest) {
            Ok(()) => Ok(self.object_path(digest)),
            Err(e @ StoreError::Corrupt { .. }) => {
                let _ = fs::remove_file(self.object_path(digest));
                // After the delete: a put that re-hashed a repaired copy in between must not
                // leave the deleted object trusted.
                self.know(digest, false);
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Re-hashes an object and compares it with its name.
    pub fn verify_object(&self, digest: &str) -> Result<(), StoreError> {
        let verdict = self.rehash(digest);
        if verdict.is_err() {
            self.know(digest, false);
        }
        verdict
    }

    fn rehash(&self, digest: &str) -> Result<(), StoreError> {
        Self::check(digest)?;
        let path = self.object_path(digest);
        match fs::symlink_metadata(&path) {
            Ok(m) if !m.is_file() => {
                return Err(StoreError::Corrupt {
                    digest: digest.to_owned(),
                    actual: "not a regular file".into(),
                })
            }
            _ => {}
        }
        let actual = hash_file_uncached(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::Missing(digest.to_owned()),
            _ => StoreError::Io {
                path: path.clone(),
                source: e,
            },
        })?;
        if actual != digest {
            return Err(StoreError::Corrupt {
                digest: digest.to_owned(),
                actual,
            });
        }
        Ok(())
    }

    /// Every object an output refers to: its own digest and, for a directory, the digests of
    /// the files its manifest lists.
    pub fn objects_of(&self, tagged: &str) -> Result<Vec<Digest>, StoreError> {
        let Tagged { kind, digest } = Tagged::parse(tagged);
        Self::check(digest)?;
        let mut out = vec![digest.to_owned()];
        if kind == Kind::Dir {
            out.extend(
                self.read_manifest(digest)?
                    .into_iter()
                    .filter(|e| !e.dir)
                    .map(|e| e.digest),
            );
        }
        Ok(out)
    }

    /// Whether every object an output's tagged digest names directly is present (a cheap
    /// existence check, without reading a directory's manifest).
    pub fn has_output(&self, tagged: &str) -> bool {
        self.has(Tagged::parse(tagged).digest)
    }

    /// The key of every action record in the store, with its path.
    pub fn all_actions(&self) -> Result<Vec<(String, PathBuf)>, StoreError> {
        let dir = self.root.join("actions");
        let mut out = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let path = entry.map_err(io_err(&dir))?.path();
            let key = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
                .filter(|n| !n.starts_with('.'))
                .map(str::to_owned);
            if let Some(key) = key {
                out.push((key, path));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Deletes one object (by `gc`); an absent object is not an error.
    pub fn remove_object(&self, digest: &str) -> Result<u64, StoreError> {
        Self::check(digest)?;
        let path = self.object_path(digest);
        let len = fs::metadata(&path).map_or(0, |m| m.len());
        let removed = match fs::remove_file(&path) {
            Ok(()) => Ok(len),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(StoreError::Io { path, source: e }),
        };
        self.know(digest, false);
        removed
    }

    /// Every object digest in the store. Only real two-hex-digit directories and regular
    /// files whose names complete a digest count: a planted link or stray file is never
    /// listed (and so never deleted by `gc`), and neither are temporaries (`.name.tmp-…`).
    pub fn all_objects(&self) -> Result<Vec<Digest>, StoreError> {
        let dir = self.root.join("objects");
        let mut out = Vec::new();
        for a in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let a = a.map_err(io_err(&dir))?;
            let prefix = a.file_name().to_string_lossy().into_owned();
            let real_dir = a.file_type().is_ok_and(|t| t.is_dir());
            if !real_dir || prefix.len() != 2 {
                continue;
            }
            for b in fs::read_dir(a.path()).map_err(io_err(&dir))? {
                let b = b.map_err(io_err(&dir))?;
                let name = format!("{prefix}{}", b.file_name().to_string_lossy());
                if b.file_type().is_ok_and(|t| t.is_file()) && is_digest(&name) {
                    out.push(name);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Temporary files of dead writers under the store (`.name.tmp-<pid>-<n>`, left by a killed
    /// process): returns their paths. The caller holds the workspace lock.
    pub fn stale_temporaries(&self) -> Result<Vec<PathBuf>, StoreError> {
        let mut out = Vec::new();
        let mut dirs = vec![self.root.join("actions")];
        let objects = self.root.join("objects");
        for a in fs::read_dir(&objects).map_err(io_err(&objects))? {
            let a = a.map_err(io_err(&objects))?;
            if a.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(a.path());
            }
        }
        for d in dirs {
            for e in fs::read_dir(&d).map_err(io_err(&d))? {
                let e = e.map_err(io_err(&d))?;
                let name = e.file_name().to_string_lossy().into_owned();
                if atomic::temp_owner(&name).is_some_and(|pid| !atomic::process_alive(pid)) {
                    out.push(e.path());
                }
            }
        }
        Ok(out)
    }
}

/// Whether a manifest path stays inside its directory: relative, no empty, `.` or `..`
/// component, no control character.
fn relative_inside(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.chars().any(char::is_control)
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

fn set_readonly(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o444))
}

fn set_mode(path: &Path, exec: bool) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(
        path,
        fs::Permissions::from_mode(if exec { 0o755 } else { 0o644 }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::hash_bytes;

    #[test]
    fn storing_over_a_damaged_object_replaces_it_and_says_so() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("cache")).unwrap();
        let body = b"good bytes".to_vec();
        let d = hash_bytes(&body);
        assert_eq!(store.put_bytes(&body, &d).unwrap(), Put::Stored);
        assert_eq!(store.put_bytes(&body, &d).unwrap(), Put::Present);
        let path = store.object_path(&d);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&path, b"bad bytes!").unwrap();
        // The store that found it sound trusts it for the rest of its run...
        assert_eq!(store.put_bytes(&body, &d).unwrap(), Put::Present);
        // ...the next one (a new store) re-hashes it, and replaces it.
        let store = Store::open(&dir.path().join("cache")).unwrap();
        let Put::Repaired { was } = store.put_bytes(&body, &d).unwrap() else {
            panic!("a damaged object was kept");
        };
        assert_eq!(was, hash_bytes(b"bad bytes!"));
        store.verify_object(&d).unwrap();
        // A directory planted under the name is no object either.
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        let store = Store::open(&dir.path().join("cache")).unwrap();
        let src = dir.path().join("src.txt");
        fs::write(&src, &body).unwrap();
        assert!(matches!(
            store.put_file(&src, &d).unwrap(),
            Put::Repaired { .. }
        ));
        store.verify_object(&d).unwrap();
    }

    #[test]
    fn a_trusted_object_is_forgotten_when_a_check_fails_or_gc_removes_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("cache")).unwrap();
        let body = b"trusted bytes".to_vec();
        let d = hash_bytes(&body);
        assert_eq!(store.put_bytes(&body, &d).unwrap(), Put::Stored);
        // Re-hashed once, then trusted.
        assert_eq!(store.put_bytes(&body, &d).unwrap(), Put::Present);
        let path = store.object_path(&d);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&path, b"damaged!").unwrap();
        assert!(store.verify_object(&d).is_err(), "a check finds the damage");
        assert!(
            matches!(store.put_bytes(&body, &d).unwrap(), Put::Repaired { .. }),
            "and the next put no longer trusts the object"
        );
        assert_eq!(store.put_bytes(&body, &d).unwrap(), Put::Present);
        store.remove_object(&d).unwrap();
        assert_eq!(
            store.put_bytes(&body, &d).unwrap(),
            Put::Stored,
            "gc's removal is not trusted away"
        );
    }

    #[test]
    fn a_group_committing_store_publishes_at_once_and_settles_for_its_clones_too() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("cache")).unwrap();
        // A clone made before the group commit starts shares it.
        let clone = store.clone();
        store.group_commits().unwrap();
        assert_eq!(clone.durability(), Durability::Grouped);
        let announced = || store.commit.get().unwrap().announced();
        let mut digests = Vec::new();
        for i in 0..20 {
            let body = format!("object {i}").into_bytes();
            let d = hash_bytes(&body);
            // Renamed into place at once, whichever copy of the store wrote it.
            let by = if i % 2 == 0 { &store } else { &clone };
            assert_eq!(by.put_bytes(&body, &d).unwrap(), Put::Stored);
            store.verify_object(&d).unwrap();
            digests.push(d);
        }
        assert_eq!(announced(), 20, "every write announced, by either copy");
        // Storing what is there writes (and announces) nothing; a copied file is announced.
        let body = b"object 0".to_vec();
        assert_eq!(
            clone.put_bytes(&body, &hash_bytes(&body)).unwrap(),
            Put::Present
        );
        assert_eq!(announced(), 20);
        let src = dir.path().join("out.txt");
        fs::write(&src, b"a file").unwrap();
        let d = hash_bytes(b"a file");
        clone.put_file(&src, &d).unwrap();
        digests.push(d);
        assert_eq!(announced(), 21);
        store.settle().unwrap();
        clone.settle().unwrap();
        // Nothing but the objects themselves: no temporary left behind.
        let mut names: Vec<String> = Vec::new();
        for sub in fs::read_dir(dir.path().join("cache/objects")).unwrap() {
            let sub = sub.unwrap();
            for f in fs::read_dir(sub.path()).unwrap() {
                let f = f.unwrap().file_name().into_string().unwrap();
                names.push(format!("{}{f}", sub.file_name().into_string().unwrap()));
            }
        }
        names.sort();
        digests.sort();
        assert_eq!(names, digests);
        // Without a group commit, each write is durable on return and settling is free.
        let plain = Store::open(&dir.path().join("cache")).unwrap();
        assert_eq!(plain.durability(), Durability::Now);
        plain.settle().unwrap();
    }

    #[test]
    fn adopting_a_download_checks_its_digest_and_leaves_nothing_when_it_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("cache")).unwrap();
        let d = hash_bytes(b"the object");
        let tmp = store.object_temp(&d).unwrap();
        fs::write(&tmp, b"the objec").unwrap();
        let err = store.adopt(&tmp, &d).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(!tmp.exists() && !store.has(&d));
        let tmp = store.object_temp(&d).unwrap();
        fs::write(&tmp, b"the object").unwrap();
        store.adopt(&tmp, &d).unwrap();
        store.verify_object(&d).unwrap();
        assert!(!tmp.exists());
    }

    #[test]
    fn a_manifest_whose_entry_leaves_its_directory_is_corrupt_and_restores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("cache")).unwrap();
        let body = b"x".to_vec();
        let d = hash_bytes(&body);
        store.put_bytes(&body, &d).unwrap();
        let outside = dir.path().join("escaped");
        for path in ["../escaped", "/tmp/escaped", "a//b", "./a"] {
            let manifest = format!("repro-tree v1\n-\t{d}\t{path}\n");
            let m = hash_bytes(manifest.as_bytes());
            store.put_bytes(manifest.as_bytes(), &m).unwrap();
            let err = store
                .restore(&format!("dir:{m}"), &dir.path().join("ws/out"))
                .unwrap_err();
            assert!(matches!(err, StoreError::Corrupt { .. }), "{path}: {err}");
        }
        assert!(!outside.exists());
        let err = store
            .restore("file:../../escaped", &dir.path().join("ws/x"))
            .unwrap_err();
        assert!(matches!(err, StoreError::NotADigest(_)), "{err}");
    }
}
