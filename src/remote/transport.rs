//! The one interface push and pull use, whatever the remote's kind: a flat namespace of paths
//! below the remote (`objects/ab/cdef…`, `actions/<key>.json`, `VERSION`) that can be tested,
//! read, written, and created only if absent. Each kind (`file.rs`, `http.rs`) implements it
//! and counts its requests, which `push` and `pull` report.

use std::path::Path;

use super::error::RemoteError;

/// A remote's operations. Every method is safe to call from several threads at once.
pub trait Transport: Send + Sync {
    /// The remote's URL (never holding a credential), for messages.
    fn url(&self) -> String;
    /// Whether `rel` exists.
    fn exists(&self, rel: &str) -> Result<bool, RemoteError>;
    /// Copies `rel` into the new file `dest`; `Ok(false)` when `rel` is absent. The caller
    /// checks what arrived (a short or altered body is caught by its digest).
    fn fetch(&self, rel: &str, dest: &Path) -> Result<bool, RemoteError>;
    /// Reads `rel` whole, refusing more than `limit` bytes; `Ok(None)` when absent.
    fn read(&self, rel: &str, limit: u64) -> Result<Option<Vec<u8>>, RemoteError>;
    /// Writes the file `src` as `rel`, replacing what is there (objects: the same bytes).
    fn upload(&self, rel: &str, src: &Path) -> Result<(), RemoteError>;
    /// Writes `bytes` as `rel` unless `rel` exists; `Ok(false)` when it existed. Where the
    /// kind cannot create atomically only-if-absent (plain HTTP), the caller has read `rel`
    /// first, and two writers racing on one path leave one of their two whole files.
    fn create(&self, rel: &str, bytes: &[u8]) -> Result<bool, RemoteError>;
    /// Whether `rel` holds exactly `bytes`; `Ok(None)` when `rel` is absent. Reads `rel`
    /// (at most `limit` bytes) unless the kind can tell more cheaply (S3: the `ETag` of a
    /// `HEAD`).
    fn holds(&self, rel: &str, bytes: &[u8], limit: u64) -> Result<Option<bool>, RemoteError> {
        Ok(self.read(rel, limit)?.map(|there| there == bytes))
    }
    /// Requests (or filesystem operations) made so far.
    fn requests(&self) -> u64;
}

/// The layout version of a remote, the same as the local store's (`cache/VERSION`).
pub(crate) const VERSION_FILE: &str = "VERSION";

/// Where the object `digest` lives below a remote.
pub(crate) fn object_rel(digest: &str) -> String {
    let (a, b) = digest.split_at(2.min(digest.len()));
    format!("objects/{a}/{b}")
}

/// Where the action record of `key` lives below a remote.
pub(crate) fn record_rel(key: &str) -> String {
    format!("actions/{key}.json")
}

/// Whether the remote holds the record of `key` and the object of each output (`outs`: the
/// lock's tagged digests; a directory's files are not listed, only its manifest). What
/// `repro status --remote` reports; `pull` checks everything.
pub fn on_remote<'a>(
    t: &dyn Transport,
    key: &str,
    outs: impl IntoIterator<Item = &'a String>,
) -> Result<bool, RemoteError> {
    if !t.exists(&record_rel(key))? {
        return Ok(false);
    }
    for tagged in outs {
        let d = crate::cache::Tagged::parse(tagged).digest;
        if !t.exists(&object_rel(d))? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The most bytes an action record may have on a remote.
pub(crate) const RECORD_LIMIT: u64 = 16 << 20;

/// Checks the remote's layout version, writing it when the remote is empty and `create`.
pub(crate) fn check_version(t: &dyn Transport, create: bool) -> Result<(), RemoteError> {
    let want = format!("{}\n", crate::cache::STORE_VERSION);
    match t.read(VERSION_FILE, 64)? {
        Some(found) if found == want.as_bytes() => Ok(()),
        Some(found) => Err(RemoteError::Layout {
            url: t.url(),
            why: format!(
                "its `VERSION` says `{}`, this repro uses {}",
                String::from_utf8_lossy(&found).trim(),
                crate::cache::STORE_VERSION
            ),
        }),
        None if create => {
            t.create(VERSION_FILE, want.as_bytes())?;
            Ok(())
        }
        None => Err(RemoteError::Layout {
            url: t.url(),
            why: "no `VERSION`: nothing was ever pushed there".into(),
        }),
    }
}
