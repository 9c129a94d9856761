//! Deciding what each instance needs: nothing (fresh), a restore from the cache, or a run.
//!
//! For an instance whose upstream is settled, [`Workspace::evaluate`] computes the key from the
//! workspace as it is now, then:
//! 1. if `repro.lock` records this key and the workspace outputs match it: fresh;
//! 2. if the store has an action record for the key: restore its outputs (or fresh, when the
//!    workspace already matches the record);
//! 3. otherwise: run, with the reasons found by diffing the inputs recorded for the lock's key.
//!
//! The no-op path (1) reads only `stat` data and the lock file, thanks to the stat cache.

use std::collections::BTreeMap;

use crate::cache::{digest_path, ActionRecord, KeyInputs, Policy, KEY_VERSION};
use crate::graph::{is_glob, Instance};
use crate::spec::{SpecError, SpecErrorKind};

use super::dirty::{diff, metrics_changed, Dirty};
use super::lockfile::LockEntry;
use super::open::Workspace;

/// The stand-in digest of an output that outputs may not be (never equal to a real one).
const UNUSABLE: &str = "unusable";

/// What an instance needs.
#[derive(Debug, Clone)]
pub enum State {
    /// Outputs match the current key; the entry to keep in the lock file.
    Fresh {
        /// Key, output digests, metrics and structural key.
        entry: LockEntry,
        /// Whether `entry` is the lock's own, unchanged: keeping it changes nothing in the
        /// lock ([`Workspace::keep`]), and the no-op path reads the lock once per instance.
        held: bool,
    },
    /// The key is cached; outputs must be restored.
    Restore {
        /// The key.
        key: String,
        /// The cached record.
        record: Box<ActionRecord>,
        /// Why the workspace does not match.
        reasons: Vec<Dirty>,
    },
    /// The instance must run.
    Run {
        /// The key inputs, unless an upstream instance is pending.
        inputs: Option<Box<KeyInputs>>,
        /// Why.
        reasons: Vec<Dirty>,
    },
}

impl State {
    /// Short label: `fresh`, `restore` or `run`.
    pub fn label(&self) -> &'static str {
        match self {
            State::Fresh { .. } => "fresh",
            State::Restore { .. } => "restore",
            State::Run { .. } => "run",
        }
    }
}

/// A failure while checking (I/O, or a code entry that matches nothing).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// An input could not be read.
    #[error("failed to read `{path}` for `{instance}`: {message}")]
    Io {
        /// The instance.
        instance: String,
        /// The path.
        path: String,
        /// The cause.
        message: String,
    },
    /// A dependency vanished after validation.
    #[error("dependency `{path}` of `{instance}` does not exist")]
    MissingDep {
        /// The instance.
        instance: String,
        /// The dependency.
        path: String,
    },
    /// A `code:` entry problem, located in the pipeline file.
    #[error(transparent)]
    Spec(#[from] SpecError),
}

