//! The workspace locks. `repro run`, `exec` and `gc` hold `.repro/lock` exclusively for their
//! whole duration, so two controllers never publish into one workspace and cache at once. A
//! second process waits (and says so on stderr, naming the holder's pid) rather than failing.
//!
//! Batch jobs run beside their controller, without `.repro/lock`, and may outlive it (a killed
//! controller): they hold `.repro/writers.lock` shared ([`WritersLock`]), which a local writer
//! (local run, plain `exec`, `gc`) takes exclusively without waiting, so a local writer and
//! batch jobs never write the same outputs at once. A Slurm controller takes only `.repro/lock`.
//!
//! Both are OS file locks (`flock`), released by the kernel when the process dies, so a killed
//! run never leaves a stale lock behind. Limits: on a shared filesystem they hold across nodes
//! only where `flock` does (NFS since Linux 2.6.12 maps it to byte-range locks; some parallel
//! filesystems need a mount option).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::Path;

/// A held workspace lock; released on drop.
#[derive(Debug)]
pub struct WorkspaceLock {
    _file: File,
}

impl WorkspaceLock {
    /// Takes the lock file at `path` (`Layout::workspace_lock`), waiting for another holder
    /// if needed.
    pub fn acquire(path: &Path) -> io::Result<WorkspaceLock> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let _ = writeln!(
                    io::stderr(),
                    "repro: waiting for another repro process (pid {}) that holds `{}`",
                    if holder.trim().is_empty() {
                        "unknown"
                    } else {
                        holder.trim()
                    },
                    path.display()
                );
                file.lock()?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(e),
        }
        file.set_len(0)?;
        file.rewind()?;
        write!(file, "{}", std::process::id())?;
        file.flush()?;
        Ok(WorkspaceLock { _file: file })
    }
}

/// The writers' lock (`Layout::writers_lock`): batch jobs hold it shared among themselves for
/// their whole run; a local writer (a local `repro run`, `repro exec`, `gc`) holds it
/// exclusively. Neither waits for the other: a batch job may run for hours, and a batch job
/// that waited for a local run would then run beside nobody's control. Released by the kernel
/// when the process dies, like the workspace lock.
#[derive(Debug)]
pub struct WritersLock {
    _file: File,
}

impl WritersLock {
    /// Takes the writers' lock at `path` exclusively; `None` when batch jobs hold it.
    pub fn try_exclusive(path: &Path) -> io::Result<Option<WritersLock>> {
        Self::try_take(path, false)
    }

    /// Takes the writers' lock at `path` shared with other batch jobs; `None` when a local
    /// writer holds it.
    pub fn try_shared(path: &Path) -> io::Result<Option<WritersLock>> {
        Self::try_take(path, true)
    }

    fn try_take(path: &Path, shared: bool) -> io::Result<Option<WritersLock>> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let taken = if shared {
            file.try_lock_shared()
        } else {
            file.try_lock()
        };
        match taken {
            Ok(()) => Ok(Some(WritersLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_jobs_share_the_writers_lock_and_exclude_a_local_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".repro/writers.lock");
        let a = WritersLock::try_shared(&path).unwrap().expect("first job");
        let b = WritersLock::try_shared(&path).unwrap().expect("second job");
        assert!(WritersLock::try_exclusive(&path).unwrap().is_none());
        drop((a, b));
        let local = WritersLock::try_exclusive(&path).unwrap().expect("local");
        assert!(WritersLock::try_shared(&path).unwrap().is_none());
        assert!(WritersLock::try_exclusive(&path).unwrap().is_none());
        drop(local);
        assert!(WritersLock::try_shared(&path).unwrap().is_some());
    }
}
