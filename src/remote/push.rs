//! `repro push`: upload the action records of chosen keys and every object they name.
//!
//! Order makes a remote safe to read at any instant without a lock: every object a record
//! names is uploaded (and confirmed) before the record, so a record on the remote always has
//! its objects, unless someone deleted them. Objects are content-addressed, so two pushers
//! writing one object write the same bytes; a record is created only where none is (never
//! overwritten: a different record already there for the key is left and named in a warning).
//!
//! Steps: check the remote's `VERSION` (writing it on an empty remote: a wrong credential
//! stops here, before anything is written); read each local record and list its objects
//! (outputs, a directory's files and manifest, the log); `HEAD` each distinct object and upload
//! the absent ones, after re-hashing the local copy, on `connections` threads; then, for each
//! record whose objects are all there, compare the remote's record with the local one
//! (`Transport::holds`: read it, or over S3 compare its `ETag` with the record's MD5) and
//! create it if absent.

use std::collections::{BTreeMap, BTreeSet};

use super::error::RemoteError;
use super::parallel;
use super::transport::{check_version, object_rel, record_rel, Transport, RECORD_LIMIT};
use crate::cache::{ActionRecord, Store};

/// What a push did.
#[derive(Debug, Default)]
pub struct PushReport {
    /// Records considered.
    pub records: usize,
    /// Records uploaded.
    pub records_uploaded: usize,
    /// Distinct objects considered.
    pub objects: usize,
    /// Objects uploaded.
    pub objects_uploaded: usize,
    /// Bytes of the objects uploaded.
    pub bytes: u64,
    /// A different record was already on the remote for these keys: (instance, key).
    pub conflicts: Vec<(String, String)>,
    /// What failed, one line each, naming the instance or object.
    pub problems: Vec<String>,
    /// Requests made.
    pub requests: u64,
}

/// Pushes the records of `wanted` (instance id, key) from `store` to `remote`.
pub fn push(
    store: &Store,
    remote: &dyn Transport,
    wanted: &[(String, String)],
    connections: usize,
) -> Result<PushReport, RemoteError> {
    check_version(remote, true)?;
    let mut report = PushReport {
        records: wanted.len(),
        ..PushReport::default()
    };
    // Each record's bytes and objects.
    let mut records: Vec<(&str, &str, Vec<u8>, Vec<String>)> = Vec::new();
    for (id, key) in wanted {
        let path = store.action_path(key);
        let record = match ActionRecord::read(&path) {
            Ok(Some(r)) => r,
            Ok(None) => {
                report.problems.push(format!(
                    "{id}: no action record for key `{key}` in the local store (run it first)"
                ));
                continue;
            }
            Err(e) => {
                report.problems.push(format!("{id}: {e}"));
                continue;
            }
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                report
                    .problems
                    .push(format!("{id}: cannot read `{}`: {e}", path.display()));
                continue;
            }
        };
        let mut objects = Vec::new();
        let mut bad = None;
        for (out, tagged) in &record.outputs {
            match store.objects_of(tagged) {
                Ok(d) => objects.extend(d),
                Err(e) => bad = Some(format!("{id}: output `{out}`: {e}")),
            }
        }
        if !record.log.is_empty() {
            objects.push(record.log.clone());
        }
        match bad {
            Some(p) => report.problems.push(p),
            None => records.push((id, key, bytes, objects)),
        }
    }
    let distinct: Vec<String> = records
        .iter()
        .flat_map(|r| r.3.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    report.objects = distinct.len();
    let results = parallel::each(connections, &distinct, |d| push_object(store, remote, d));
    let mut failed: BTreeMap<&str, String> = BTreeMap::new();
    for (d, r) in distinct.iter().zip(results) {
        match r {
            Ok(Some(bytes)) => {
                report.objects_uploaded += 1;
                report.bytes += bytes;
            }
            Ok(None) => {}
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => {
                failed.insert(d, e.to_string());
            }
        }
    }
    let ready: Vec<&(&str, &str, Vec<u8>, Vec<String>)> = records
        .iter()
        .filter(
            |(id, _, _, objects)| match objects.iter().find_map(|d| failed.get(d.as_str())) {
                Some(why) => {
                    report
                        .problems
                        .push(format!("{id}: record not pushed: {why}"));
                    false
                }
                None => true,
            },
        )
        .collect();
    let results = parallel::each(connections, &ready, |(_, key, bytes, _)| {
        push_record(remote, key, bytes)
    });
    for ((id, key, _, _), r) in ready.iter().zip(results) {
        match r {
            Ok(Pushed::Created) => report.records_uploaded += 1,
            Ok(Pushed::Same) => {}
            Ok(Pushed::Different) => report.conflicts.push(((*id).to_owned(), (*key).to_owned())),
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => report.problems.push(format!("{id}: {e}")),
        }
    }
    report.requests = remote.requests();
    Ok(report)
}

/// Uploads one object unless present; `Some(bytes)` when uploaded. The local copy is
/// re-hashed first: a damaged object is never sent.
fn push_object(store: &Store, remote: &dyn Transport, d: &str) -> Result<Option<u64>, RemoteError> {
    let rel = object_rel(d);
    if remote.exists(&rel)? {
        return Ok(None);
    }
    let path = store.object_path(d);
    store.verify_object(d).map_err(|e| RemoteError::Io {
        path: path.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let len = std::fs::metadata(&path).map_or(0, |m| m.len());
    remote.upload(&rel, &path)?;
    Ok(Some(len))
}

enum Pushed {
    Created,
    Same,
    Different,
}

fn push_record(remote: &dyn Transport, key: &str, bytes: &[u8]) -> Result<Pushed, RemoteError> {
    let rel = record_rel(key);
    match remote.holds(&rel, bytes, RECORD_LIMIT)? {
        Some(true) => Ok(Pushed::Same),
        Some(false) => Ok(Pushed::Different),
        None if remote.create(&rel, bytes)? => Ok(Pushed::Created),
        // Another pusher created it between the look and the write.
        None => match remote.holds(&rel, bytes, RECORD_LIMIT)? {
            Some(true) => Ok(Pushed::Same),
            _ => Ok(Pushed::Different),
        },
    }
}
