//! Changing the workspace for one instance: accepting a fresh instance, restoring one from the
//! store, clearing stale outputs before a run, and publishing what a successful run produced.
//!
//! Publication order (each file atomic): every output into the store, the log, the action
//! record, then the lock entry in memory (written with `repro.lock` when the command saves,
//! after the store's group commit settled: see `cache/commit.rs`). A process killed at any
//! instant leaves no torn object or record, and an instance whose record was published is
//! found again by the next run even if `repro.lock` was never written. An
//! object already stored under an output's digest but damaged is replaced by the run's copy,
//! with a note for the user.

use std::collections::BTreeMap;

use crate::cache::{
    atomic, digest_path, hash_file_uncached, ActionRecord, KeyInputs, Policy, Put, StoreError,
    ACTION_VERSION,
};
use crate::graph::Instance;

use super::lockfile::LockEntry;
use super::metrics::read_metrics;
use super::open::{Workspace, WorkspaceError};

/// Facts about a finished run that go into its action record (never into a key).
#[derive(Debug, Clone)]
pub struct RunFacts {
    /// `cpu` or the devices the run was given.
    pub device: String,
    /// Which slots it held (`cpu 2`, `gpu 0 · cpu 1`, or the batch executor's name).
    pub slot: String,
    /// Wall time of the run.
    pub seconds: f64,
}

/// Why a successful exit could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The stage misbehaved (a declared output or metrics file is missing): the instance failed.
    #[error("{0}")]
    Stage(String),
    /// The engine failed to store what the stage produced.
    #[error(transparent)]
    Engine(#[from] WorkspaceError),
}

impl From<StoreError> for PublishError {
    fn from(e: StoreError) -> Self {
        PublishError::Engine(e.into())
    }
}

