//! Waiting for many children's exits and the dispatcher's doorbell with one `epoll_wait`.
//!
//! Each child gets a pidfd (`pidfd_open`, Linux 5.3), which reads as ready once the child has
//! exited, before it is reaped. Where the kernel has no pidfds, a thread per child blocks in
//! `waitid` (without reaping) and hands the pid over through an `eventfd` in the same set: the
//! waiting thread gets the same answers, with one more hand-off per job.

use std::collections::VecDeque;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::bell::Doorbell;

/// The epoll data of the doorbell; pids are positive.
const BELL: u64 = u64::MAX;
/// The epoll data of the fallback threads' hand-over `eventfd`.
const HANDED: u64 = u64::MAX - 1;

/// How often the inbox is looked at when its doorbell cannot be watched.
const POLL: Duration = Duration::from_millis(50);

/// What keeps a child watched; dropping it stops the watch (after the child is reaped).
#[derive(Debug)]
pub(super) enum Watch {
    /// The child's pidfd, in the epoll set until dropped.
    PidFd {
        /// The pidfd.
        fd: OwnedFd,
        /// The epoll set it is in.
        epoll: Arc<OwnedFd>,
    },
    /// A thread waits for the child and hands its pid over.
    Thread,
}

impl Drop for Watch {
    /// Takes the pidfd out of the set before closing it. Closing alone is not enough: the set
    /// forgets a descriptor only once every copy of it is closed, and a child that has not yet
    /// called `exec` holds a copy of every descriptor of the engine's (`spawn.rs`), so a reaped
    /// child's pidfd would go on being reported, ready, until then.
    fn drop(&mut self) {
        if let Watch::PidFd { fd, epoll } = self {
            // SAFETY: both descriptors are open (owned here); DEL takes no event.
            unsafe {
                libc::epoll_ctl(
                    epoll.as_raw_fd(),
                    libc::EPOLL_CTL_DEL,
                    fd.as_raw_fd(),
                    std::ptr::null_mut(),
                )
            };
        }
    }
}

/// An epoll set of children's pidfds and the dispatcher's doorbell.
#[derive(Debug)]
pub(super) struct Exits {
    epoll: Arc<OwnedFd>,
    /// Pids handed over by fallback threads, and the `eventfd` they ring.
    handed: Arc<(Mutex<VecDeque<i32>>, Doorbell)>,
    /// The [`Doorbell::id`] of the bell in the set (0: none yet). A bell stays in the set
    /// while it lives; adding it before every wait cost a failed `epoll_ctl` per job.
    bell: std::sync::atomic::AtomicU64,
}

fn check(r: libc::c_int) -> std::io::Result<libc::c_int> {
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

impl Exits {
    /// A new, empty set.
    pub(super) fn new() -> std::io::Result<Exits> {
        // SAFETY: epoll_create1 takes no pointers; the new descriptor is owned below.
        let fd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `fd` is a new descriptor that nothing else owns.
        let epoll = Arc::new(unsafe { OwnedFd::from_raw_fd(fd) });
        let exits = Exits {
            epoll,
            handed: Arc::new((Mutex::new(VecDeque::new()), Doorbell::new()?)),
            bell: std::sync::atomic::AtomicU64::new(0),
        };
        exits.add(exits.handed.1.as_fd().as_raw_fd(), HANDED)?;
        Ok(exits)
    }

    fn add(&self, fd: i32, data: u64) -> std::io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: data,
        };
        // SAFETY: `ev` is a live epoll_event; the kernel copies it.
        check(unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) })
            .map(drop)
    }

    /// Watches child `pid` (spawned by this process, not yet reaped) until the returned
    /// [`Watch`] is dropped.
    pub(super) fn watch(&self, pid: i32) -> std::io::Result<Watch> {
        // SAFETY: pidfd_open takes a pid and flags; a non-negative result is a new descriptor.
        let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if r >= 0 {
            // SAFETY: a new descriptor that nothing else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(r as i32) };
            self.add(fd.as_raw_fd(), pid as u64)?;
            return Ok(Watch::PidFd {
                fd,
                epoll: Arc::clone(&self.epoll),
            });
        }
        let handed = Arc::clone(&self.handed);
        std::thread::Builder::new()
            .name("repro-job".into())
            .spawn(move || {
                wait_exited(pid);
                let (pids, bell) = &*handed;
                pids.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push_back(pid);
                bell.arm();
                bell.ring();
            })?;
        Ok(Watch::Thread)
    }

    /// Waits up to `limit` (`None`: without one) until a watched child has exited or `bell`
    /// rings; returns the pids of the children that have exited (possibly none). A watch that
    /// reported a pid must be dropped once the child is reaped, before the next call.
    pub(super) fn wait(&self, bell: &Doorbell, limit: Option<Duration>) -> Vec<i32> {
        // A bell is added once. If it cannot be watched (no memory, or the user's epoll
        // watches used up), the inbox is looked at every 50 ms. A new bell with the number of
        // a closed one is added too (its closed file may linger in the set while a child
        // about to `exec` holds a copy of it).
        use std::sync::atomic::Ordering;
        let watched = self.bell.load(Ordering::Relaxed) == bell.id()
            || match self.add(bell.as_fd().as_raw_fd(), BELL) {
                Err(e) if e.raw_os_error() != Some(libc::EEXIST) => false,
                _ => {
                    self.bell.store(bell.id(), Ordering::Relaxed);
                    true
                }
            };
        let limit = if watched {
            limit
        } else {
            Some(limit.map_or(POLL, |d| d.min(POLL)))
        };
        let timeout = limit.map_or(-1, |d| {
            // Rounded up: a wait that ends just before its limit would be followed by another.
            i32::try_from(d.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
        });
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 16];
        // SAFETY: `events` is a live array of the length given; EINTR returns -1 (no events).
        let n = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as i32,
                timeout,
            )
        };
        // Awake: the dispatcher's own sends (the `Finished` of the jobs found here) need no ring.
        bell.disarm();
        if n < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            // Not expected (the set and the buffer are valid); do not spin on it.
            std::thread::sleep(POLL);
        }
        let mut pids = Vec::new();
        for ev in &events[..usize::try_from(n).unwrap_or(0)] {
            match ev.u64 {
                BELL => bell.drain(),
                HANDED => {
                    let (handed, own) = &*self.handed;
                    own.drain();
                    pids.extend(
                        handed
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .drain(..),
                    );
                }
                pid => pids.push(pid as i32),
            }
        }
        pids
    }
}

