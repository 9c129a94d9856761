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
    /// An empty directory (no digest, no object), recorded so that a restore recreates it.
    #[serde(default)]
    pub dir: bool,
}

/// How a walk treats what is not a plain regular file or directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Inputs (deps, code): symbolic links are followed (a data directory may live
    /// elsewhere); what is then neither a regular file nor a directory (a FIFO, a socket, a
    /// device) is refused, since reading it could hang or never end.
    Follow,
    /// Outputs: only regular files and directories, with UTF-8 names free of control
    /// characters. Symbolic links (which could point outside the workspace or at
    /// `/dev/zero`), special files and odd names are refused, so that the store never copies
    /// what lies outside the output and a manifest can never be forged by a file name. Empty
    /// directories are recorded, so that a restore gives back the same tree.
    Strict,
}

/// One thing found under a directory: a regular file, or (under [`Policy::Strict`]) an empty
/// directory.
pub(super) enum Found {
    /// A regular file at this absolute path.
    File(PathBuf),
    /// An empty directory.
    EmptyDir,
}

/// Why a symbolic link in an output is refused.
const LINK: &str = "is a symbolic link: outputs may hold only regular files and directories";
/// Why a special file in an output or input is refused.
const SPECIAL: &str = "is neither a regular file nor a directory (a FIFO, socket or device)";

fn refuse(rel: &str, why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("`{rel}` {why}"))
}

/// Whether a name may appear in an output (and so in a manifest line).
fn name_ok(name: &str) -> bool {
    !name.chars().any(char::is_control)
}

/// Lists what is under `dir` (recursively) as sorted `(path relative to dir, what)`.
/// `shown` names `dir` in errors (its workspace-relative path).
pub(super) fn walk(dir: &Path, shown: &str, policy: Policy) -> io::Result<Vec<(String, Found)>> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), dir.to_path_buf())];
    while let Some((rel, abs)) = stack.pop() {
        let mut empty = true;
        for entry in fs::read_dir(&abs)? {
            let entry = entry?;
            empty = false;
            let raw = entry.file_name();
            let name = match (raw.to_str(), policy) {
                (Some(n), _) => n.to_owned(),
                (None, Policy::Follow) => raw.to_string_lossy().into_owned(),
                (None, Policy::Strict) => {
                    return Err(refuse(
                        &format!("{shown}/{rel}/{}", raw.to_string_lossy()),
                        "has a name that is not UTF-8",
                    ))
                }
            };
            let r = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if policy == Policy::Strict && !name_ok(&name) {
                return Err(refuse(
                    &format!("{shown}/{}", r.escape_debug()),
                    "has a control character (such as a newline or a tab) in its name",
                ));
            }
            let ft = match policy {
                Policy::Strict => entry.file_type()?,
                Policy::Follow => fs::metadata(entry.path())
                    .map_err(|e| refuse(&format!("{shown}/{r}"), &format!("cannot be read: {e}")))?
                    .file_type(),
            };
            if ft.is_dir() {
                stack.push((r, entry.path()));
            } else if ft.is_file() {
                out.push((r, Found::File(entry.path())));
            } else if ft.is_symlink() {
                return Err(refuse(&format!("{shown}/{r}"), LINK));
            } else {
                return Err(refuse(&format!("{shown}/{r}"), SPECIAL));
            }
        }
        if empty && policy == Policy::Strict && !rel.is_empty() {
            out.push((rel, Found::EmptyDir));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Lists the regular files under `dir` (recursively), following links, as sorted
/// `(relative path, absolute path)`: for code digests.
pub(super) fn list_files(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let shown = dir.display().to_string();
    Ok(walk(dir, &shown, Policy::Follow)?
        .into_iter()
        .filter_map(|(r, f)| match f {
            Found::File(a) => Some((r, a)),
            Found::EmptyDir => None,
        })
        .collect())
}

/// The digest of a directory's manifest.
pub(super) fn tree_digest(entries: &[TreeEntry]) -> Digest {
    hash_bytes(&manifest_bytes(entries))
}

/// Canonical bytes of a manifest: one `exec<TAB>digest<TAB>path` line per file (`x` or `-`),
/// and `d<TAB>-<TAB>path` per empty directory, sorted by path. Paths never hold control
/// characters (the walk refuses them), so a line cannot be forged by a file name.
pub(super) fn manifest_bytes(entries: &[TreeEntry]) -> Vec<u8> {
    let mut text = String::from("repro-tree v1\n");
    for e in entries {
        if e.dir {
            text.push_str("d\t-\t");
            text.push_str(&e.path);
            text.push('\n');
            continue;
        }
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

    /// This digest with the files under each of `hidden` left out (paths relative to the
    /// directory itself; a file is returned unchanged): what the directory will be once they
    /// are removed.
    pub fn without(self, hidden: &[&str]) -> PathDigest {
        match self {
            PathDigest::Dir { entries, .. } => {
                let entries: Vec<TreeEntry> = entries
                    .into_iter()
                    .filter(|e| {
                        !hidden.iter().any(|h| {
                            e.path == *h
                                || e.path
                                    .strip_prefix(h)
                                    .is_some_and(|rest| rest.starts_with('/'))
                        })
                    })
                    .collect();
                PathDigest::Dir {
                    digest: tree_digest(&entries),
                    entries,
                }
            }
            file => file,
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

/// Digests `rel` (relative to `root`), a file or a directory, under `policy`; `Ok(None)` if
/// it does not exist. What the policy refuses is an `InvalidData` error naming the path.
pub fn digest_path(
    root: &Path,
    rel: &str,
    cache: &StatCache,
    policy: Policy,
) -> io::Result<Option<PathDigest>> {
    let abs = root.join(rel);
    let lookup = match policy {
        Policy::Strict => fs::symlink_metadata(&abs),
        Policy::Follow => fs::metadata(&abs),
    };
    let meta = match lookup {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        let found = walk(&abs, rel, policy)?;
        let mut entries = Vec::with_capacity(found.len());
        for (r, f) in found {
            match f {
                Found::File(a) => {
                    let m = fs::metadata(&a)?;
                    let digest = cache.file_digest(&format!("{rel}/{r}"), &a, &m)?;
                    entries.push(TreeEntry {
                        path: r,
                        digest,
                        exec: is_exec(&m),
                        dir: false,
                    });
                }
                Found::EmptyDir => entries.push(TreeEntry {
                    path: r,
                    digest: String::new(),
                    exec: false,
                    dir: true,
                }),
            }
        }
        Ok(Some(PathDigest::Dir {
            digest: tree_digest(&entries),
            entries,
        }))
    } else if meta.is_file() {
        let digest = cache.file_digest(rel, &abs, &meta)?;
        Ok(Some(PathDigest::File {
            digest,
            exec: is_exec(&meta),
        }))
    } else if meta.file_type().is_symlink() {
        Err(refuse(rel, LINK))
    } else {
        Err(refuse(rel, SPECIAL))
    }
}
