//! `repro pull`: bring into the local store the action records that `repro.lock` names for
//! the chosen instances, and every object they need, checking everything before it enters.
//!
//! - A record must parse, name its key, have inputs that hash to that key (so it describes the
//!   computation the lock names) and outputs equal to the lock's digests.
//! - Every object is downloaded to a temporary beside its place in the store and hashed; only a
//!   file that hashes to its name is renamed into place (`Store::adopt`). A corrupt or short
//!   body (a server that answers 200 with a truncated file) is deleted and named.
//! - A record enters the store last, and only when every object it names is in the store, so a
//!   record whose objects are missing on the remote is never used.
//!
//! "Nothing partial": what enters the store is whole and checked: an object is complete and
//! sound or absent, a record is present only with all its objects. Sound objects of a failed
//! instance stay (they are content-addressed and harmless, `gc` removes them if unused) so that
//! running `pull` again resumes: present objects and complete records are skipped.

use std::collections::{BTreeMap, BTreeSet};

use super::error::RemoteError;
use super::parallel;
use super::transport::{check_version, object_rel, record_rel, Transport, RECORD_LIMIT};
use crate::cache::{atomic, ActionRecord, Kind, Store, StoreError, Tagged};

/// One instance to pull, as `repro.lock` records it.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// The instance id.
    pub id: String,
    /// The lock's key.
    pub key: String,
    /// The lock's output digests (path to tagged digest); `None` when no lock names them
    /// (`repro run --pull`: the key alone names the computation, and a record the remote
    /// lacks is counted in `absent`, not a problem).
    pub outs: Option<BTreeMap<String, String>>,
}

/// What a pull did.
#[derive(Debug, Default)]
pub struct PullReport {
    /// Instances considered.
    pub records: usize,
    /// Records already complete in the local store.
    pub present: usize,
    /// Records pulled.
    pub pulled: usize,
    /// Objects downloaded.
    pub objects: usize,
    /// Bytes downloaded.
    pub bytes: u64,
    /// What is missing or corrupt, one line each, naming the instance or object.
    pub problems: Vec<String>,
    /// Requests made.
    pub requests: u64,
    /// Records the remote lacks, of instances wanted without a lock's outputs.
    pub absent: usize,
}

/// A record fetched and checked, and the objects it needs.
struct Needed<'a> {
    w: &'a Wanted,
    bytes: Vec<u8>,
    objects: Vec<String>,
    /// Manifests downloaded to list a directory's files: count and bytes.
    manifests: (usize, u64),
}

/// Pulls `wanted` from `remote` into `store`.
pub fn pull(
    store: &Store,
    remote: &dyn Transport,
    wanted: &[Wanted],
    connections: usize,
) -> Result<PullReport, RemoteError> {
    check_version(remote, false)?;
    let mut report = PullReport {
        records: wanted.len(),
        ..PullReport::default()
    };
    let results = parallel::each(connections, wanted, |w| fetch_record(store, remote, w));
    let mut needed = Vec::new();
    for r in results {
        match r {
            Ok(Some(n)) => {
                report.objects += n.manifests.0;
                report.bytes += n.manifests.1;
                needed.push(n);
            }
            Ok(None) => report.present += 1,
            Err(Failed::Fatal(e)) => return Err(e),
            Err(Failed::Named(p)) => report.problems.push(p),
            Err(Failed::Absent) => report.absent += 1,
        }
    }
    let distinct: Vec<String> = needed
        .iter()
        .flat_map(|n| n.objects.iter().cloned())
        .filter(|d| !store.has(d))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let results = parallel::each(connections, &distinct, |d| fetch_object(store, remote, d));
    let mut failed: BTreeMap<&str, String> = BTreeMap::new();
    for (d, r) in distinct.iter().zip(results) {
        match r {
            Ok(bytes) => {
                report.objects += 1;
                report.bytes += bytes;
            }
            Err(Failed::Fatal(e)) => return Err(e),
            Err(Failed::Named(p)) => {
                failed.insert(d, p);
            }
            // Only records are ever absent without a problem; an object never is.
            Err(Failed::Absent) => {
                failed.insert(d, format!("object `{d}` is missing on the remote"));
            }
        }
    }
    let mut complete = Vec::new();
    for n in needed {
        match n.objects.iter().find_map(|d| failed.get(d.as_str())) {
            Some(why) => report
                .problems
                .push(format!("{}: record `{}` not used: {why}", n.w.id, n.w.key)),
            None => complete.push(n),
        }
    }
    // Each record is fsynced: written on the pool, the syncs overlap.
    let written = parallel::each(connections, &complete, |n| {
        let path = store.action_path(&n.w.key);
        atomic::write(&path, &n.bytes)
            .map_err(|e| format!("{}: cannot write `{}`: {e}", n.w.id, path.display()))
    });
    for w in written {
        match w {
            Ok(()) => report.pulled += 1,
            Err(p) => report.problems.push(p),
        }
    }
    report.requests = remote.requests();
    Ok(report)
}