impl Workspace<'_> {
    /// Why the instance's outputs cannot be written safely, if they cannot: an output under a
    /// symbolic link would be deleted, written or restored outside the workspace.
    pub fn outputs_outside(&self, inst: &Instance) -> Option<String> {
        inst.outs.iter().find_map(|o| {
            self.layout.linked_parent(o).map(|link| {
                format!(
                    "output `{o}` lies under the symbolic link `{link}`: repro never deletes or writes outside the workspace"
                )
            })
        })
    }

    /// The first declared output a successful run did not produce, said as `publish` says it
    /// (a `stat` per output: the dispatcher asks at once, before publication, which comes
    /// later).
    pub fn missing_output(&self, inst: &Instance) -> Option<String> {
        inst.outs.iter().find_map(|o| {
            let gone = matches!(
                std::fs::symlink_metadata(self.layout.abs(o)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound
            );
            gone.then(|| format!("declared output `{o}` was not produced"))
        })
    }

    /// Keeps the lock entry of an instance found fresh.
    pub fn accept(&mut self, inst: &Instance, entry: LockEntry) {
        self.set_entry(&inst.id, entry);
    }

    /// Keeps a fresh instance's entry that is the lock's own ([`super::State::Fresh`]'s `held`):
    /// its outputs are noted as the workspace's; the lock and the journal are unchanged.
    pub fn keep(&mut self, entry: &LockEntry) {
        self.note_outputs(&entry.outs);
    }

    /// Materialises a cached run's outputs and keeps its lock entry. A damaged object
    /// (`StoreError::Corrupt` or `Missing`) means the instance must run instead.
    pub fn restore(
        &mut self,
        inst: &Instance,
        key: String,
        record: &ActionRecord,
    ) -> Result<(), StoreError> {
        for (path, tagged) in &record.outputs {
            self.stat.forget(path);
            self.store.restore(tagged, &self.layout.abs(path))?;
        }
        self.set_entry(
            &inst.id,
            LockEntry {
                key,
                outs: record.outputs.clone(),
                metrics: record.metrics.clone(),
                skey: record.inputs.structural_key(),
            },
        );
        Ok(())
    }

    /// Restores several cached instances at once (`repro pull`, and each wave of cache hits
    /// of `repro run`): their outputs are copied from the store on the restore pool
    /// (`iopool.rs`), since each file's copy is fsynced and the syncs overlap; then every restored instance's lock entry
    /// is kept. Returns one result per item, in order: an error (a damaged object, or the
    /// file system) leaves that instance's entry untouched.
    pub fn restore_many(
        &mut self,
        items: &[(&Instance, &str, &ActionRecord)],
    ) -> Vec<Result<(), StoreError>> {
        use rayon::prelude::*;
        let this = &*self;
        let work = || -> Vec<Result<(), StoreError>> {
            items
                .par_iter()
                .map(|(_, _, record)| {
                    for (path, tagged) in &record.outputs {
                        this.stat.forget(path);
                        this.store.restore(tagged, &this.layout.abs(path))?;
                    }
                    Ok(())
                })
                .collect()
        };
        let results = match super::iopool::io_pool() {
            Some(pool) => pool.install(work),
            None => work(),
        };
        for ((inst, key, record), r) in items.iter().zip(&results) {
            if r.is_ok() {
                self.set_entry(
                    &inst.id,
                    LockEntry {
                        key: (*key).to_owned(),
                        outs: record.outputs.clone(),
                        metrics: record.metrics.clone(),
                        skey: record.inputs.structural_key(),
                    },
                );
            }
        }
        results
    }

    /// Clears an instance's stale outputs and creates their parent directories, before it runs;
    /// starts gathering the machine's facts for the record its publication writes.
    pub fn prepare(&self, inst: &Instance) -> Result<(), WorkspaceError> {
        self.gather_machine_soon();
        for o in &inst.outs {
            let abs = self.layout.abs(o);
            atomic::remove_path(&abs).map_err(|source| WorkspaceError::Io {
                path: abs.clone(),
                source,
            })?;
            self.stat.forget(o);
            // Looked at first: `create_dir_all` of an existing directory costs a failed
            // `mkdir` and a `stat`, for every instance that runs.
            if let Some(parent) = abs.parent().filter(|p| !p.is_dir()) {
                std::fs::create_dir_all(parent).map_err(|source| WorkspaceError::Io {
                    path: parent.to_owned(),
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// Publishes a successful run: outputs and log into the store, the action record, the
    /// lock entry.
    pub fn publish(
        &mut self,
        inst: &Instance,
        inputs: &KeyInputs,
        facts: &RunFacts,
    ) -> Result<(), PublishError> {
        let root = self.layout.root().to_owned();
        let mut outputs = BTreeMap::new();
        for o in &inst.outs {
            self.stat.forget(o);
            let d = digest_path(&root, o, &self.stat, Policy::Strict)
                .map_err(|source| match source.kind() {
                    // What the stage left is not an output (a link, a FIFO, an odd name).
                    std::io::ErrorKind::InvalidData => PublishError::Stage(source.to_string()),
                    _ => PublishError::Engine(WorkspaceError::Io {
                        path: root.join(o),
                        source,
                    }),
                })?
                .ok_or_else(|| {
                    PublishError::Stage(format!("declared output `{o}` was not produced"))
                })?;
            for r in self.store.put_path(&root.join(o), &d)? {
                self.note(format!(
                    "the stored object `{}` was damaged (it hashed to `{}`); replaced it with the copy `{}` just produced for `{o}`",
                    r.digest, r.was, inst.id
                ));
            }
            outputs.insert(o.clone(), d.tagged());
        }
        let metrics = match &inst.metrics {
            Some(m) => read_metrics(&root, m).map_err(PublishError::Stage)?,
            None => BTreeMap::new(),
        };
        let log = self.layout.log(&inst.id);
        let log_digest = hash_file_uncached(&log).unwrap_or_default();
        if !log_digest.is_empty() {
            if let Put::Repaired { was } = self.store.put_file(&log, &log_digest)? {
                self.note(format!(
                    "the stored log `{log_digest}` was damaged (it hashed to `{was}`); replaced it with the log of `{}`",
                    inst.id
                ));
            }
        }
        let key = inputs.key();
        let record = ActionRecord {
            format: ACTION_VERSION,
            key: key.clone(),
            instance: inst.id.clone(),
            inputs: inputs.clone(),
            outputs: outputs.clone(),
            metrics: metrics.clone(),
            exit_status: 0,
            duration_s: facts.seconds,
            host: hostname(),
            device: facts.device.clone(),
            slot: (!facts.slot.is_empty()).then(|| facts.slot.clone()),
            log: log_digest,
            finished_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            platform: Some(self.machine().platform(&facts.device)),
            checkout: self.machine().checkout.clone(),
        };
        // Journal first, record second: a run killed between the two must never leave a
        // record that `gc` would not keep (it would delete the record's objects and, if killed
        // itself, leave the record behind without them).
        self.journal(&key);
        self.store.put_record(&record)?;
        self.ledger.get_mut().expect("ledger").record(&outputs);
        // Journaled above: straight into the lock, not through `set_entry`, which would
        // journal the key a second time.
        let id = inst.id.clone();
        self.put_entry(
            &id,
            LockEntry {
                key,
                outs: outputs,
                metrics,
                skey: inputs.structural_key(),
            },
        );
        Ok(())
    }
}

/// The host name, for action records (never part of a key); read once per process.
fn hostname() -> String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "unknown".to_owned())
    })
    .clone()
}
