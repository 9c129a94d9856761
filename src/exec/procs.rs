//! Finding and ending a run's processes by the token in their environment.
//!
//! Every job's environment carries `REPRO_JOB_TOKEN=<run>/<job>`. A process group reaches only
//! the processes that stayed in it; a stage that calls `setsid`, or whose children outlive a
//! killed engine, escapes it, but not its inherited environment. Scanning `/proc/*/environ`
//! (readable for one's own processes) finds them all. Limits: a process that clears its
//! environment is not found, nor one caught inside `exec` after its old memory is gone and
//! before its new environment is in place (its `environ` reads empty for that instant); Linux
//! only (elsewhere nothing is found).
//!
//! A scan reads one `environ` per process on the machine, and every local job ends with one.
//! A job's scans are narrowed by a [`Mark`] taken before it starts: pid numbers are handed out
//! in increasing order, wrapping at `pid_max`, so every process created since the mark has a
//! pid above the mark's last pid, unless the numbers wrapped around, which the kernel's fork
//! counter rules out or betrays. Only those pids are read (a wide run of short jobs read
//! hundreds of thousands of `environ` files otherwise), each opened by its number while there
//! are few of them, without listing `/proc` (see `probe`); every process is read when
//! the counters cannot be read, when the numbers may have wrapped, when `/proc` belongs to
//! another pid namespace than the engine's, and for a job that ran longer than
//! [`NARROW_WITHIN`]. The last because a fork refused by a cgroup's `pids.max` moves the pid
//! cursor without counting as a fork: a job that spins on such refusals could wrap the
//! numbers unseen, but not 32,000 times in a second.
//!
//! Most jobs create no process that outlives them, and most scans find nothing. The engine
//! counts the processes it starts (`count_start`); when the fork counter moved by exactly
//! that many since a job's mark, every process created since is one of the engine's own jobs,
//! and the job's scan is left out ([`Mark::only_starts_since`]). The two counter files are
//! kept open and read with one `pread` each.

use std::time::{Duration, Instant};

/// The environment variable that marks a job's processes.
pub const TOKEN_VAR: &str = "REPRO_JOB_TOKEN";

/// The pids below which no process is ever given (the kernel's `RESERVED_PIDS`): a wrap goes
/// back to here.
const RESERVED_PIDS: u64 = 300;

/// How long after its mark a job's scans may be narrowed (see the module doc).
pub const NARROW_WITHIN: Duration = Duration::from_secs(1);

/// Where process creation stood at an instant: the last pid handed out and the number of
/// forks (processes and threads) since boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    last_pid: i32,
    forks: u64,
    /// At most how many tasks held a pid then (see [`tasks_bound`]).
    tasks: u64,
    /// How many processes this engine had started through [`count_start`] when `forks` was
    /// read (see [`Mark::only_starts_since`]).
    started: u64,
    at: Instant,
}

impl Mark {
    /// Now; `None` where the counters cannot be read (another OS, no `/proc`) or `/proc` shows
    /// another pid namespace than this process's (its pids would not be the ones listed).
    pub fn now() -> Option<Mark> {
        if !same_pid_namespace() {
            return None;
        }
        // A task count older than the forks read below, so that it bounds the tasks then.
        let count = task_count()?;
        // Forks first: a fork between the two reads has a pid at or below `last_pid` and is
        // not the job's (its processes are created after the mark).
        let (forks, started) = forks_and_starts()?;
        let last_pid = last_pid()?;
        let mark = Mark {
            last_pid,
            forks,
            tasks: tasks_bound(count, forks)?,
            started,
            at: Instant::now(),
        };
        *LATEST
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(mark);
        Some(mark)
    }

    /// Whether every process created since this mark is one that [`count_start`] started
    /// (the fork counter moved by exactly as many): then none descends from a job, so a job
    /// whose own process was reaped left nothing to find. One read of the fork counter, where
    /// a scan reads the pid cursor twice and probes the pids above the mark. Exact, and
    /// whatever the time since the mark: every process the kernel creates, thread or not,
    /// counts as a fork, and a count that the engine's own threads (or anything else on the
    /// machine) moved answers `false`.
    pub fn only_starts_since(&self) -> bool {
        forks_and_starts().is_some_and(|now| self.only_starts_until(now))
    }