/// Blocks until `pid` (a child) has exited, leaving it unreaped.
pub(super) fn wait_exited(pid: i32) {
    while !exited(pid, true) {}
}

/// Whether child `pid` has exited, leaving it unreaped.
pub(super) fn has_exited(pid: i32) -> bool {
    exited(pid, false)
}

/// Looks at child `pid` with `waitid(WNOWAIT)`: whether it has exited, waiting for that when
/// `block` (then `false` only when interrupted by a signal, to be asked again). A pid that is
/// no child of this process reads as exited when blocking (nothing to wait for), else not.
fn exited(pid: i32, block: bool) -> bool {
    let flags = libc::WEXITED | libc::WNOWAIT | if block { 0 } else { libc::WNOHANG };
    // SAFETY: siginfo_t is plain data, zeroed before use; WNOWAIT only observes the child.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) };
    if r != 0 {
        return block && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR);
    }
    // SAFETY: filled by waitid; with WNOHANG, a zero pid means the child has not exited yet.
    let who = unsafe { info.si_pid() };
    who != 0
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn a_childs_exit_and_the_bell_end_the_wait_and_nothing_else_does() {
        let exits = Exits::new().unwrap();
        let bell = Doorbell::new().unwrap();
        let mut child = std::process::Command::new("sh")
            .args(["-c", "read x || true"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let watch = exits.watch(pid).unwrap();
        assert!(
            exits
                .wait(&bell, Some(Duration::from_millis(50)))
                .is_empty(),
            "a running child is not reported"
        );
        bell.arm();
        bell.ring();
        assert!(exits.wait(&bell, Some(Duration::from_secs(20))).is_empty());
        drop(child.stdin.take());
        let t = Instant::now();
        let mut got = Vec::new();
        while got.is_empty() && t.elapsed() < Duration::from_secs(20) {
            got = exits.wait(&bell, Some(Duration::from_secs(20)));
        }
        assert_eq!(got, vec![pid]);
        // Still unreaped: the exit status is there to take.
        assert!(child.wait().unwrap().success());
        drop(watch);
        assert!(exits
            .wait(&bell, Some(Duration::from_millis(50)))
            .is_empty());
    }

    #[test]
    fn a_new_bell_that_reuses_a_closed_bells_number_still_wakes_the_wait() {
        let exits = Exits::new().unwrap();
        let first = Doorbell::new().unwrap();
        let number = first.as_fd().as_raw_fd();
        assert!(exits
            .wait(&first, Some(Duration::from_millis(10)))
            .is_empty());
        drop(first);
        // The lowest free number, as a rule (another test's thread may take it first).
        let second = Doorbell::new().unwrap();
        if second.as_fd().as_raw_fd() != number {
            eprintln!("the new bell did not get the closed one's number {number}");
        }
        second.arm();
        second.ring();
        let t = Instant::now();
        exits.wait(&second, Some(Duration::from_secs(20)));
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the ring was not heard: {:?}",
            t.elapsed()
        );
    }

    #[test]
    fn a_reaped_childs_pidfd_is_not_reported_again_while_a_copy_of_it_lives_elsewhere() {
        let exits = Exits::new().unwrap();
        let bell = Doorbell::new().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        let watch = exits.watch(pid).unwrap();
        let t = Instant::now();
        let mut got = Vec::new();
        while got.is_empty() && t.elapsed() < Duration::from_secs(20) {
            got = exits.wait(&bell, Some(Duration::from_secs(20)));
        }
        assert_eq!(got, vec![pid]);
        // A copy of the pidfd, as a child that has not yet called `exec` holds one.
        let copy = match &watch {
            Watch::PidFd { fd, .. } => fd.try_clone().unwrap(),
            Watch::Thread => {
                child.wait().unwrap();
                return; // no pidfds on this kernel: nothing to pin
            }
        };
        child.wait().unwrap();
        drop(watch);
        assert!(
            exits
                .wait(&bell, Some(Duration::from_millis(50)))
                .is_empty(),
            "the reaped child is reported again"
        );
        drop(copy);
    }
}
