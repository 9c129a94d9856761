//! Remembered file digests keyed by (inode, size, mtime, ctime), so that checking an unchanged
//! workspace reads no file contents: only `stat` calls.
//!
//! Stored in `.repro/stat-cache` as tab-separated lines
//! `path<TAB>inode<TAB>size<TAB>mtime_ns<TAB>ctime_ns<TAB>digest` under a version header. The file
//! is advisory: a missing, older-version or corrupt file is ignored and rebuilt. A file modified
//! within the same mtime tick with the same size would fool mtime alone; ctime and the inode
//! narrow that window, and entries whose mtime is within 2 s of the save time are not kept (the
//! racy-git rule), so they are re-hashed next time.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Mutex;

use super::hash::{hash_file_uncached, Digest};

const HEADER: &str = "repro-stat-cache v1";

#[derive(Clone, PartialEq, Eq)]
struct Stamp {
    inode: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Stamp {
    fn of(m: &fs::Metadata) -> Stamp {
        Stamp {
            inode: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
            ctime_ns: m.ctime() as i128 * 1_000_000_000 + m.ctime_nsec() as i128,
        }
    }
}

/// The in-memory stat cache (thread-safe).
#[derive(Default)]
pub struct StatCache {
    entries: Mutex<HashMap<String, (Stamp, Digest)>>,
    dirty: Mutex<bool>,
}

impl StatCache {
    /// Loads the cache file; anything unreadable yields an empty cache.
    pub fn load(path: &Path) -> StatCache {
        let mut map = HashMap::new();
        if let Ok(text) = fs::read_to_string(path) {
            let mut lines = text.lines();
            if lines.next() == Some(HEADER) {
                for line in lines {
                    let f: Vec<&str> = line.split('\t').collect();
                    if f.len() != 6 {
                        continue;
                    }
                    let (Ok(inode), Ok(size), Ok(mtime_ns), Ok(ctime_ns)) =
                        (f[1].parse(), f[2].parse(), f[3].parse(), f[4].parse())
                    else {
                        continue;
                    };
                    map.insert(
                        f[0].to_owned(),
                        (
                            Stamp {
                                inode,
                                size,
                                mtime_ns,
                                ctime_ns,
                            },
                            f[5].to_owned(),
                        ),
                    );
                }
            }
        }
        StatCache {
            entries: Mutex::new(map),
            dirty: Mutex::new(false),
        }
    }

    /// The digest of the file at `abs` (workspace-relative name `rel`), from the cache when
    /// its stamp is unchanged.
    pub fn file_digest(&self, rel: &str, abs: &Path, meta: &fs::Metadata) -> io::Result<Digest> {
        let stamp = Stamp::of(meta);
        if let Some((s, d)) = self.entries.lock().expect("stat cache lock").get(rel) {
            if *s == stamp {
                return Ok(d.clone());
            }
        }
        let digest = hash_file_uncached(abs)?;
        self.entries
            .lock()
            .expect("stat cache lock")
            .insert(rel.to_owned(), (stamp, digest.clone()));
        *self.dirty.lock().expect("stat cache lock") = true;
        Ok(digest)
    }

    /// Forgets a path (after the engine deletes or replaces it).
    pub fn forget(&self, rel: &str) {
        self.entries.lock().expect("stat cache lock").remove(rel);
    }

    /// Saves the cache atomically if anything changed.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        if !*self.dirty.lock().expect("stat cache lock") {
            return Ok(());
        }
        let now_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i128)
            .unwrap_or(0);
        let entries = self.entries.lock().expect("stat cache lock");
        let mut keys: Vec<&String> = entries.keys().collect();
        keys.sort();
        let mut text = String::with_capacity(entries.len() * 120);
        text.push_str(HEADER);
        text.push('\n');
        for k in keys {
            let (s, d) = &entries[k];
            if now_ns - s.mtime_ns < 2_000_000_000 {
                continue;
            }
            use std::fmt::Write as _;
            let _ = writeln!(
                text,
                "{k}\t{}\t{}\t{}\t{}\t{d}",
                s.inode, s.size, s.mtime_ns, s.ctime_ns
            );
        }
        super::atomic::write(path, text.as_bytes())
    }
}
