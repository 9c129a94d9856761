//! The workspace as one value: its layout, content store, stat cache, code digests and lock
//! file, for one pipeline and profile. Commands open it once; the staleness check, publishing,
//! verification and gc are its methods (one file each), so that the rules of the workspace live
//! behind one type and the store below it stays passive.

use std::io;
use std::path::PathBuf;

use crate::cache::{ActionRecord, CodeDigester, StatCache, Store, StoreError};
use crate::graph::Graph;
use crate::spec::rules::ENGINE_ENTRIES;
use crate::spec::Pipeline;

use super::layout::Layout;
use super::ledger::Ledger;
use super::lockfile::{LockEntry, LockError, LockFile};
use super::wslock::{WorkspaceLock, WritersLock};

/// An opened workspace.
pub struct Workspace<'p> {
    pub(super) pipeline: &'p Pipeline,
    pub(super) layout: Layout,
    pub(super) store: Store,
    pub(super) stat: StatCache,
    pub(super) code: CodeDigester,
    pub(super) lock: LockFile,
    /// Whether `lock` differs from `repro.lock` on disk (an entry was added or replaced by a
    /// different one, or the file is missing): a no-op run writes nothing.
    lock_changed: bool,
    pub(super) profile: String,
    notes: std::sync::Mutex<Vec<String>>,
    /// `.repro/published`, opened for appending at the first key journaled.
    journal_file: std::sync::Mutex<Option<std::fs::File>>,
    /// The workspace lock; released after the writers' lock (see the `Drop` impl).
    held: Option<WorkspaceLock>,
    /// `.repro/outputs`: the paths declared as outputs here, and what was last put there.
    pub(super) ledger: std::sync::Mutex<Ledger>,
    /// Orphans that the next run removes, left out of key inputs (`status`, dry runs).
    pub(super) hidden: Vec<String>,
    /// The writers' lock: shared in a batch job, exclusive once a local writer took it.
    writers: Option<WritersLock>,
    /// Opened by a batch job beside its controller: it publishes records and objects in the
    /// store, and writes nothing else that is shared (no journal, no `repro.lock`, no stat
    /// cache); the controller, holding the lock, takes the records in.
    pub(super) shared: bool,
    /// This machine's device models and tool versions, needed from the first publish on.
    machine: super::platform::Facts,
}

impl Drop for Workspace<'_> {
    /// Releases the writers' lock before the workspace lock: a local run waiting for the
    /// workspace lock takes the writers' lock next, and must not find this process still
    /// holding it (it would take this run for batch jobs and refuse).
    fn drop(&mut self) {
        drop(self.writers.take());
        drop(self.held.take());
    }
}

