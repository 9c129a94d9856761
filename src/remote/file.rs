//! `file:///path` remotes: a directory on a shared or mounted filesystem, laid out as the
//! store is. Writes go through a temporary sibling and a rename (`cache/atomic.rs`), so a
//! reader never sees a torn file; [`Transport::create`] links the temporary into place
//! (`link(2)` fails on an existing name), so two pushers of different records for one key
//! never overwrite each other.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::RemoteError;
use super::transport::Transport;
use crate::cache::atomic;

/// A remote directory.
#[derive(Debug)]
pub struct FileRemote {
    root: PathBuf,
    requests: AtomicU64,
}

impl FileRemote {
    /// The remote at `root` (created on the first write).
    pub fn new(root: PathBuf) -> FileRemote {
        FileRemote {
            root,
            requests: AtomicU64::new(0),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.root.join(rel)
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RemoteError + '_ {
    move |source| RemoteError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Transport for FileRemote {
    fn url(&self) -> String {
        format!("file://{}", self.root.display())
    }

    fn exists(&self, rel: &str) -> Result<bool, RemoteError> {
        let p = self.path(rel);
        match fs::metadata(&p) {
            Ok(m) => Ok(m.is_file()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err(&p)(e)),
        }
    }

    fn fetch(&self, rel: &str, dest: &Path) -> Result<bool, RemoteError> {
        let p = self.path(rel);
        match fs::copy(&p, dest) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let _ = fs::remove_file(dest);
                Ok(false)
            }
            Err(e) => {
                let _ = fs::remove_file(dest);
                Err(io_err(&p)(e))
            }
        }
    }

    fn read(&self, rel: &str, limit: u64) -> Result<Option<Vec<u8>>, RemoteError> {
        let p = self.path(rel);
        let f = match fs::File::open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&p)(e)),
        };
        let mut bytes = Vec::new();
        f.take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err(&p))?;
        if bytes.len() as u64 > limit {
            return Err(RemoteError::Io {
                path: p,
                source: io::Error::other(format!("larger than {limit} bytes")),
            });
        }
        Ok(Some(bytes))
    }

    fn upload(&self, rel: &str, src: &Path) -> Result<(), RemoteError> {
        let p = self.path(rel);
        atomic::copy(src, &p).map_err(io_err(&p))
    }

    fn create(&self, rel: &str, bytes: &[u8]) -> Result<bool, RemoteError> {
        let p = self.path(rel);
        let tmp = atomic::temp_sibling(&p);
        atomic::write(&tmp, bytes).map_err(io_err(&p))?;
        let linked = fs::hard_link(&tmp, &p);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                atomic::sync_dir(&p).map_err(io_err(&p))?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io_err(&p)(e)),
        }
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_never_replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let r = FileRemote::new(dir.path().join("remote"));
        assert!(r.create("actions/k.json", b"first").unwrap());
        assert!(!r.create("actions/k.json", b"second").unwrap());
        assert_eq!(
            r.read("actions/k.json", 100).unwrap().as_deref(),
            Some(&b"first"[..])
        );
        assert_eq!(r.read("actions/none.json", 100).unwrap(), None);
        assert!(r.read("actions/k.json", 2).is_err());
        let names: Vec<_> = fs::read_dir(dir.path().join("remote/actions"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary left: {names:?}");
    }
}