    /// [`Mark::only_starts_since`] with the counters `(forks, started)` read later.
    fn only_starts_until(&self, (forks, started): (u64, u64)) -> bool {
        let created = forks.checked_sub(self.forks);
        created.is_some() && created == started.checked_sub(self.started)
    }

    /// A mark for what starts now, without reading the counters when a narrowed scan or a
    /// [`Mark::now`] read them less than [`REUSE_WITHIN`] ago: that reading (forks first, then
    /// the last pid) is a mark of its instant, and any earlier mark is one for what starts
    /// later. It widens a scan only by the pids handed out in between, which are probed and
    /// passed over, and [`Mark::only_starts_since`] by the processes started in between, which
    /// it counts. A job's end scans, and the next job starts right after: the dispatcher read
    /// the same two counters twice per job.
    pub fn recent() -> Option<Mark> {
        let latest = *LATEST
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match latest {
            Some(m) if m.at.elapsed() < REUSE_WITHIN => Some(m),
            _ => Mark::now(),
        }
    }
}

/// How old a scan's reading may be for [`Mark::recent`] to return it.
const REUSE_WITHIN: Duration = Duration::from_millis(10);

/// The reading the last narrowed scan ended with, or the last [`Mark::now`] (see
/// [`Mark::recent`]).
static LATEST: std::sync::Mutex<Option<Mark>> = std::sync::Mutex::new(None);

/// How many processes [`count_start`] started. Every start holds this lock from before its
/// process exists until it is counted, and every reading of the fork counter that is paired
/// with the count holds it too ([`forks_and_starts`]): no pair sees a process that the
/// count does not yet hold.
static STARTED: std::sync::Mutex<u64> = std::sync::Mutex::new(0);

/// Starts one process with `start` and counts it, for [`Mark::only_starts_since`]. `start`
/// must have created exactly one process when it returns `Ok`: a start counted without a
/// process would let one other process go unseen. A start that creates a process and still
/// fails leaves it uncounted: the counts then differ, and the scan runs.
pub(crate) fn count_start<T, E>(start: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    let mut started = STARTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let result = start();
    if result.is_ok() {
        *started += 1;
    }
    result
}

/// The fork counter with the count of processes started through [`count_start`] before it
/// was read.
fn forks_and_starts() -> Option<(u64, u64)> {
    let started = STARTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Some((forks()?, *started))
}

/// Whether `/proc` shows this process's pid namespace (asked once: neither changes).
fn same_pid_namespace() -> bool {
    static SAME: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SAME.get_or_init(|| {
        std::fs::read_link("/proc/self")
            .ok()
            .and_then(|me| me.to_str()?.parse::<u32>().ok())
            == Some(std::process::id())
    })
}

/// The lowest pid that processes created since `mark` can have, given the last pid handed out
/// now, the fork counter now (read after `last_pid`) and `pid_max`; `None` when the numbers may
/// have wrapped around (every pid is possible). Handing out a pid moves the cursor past one
/// free number and any taken ones; from the mark's cursor it comes back to it only after
/// passing every number from `RESERVED_PIDS` to `pid_max`, each either handed out since (a
/// fork, counted) or taken when passed by a task that already held it at the mark, as its
/// own pid or as the id of its process group or session (at most three per task). No upper
/// bound: a process created after these reads (a daemon's child, its parent gone) has a higher
/// pid and must still be found.
fn created_since(mark: Mark, last_pid: i32, forks: u64, pid_max: i32) -> Option<i32> {
    let created = forks.checked_sub(mark.forks)?;
    let free = u64::try_from(pid_max)
        .ok()?
        .checked_sub(RESERVED_PIDS + 3 * mark.tasks)?;
    (created < free && last_pid >= mark.last_pid).then(|| mark.last_pid.saturating_add(1))
}

/// The pids that processes created since `mark` can have: from the lowest ([`created_since`],
/// with today's counters) to the last pid handed out when the counters were read, with the
/// counters; `None` past [`NARROW_WITHIN`] of the mark, when the counters cannot be read, or
/// when the numbers may have wrapped around.
fn pids_since(mark: Mark) -> Option<(std::ops::RangeInclusive<i32>, Reading)> {
    if mark.at.elapsed() > NARROW_WITHIN {
        return None;
    }
    // A task count older than the forks read below (for the mark this scan leaves).
    let count = task_count()?;
    // The last pid before the forks: every fork up to the range's end is counted.
    let last_pid = last_pid()?;
    let at = Instant::now();
    let (forks, started) = forks_and_starts()?;
    let lowest = created_since(mark, last_pid, forks, pid_max()?)?;
    let reading = Reading {
        forks,
        tasks: tasks_bound(count, forks)?,
        started,
        at,
    };
    Some((lowest..=last_pid, reading))
}

