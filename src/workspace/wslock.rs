//! The workspace lock: `repro run`, `exec` and `gc` hold `.repro/lock` exclusively for their
//! whole duration, so two processes never publish into one workspace and cache at once. A
//! second process waits (and says so on stderr, naming the holder's pid) rather than failing.
//! The lock is an OS file lock (`flock`), released by the kernel when the process dies, so a
//! killed run never leaves a stale lock behind.

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
