//! Atomic publication: write to a temporary file in the destination's directory, fsync it,
//! rename it over the destination, fsync the directory. A process killed at any instant leaves
//! either the old file or the new one, never a torn file. With [`Durability::Grouped`] the
//! fsyncs are left to the caller's group commit (`commit.rs`): the rename is still atomic for a
//! killed process, and a power cut before the commit may leave a torn file, which readers must
//! detect (the store re-hashes objects; an unreadable record counts as absent).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A per-process random start for the counter: processes on different hosts of a shared
/// filesystem may have the same pid, and must still never share a temporary.
fn counter_base() -> u64 {
    static BASE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let host = std::fs::read("/proc/sys/kernel/hostname").unwrap_or_default();
        let mut seed = blake3::Hasher::new();
        seed.update(&nanos.to_le_bytes());
        seed.update(&own_pid().to_le_bytes());
        seed.update(&host);
        let bytes = seed.finalize();
        // Leave the low 32 bits for the counter.
        u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 bytes")) & !0xffff_ffff
    })
}

/// This process's id, asked once (`std::process::id` is a system call each time, and every
/// published file's temporary is named with it).
pub(crate) fn own_pid() -> u32 {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *PID.get_or_init(std::process::id)
}

/// A temporary sibling name for `dest`, unique within this process and across processes
/// (and, with a random per-process part, across hosts sharing the filesystem).
pub fn temp_sibling(dest: &Path) -> PathBuf {
    let n = counter_base() | COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = dest
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}.tmp-{}-{n}", own_pid()))
}

/// The pid that wrote a temporary named by [`temp_sibling`] (`.name.tmp-<pid>-<n>`), if the
/// name is one.
pub fn temp_owner(name: &str) -> Option<i32> {
    let rest = name.strip_prefix('.')?;
    let (_, tail) = rest.rsplit_once(".tmp-")?;
    let (pid, n) = tail.split_once('-')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
}

/// Whether a process with this pid exists.
pub fn process_alive(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks for the process; nothing is sent.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

/// When a file written by [`write_as`] or [`copy_as`] reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Before the call returns: the file is fsynced before the rename, its directory after.
    Now,
    /// At the caller's next group commit (`commit::GroupCommit`): the rename alone is atomic,
    /// so a killed process still leaves the old file or the new one; a power cut may leave a
    /// torn one, which the caller must be able to detect.
    Grouped,
}

/// Writes `bytes` to `dest` atomically, creating parent directories; durable on return.
pub fn write(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    write_as(dest, bytes, Durability::Now)
}

/// Copies `src` to `dest` atomically (same guarantees as [`write`]), keeping the executable bit.
pub fn copy(src: &Path, dest: &Path) -> io::Result<()> {
    copy_as(src, dest, Durability::Now)
}

/// [`write`], durable when `durability` says.
pub fn write_as(dest: &Path, bytes: &[u8], durability: Durability) -> io::Result<()> {
    publish(dest, durability, |tmp| {
        let mut f = File::create(tmp)?;
        f.write_all(bytes)?;
        if durability == Durability::Now {
            f.sync_all()?;
        }
        Ok(())
    })
}

/// [`copy`], durable when `durability` says.
pub fn copy_as(src: &Path, dest: &Path, durability: Durability) -> io::Result<()> {
    publish(dest, durability, |tmp| {
        fs::copy(src, tmp)?;
        if durability == Durability::Now {
            File::open(tmp)?.sync_all()?;
        }
        Ok(())
    })
}

/// Fills a temporary sibling of `dest` with `fill`, renames it over `dest` and, for
/// [`Durability::Now`], fsyncs the directory; the temporary is removed on failure. The parent
/// directories are created when the temporary cannot be (asking first cost two system calls
/// per file when they exist, as they do for all but the first of a directory's files).
fn publish(
    dest: &Path,
    durability: Durability,
    mut fill: impl FnMut(&Path) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = temp_sibling(dest);
    let result = (|| {
        in_new_dirs(dest, || fill(&tmp))?;
        fs::rename(&tmp, dest)?;
        match durability {
            Durability::Now => sync_dir(dest),
            Durability::Grouped => Ok(()),
        }
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Runs `make`, which creates a file beside `path`; if it fails with `NotFound`, creates the
/// parent directories when they are missing and runs it once more. Asking first cost a failed
/// `mkdir` and a `stat` for every file of a directory that exists. The second try comes even
/// when the parent exists by now: another process (a batch job beside this one, writing the
/// same object) may have created it between the failure and the check.
pub fn in_new_dirs<T>(path: &Path, mut make: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    match make() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => {
                if !parent.is_dir() {
                    fs::create_dir_all(parent)?;
                }
                make()
            }
            _ => Err(e),
        },
        other => other,
    }
}

/// fsyncs the directory holding `path`, so that a rename survives a crash.
pub fn sync_dir(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => Ok(()),
    }
}

/// Removes a file or a directory tree if it exists.
pub fn remove_path(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parent_created_by_another_writer_between_the_failure_and_the_check_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("objects/af/rest");
        let mut tries = 0;
        // The first try fails for want of the directory; another writer creates it before
        // the check (here, the same closure, standing in for that process).
        let wrote = in_new_dirs(&dest, || {
            tries += 1;
            if tries == 1 {
                fs::create_dir_all(dest.parent().unwrap())?;
                return Err(io::Error::from(io::ErrorKind::NotFound));
            }
            fs::write(&dest, b"x")
        });
        assert!(wrote.is_ok(), "{wrote:?}");
        assert_eq!(tries, 2);
        assert_eq!(fs::read(&dest).unwrap(), b"x");
    }

    #[test]
    fn publishing_the_same_object_from_many_threads_at_once_never_fails() {
        // Each round a fresh directory that every writer finds missing at once.
        for round in 0..300 {
            let dir = tempfile::tempdir().unwrap();
            let dest = dir.path().join(format!("objects/{round:02}/rest"));
            let start = std::sync::Barrier::new(8);
            std::thread::scope(|s| {
                for _ in 0..8 {
                    s.spawn(|| {
                        start.wait();
                        write_as(&dest, b"same", Durability::Grouped)
                            .unwrap_or_else(|e| panic!("round {round}: {e}"));
                    });
                }
            });
            assert_eq!(fs::read(&dest).unwrap(), b"same");
        }
    }

    #[test]
    fn temporaries_name_their_writer() {
        let t = temp_sibling(Path::new("/x/cache/actions/abc.json"));
        let name = t.file_name().unwrap().to_str().unwrap();
        assert_eq!(temp_owner(name), Some(std::process::id() as i32));
        assert!(process_alive(std::process::id() as i32));
        assert_eq!(temp_owner("abc.json"), None);
        assert_eq!(temp_owner(".x.tmp-y"), None);
    }
}