enum Failed {
    /// Stops the command (credentials, an unusable remote).
    Fatal(RemoteError),
    /// One instance or object, named.
    Named(String),
    /// No record on the remote for an instance wanted without a lock's outputs.
    Absent,
}

impl From<RemoteError> for Failed {
    fn from(e: RemoteError) -> Self {
        if e.is_fatal() {
            Failed::Fatal(e)
        } else {
            Failed::Named(e.to_string())
        }
    }
}

/// Whether the local store already has a record of `key` with every object it needs.
fn complete_locally(store: &Store, w: &Wanted) -> bool {
    match ActionRecord::read(&store.action_path(&w.key)) {
        Ok(Some(r)) => {
            w.outs.as_ref().is_none_or(|o| r.outputs == *o)
                && r.outputs.values().all(|t| {
                    store
                        .objects_of(t)
                        .is_ok_and(|ds| ds.iter().all(|d| store.has(d)))
                })
        }
        _ => false,
    }
}

/// Fetches and checks one record, and the manifests of its directory outputs; lists the
/// objects it needs. `Ok(None)`: already complete locally.
fn fetch_record<'a>(
    store: &Store,
    remote: &dyn Transport,
    w: &'a Wanted,
) -> Result<Option<Needed<'a>>, Failed> {
    if complete_locally(store, w) {
        return Ok(None);
    }
    let id = &w.id;
    let key = &w.key;
    let Some(bytes) = remote.read(&record_rel(key), RECORD_LIMIT)? else {
        if w.outs.is_none() {
            return Err(Failed::Absent);
        }
        return Err(Failed::Named(format!(
            "{id}: the remote has no record for key `{key}`"
        )));
    };
    let named = |why: String| Failed::Named(format!("{id}: the remote's record `{key}` {why}"));
    let record = ActionRecord::parse(&bytes).map_err(|e| named(format!("is malformed: {e}")))?;
    if record.key != *key {
        return Err(named(format!("names another key, `{}`", record.key)));
    }
    let computed = record.inputs.key();
    if computed != *key {
        return Err(named(format!(
            "has inputs that hash to `{computed}`, not to its key"
        )));
    }
    if w.outs.as_ref().is_some_and(|o| record.outputs != *o) {
        return Err(named(
            "has outputs whose digests differ from `repro.lock`'s".into(),
        ));
    }
    let mut objects = Vec::new();
    let mut manifests = (0, 0);
    for tagged in record.outputs.values() {
        let t = Tagged::parse(tagged);
        objects.push(t.digest.to_owned());
        if t.kind == Kind::Dir {
            if !store.has(t.digest) {
                let len = fetch_object(store, remote, t.digest)
                    .map_err(|f| prefix(f, &format!("{id}: ")))?;
                manifests.0 += 1;
                manifests.1 += len;
            }
            let entries = store
                .read_manifest(t.digest)
                .map_err(|e| Failed::Named(format!("{id}: {e}")))?;
            objects.extend(entries.into_iter().filter(|e| !e.dir).map(|e| e.digest));
        }
    }
    if !record.log.is_empty() {
        objects.push(record.log.clone());
    }
    Ok(Some(Needed {
        w,
        bytes,
        objects,
        manifests,
    }))
}

fn prefix(f: Failed, p: &str) -> Failed {
    match f {
        Failed::Named(s) => Failed::Named(format!("{p}{s}")),
        fatal => fatal,
    }
}

/// Downloads one object into the store, checked; returns its size.
fn fetch_object(store: &Store, remote: &dyn Transport, d: &str) -> Result<u64, Failed> {
    let tmp = store
        .object_temp(d)
        .map_err(|e| Failed::Named(e.to_string()))?;
    if !remote.fetch(&object_rel(d), &tmp)? {
        return Err(Failed::Named(format!(
            "object `{d}` is missing on the remote"
        )));
    }
    let len = std::fs::metadata(&tmp).map_or(0, |m| m.len());
    match store.adopt(&tmp, d) {
        Ok(()) => Ok(len),
        Err(StoreError::Corrupt { actual, .. }) => Err(Failed::Named(format!(
            "object `{d}` on the remote is corrupt ({len} bytes that hash to `{actual}`); refused"
        ))),
        Err(e) => Err(Failed::Named(e.to_string())),
    }
}