/// The counters a scan read, before the last pid that ends it: with that pid, a mark.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Reading {
    forks: u64,
    tasks: u64,
    started: u64,
    at: Instant,
}

/// A count of the tasks that hold a pid (`/proc/loadavg`) with the forks since boot read just
/// before it, read again when older than a second (reading the count at every job cost a file
/// read per job). Its caller reads its own counters after this call, so that the count is
/// older than they are.
fn task_count() -> Option<(u64, u64)> {
    static LAST: std::sync::Mutex<Option<(Instant, u64, u64)>> = std::sync::Mutex::new(None);
    let mut last = LAST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match *last {
        Some((at, tasks, forks)) if at.elapsed() < Duration::from_secs(1) => Some((tasks, forks)),
        _ => {
            let forks = forks()?;
            let mut buf = Vec::new();
            read_proc(c"/proc/loadavg", &mut buf, true)?;
            // "0.74 1.02 1.04 1/89 28418": 89 tasks hold a pid.
            let tasks = std::str::from_utf8(&buf)
                .ok()?
                .split_whitespace()
                .nth(3)?
                .split_once('/')?
                .1
                .parse()
                .ok()?;
            *last = Some((Instant::now(), tasks, forks));
            Some((tasks, forks))
        }
    }
}

/// At most how many tasks hold a pid when the fork counter reads `forks`, from a count
/// ([`task_count`]) taken before: a task then either held a pid at the count or was forked
/// since. `None` when the count is newer than `forks` (it bounds nothing then).
fn tasks_bound((tasks, forks_then): (u64, u64), forks: u64) -> Option<u64> {
    Some(tasks + forks.checked_sub(forks_then)?)
}

/// At most this many pids are probed one by one (an `open` each, most failing); a wider range
/// since the mark is found by listing `/proc` (a `getdents` that costs about as much as 100
/// probes on a quiet machine, and builds a cache entry for every process on it).
const PROBE_AT_MOST: i32 = 256;

/// Why [`probe`] gave up: the caller lists `/proc` instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GaveUp {
    /// More than [`PROBE_AT_MOST`] pids: list those from the range's start.
    Wide,
    /// The last pid went backwards (the numbers wrapped around) or could not be read: any
    /// pid may be new, so list them all.
    Lost,
}

/// The pids in `range` that `matches` (a process carrying the token), probed one after the
/// other, then those handed out while probing (each time `last_pid` moved on, the pids it
/// passed), until the last pid stands still: what a listing of `/proc` from `range.start()`
/// would find, in the same increasing order. `last_pid` reads the pid cursor
/// (`ns_last_pid`).
fn probe(
    range: std::ops::RangeInclusive<i32>,
    matches: impl Fn(i32) -> bool,
    mut last_pid: impl FnMut() -> Option<i32>,
) -> Result<Vec<i32>, GaveUp> {
    let (mut next, mut last) = range.into_inner();
    let mut budget = PROBE_AT_MOST;
    let mut found = Vec::new();
    loop {
        budget -= (last - next + 1).max(0);
        if budget < 0 {
            return Err(GaveUp::Wide);
        }
        found.extend((next..=last).filter(|&pid| matches(pid)));
        let now = last_pid().ok_or(GaveUp::Lost)?;
        match now.cmp(&last) {
            std::cmp::Ordering::Equal => return Ok(found),
            std::cmp::Ordering::Less => return Err(GaveUp::Lost),
            std::cmp::Ordering::Greater => (next, last) = (last + 1, now),
        }
    }
}

/// Whether `pid` is a process rather than another thread of one (`Tgid` in its status).
fn leads_its_group(pid: i32) -> bool {
    let Ok(path) = std::ffi::CString::new(format!("/proc/{pid}/status")) else {
        return false;
    };
    let mut status = Vec::new();
    read_proc(&path, &mut status, false).is_some()
        && std::str::from_utf8(&status).is_ok_and(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Tgid:"))
                .and_then(|tgid| tgid.trim().parse::<i32>().ok())
                == Some(pid)
        })
}

