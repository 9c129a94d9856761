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

use super::hash::{hash_file_of_length, Digest};

const HEADER: &str = "repro-stat-cache v1";

#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    inode: u64,
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
}

/// Nanoseconds since the epoch (saturating: past the year 2262 every stamp compares equal in
/// that field, and the inode, size and the other time still tell files apart).
fn nanos(secs: i64, nsec: i64) -> i64 {
    secs.saturating_mul(1_000_000_000).saturating_add(nsec)
}

impl Stamp {
    fn of(m: &fs::Metadata) -> Stamp {
        Stamp {
            inode: m.ino(),
            size: m.size(),
            mtime_ns: nanos(m.mtime(), m.mtime_nsec()),
            ctime_ns: nanos(m.ctime(), m.ctime_nsec()),
        }
    }
}

/// The in-memory stat cache (thread-safe). Paths are boxed and digests binary: a workspace of
/// 50,000 outputs holds 50,000 entries for every command that checks it.
#[derive(Default)]
pub struct StatCache {
    entries: Mutex<HashMap<Box<str>, (Stamp, blake3::Hash)>>,
    dirty: Mutex<bool>,
}

/// One line of the file, or `None` for a line to ignore.
fn entry(line: &str) -> Option<(Box<str>, (Stamp, blake3::Hash))> {
    let mut f = line.split('\t');
    let path = f.next()?;
    let inode = f.next()?.parse().ok()?;
    let size = f.next()?.parse().ok()?;
    let mtime_ns = f.next()?.parse().ok()?;
    let ctime_ns = f.next()?.parse().ok()?;
    let digest = blake3::Hash::from_hex(f.next()?).ok()?;
    if f.next().is_some() {
        return None;
    }
    let stamp = Stamp {
        inode,
        size,
        mtime_ns,
        ctime_ns,
    };
    Some((path.into(), (stamp, digest)))
}

impl StatCache {
    /// Loads the cache file; anything unreadable yields an empty cache. Read line by line,
    /// into a map sized from the file's length, so that loading never holds the text and the
    /// map together, nor two tables while the map grows.
    pub fn load(path: &Path) -> StatCache {
        use std::io::BufRead;
        let mut map = HashMap::new();
        if let Ok(file) = fs::File::open(path) {
            // Lines are about 130 bytes; a short estimate only costs one growth.
            let lines = file.metadata().map_or(0, |m| m.len() / 120) as usize;
            let mut reader = io::BufReader::with_capacity(1 << 16, file);
            let mut line = String::new();
            if reader.read_line(&mut line).is_ok() && line.trim_end() == HEADER {
                map.reserve(lines);
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            if let Some((k, v)) = entry(line.trim_end_matches(['\n', '\r'])) {
                                map.insert(k, v);
                            }
                        }
                    }
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
                return Ok(d.to_hex().to_string());
            }
        }
        let digest = hash_file_of_length(abs, meta.len())?;
        if let Ok(binary) = blake3::Hash::from_hex(&digest) {
            self.entries
                .lock()
                .expect("stat cache lock")
                .insert(rel.into(), (stamp, binary));
            *self.dirty.lock().expect("stat cache lock") = true;
        }
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
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        let entries = self.entries.lock().expect("stat cache lock");
        let mut keys: Vec<&Box<str>> = entries.keys().collect();
        keys.sort();
        let mut text = String::with_capacity(entries.len() * 120);
        text.push_str(HEADER);
        text.push('\n');
        for k in keys {
            let (s, d) = &entries[k];
            if now_ns.saturating_sub(s.mtime_ns) < 2_000_000_000 {
                continue;
            }
            use std::fmt::Write as _;
            let _ = writeln!(
                text,
                "{k}\t{}\t{}\t{}\t{}\t{}",
                s.inode,
                s.size,
                s.mtime_ns,
                s.ctime_ns,
                d.to_hex()
            );
        }
        super::atomic::write(path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::hash::hash_file_uncached;

    #[test]
    fn a_saved_cache_answers_without_hashing_and_bad_lines_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"bytes").unwrap();
        // Old enough for the racy-git rule to keep it.
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        let cache = StatCache::load(&dir.path().join("absent"));
        let digest = cache.file_digest("f", &file, &meta).unwrap();
        assert_eq!(digest, hash_file_uncached(&file).unwrap());
        let saved = dir.path().join("stat-cache");
        cache.save(&saved).unwrap();
        // A damaged line and a line of another shape are skipped; the good one still counts.
        let mut text = std::fs::read_to_string(&saved).unwrap();
        text.push_str("g\t1\t2\tthree\t4\tzz\nh\t1\n");
        std::fs::write(&saved, &text).unwrap();
        let back = StatCache::load(&saved);
        assert_eq!(back.entries.lock().unwrap().len(), 1);
        // Answered from the stamp: a lie in the cached digest shows that nothing was read.
        let lie = blake3::hash(b"lie");
        back.entries.lock().unwrap().get_mut("f").unwrap().1 = lie;
        assert_eq!(
            back.file_digest("f", &file, &meta).unwrap(),
            lie.to_hex().to_string()
        );
        // Another header: ignored whole.
        std::fs::write(&saved, text.replace(HEADER, "repro-stat-cache v0")).unwrap();
        assert!(StatCache::load(&saved).entries.lock().unwrap().is_empty());
    }
}
