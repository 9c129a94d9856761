//! Content digests: blake3 of a file's bytes, and of a directory as a sorted manifest of its
//! files' relative paths, executable bits and digests (a Merkle tree of depth one).
//!
//! Large files are hashed with memory mapping and rayon. Every file digest goes through the
//! [`StatCache`], so a no-op check reads no file whose (inode, size, mtime) is unchanged.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::hash::{hash_bytes, Digest};
use super::statcache::StatCache;

/// One file inside a directory output.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct TreeEntry {
    /// Path relative to the directory, `/`-separated.
    pub path: String,
    /// Content digest.
    pub digest: Digest,
    /// Executable bit.
    pub exec: bool,
}

/// Lists the regular files under `dir` (recursively) as sorted `(relative path, absolute path)`.
/// Symlinks are followed for files; hidden temporary files written by this crate are skipped.
pub(super) fn list_files(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), dir.to_path_buf())];
    while let Some((rel, abs)) = stack.pop() {
        for entry in fs::read_dir(&abs)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.contains(".tmp-") {
                continue;
            }
            let r = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let ft = fs::metadata(entry.path())?;
            if ft.is_dir() {
                stack.push((r, entry.path()));
            } else {
                out.push((r, entry.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The digest of a directory's manifest.
pub(super) fn tree_digest(entries: &[TreeEntry]) -> Digest {
    hash_bytes(&manifest_bytes(entries))
}

/// Canonical bytes of a manifest: one `exec<TAB>digest<TAB>path` line per file, sorted by path.
pub(super) fn manifest_bytes(entries: &[TreeEntry]) -> Vec<u8> {
    let mut text = String::from("repro-tree v1\n");
    for e in entries {
        text.push_str(if e.exec { "x\t" } else { "-\t" });
        text.push_str(&e.digest);
        text.push('\t');
        text.push_str(&e.path);
        text.push('\n');
    }
    text.into_bytes()
}

/// What a path holds, digested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathDigest {
    /// A regular file.
    File {
        /// Content digest.
        digest: Digest,
        /// Executable bit.
        exec: bool,
    },
    /// A directory and its files.
    Dir {
        /// Manifest digest.
        digest: Digest,
        /// The files.
        entries: Vec<TreeEntry>,
    },
}

impl PathDigest {
    /// The digest, whichever kind.
    pub fn digest(&self) -> &str {
        match self {
            PathDigest::File { digest, .. } | PathDigest::Dir { digest, .. } => digest,
        }
    }

    /// `file:<digest>` or `dir:<digest>`, the form stored in records and the lock file.
    pub fn tagged(&self) -> String {
        match self {
            PathDigest::File { digest, .. } => format!("file:{digest}"),
            PathDigest::Dir { digest, .. } => format!("dir:{digest}"),
        }
    }
}

fn is_exec(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

/// Digests `rel` (relative to `root`), a file or a directory; `Ok(None)` if it does not exist.
pub fn digest_path(root: &Path, rel: &str, cache: &StatCache) -> io::Result<Option<PathDigest>> {
    let abs = root.join(rel);
    let meta = match fs::metadata(&abs) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        let files = list_files(&abs)?;
        let mut entries = Vec::with_capacity(files.len());
        for (r, a) in files {
            let m = fs::metadata(&a)?;
            let digest = cache.file_digest(&format!("{rel}/{r}"), &a, &m)?;
            entries.push(TreeEntry {
                path: r,
                digest,
                exec: is_exec(&m),
            });
        }
        Ok(Some(PathDigest::Dir {
            digest: tree_digest(&entries),
            entries,
        }))
    } else {
        let digest = cache.file_digest(rel, &abs, &meta)?;
        Ok(Some(PathDigest::File {
            digest,
            exec: is_exec(&meta),
        }))
    }
}
