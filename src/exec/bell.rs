//! The dispatcher's doorbell: an `eventfd` that a sender rings after putting a message in the
//! dispatcher's inbox, so that an executor waiting on the dispatcher's own thread
//! ([`Executor::wait`](super::Executor::wait)) can watch the inbox and its jobs with one
//! `epoll_wait`.
//!
//! Only a waiting dispatcher needs the ring: it [`arm`](Doorbell::arm)s the bell before its
//! last look at the inbox, and a send that finds the bell armed writes the `eventfd`; a send
//! that finds it disarmed (the dispatcher is busy: it disarms as soon as its wait returns, so
//! its own sends do not ring) costs no system call. A send that comes between the arming and
//! the wait is seen by the last look, or rings.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// An `eventfd` with an armed flag (see the module doc).
#[derive(Debug)]
pub struct Doorbell {
    fd: OwnedFd,
    armed: AtomicBool,
    /// This bell among all made in the process (see [`Doorbell::id`]).
    id: u64,
}

impl Doorbell {
    /// A new, silent bell.
    pub fn new() -> std::io::Result<Doorbell> {
        // SAFETY: eventfd(2) takes no pointers; a non-negative result is a new descriptor that
        // this value then owns.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        static MADE: AtomicU64 = AtomicU64::new(1);
        Ok(Doorbell {
            // SAFETY: a new descriptor that nothing else owns.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            armed: AtomicBool::new(false),
            id: MADE.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// A number no other bell of this process has (never 0): a descriptor number may be
    /// reused by a later bell once this one is closed, this may not.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Rings if the dispatcher is about to wait; call it after the message is in the inbox.
    pub fn ring(&self) {
        // The message is in before the flag is read (the dispatcher's side: `arm`).
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.armed.swap(false, Ordering::SeqCst) {
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a live u64 to our own eventfd. It cannot block
            // (non-blocking; the counter would need 2^64 - 2 unread rings to be full).
            unsafe {
                libc::write(
                    self.fd.as_raw_fd(),
                    (&one as *const u64).cast(),
                    std::mem::size_of::<u64>(),
                )
            };
        }
    }

    /// Makes the next send ring; call it before the last look at the inbox before a wait.
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
        // The flag is set before the inbox is looked at: a send either is seen by that look or
        // finds the flag set and rings.
        std::sync::atomic::fence(Ordering::SeqCst);
    }

    /// Sends from now on do not ring (the dispatcher is awake).
    pub fn disarm(&self) {
        self.armed.store(false, Ordering::SeqCst);
    }

    /// Takes the rings so far, so that the descriptor reads as quiet again.
    pub fn drain(&self) {
        let mut count: u64 = 0;
        // SAFETY: reads at most 8 bytes into a live u64; non-blocking, so a silent bell
        // returns EAGAIN at once.
        unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                (&mut count as *mut u64).cast(),
                std::mem::size_of::<u64>(),
            )
        };
    }
}

impl AsFd for Doorbell {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readable(bell: &Doorbell) -> bool {
        let mut p = libc::pollfd {
            fd: bell.as_fd().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd, no timeout.
        unsafe { libc::poll(&mut p, 1, 0) == 1 }
    }

    #[test]
    fn only_an_armed_bell_rings_and_draining_quiets_it() {
        let bell = Doorbell::new().unwrap();
        bell.ring();
        assert!(
            !readable(&bell),
            "a send to a busy dispatcher does not ring"
        );
        bell.arm();
        bell.ring();
        assert!(readable(&bell), "a send to a waiting dispatcher rings");
        bell.ring();
        bell.drain();
        assert!(!readable(&bell), "one ring per arming, and drained");
        bell.arm();
        bell.disarm();
        bell.ring();
        assert!(!readable(&bell), "disarmed again");
    }
}