/// `pid_max`, read at most once a second (a scan after every job read it each time; an
/// administrator may change it, so it is not kept for the whole run).
fn pid_max() -> Option<i32> {
    static LAST: std::sync::Mutex<Option<(Instant, i32)>> = std::sync::Mutex::new(None);
    let mut last = LAST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match *last {
        Some((at, max)) if at.elapsed() < Duration::from_secs(1) => Some(max),
        _ => {
            let max = read_number(c"/proc/sys/kernel/pid_max")?;
            *last = Some((Instant::now(), max));
            Some(max)
        }
    }
}

/// The last pid handed out in this pid namespace.
fn last_pid() -> Option<i32> {
    static CURSOR: Kept = Kept::new(c"/proc/sys/kernel/ns_last_pid");
    let mut buf = [0u8; 32];
    let n = CURSOR.read_into(&mut buf)?;
    // A full buffer may have been cut short: no pid is that long.
    (n < buf.len())
        .then(|| std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok())
        .flatten()
}

/// A counter file of `/proc`, opened once and read again from its start with one `pread`
/// each time (its text is made anew at offset 0). Opening it for every reading cost an
/// `open` and a `close`, and a second `read` to see the end, for each of the two counters
/// read at every job's end.
struct Kept {
    path: &'static std::ffi::CStr,
    /// The descriptor, once opened (a failed open is tried again at the next reading: one
    /// short of descriptors at the first must not make every later scan list all of `/proc`).
    fd: std::sync::OnceLock<std::os::fd::OwnedFd>,
}

impl Kept {
    const fn new(path: &'static std::ffi::CStr) -> Kept {
        Kept {
            path,
            fd: std::sync::OnceLock::new(),
        }
    }

    /// Reads the file from its start into `buf`; the number of bytes read (the whole file
    /// when fewer than `buf.len()`).
    fn read_into(&self, buf: &mut [u8]) -> Option<usize> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let fd = match self.fd.get() {
            Some(fd) => fd.as_raw_fd(),
            None => {
                // SAFETY: `path` is NUL-terminated. The descriptor is kept for the process's
                // life (closed on `exec`).
                let fd =
                    unsafe { libc::open(self.path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
                if fd < 0 {
                    return None;
                }
                // SAFETY: a new descriptor that nothing else owns. Another thread may have
                // set one first: this one is then closed, and that one is used.
                let owned = unsafe { OwnedFd::from_raw_fd(fd) };
                let _ = self.fd.set(owned);
                self.fd.get()?.as_raw_fd()
            }
        };
        loop {
            // SAFETY: reads at most `buf.len()` bytes into `buf`.
            let n = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n >= 0 {
                return Some(n as usize);
            }
            if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                return None;
            }
        }
    }

    /// Reads the whole file into `buf`, whose capacity is kept from one reading to the next
    /// (grown until the file fits with room to spare).
    fn read_all(&self, buf: &mut Vec<u8>) -> Option<()> {
        buf.resize(buf.capacity().max(4096), 0);
        loop {
            let n = self.read_into(buf)?;
            if n < buf.len() {
                buf.truncate(n);
                return Some(());
            }
            // Filled: perhaps cut short. Read it again into twice the room.
            buf.resize(buf.len() * 2, 0);
        }
    }
}

/// The number a one-line file of `/proc` holds.
fn read_number<T: std::str::FromStr>(path: &std::ffi::CStr) -> Option<T> {
    let mut buf = Vec::new();
    read_proc(path, &mut buf, true)?;
    std::str::from_utf8(&buf).ok()?.trim().parse().ok()
}

