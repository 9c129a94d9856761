//! Group commit: files published without a sync of their own are made durable together, by one
//! `syncfs(2)` of the store's file system on a thread of its own.
//!
//! Publishing a run's outputs used to cost two `fsync`s per file (the file, then its directory
//! for the rename), one after the other on the dispatcher's thread; for short jobs that was
//! most of the engine's time. Here the publisher writes and renames, then calls
//! [`GroupCommit::wrote`]; the committer wakes, lets the next few milliseconds' publications
//! join, syncs the whole file system once, and meanwhile later publications pile up for the
//! next sync, as a database's log does. Whoever relies on
//! durability (the lock file names what the store holds) calls [`GroupCommit::settle`] first.
//!
//! What a crash may leave: a killed process loses nothing it wrote (the kernel holds it). A
//! power cut may lose or tear what was published since the last completed sync (milliseconds
//! under load), in any order: an action record whose object is empty, say. Every reader already
//! treats that as absent: objects are re-hashed before they are restored or trusted, an
//! unreadable record counts as absent and its instance runs again.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the committer waits, once woken, for more publications to join its sync.
const GATHER: Duration = Duration::from_millis(10);

/// A committer thread syncing one file system (see the module doc).
pub(super) struct GroupCommit {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Publications announced so far.
    written: u64,
    /// Publications known durable (every one announced before the last sync began).
    synced: u64,
    /// The first failed sync since the last [`GroupCommit::settle`].
    failed: Option<io::Error>,
    /// Set when the owner is dropped: the thread syncs what is pending and ends.
    closing: bool,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.shared.state.lock().expect("commit state");
        f.debug_struct("GroupCommit")
            .field("written", &s.written)
            .field("synced", &s.synced)
            .finish()
    }
}

impl GroupCommit {
    /// Starts a committer for the file system holding `dir`.
    pub(super) fn start(dir: &Path) -> io::Result<GroupCommit> {
        let fs = File::open(dir)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("repro-commit".into())
            .spawn(move || commit_loop(&theirs, &fs))?;
        Ok(GroupCommit {
            shared,
            thread: Some(thread),
        })
    }

    /// Announces one more publication to make durable (after its files were renamed into
    /// place), waking the committer.
    pub(super) fn wrote(&self) {
        let mut s = self.shared.state.lock().expect("commit state");
        s.written += 1;
        self.shared.changed.notify_all();
    }

    /// Waits until every publication announced before this call is durable; returns the first
    /// sync that failed since the last call, if one did.
    pub(super) fn settle(&self) -> io::Result<()> {
        let mut s = self.shared.state.lock().expect("commit state");
        let target = s.written;
        while s.synced < target {
            s = self.shared.changed.wait(s).expect("commit state");
        }
        match s.failed.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Drop for GroupCommit {
    /// Ends the committer after it synced what was announced.
    fn drop(&mut self) {
        self.shared.state.lock().expect("commit state").closing = true;
        self.shared.changed.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn commit_loop(shared: &Shared, fs: &File) {
    loop {
        let target = {
            let mut s = shared.state.lock().expect("commit state");
            while s.synced == s.written && !s.closing {
                s = shared.changed.wait(s).expect("commit state");
            }
            if s.synced == s.written {
                return; // closing, nothing pending
            }
            s.written
        };
        // Let the publications of the next few milliseconds join this sync: with jobs of a
        // millisecond, a sync per announcement cost as much as the fsyncs it replaced.
        std::thread::sleep(GATHER);
        let target = shared
            .state
            .lock()
            .expect("commit state")
            .written
            .max(target);
        let result = syncfs(fs);
        let mut s = shared.state.lock().expect("commit state");
        s.synced = target;
        if let Err(e) = result {
            s.failed.get_or_insert(e);
        }
        shared.changed.notify_all();
    }
}

/// Writes back every dirty file of the file system holding `fs`, and waits for it.
fn syncfs(fs: &File) -> io::Result<()> {
    // SAFETY: syncfs(2) takes an open descriptor, which `fs` keeps open for the call.
    if unsafe { libc::syncfs(fs.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settle_waits_for_every_announced_publication() {
        let dir = tempfile::tempdir().unwrap();
        let commit = GroupCommit::start(dir.path()).unwrap();
        assert!(
            commit.settle().is_ok(),
            "nothing announced: nothing to wait for"
        );
        for i in 0..50 {
            std::fs::write(dir.path().join(format!("f{i}")), b"x").unwrap();
            commit.wrote();
        }
        commit.settle().unwrap();
        let s = commit.shared.state.lock().unwrap();
        assert_eq!((s.written, s.synced), (50, 50));
    }

    #[test]
    fn a_committer_dropped_with_work_pending_syncs_it_first() {
        let dir = tempfile::tempdir().unwrap();
        let commit = GroupCommit::start(dir.path()).unwrap();
        let shared = Arc::clone(&commit.shared);
        commit.wrote();
        commit.wrote();
        drop(commit);
        let s = shared.state.lock().unwrap();
        assert_eq!((s.written, s.synced), (2, 2));
    }
}
