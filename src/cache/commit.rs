//! Group commit: files published without a sync of their own are made durable together, by one
//! `syncfs(2)` of the store's file system on a thread of its own.
//!
//! Publishing a run's outputs used to cost two `fsync`s per file (the file, then its directory
//! for the rename), one after the other on the dispatcher's thread; for short jobs that was
//! most of the engine's time. Here the publisher writes and renames, then calls
//! [`GroupCommit::wrote`]; the committer wakes, lets the next few milliseconds' publications
//! join (none when someone already waits for the sync), syncs the whole file system once, and
//! meanwhile later publications pile up for the next sync, as a database's log does. Whoever
//! relies on durability (the lock file names what the store holds) calls
//! [`GroupCommit::settle`] first.
//!
//! What a crash may leave: a killed process loses nothing it wrote (the kernel holds it). A
//! power cut may lose or tear what was published since the last completed sync (milliseconds
//! under load), in any order: an action record whose object is empty, say. Readers already
//! treat that as absent or damaged: objects are re-hashed before they are restored, and before
//! a record that the lock does not name is taken as fresh (`workspace/check.rs`); an
//! unreadable record counts as absent.
//!
//! The price of one `syncfs`: it writes back every dirty file of the file system, the stages'
//! own outputs included (they would reach the disk within the kernel's writeback interval
//! anyway), and a writeback error of any file there is reported (Linux 5.8 and later; older
//! kernels report none). Where the store's `objects/` or `actions/` lie on another file system
//! than the store itself (a symbolic link), each is synced.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long at most the committer waits, once woken, for more publications to join its sync
/// (it syncs at once when someone waits for the sync or the owner is leaving).
const GATHER: Duration = Duration::from_millis(10);

/// A committer thread syncing the store's file systems (see the module doc).
pub(super) struct GroupCommit {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    /// The state; a thread that panicked holding it left counters that are still whole.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }
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
    /// Set when the thread has ended (or unwound): nothing pending will be synced any more.
    ended: bool,
    /// Set while the committer waits for a publication: only then does one need to wake it.
    idle: bool,
    /// Callers of [`GroupCommit::settle`] waiting now: the committer syncs at once instead of
    /// gathering more (nothing more is coming while the run waits for it).
    settling: u32,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.shared.lock();
        f.debug_struct("GroupCommit")
            .field("written", &s.written)
            .field("synced", &s.synced)
            .finish()
    }
}

impl GroupCommit {
    /// Starts a committer for the file systems holding `dirs` (each distinct one synced once).
    pub(super) fn start(dirs: &[&Path]) -> io::Result<GroupCommit> {
        GroupCommit::start_gathering(dirs, GATHER)
    }

    /// [`GroupCommit::start`], letting publications join a sync for `gather` once woken.
    fn start_gathering(dirs: &[&Path], gather: Duration) -> io::Result<GroupCommit> {
        let targets = distinct_file_systems(dirs)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("repro-commit".into())
            .spawn(move || {
                let _ended = Ended(&theirs);
                commit_loop(&theirs, &targets, gather);
            })?;
        Ok(GroupCommit {
            shared,
            thread: Some(thread),
        })
    }

    /// Announces one more publication to make durable (after its files were renamed into
    /// place), waking the committer if it waits for one.
    pub(super) fn wrote(&self) {
        let mut s = self.shared.lock();
        s.written += 1;
        // While it gathers or syncs it will see this count anyway: a wake-up is a system call.
        if s.idle {
            self.shared.changed.notify_all();
        }
    }

    /// Waits until every publication announced before this call is durable; returns the first
    /// sync that failed since the last call, if one did, and an error if the committer ended
    /// before it synced them.
    pub(super) fn settle(&self) -> io::Result<()> {
        let mut s = self.shared.lock();
        let target = s.written;
        if s.synced < target && !s.ended {
            s.settling += 1;
            self.shared.changed.notify_all();
            while s.synced < target && !s.ended {
                s = self.shared.wait(s);
            }
            s.settling -= 1;
        }
        if let Some(e) = s.failed.take() {
            return Err(e);
        }
        if s.synced < target {
            return Err(io::Error::other(
                "the thread that syncs the store ended before it synced this run's files",
            ));
        }
        Ok(())
    }

    /// How many publications were announced (for tests of the store).
    #[cfg(test)]
    pub(super) fn announced(&self) -> u64 {
        self.shared.lock().written
    }
}

impl Drop for GroupCommit {
    /// Ends the committer after it synced what was announced. A failure of that last sync is
    /// lost here: whoever needed it settled first.
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.changed.notify_all();
        if let Some(t) = self.thread.take() {
            // A panic on the committer already ended it; `settle` said so to whoever asked.
            let _ = t.join();
        }
    }
}

/// Marks the committer ended when its thread leaves, by return or by unwinding.
struct Ended<'a>(&'a Shared);

impl Drop for Ended<'_> {
    fn drop(&mut self) {
        self.0.lock().ended = true;
        self.0.changed.notify_all();
    }
}