/// Forks since boot (`processes` in `/proc/stat`).
fn forks() -> Option<u64> {
    // One buffer per thread, kept: `/proc/stat` is a few kilobytes on a small machine (one
    // line per CPU, one count per interrupt), far more on a large one.
    thread_local! {
        static STAT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    static FILE: Kept = Kept::new(c"/proc/stat");
    STAT.with_borrow_mut(|stat| {
        FILE.read_all(stat)?;
        let at = stat.windows(11).position(|w| w == b"\nprocesses ")?;
        let rest = &stat[at + 11..];
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        std::str::from_utf8(&rest[..end]).ok()?.trim().parse().ok()
    })
}

/// A file of `/proc`, into `buf` (emptied first, grown as needed): one `open`, `read`s, one
/// `close`, and no `stat` (these files report a size of 0, so `fs::read_to_string` asks for
/// it, then reads again to see the end). A `one_line` file (`ns_last_pid`, `loadavg`) comes
/// whole in one `read`: its newline ends it.
fn read_proc(path: &std::ffi::CStr, buf: &mut Vec<u8>, one_line: bool) -> Option<()> {
    buf.clear();
    // SAFETY: `path` is NUL-terminated; the descriptor is closed below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return None;
    }
    let complete = loop {
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(buf.capacity().max(16 * 1024));
        }
        let spare = buf.spare_capacity_mut();
        // SAFETY: reads into the vector's spare capacity, whose length is given.
        let n = unsafe { libc::read(fd, spare.as_mut_ptr().cast(), spare.len()) };
        match n {
            0 => break true,
            n if n > 0 => {
                // SAFETY: the kernel initialised the `n` bytes after the current length.
                unsafe { buf.set_len(buf.len() + n as usize) };
                if one_line && buf.last() == Some(&b'\n') {
                    break true;
                }
            }
            _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
            _ => break false,
        }
    };
    // SAFETY: `fd` was opened above and is closed once.
    unsafe { libc::close(fd) };
    complete.then_some(())
}

/// The pids of the processes whose `REPRO_JOB_TOKEN` starts with `prefix`.
pub fn find(prefix: &str) -> Vec<i32> {
    find_since(prefix, None)
}

/// [`find`] among the processes created since `mark` (all of them without one, or when that
/// set cannot be told).
pub fn find_since(prefix: &str, mark: Option<Mark>) -> Vec<i32> {
    find_since_except(prefix, mark, |_| false)
}

/// [`find_since`], passing over the pids for which `known` is true: processes that cannot
/// carry the token (the engine's own other jobs' children, not yet reaped), whose environment
/// need not be read.
pub fn find_since_except(
    prefix: &str,
    mark: Option<Mark>,
    known: impl Fn(i32) -> bool,
) -> Vec<i32> {
    let needle = format!("{TOKEN_VAR}={prefix}");
    let me = crate::cache::atomic::own_pid() as i32;
    let carries = |pid: i32| {
        pid != me
            && !known(pid)
            && environ(pid).is_some_and(|env| {
                env.split(|b| *b == 0)
                    .any(|var| var.starts_with(needle.as_bytes()))
            })
    };
    let since = mark.and_then(pids_since);
    let lowest = match since {
        Some((range, reading)) => {
            let low = *range.start();
            // Thread ids are probed too (a listing hides them): a match must lead its group.
            let matches = |pid| carries(pid) && leads_its_group(pid);
            let mut cursor = None;
            let read = || {
                cursor = last_pid();
                cursor
            };
            match probe(range, matches, read) {
                Ok(found) => {
                    // The forks, then the last pid, read after them: a mark (`Mark::recent`).
                    if let Some(last_pid) = cursor {
                        *LATEST
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Mark {
                            last_pid,
                            forks: reading.forks,
                            tasks: reading.tasks,
                            started: reading.started,
                            at: reading.at,
                        });
                    }
                    return found;
                }
                Err(GaveUp::Wide) => Some(low),
                Err(GaveUp::Lost) => None,
            }
        }
        None => None,
    };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter(|&pid| lowest.is_none_or(|low| pid >= low) && carries(pid))
        .collect()
}

/// A process's environment (`/proc/PID/environ`), read into a buffer that holds a usual one
/// at the first `read` (`fs::read` asks for the file's size, which this file reports as 0,
/// and then grows its buffer from 32 bytes up, a `read` each time).
fn environ(pid: i32) -> Option<Vec<u8>> {
    let path = std::ffi::CString::new(format!("/proc/{pid}/environ")).ok()?;
    let mut env = Vec::with_capacity(16 * 1024);
    read_proc(&path, &mut env, false)?;
    Some(env)
}

fn signal_all(pids: &[i32], signal: i32) {
    for &pid in pids {
        // SAFETY: kill(2) sends a signal; no memory is involved.
        unsafe { libc::kill(pid, signal) };
    }
}

/// Sends `signal` to every process marked with `prefix` (no waiting).
pub fn signal(prefix: &str, signal: i32) {
    signal_all(&find(prefix), signal);
}

