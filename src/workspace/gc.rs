//! Garbage collection: keep the action records whose keys `repro.lock` names (any profile) and
//! the objects they refer to (outputs, directory manifests and their files, logs); delete every
//! other record and object. Keys in the journal (published by a run killed before it wrote
//! `repro.lock`) are kept too, and temporary files left by dead writers are deleted. The
//! caller holds the workspace lock.

use std::collections::BTreeSet;

use crate::cache::ActionRecord;

use super::open::{Workspace, WorkspaceError};

/// What `gc` deleted (or would delete) and kept.
#[derive(Debug, Default, PartialEq)]
pub struct GcReport {
    /// Action records deleted.
    pub records_dropped: usize,
    /// Objects deleted.
    pub objects_dropped: usize,
    /// Bytes freed by the deleted objects.
    pub bytes_freed: u64,
    /// Records kept (the keys the lock file names).
    pub records_kept: usize,
    /// Objects kept.
    pub objects_kept: usize,
    /// Temporary files of dead writers deleted.
    pub temporaries_dropped: usize,
}

impl Workspace<'_> {
    /// Deletes unreferenced records and objects; with `dry_run`, only counts them.
    pub fn gc(&self, dry_run: bool) -> Result<GcReport, WorkspaceError> {
        // Keys published by a run that was killed before it wrote `repro.lock` are in the
        // journal: they stay until a lock is written.
        let journal = self.journal_keys();
        let mut keep_keys = self.lock.keys();
        keep_keys.extend(journal);
        let mut keep_objects: BTreeSet<String> = BTreeSet::new();
        let mut drop_records = Vec::new();
        for (key, path) in self.store.all_actions()? {
            if !keep_keys.contains(key.as_str()) {
                drop_records.push(path);
                continue;
            }
            let Ok(Some(record)) = ActionRecord::read(&path) else {
                continue;
            };
            keep_objects.insert(record.log.clone());
            for tagged in record.outputs.values() {
                // A damaged manifest keeps at least the manifest's own object; `verify` reports it.
                match self.store.objects_of(tagged) {
                    Ok(digests) => keep_objects.extend(digests),
                    Err(_) => {
                        keep_objects.insert(crate::cache::Tagged::parse(tagged).digest.to_owned());
                    }
                }
            }
        }
        // Records go first, objects second: a gc killed in between leaves unreferenced objects
        // (garbage for the next gc), never a record whose objects are gone.
        let mut report = GcReport {
            records_kept: keep_keys.len(),
            records_dropped: drop_records.len(),
            ..GcReport::default()
        };
        if !dry_run {
            for p in &drop_records {
                std::fs::remove_file(p).map_err(|source| WorkspaceError::Io {
                    path: p.clone(),
                    source,
                })?;
            }
        }
        let all = self.store.all_objects()?;
        for d in all.iter().filter(|d| !keep_objects.contains(*d)) {
            report.objects_dropped += 1;
            if dry_run {
                report.bytes_freed +=
                    std::fs::metadata(self.store.object_path(d)).map_or(0, |m| m.len());
            } else {
                report.bytes_freed += self.store.remove_object(d)?;
            }
        }
        report.objects_kept = all.len() - report.objects_dropped;
        for tmp in self.store.stale_temporaries()? {
            report.temporaries_dropped += 1;
            if !dry_run {
                crate::cache::atomic::remove_path(&tmp)
                    .map_err(|source| WorkspaceError::Io { path: tmp, source })?;
            }
        }
        Ok(report)
    }
}
