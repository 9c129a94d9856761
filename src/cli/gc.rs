//! `repro gc`: keep the action records whose keys `repro.lock` names (any profile) and the
//! objects they refer to (outputs, directory manifests and their files, logs); delete every
//! other record and object.

use std::collections::BTreeSet;

use crate::cache::{ActionRecord, WorkspaceLock};

use super::args::GcArgs;
use super::workspace::Workspace;
use super::{Cli, CliError};

#[allow(clippy::print_stdout)]
pub(crate) fn gc(cli: &Cli, a: &GcArgs) -> Result<(), CliError> {
    let ws = Workspace::load(cli)?;
    let _lock = WorkspaceLock::acquire(ws.root())
        .map_err(|e| CliError::Internal(format!("cannot take the workspace lock: {e}")))?;
    let checker = ws.checker()?;
    let keep_keys: BTreeSet<&str> = checker
        .lock
        .entries
        .values()
        .map(|e| e.key.as_str())
        .collect();
    let internal = |e: std::io::Error| CliError::Internal(e.to_string());
    let mut keep_objects: BTreeSet<String> = BTreeSet::new();
    let mut drop_records = Vec::new();
    let actions = checker.store.root().join("actions");
    for entry in std::fs::read_dir(&actions).map_err(internal)? {
        let path = entry.map_err(internal)?.path();
        let Some(key) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        if !keep_keys.contains(key) {
            drop_records.push(path);
            continue;
        }
        let Ok(Some(record)) = ActionRecord::read(&path) else {
            continue;
        };
        keep_objects.insert(record.log.clone());
        for tagged in record.outputs.values() {
            let (kind, digest) = tagged.split_once(':').unwrap_or(("file", tagged));
            keep_objects.insert(digest.to_owned());
            if kind == "dir" {
                if let Ok(entries) = checker.store.read_manifest(digest) {
                    keep_objects.extend(entries.into_iter().map(|e| e.digest));
                }
            }
        }
    }
    let all = checker
        .store
        .all_objects()
        .map_err(|e| CliError::Internal(e.to_string()))?;
    let mut freed = 0u64;
    let mut dropped = 0usize;
    for d in all.iter().filter(|d| !keep_objects.contains(*d)) {
        let p = checker.store.object_path(d);
        freed += std::fs::metadata(&p).map_or(0, |m| m.len());
        dropped += 1;
        if !a.dry_run {
            std::fs::remove_file(&p).map_err(internal)?;
        }
    }
    if !a.dry_run {
        for p in &drop_records {
            std::fs::remove_file(p).map_err(internal)?;
        }
    }
    let verb = if a.dry_run { "would delete" } else { "deleted" };
    println!(
        "{verb} {} records and {dropped} objects ({freed} bytes); kept {} records, {} objects",
        drop_records.len(),
        keep_keys.len(),
        all.len() - dropped
    );
    Ok(())
}