/// Ends every process marked with `prefix`: SIGTERM, then SIGKILL after `grace`, and waits
/// (up to `grace` more) until none is left. Returns how many were found at first.
pub fn end_all(prefix: &str, grace: Duration) -> usize {
    end_and_confirm(prefix, grace, None).0
}

/// [`end_all`] among the processes created since `mark` (see [`find_since`]), also returning
/// the pids still alive at the end (empty: all confirmed gone). When the first scan finds
/// nothing, that scan is the confirmation: one scan of `/proc`.
pub fn end_and_confirm(prefix: &str, grace: Duration, mark: Option<Mark>) -> (usize, Vec<i32>) {
    let find = |prefix: &str| find_since(prefix, mark);
    let first = find(prefix);
    if first.is_empty() {
        return (0, first);
    }
    signal_all(&first, libc::SIGTERM);
    let deadline = Instant::now() + grace;
    let mut left = first.clone();
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        left = find(prefix);
    }
    let deadline = Instant::now() + grace;
    while !left.is_empty() && Instant::now() < deadline {
        signal_all(&left, libc::SIGKILL);
        std::thread::sleep(Duration::from_millis(20));
        left = find(prefix);
    }
    (first.len(), left)
}

/// The files under `dir` that processes of this user hold open, each with the lowest pid that
/// holds it (the first process of a job, as a rule): one scan of `/proc/*/fd`. Linux only
/// (elsewhere nothing is found).
pub fn open_files_under(
    dir: &std::path::Path,
) -> std::collections::HashMap<std::path::PathBuf, i32> {
    let mut held = std::collections::HashMap::new();
    let Ok(dir) = std::fs::canonicalize(dir) else {
        return held;
    };
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return held;
    };
    for pid in procs
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
    {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                if target.starts_with(&dir) {
                    let e = held.entry(target).or_insert(pid);
                    *e = (*e).min(pid);
                }
            }
        }
    }
    held
}