fn commit_loop(shared: &Shared, targets: &[File], gather: Duration) {
    loop {
        {
            let mut s = shared.lock();
            while s.synced == s.written && !s.closing {
                s.idle = true;
                s = shared.wait(s);
                s.idle = false;
            }
            if s.synced == s.written {
                return; // closing, nothing pending
            }
        }
        // Let the publications of the next few milliseconds join this sync: with jobs of a
        // millisecond, a sync per announcement cost as much as the fsyncs it replaced. Not
        // when someone waits for it, or the owner is leaving: nothing more will join.
        let target = {
            let deadline = Instant::now() + gather;
            let mut s = shared.lock();
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if s.settling > 0 || s.closing || left.is_zero() {
                    break;
                }
                s = shared
                    .changed
                    .wait_timeout(s, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            // Every publication counted here was renamed into place before it was counted,
            // so the sync that starts after this read covers it.
            s.written
        };
        let result = targets.iter().try_for_each(syncfs);
        let mut s = shared.lock();
        s.synced = target;
        if let Err(e) = result {
            s.failed.get_or_insert(e);
        }
        shared.changed.notify_all();
    }
}

/// One open directory per distinct file system among `dirs` (by device number).
fn distinct_file_systems(dirs: &[&Path]) -> io::Result<Vec<File>> {
    use std::os::unix::fs::MetadataExt;
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for dir in dirs {
        let f = File::open(dir)?;
        let dev = f.metadata()?.dev();
        if !seen.contains(&dev) {
            seen.push(dev);
            out.push(f);
        }
    }
    Ok(out)
}

/// Writes back every dirty file of the file system holding `fs`, and waits for it.
#[cfg(target_os = "linux")]
fn syncfs(fs: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: syncfs(2) takes an open descriptor, which `fs` keeps open for the call.
    if unsafe { libc::syncfs(fs.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Elsewhere there is no `syncfs`: `sync(2)` writes back every file system (and says nothing
/// of failures).
#[cfg(not(target_os = "linux"))]
fn syncfs(_fs: &File) -> io::Result<()> {
    // SAFETY: sync(2) takes no arguments and touches no memory of ours.
    unsafe { libc::sync() };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(commit: &GroupCommit) -> (u64, u64) {
        let s = commit.shared.lock();
        (s.written, s.synced)
    }

    #[test]
    fn settle_waits_for_every_announced_publication() {
        let dir = tempfile::tempdir().unwrap();
        let commit = GroupCommit::start(&[dir.path(), dir.path()]).unwrap();
        assert!(
            commit.settle().is_ok(),
            "nothing announced: nothing to wait for"
        );
        for i in 0..50 {
            std::fs::write(dir.path().join(format!("f{i}")), b"x").unwrap();
            commit.wrote();
        }
        commit.settle().unwrap();
        assert_eq!(counters(&commit), (50, 50));
    }

    #[test]
    fn a_waiting_settle_cuts_the_gathering_short() {
        let dir = tempfile::tempdir().unwrap();
        // Publications may join a sync for an hour: only a settle can start it sooner.
        let commit = Arc::new(
            GroupCommit::start_gathering(&[dir.path()], Duration::from_secs(3600)).unwrap(),
        );
        commit.wrote();
        let (tx, rx) = std::sync::mpsc::channel();
        let settler = Arc::clone(&commit);
        std::thread::spawn(move || tx.send(settler.settle().is_ok()));
        let settled = rx.recv_timeout(Duration::from_secs(120));
        assert_eq!(settled, Ok(true), "the settle waited out the gathering");
        assert_eq!(counters(&commit), (1, 1));
        assert_eq!(commit.shared.lock().settling, 0);
    }

    #[test]
    fn a_committer_dropped_with_work_pending_syncs_it_first() {
        let dir = tempfile::tempdir().unwrap();
        // Publications may join a sync for an hour: the owner leaving ends the gathering.
        let commit =
            GroupCommit::start_gathering(&[dir.path()], Duration::from_secs(3600)).unwrap();
        let shared = Arc::clone(&commit.shared);
        commit.wrote();
        commit.wrote();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            drop(commit);
            tx.send(())
        });
        let dropped = rx.recv_timeout(Duration::from_secs(120));
        assert_eq!(dropped, Ok(()), "the drop waited out the gathering");
        let s = shared.lock();
        assert_eq!((s.written, s.synced, s.ended), (2, 2, true));
    }

    #[test]
    fn settling_after_the_committer_ended_is_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let commit = GroupCommit::start(&[dir.path()]).unwrap();
        // The thread ends (as it would by unwinding), and then a publication is announced.
        commit.shared.lock().closing = true;
        commit.shared.changed.notify_all();
        let mut s = commit.shared.lock();
        while !s.ended {
            s = commit.shared.wait(s);
        }
        drop(s);
        commit.wrote();
        let err = commit.settle().unwrap_err();
        assert!(err.to_string().contains("ended before it synced"), "{err}");
    }
}