/// A failure to open, read or write the workspace.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// The content store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `repro.lock` is malformed (the user's to fix).
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The Cargo workspace at the root could not be read (the user's to fix).
    #[error("failed to read the Cargo workspace at `{root}`: {message}")]
    Code {
        /// The workspace root.
        root: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A batch job found a local writer holding the workspace.
    #[error("failed to share `{path}` with the other batch jobs: a local `repro run`, `exec` or `gc` holds it, and this job would write the same outputs beside it")]
    LocalWriter {
        /// The writers' lock.
        path: PathBuf,
    },
    /// The workspace lock could not be taken.
    #[error("failed to take the workspace lock `{path}`: {source}")]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A file of the workspace could not be read or written.
    #[error("failed to access `{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

impl WorkspaceError {
    /// Whether the user's input is at fault (exit 2) rather than the engine (exit 3).
    pub fn is_user_error(&self) -> bool {
        matches!(self, WorkspaceError::Lock(_) | WorkspaceError::Code { .. })
    }

    /// The fix, when known.
    pub fn hint(&self) -> Option<String> {
        match self {
            WorkspaceError::Lock(e) => e.hint(),
            WorkspaceError::LocalWriter { .. } => Some(
                "this job ran nothing; once the local command ends, `repro run --executor slurm` submits what is still missing".into(),
            ),
            _ => None,
        }
    }
}

impl<'p> Workspace<'p> {
    /// Opens the workspace of `pipeline` (expanded as `graph`) for reading (status, show,
    /// verify, dry runs).
    pub fn open(pipeline: &'p Pipeline, graph: &Graph) -> Result<Workspace<'p>, WorkspaceError> {
        Self::open_with(pipeline, graph, None)
    }

    /// Opens the workspace holding its lock, waiting for another holder first: for every
    /// command that publishes or deletes (run, exec, gc). The lock file is read after the
    /// lock is taken, so a waiting run sees what the previous holder wrote.
    pub fn open_exclusive(
        pipeline: &'p Pipeline,
        graph: &Graph,
    ) -> Result<Workspace<'p>, WorkspaceError> {
        let layout = Layout::new(&pipeline.root);
        let path = layout.workspace_lock();
        let held = WorkspaceLock::acquire(&path)
            .map_err(|source| WorkspaceError::Locked { path, source })?;
        Self::open_with(pipeline, graph, Some(held))
    }

    /// Opens the workspace for a batch job running while its controller holds the lock (see
    /// the `shared` field): without the workspace lock, and saving nothing but what it
    /// publishes, but holding the writers' lock shared with the other batch jobs; fails at
    /// once ([`WorkspaceError::LocalWriter`]) while a local writer holds that lock.
    pub fn open_shared(
        pipeline: &'p Pipeline,
        graph: &Graph,
    ) -> Result<Workspace<'p>, WorkspaceError> {
        let path = Layout::new(&pipeline.root).writers_lock();
        let writers = match WritersLock::try_shared(&path) {
            Ok(Some(l)) => l,
            Ok(None) => return Err(WorkspaceError::LocalWriter { path }),
            Err(source) => return Err(WorkspaceError::Locked { path, source }),
        };
        let mut ws = Self::open_with(pipeline, graph, None)?;
        ws.writers = Some(writers);
        ws.shared = true;
        Ok(ws)
    }

    /// For a local writer (holding the workspace lock): takes the writers' lock exclusively,
    /// so that no batch job of this workspace starts writing while this process does. Returns
    /// `false`, taking nothing, while batch jobs hold it (the caller refuses, naming them).
    pub fn exclude_batch_jobs(&mut self) -> Result<bool, WorkspaceError> {
        if self.writers.is_some() {
            return Ok(true);
        }
        let path = self.layout.writers_lock();
        match WritersLock::try_exclusive(&path) {
            Ok(Some(l)) => {
                self.writers = Some(l);
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(source) => Err(WorkspaceError::Locked { path, source }),
        }
    }

    fn open_with(
        pipeline: &'p Pipeline,
        graph: &Graph,
        held: Option<WorkspaceLock>,
    ) -> Result<Workspace<'p>, WorkspaceError> {
        let layout = Layout::new(&pipeline.root);
        let store = Store::open(&layout.store())?;
        let lock = LockFile::read(&layout.lock_file())?;
        let reserved = ENGINE_ENTRIES
            .iter()
            .map(|(n, _)| (*n).to_owned())
            .collect();
        let outputs = graph
            .instances
            .iter()
            .flat_map(|i| i.outs.iter().cloned())
            .collect();
        let code = CodeDigester::new(layout.root())
            .map_err(|message| WorkspaceError::Code {
                root: layout.root().to_owned(),
                message,
            })?
            .excluding(reserved, outputs);
        let profile = Self::profile_name(pipeline);
        let (ledger, damaged) = Ledger::load(&layout.outputs_ledger(), &lock, &profile);
        let notes = std::sync::Mutex::new(damaged.into_iter().collect());
        let lock_changed = !layout.lock_file().exists();
        Ok(Workspace {
            pipeline,
            stat: StatCache::load(&layout.stat_cache()),
            layout,
            store,
            code,
            lock_changed,
            lock,
            profile,
            notes,
            ledger: std::sync::Mutex::new(ledger),
            hidden: Vec::new(),
            journal_file: std::sync::Mutex::new(None),
            held,
            writers: None,
            shared: false,
            machine: super::platform::Facts::default(),
        })
    }

    /// The lock-file profile name for `pipeline` (`default` without profiles).
    pub fn profile_name(pipeline: &Pipeline) -> String {
        pipeline
            .profile
            .clone()
            .unwrap_or_else(|| "default".to_owned())
    }

    /// The pipeline this workspace was opened for.
    pub fn pipeline(&self) -> &'p Pipeline {
        self.pipeline
    }

    /// Where everything lives.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The profile name under which lock entries are kept.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// This machine's device models and tool versions (gathered once: at the first use, or
    /// on a thread since [`Workspace::gather_machine_soon`]).
    pub fn machine(&self) -> &super::platform::Machine {
        self.machine.get(self.pipeline, self.layout.root())
    }

    /// Starts gathering [`Workspace::machine`]'s facts on a thread of their own, once: called
    /// when a job is about to run, so that its publication finds them ready.
    pub(super) fn gather_machine_soon(&self) {
        self.machine.start(self.pipeline, self.layout.root());
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The lock entry of an instance under this profile.
    pub fn lock_entry(&self, id: &str) -> Option<std::borrow::Cow<'_, LockEntry>> {
        self.lock.get(&self.profile, id)
    }

    /// Publishes into the store by group commit from now on (`cache/commit.rs`): a run's
    /// objects and records are synced together, off the dispatcher's thread, and
    /// [`Workspace::save`] waits for them before it writes the lock.
    pub fn group_commits(&self) -> Result<(), WorkspaceError> {
        Ok(self.store.group_commits()?)
    }

    /// The action record of `key`, if cached and readable. An unreadable record (truncated,
    /// not JSON) counts as absent, so the instance runs again and its record is rewritten;
    /// the fact is kept as a note for the user ([`Workspace::take_notes`]).
    pub fn record(&self, key: &str) -> Option<ActionRecord> {
        let path = self.store.action_path(key);
        match ActionRecord::read(&path) {
            Ok(r) => r,
            Err(e) => {
                self.note(format!(
                    "ignoring the unreadable action record `{}` ({e}); its instance runs again",
                    path.display()
                ));
                None
            }
        }
    }

    /// Keeps a note for the user, once.
    pub(super) fn note(&self, text: String) {
        let mut notes = self.notes.lock().expect("notes");
        if !notes.contains(&text) {
            notes.push(text);
        }
    }

    /// The notes gathered since the last call (unreadable records and the like), for the
    /// caller to show.
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.notes.lock().expect("notes"))
    }

    /// Saves the stat cache only (read-only commands; a failure costs only speed next time).
    pub fn save_stat_cache(&self) -> io::Result<()> {
        self.stat.save(&self.layout.stat_cache())
    }

    /// Saves `repro.lock`, then the stat cache, after a command that changed them. The lock
    /// comes first and a stat-cache failure is only a note: the stat cache is advisory (a
    /// lost one costs re-hashing), the lock is the record of what completed.
    pub fn save(&self) -> Result<(), WorkspaceError> {
        // What the lock will name must be on disk first (nothing to wait for without a group
        // commit, as in a batch job, whose files were fsynced one by one).
        self.store.settle()?;
        if self.shared {
            return Ok(());
        }
        if self.lock_changed {
            let lock = self.layout.lock_file();
            self.lock
                .write(&lock)
                .map_err(|source| WorkspaceError::Io { path: lock, source })?;
        }
        // The lock now holds every key the journal named (or a newer one for its instance).
        *self.journal_file.lock().expect("journal") = None;
        let _ = crate::cache::atomic::remove_path(&self.layout.journal());
        let ledger = self.layout.outputs_ledger();
        if let Err(e) = self.ledger.lock().expect("ledger").save(&ledger) {
            self.note(format!(
                "cannot save `{}` ({e}); outputs published by this run that later leave the pipeline will need removing by hand",
                ledger.display()
            ));
        }
        let stat = self.layout.stat_cache();
        if let Err(e) = self.stat.save(&stat) {
            self.note(format!(
                "cannot save the stat cache `{}` ({e}); the next command re-hashes outputs",
                stat.display()
            ));
        }
        Ok(())
    }

    pub(super) fn set_entry(&mut self, id: &str, entry: LockEntry) {
        self.note_outputs(&entry.outs);
        // Read once for both questions: the no-op path asks them of every instance.
        let (same_key, same) = match self.lock.get(&self.profile, id) {
            Some(held) => (held.key == entry.key, *held == entry),
            None => (false, false),
        };
        // The no-op path keeps the key the lock already holds: nothing to journal.
        if !same_key {
            self.journal(&entry.key);
        }
        if !same {
            self.replace_entry(id, entry);
        }
    }

    /// Notes `outs` (path to digest) as what the workspace's outputs hold now (`.repro/outputs`).
    pub(super) fn note_outputs(&mut self, outs: &std::collections::BTreeMap<String, String>) {
        self.ledger.get_mut().expect("ledger").record(outs);
    }

    /// Puts `entry` into the lock, noting whether the lock now differs from the file.
    pub(super) fn put_entry(&mut self, id: &str, entry: LockEntry) {
        if self.lock.get(&self.profile, id).as_deref() != Some(&entry) {
            self.replace_entry(id, entry);
        }
    }

    /// Puts `entry`, known to differ from the lock's, into the lock (every change to the lock
    /// goes through here), noting that the lock now differs from the file.
    fn replace_entry(&mut self, id: &str, entry: LockEntry) {
        self.lock_changed = true;
        self.lock.insert(&self.profile, id, entry);
    }

    /// Appends `key` to the journal of keys the lock file does not hold yet, so that `gc`
    /// after a killed run keeps what that run published. Not fsynced: a killed process loses
    /// nothing it wrote, and after a power loss the worst case is re-running that work.
    pub(super) fn journal(&self, key: &str) {
        use std::io::Write;
        if self.shared {
            // The controller's submission registry keeps the key from `gc`.
            return;
        }
        let path = self.layout.journal();
        let mut file = self.journal_file.lock().expect("journal");
        if file.is_none() {
            let _ = std::fs::create_dir_all(self.layout.private());
            *file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| {
                    self.note(format!("cannot open `{}` ({e})", path.display()));
                })
                .ok();
        }
        let Some(f) = file.as_mut() else { return };
        let written = f.write_all(format!("{key}\n").as_bytes());
        if let Err(e) = written {
            self.note(format!(
                "cannot append to `{}` ({e}); `gc` before the next completed run may delete this run's work",
                path.display()
            ));
        }
    }

    /// The keys in the journal (hex digests only; anything else is ignored).
    pub(super) fn journal_keys(&self) -> Vec<String> {
        std::fs::read_to_string(self.layout.journal())
            .unwrap_or_default()
            .lines()
            .filter(|k| crate::cache::is_digest(k))
            .map(str::to_owned)
            .collect()
    }
}