/// Waits (up to 10 s) until `n` processes carry a token starting with `prefix`: a spawned
/// child shows the job's environment only once its `exec` is done (before, it shows the
/// parent's, or reads empty while inside `exec`).
#[cfg(test)]
pub(crate) fn wait_until_found(prefix: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while find(prefix).len() < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn a_file_held_open_by_a_process_is_found_with_its_pid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("held.log");
        let file = std::fs::File::create(&path).unwrap();
        let mut child = Command::new("sleep").arg("5").stdout(file).spawn().unwrap();
        let held = open_files_under(dir.path());
        let found = held.get(&std::fs::canonicalize(&path).unwrap()).copied();
        child.kill().unwrap();
        child.wait().unwrap();
        // The child holds it as its stdout.
        assert!(found.is_some(), "{held:?}");
        assert!(open_files_under(&dir.path().join("none")).is_empty());
    }

    #[test]
    fn pids_since_a_mark_are_those_above_it_unless_the_numbers_may_have_wrapped() {
        let mark = Mark {
            last_pid: 1000,
            forks: 50,
            tasks: 100,
            started: 0,
            at: Instant::now(),
        };
        // 10 forks since, cursor at 1010: only pids from 1001 on can be new.
        assert_eq!(created_since(mark, 1010, 60, 32768), Some(1001));
        // Nothing created yet: still from 1001 (whatever comes next is above).
        assert_eq!(created_since(mark, 1000, 50, 32768), Some(1001));
        // The cursor is below the mark's: it wrapped.
        assert_eq!(created_since(mark, 400, 60, 32768), None);
        // Enough forks to pass every number not held (by 100 tasks, their groups and sessions):
        // it may have come round again.
        assert_eq!(created_since(mark, 1010, 50 + 32168, 32768), None);
        assert_eq!(created_since(mark, 1010, 50 + 32167, 32768), Some(1001));
        // Counters that went backwards (another boot, another namespace): no narrowing.
        assert_eq!(created_since(mark, 1010, 10, 32768), None);
        // A bound on the tasks: the count at the reading and every fork since.
        assert_eq!(tasks_bound((100, 40), 50), Some(110));
        // A count taken after the forks were read bounds nothing.
        assert_eq!(tasks_bound((100, 60), 50), None);
        // Too long after the mark: no narrowing, whatever the counters say.
        let old = Mark {
            at: Instant::now() - NARROW_WITHIN - Duration::from_millis(1),
            ..mark
        };
        assert_eq!(pids_since(old), None);
    }

    #[test]
    fn only_the_engines_own_starts_since_a_mark_means_exactly_as_many_forks() {
        let mark = Mark {
            last_pid: 1000,
            forks: 50,
            tasks: 100,
            started: 7,
            at: Instant::now(),
        };
        // Nothing created; then two processes, both the engine's starts.
        assert!(mark.only_starts_until((50, 7)));
        assert!(mark.only_starts_until((52, 9)));
        // One more fork than starts: a job's child, a thread, another program's process.
        assert!(!mark.only_starts_until((53, 9)));
        // Fewer forks than starts (a start counted that created nothing): not trusted.
        assert!(!mark.only_starts_until((51, 9)));
        // Counters that went backwards (another boot or namespace).
        assert!(!mark.only_starts_until((49, 7)));
        assert!(!mark.only_starts_until((49, 6)));
    }

    #[test]
    fn a_process_started_uncounted_since_a_mark_is_seen() {
        let mark = Mark::now().expect("this is Linux, with /proc");
        let mut child = Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        assert!(
            !mark.only_starts_since(),
            "an uncounted process went unseen"
        );
        // Counted starts keep it unseen only when nothing else forked: not asserted here,
        // where other tests' threads and processes start at any time.
        let mut counted = count_start(|| Command::new("true").spawn()).unwrap();
        counted.wait().unwrap();
        assert!(!mark.only_starts_since());
    }

    #[test]
    fn the_kept_counter_files_read_anew_each_time() {
        let before = forks().expect("forks");
        let cursor = last_pid().expect("last pid");
        Command::new("true").status().unwrap();
        assert!(forks().expect("forks") > before);
        assert_ne!(last_pid().expect("last pid"), cursor);
    }

    /// A pid cursor that answers `answers` in turn, then stands at the last one.
    fn cursor(answers: &[Option<i32>]) -> impl FnMut() -> Option<i32> + '_ {
        let mut turn = 0;
        move || {
            let answer = answers[turn.min(answers.len() - 1)];
            turn += 1;
            answer
        }
    }

    #[test]
    fn a_probe_follows_the_pids_handed_out_while_it_ran_and_gives_up_when_it_cannot() {
        // A probe of `range` where `matching` carry the token and the pid cursor reads
        // `answers` after each round.
        let probed = |range, matching: &[i32], answers| {
            probe(range, |pid| matching.contains(&pid), cursor(answers))
        };
        const MAX: i32 = PROBE_AT_MOST;
        // Nothing handed out since: the range alone.
        assert_eq!(
            probed(1001..=1004, &[1002, 1004], &[Some(1004)]),
            Ok(vec![1002, 1004])
        );
        // Nothing created since the mark (cursor 1000): the range from 1001 to 1000 is empty.
        let empty = std::ops::RangeInclusive::new(1001, 1000);
        assert_eq!(probed(empty, &[1000], &[Some(1000)]), Ok(vec![]));
        // A process created while probing, above the range: found in the next round.
        assert_eq!(
            probed(1001..=1002, &[1002, 1006], &[Some(1006), Some(1006)]),
            Ok(vec![1002, 1006])
        );
        // The cursor went backwards (the numbers wrapped: any pid may be new) or is unreadable.
        assert_eq!(probed(1001..=1002, &[], &[Some(400)]), Err(GaveUp::Lost));
        assert_eq!(probed(1001..=1002, &[], &[None]), Err(GaveUp::Lost));
        // Too many pids at once, or in all: list from the range's start instead.
        assert_eq!(
            probed(1..=MAX + 1, &[], &[Some(MAX + 1)]),
            Err(GaveUp::Wide)
        );
        assert_eq!(
            probed(1..=100, &[], &[Some(200), Some(300)]),
            Err(GaveUp::Wide)
        );
        // Exactly the budget is still probed.
        assert_eq!(probed(1..=MAX, &[7], &[Some(MAX)]), Ok(vec![7]));
    }

    #[test]
    fn a_thread_does_not_lead_its_group_and_a_process_does() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (hold, release) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            // SAFETY: the gettid system call takes no arguments and cannot fail.
            let tid = unsafe { libc::syscall(libc::SYS_gettid) } as i32;
            tx.send(tid).unwrap();
            // Alive until the checks are done.
            let _ = release.recv();
        });
        let tid = rx.recv().unwrap();
        let me = std::process::id() as i32;
        let (thread_leads, process_leads) = (leads_its_group(tid), leads_its_group(me));
        drop(hold);
        thread.join().unwrap();
        assert_ne!(tid, me);
        assert!(!thread_leads, "thread {tid} of {me}");
        assert!(process_leads);
    }

    #[test]
    fn a_scan_since_a_mark_finds_what_was_created_after_it_and_nothing_before() {
        let prefix = format!("test-{}-{}/", std::process::id(), line!());
        let mut before = Command::new("sleep")
            .arg("30")
            .env(TOKEN_VAR, format!("{prefix}0"))
            .spawn()
            .unwrap();
        let mark = Mark::now();
        assert!(mark.is_some(), "this is Linux, with /proc");
        let mut after = Command::new("sh")
            .args(["-c", "setsid sleep 30 & exec sleep 30"])
            .env(TOKEN_VAR, format!("{prefix}1"))
            .spawn()
            .unwrap();
        // Until all three are found and have finished their `exec` into `sleep`: a process in
        // the middle of one may not show its environment for a moment.
        let deadline = Instant::now() + Duration::from_secs(10);
        let all = loop {
            let all = find(&prefix);
            let settled = all.len() == 3
                && all.iter().all(|p| {
                    std::fs::read_to_string(format!("/proc/{p}/comm"))
                        .is_ok_and(|c| c.trim() == "sleep")
                });
            if settled || Instant::now() > deadline {
                break all;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // As for a job that ended at once: the narrowing holds within `NARROW_WITHIN` of the
        // mark, and a loaded machine may take longer than that to start the processes above.
        let mark = mark.map(|m| Mark {
            at: Instant::now(),
            ..m
        });
        let since = find_since(&prefix, mark);
        assert_eq!(all.len(), 3, "{all:?}");
        assert_eq!(since.len(), 2, "the two created after the mark: {since:?}");
        assert!(!since.contains(&(before.id() as i32)));
        // A pid the caller knows cannot carry the token is passed over unread.
        let direct = after.id() as i32;
        let except = find_since_except(&prefix, mark, |pid| pid == direct);
        assert_eq!(except.len(), 1, "{except:?}");
        assert!(since.contains(&except[0]) && except[0] != direct);
        // The job's own token, as the executor ends a job's leftovers.
        assert_eq!(
            end_and_confirm(&format!("{prefix}1"), Duration::from_secs(2), mark),
            (2, vec![])
        );
        assert_eq!(
            find(&prefix),
            vec![before.id() as i32],
            "the earlier one is left alone"
        );
        assert_eq!(end_all(&prefix, Duration::from_secs(2)), 1);
        let _ = before.wait();
        let _ = after.wait();
    }

    #[test]
    fn a_mark_left_by_a_scan_finds_what_starts_after_it() {
        let prefix = format!("test-{}-{}/", std::process::id(), line!());
        // A narrowed scan (of nothing) leaves its reading for the next mark.
        let first = Mark::now().expect("this is Linux, with /proc");
        assert!(find_since(&prefix, Some(first)).is_empty());
        let mark = Mark::recent().expect("a mark");
        let mut child = Command::new("sh")
            .args(["-c", "setsid sleep 30 & exec sleep 30"])
            .env(TOKEN_VAR, format!("{prefix}1"))
            .spawn()
            .unwrap();
        wait_until_found(&prefix, 2);
        let mark = Mark {
            at: Instant::now(),
            ..mark
        };
        assert_eq!(
            find_since(&prefix, Some(mark)).len(),
            2,
            "both, the setsid one too"
        );
        assert_eq!(end_all(&prefix, Duration::from_secs(2)), 2);
        let _ = child.wait();
    }

    #[test]
    fn processes_that_left_their_group_are_found_by_token_and_ended() {
        let prefix = format!("test-{}-{}/", std::process::id(), line!());
        let mut child = Command::new("sh")
            .args(["-c", "setsid sleep 30 & sleep 30"])
            .env(TOKEN_VAR, format!("{prefix}1"))
            .spawn()
            .unwrap();
        wait_until_found(&prefix, 3);
        assert_eq!(find(&prefix).len(), 3, "sh, its sleep and the setsid sleep");
        assert_eq!(end_all(&prefix, Duration::from_secs(2)), 3);
        let _ = child.wait();
        assert!(find(&prefix).is_empty());
    }
}