impl Workspace<'_> {
    /// Computes an instance's key inputs from the workspace as it is now.
    pub fn inputs(&self, inst: &Instance) -> Result<KeyInputs, CheckError> {
        self.inputs_with(inst, false)
    }

    /// [`Self::inputs`], leaving out the dependencies that do not exist when `missing_ok`
    /// (outputs of upstream instances that have not run yet).
    fn inputs_with(&self, inst: &Instance, missing_ok: bool) -> Result<KeyInputs, CheckError> {
        let io = |path: &str, e: std::io::Error| CheckError::Io {
            instance: inst.id.clone(),
            path: path.to_owned(),
            message: e.to_string(),
        };
        let mut deps = BTreeMap::new();
        for dep in &inst.deps {
            if is_glob(dep) {
                let pattern = self.layout.abs(dep);
                let mut matches: Vec<String> = glob::glob(&pattern.to_string_lossy())
                    .map_err(|e| CheckError::Io {
                        instance: inst.id.clone(),
                        path: dep.clone(),
                        message: e.to_string(),
                    })?
                    .flatten()
                    .filter_map(|p| {
                        p.strip_prefix(self.layout.root())
                            .ok()
                            .map(|r| r.to_string_lossy().into_owned())
                    })
                    .collect();
                matches.sort();
                matches.retain(|m| !self.is_hidden(m));
                for m in matches {
                    if let Some(d) = digest_path(self.layout.root(), &m, &self.stat, Policy::Follow)
                        .map_err(|e| io(&m, e))?
                    {
                        deps.insert(m, d.tagged());
                    }
                }
            } else {
                match digest_path(self.layout.root(), dep, &self.stat, Policy::Follow)
                    .map_err(|e| io(dep, e))?
                    .map(|d| d.without(&self.hidden_under(dep)))
                {
                    Some(d) => {
                        deps.insert(dep.clone(), d.tagged());
                    }
                    None if missing_ok => {}
                    None => {
                        return Err(CheckError::MissingDep {
                            instance: inst.id.clone(),
                            path: dep.clone(),
                        })
                    }
                }
            }
        }
        let mut code = BTreeMap::new();
        for (i, entry) in inst.code.iter().enumerate() {
            let d = self.code.digest(entry, &self.stat).map_err(|message| {
                let field = format!("stages.{}.code[{i}]", inst.stage_name);
                SpecError::new(
                    &self.pipeline.file,
                    self.pipeline.positions.get(&field),
                    field,
                    SpecErrorKind::Code(message),
                )
            })?;
            code.insert(entry.clone(), d);
        }
        Ok(KeyInputs {
            version: KEY_VERSION,
            argv: inst.argv.clone(),
            env: inst.env.clone(),
            params: inst.params.clone(),
            deps,
            code,
            outs: inst.outs.clone(),
        })
    }

    /// Whether `path` lies at or under an orphan that the next run removes.
    fn is_hidden(&self, path: &str) -> bool {
        self.hidden.iter().any(|h| {
            path == h
                || path
                    .strip_prefix(h.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }

    /// The orphans that the next run removes from under the directory `dep`, relative to it.
    fn hidden_under(&self, dep: &str) -> Vec<&str> {
        self.hidden
            .iter()
            .filter_map(|h| h.strip_prefix(dep)?.strip_prefix('/'))
            .collect()
    }

    /// Digests of the instance's outputs as they are in the workspace (`None`: missing). An
    /// output holding what outputs may not (a link, a FIFO, an odd name) reads as
    /// [`UNUSABLE`], which matches no record: the instance is restored or runs again.
    pub fn workspace_outputs(
        &self,
        inst: &Instance,
    ) -> Result<BTreeMap<String, Option<String>>, CheckError> {
        let mut out = BTreeMap::new();
        for o in &inst.outs {
            let d = match digest_path(self.layout.root(), o, &self.stat, Policy::Strict) {
                Ok(d) => d.map(|d| d.tagged()),
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Some(UNUSABLE.to_owned()),
                Err(e) => {
                    return Err(CheckError::Io {
                        instance: inst.id.clone(),
                        path: o.clone(),
                        message: e.to_string(),
                    })
                }
            };
            out.insert(o.clone(), d);
        }
        Ok(out)
    }

    /// Evaluates one instance. `pending_upstream` names an upstream instance that has not
    /// settled yet (it will run), in which case the key cannot be known.
    ///
    /// Declared metrics are not part of the key (a tolerance or a new field must not change
    /// it), so they are checked against what was recorded: an instance found fresh, or
    /// restorable, whose recorded metric names differ from its declared ones must run
    /// ([`Dirty::MetricsChanged`]), which records them, or fails on a field it does not write.
    pub fn evaluate(
        &self,
        inst: &Instance,
        pending_upstream: Option<&str>,
        force: bool,
    ) -> Result<State, CheckError> {
        let metrics = inst.metrics.as_deref();
        Ok(match self.evaluate_key(inst, pending_upstream, force)? {
            State::Fresh { entry, held } => match metrics_changed(metrics, &entry.metrics) {
                None => State::Fresh { entry, held },
                Some(d) => State::Run {
                    inputs: Some(Box::new(self.inputs(inst)?)),
                    reasons: vec![d],
                },
            },
            State::Restore {
                key,
                record,
                mut reasons,
            } => match metrics_changed(metrics, &record.metrics) {
                None => State::Restore {
                    key,
                    record,
                    reasons,
                },
                Some(d) => {
                    reasons.push(d);
                    State::Run {
                        inputs: Some(Box::new(self.inputs(inst)?)),
                        reasons,
                    }
                }
            },
            run => run,
        })
    }

    /// [`Self::evaluate`] by the key and the outputs alone.
    fn evaluate_key(
        &self,
        inst: &Instance,
        pending_upstream: Option<&str>,
        force: bool,
    ) -> Result<State, CheckError> {
        if let Some(up) = pending_upstream {
            return Ok(State::Run {
                inputs: None,
                reasons: vec![Dirty::UpstreamStale {
                    instance: up.to_owned(),
                }],
            });
        }
        let inputs = self.inputs(inst)?;
        if force {
            return Ok(State::Run {
                inputs: Some(Box::new(inputs)),
                reasons: vec![Dirty::Forced],
            });
        }
        let key = inputs.key();
        let ws = self.workspace_outputs(inst)?;
        let mismatch = |recorded: &BTreeMap<String, String>| -> Vec<Dirty> {
            let mut r = Vec::new();
            for o in &inst.outs {
                match (ws.get(o).cloned().flatten(), recorded.get(o)) {
                    (None, _) => r.push(Dirty::OutputMissing { path: o.clone() }),
                    (Some(a), Some(b)) if a == *b => {}
                    (Some(a), _) => {
                        let profiles = self.lock.profiles_with_output(o, &a, &self.profile);
                        r.push(if profiles.is_empty() {
                            Dirty::OutputModified { path: o.clone() }
                        } else {
                            Dirty::OutputOfProfile {
                                path: o.clone(),
                                profiles,
                            }
                        })
                    }
                }
            }
            r
        };
        let entry = self.lock_entry(&inst.id);
        if let Some(e) = entry.as_ref().filter(|e| e.key == key) {
            let bad = mismatch(&e.outs);
            if bad.is_empty() {
                let e = e.clone().into_owned();
                let held = !e.skey.is_empty();
                return Ok(State::Fresh {
                    held,
                    entry: LockEntry {
                        key,
                        outs: e.outs,
                        metrics: e.metrics,
                        // The no-op path: the lock's structural key belongs to this very key;
                        // hash again only for a lock written before structural keys existed.
                        skey: if e.skey.is_empty() {
                            inputs.structural_key()
                        } else {
                            e.skey
                        },
                    },
                });
            }
            return Ok(match self.record(&key).filter(|r| self.restorable(r)) {
                // The store's record of this key is what the workspace holds: the run was
                // repeated here (training is not bit-reproducible across machines) after the
                // lock was written, e.g. a committed lock, or one that a batch job reads while
                // its controller has not yet saved what it adopted.
                Some(record) if mismatch(&record.outputs).is_empty() => {
                    match self.damaged(&record) {
                        None => State::Fresh {
                            held: false,
                            entry: LockEntry {
                                key,
                                outs: record.outputs.clone(),
                                metrics: record.metrics.clone(),
                                skey: inputs.structural_key(),
                            },
                        },
                        Some(path) => State::Run {
                            inputs: Some(Box::new(inputs)),
                            reasons: vec![Dirty::StoredDamaged { path }],
                        },
                    }
                }
                Some(record) => State::Restore {
                    key,
                    record: Box::new(record),
                    reasons: bad,
                },
                None => State::Run {
                    inputs: Some(Box::new(inputs)),
                    reasons: bad,
                },
            });
        }
        if let Some(record) = self.record(&key).filter(|r| self.restorable(r)) {
            let bad = mismatch(&record.outputs);
            if bad.is_empty() {
                if let Some(path) = self.damaged(&record) {
                    return Ok(State::Run {
                        inputs: Some(Box::new(inputs)),
                        reasons: vec![Dirty::StoredDamaged { path }],
                    });
                }
                return Ok(State::Fresh {
                    held: false,
                    entry: LockEntry {
                        key,
                        outs: record.outputs.clone(),
                        metrics: record.metrics.clone(),
                        skey: inputs.structural_key(),
                    },
                });
            }
            return Ok(State::Restore {
                key,
                record: Box::new(record),
                reasons: bad,
            });
        }
        let reasons = match entry {
            None => vec![Dirty::NeverRun],
            Some(e) => match self.record(&e.key) {
                Some(old) => {
                    let d = diff(&old.inputs, &inputs);
                    if d.is_empty() {
                        vec![Dirty::InputsChanged]
                    } else {
                        d
                    }
                }
                None => vec![Dirty::InputsChanged],
            },
        };
        Ok(State::Run {
            inputs: Some(Box::new(inputs)),
            reasons,
        })
    }

    /// The reasons of its own that an instance waiting for a stale upstream instance has to
    /// run: what differs between the inputs recorded for its lock entry and its inputs now,
    /// apart from the dependencies that lie in or around `produced` (its upstream instances'
    /// outputs, whose content is not known until they ran). Empty when nothing can be said:
    /// no lock entry (the upstream reason says enough), no record of it (after `gc`), or an
    /// input that cannot be read (the run will report it).
    pub fn own_reasons(&self, inst: &Instance, produced: &[&str]) -> Vec<Dirty> {
        let Some(entry) = self.lock_entry(&inst.id) else {
            return Vec::new();
        };
        let Some(old) = self.record(&entry.key) else {
            return Vec::new();
        };
        let Ok(now) = self.inputs_with(inst, true) else {
            return Vec::new();
        };
        let overlaps = |a: &str, b: &str| {
            a == b
                || a.strip_prefix(b).is_some_and(|r| r.starts_with('/'))
                || b.strip_prefix(a).is_some_and(|r| r.starts_with('/'))
        };
        diff(&old.inputs, &now)
            .into_iter()
            .filter(|d| match d {
                Dirty::DepChanged { path } => !produced.iter().any(|o| overlaps(path, o)),
                _ => true,
            })
            .collect()
    }

    /// The first output of a record whose stored objects do not all hash to their names.
    /// Asked before a record that the lock does not name yet is taken as fresh: since the
    /// group commit (`cache/commit.rs`), a power cut can leave such a record on disk with an
    /// object torn, and the lock must never name a damaged object. Off the no-op path, like
    /// [`Workspace::restorable`]; it costs one read of each object.
    fn damaged(&self, record: &ActionRecord) -> Option<String> {
        record.outputs.iter().find_map(|(path, tagged)| {
            let sound = self
                .store
                .objects_of(tagged)
                .is_ok_and(|digests| digests.iter().all(|d| self.store.verify_object(d).is_ok()));
            (!sound).then(|| path.clone())
        })
    }

    /// Whether every object a record's outputs need is present: each output's object and, for
    /// a directory, every file its manifest lists (existence only; restoring re-hashes). Off
    /// the no-op path: it runs only for keys the lock does not hold with matching outputs.
    pub fn restorable(&self, record: &ActionRecord) -> bool {
        record.outputs.values().all(|t| {
            self.store
                .objects_of(t)
                .is_ok_and(|digests| digests.iter().all(|d| self.store.has(d)))
        })
    }
}
