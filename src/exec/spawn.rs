//! Starting a job's process without waiting for its `exec`.
//!
//! `std`'s `Command::spawn` (glibc's `posix_spawn`) holds the calling thread until the child
//! has called `exec`: the child borrows the parent's memory (`vfork`) until then, and in the
//! meantime resets every signal's disposition, tries `execve` in each `PATH` directory and
//! starts loading the program. The dispatcher spawns every local job on its own thread, so it
//! spent that wait once per spawn, unable to reap or start anything else: on the
//! 3,689-instance grid a median 96 us, and a mean of 228 us with the wait for a core after the
//! wake-up (docs/benchmarks.md).
//!
//! Here the child is created with `clone(CLONE_VM)` and no `CLONE_VFORK`: the parent goes on at
//! once, and the child takes the same steps on a stack of its own, concurrently. Until its `exec`
//! the child shares the parent's memory, so it runs only raw system calls (no allocation, no lock,
//! no `errno`, no panic) and reads only its [`Plan`], which stays unchanged until the parent has
//! reaped the child; a [`Spawned`] dropped without being reaped leaks its plan rather than free
//! memory the child may still read. Signals are blocked in the parent's thread across the `clone`,
//! so the child starts with them blocked and runs no handler of the parent's: it sets every signal
//! that had a handler when the executor was made (and `SIGPIPE`, which the Rust runtime ignores)
//! back to its default before unblocking them and calling `exec`, as `posix_spawn` does (which asks
//! about all 64 signals in every child: the parent asks once here). A step that fails (a program
//! that cannot be executed, a working directory that is gone) leaves its error number in the plan
//! and ends the child with status 127; [`Spawned::wait`] reports it as [`Ended::NotExecuted`].
//!
//! The child puts itself in a process group of its own, and the parent does the same for it
//! right after the `clone` (whichever comes first: `setpgid` of a child that has called `exec`
//! fails harmlessly), so the group exists when `spawn` returns.
//!
//! `PATH` is searched as `execvp` does, with the job's own `PATH` when it sets one: each
//! directory in turn, going on past a missing or forbidden file (a file without `#!` that the
//! kernel cannot run is an error, where `execvp` would hand it to `/bin/sh`). Elsewhere than
//! Linux on x86-64, and with a glibc older than 2.24, `std`'s spawn is used. A build
//! instrumented for coverage or a sanitizer must not use this path: its inserted calls would
//! run in the child, on the parent's memory.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::Arc;

/// The engine's environment, read once: every job inherits it, with its own variables added
/// (the engine never changes its environment while it runs).
#[derive(Debug)]
pub(super) struct Inherited {
    /// Each variable's name and its `NAME=value` string.
    vars: Vec<(OsString, CString)>,
    /// The signals a child sets back to their default before it unblocks signals (bit
    /// `n - 1` for signal `n`): see [`signals_to_reset`].
    reset: u64,
}

impl Inherited {
    /// The current environment (variables whose name or value holds a NUL cannot exist), and
    /// the signals the engine handles now.
    pub(super) fn capture() -> Inherited {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| {
                let mut kv = k.clone().into_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                Some((k, CString::new(kv).ok()?))
            })
            .collect();
        Inherited {
            vars,
            reset: signals_to_reset(),
        }
    }

    /// The value of variable `name`, if set.
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.vars
            .iter()
            .find(|(k, _)| k.as_bytes() == name.as_bytes())
            .map(|(k, kv)| &kv.as_bytes()[k.len() + 1..])
    }
}

/// What to start: the command, its environment on top of the inherited one, where it runs,
/// and the descriptors that become its stdin, stdout and stderr.
#[derive(Debug)]
pub(super) struct Launch<'a> {
    /// The program, also its `argv[0]`: with a `/` it is taken as it is, a bare name is looked
    /// up in `PATH`.
    pub program: &'a OsStr,
    /// The arguments after `argv[0]`.
    pub args: &'a [String],
    /// Variables added to (or replacing in) the inherited environment.
    pub env: &'a [(String, String)],
    /// The working directory.
    pub cwd: &'a Path,
    /// Descriptors for fds 0, 1 and 2, open in the parent until `spawn` returns.
    pub stdio: [RawFd; 3],
}

/// How a spawned child ended.
#[derive(Debug)]
pub(super) enum Ended {
    /// It ran the program, which exited or was killed.
    Exited(ExitStatus),
    /// It could not run the program: the failed step's error. (Found only at the reap: the
    /// job was reported started, and ran for the time the child took to fail.)
    NotExecuted(io::Error),
}

/// A child process, running or exited, until it is reaped.
#[derive(Debug)]
pub(super) struct Spawned {
    pid: i32,
    how: How,
}

#[derive(Debug)]
enum How {
    /// Created by `clone`; the plan its pre-`exec` steps read (from `Box::into_raw`: the child
    /// writes into it, so no reference to it exists until the child is reaped).
    #[cfg_attr(
        not(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu")),
        allow(dead_code)
    )]
    Cloned(Option<PlanPtr>),
    /// Created by `std`.
    Std(std::process::Child),
}

/// A plan given up by its `Box` while a child may read it (see [`How::Cloned`]).
#[derive(Debug)]
#[cfg_attr(
    not(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu")),
    allow(dead_code)
)]
struct PlanPtr(std::ptr::NonNull<Plan>);

// SAFETY: the pointer is the only owner of the plan (from `Box::into_raw`), and `Plan` is
// `Send`.
unsafe impl Send for PlanPtr {}

impl Spawned {
    /// The child's pid (also its process group's id).
    pub(super) fn pid(&self) -> i32 {
        self.pid
    }

    /// Waits for the child to end and reaps it.
    pub(super) fn wait(mut self) -> io::Result<Ended> {
        let plan = match &mut self.how {
            How::Std(child) => return child.wait().map(Ended::Exited),
            How::Cloned(plan) => plan,
        };
        let mut status = 0;
        loop {
            // SAFETY: waitpid writes the status into a live integer.
            let r = unsafe { libc::waitpid(self.pid, &mut status, 0) };
            if r == self.pid {
                break;
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        // Reaped: the child reads nothing any more, and what it wrote happened before its end.
        let failed = plan.take().map_or(0, |p| {
            // SAFETY: from `Box::into_raw` in `start`, taken once; the child is gone.
            let plan = unsafe { Box::from_raw(p.0.as_ptr()) };
            plan.failed.load(std::sync::atomic::Ordering::SeqCst)
        });
        Ok(if failed != 0 {
            Ended::NotExecuted(io::Error::from_raw_os_error(failed))
        } else {
            Ended::Exited(ExitStatus::from_raw(status))
        })
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // Not reaped: the child may still be reading its plan, so it is never freed (the raw
        // pointer is dropped, not the plan).
        if let How::Cloned(plan) = &mut self.how {
            plan.take();
        }
    }
}

/// Everything the child reads before its `exec`, built by the parent.
#[cfg_attr(
    not(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu")),
    allow(dead_code)
)]
struct Plan {
    /// The paths to try, in order: the program's own, or one per `PATH` directory (read
    /// through `path_ptrs`).
    #[allow(dead_code)]
    paths: Vec<CString>,
    path_ptrs: Vec<*const libc::c_char>,
    /// The arguments (read through `argv_ptrs`, and by `std`'s spawn elsewhere).
    #[allow(dead_code)]
    argv: Vec<CString>,
    /// `argv`'s pointers, then a null.
    argv_ptrs: Vec<*const libc::c_char>,
    /// The job's own variables as `NAME=value` (read through `envp`, and by `std`'s spawn
    /// elsewhere).
    #[allow(dead_code)]
    own_env: Vec<CString>,
    /// The environment's pointers (into `inherited` and `own_env`), then a null.
    envp: Vec<*const libc::c_char>,
    /// Keeps the inherited strings that `envp` points into alive as long as the plan.
    #[allow(dead_code)]
    inherited: Arc<Inherited>,
    cwd: CString,
    stdio: [RawFd; 3],
    /// The signals to set back to their default ([`Inherited::reset`]).
    reset: u64,
    /// The error number of the step that failed, written by the child before it exits.
    failed: std::sync::atomic::AtomicI32,
    /// The child's stack: written only by the child, through its stack pointer.
    stack: Box<[std::mem::MaybeUninit<u8>]>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("argv", &self.argv)
            .field("cwd", &self.cwd)
            .field("stdio", &self.stdio)
            .finish_non_exhaustive()
    }
}

// SAFETY: the raw pointers point into the plan's own heap strings and into `inherited`, which
// the plan keeps alive; none of them is ever written through.
unsafe impl Send for Plan {}

/// The child's stack size: its one frame needs a few hundred bytes.
const STACK_BYTES: usize = 32 * 1024;

fn nul_free(s: impl Into<Vec<u8>>) -> io::Result<CString> {
    CString::new(s).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "a NUL byte in the program, an argument, the working directory or a variable",
        )
    })
}

impl Plan {
    fn new(launch: &Launch, inherited: &Arc<Inherited>) -> io::Result<Plan> {
        let program = launch.program;
        let own_path = launch
            .env
            .iter()
            .rev()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_bytes());
        let paths = candidates(
            program.as_bytes(),
            own_path.or_else(|| inherited.get("PATH")),
        )?;
        let argv = std::iter::once(nul_free(program.as_bytes()))
            .chain(launch.args.iter().map(|a| nul_free(a.as_bytes())))
            .collect::<io::Result<Vec<_>>>()?;
        let own_env = launch
            .env
            .iter()
            .map(|(k, v)| nul_free(format!("{k}={v}")))
            .collect::<io::Result<Vec<_>>>()?;
        let replaced = |name: &OsStr| {
            launch
                .env
                .iter()
                .any(|(k, _)| k.as_bytes() == name.as_bytes())
        };
        let mut envp: Vec<*const libc::c_char> = inherited
            .vars
            .iter()
            .filter(|(k, _)| !replaced(k))
            .map(|(_, kv)| kv.as_ptr())
            .collect();
        // A variable the job sets twice takes its last value, as `Command::env` does.
        for (i, kv) in own_env.iter().enumerate() {
            let name = &launch.env[i].0;
            if !launch.env[i + 1..].iter().any(|(k, _)| k == name) {
                envp.push(kv.as_ptr());
            }
        }
        envp.push(std::ptr::null());
        let mut argv_ptrs: Vec<_> = argv.iter().map(|a| a.as_ptr()).collect();
        argv_ptrs.push(std::ptr::null());
        let path_ptrs = paths.iter().map(|p| p.as_ptr()).collect();
        Ok(Plan {
            paths,
            path_ptrs,
            argv,
            argv_ptrs,
            own_env,
            envp,
            inherited: Arc::clone(inherited),
            cwd: nul_free(launch.cwd.as_os_str().as_bytes())?,
            stdio: launch.stdio,
            reset: inherited.reset | ANNOUNCED.load(std::sync::atomic::Ordering::SeqCst),
            failed: std::sync::atomic::AtomicI32::new(0),
            stack: Box::new_uninit_slice(STACK_BYTES),
        })
    }
}

/// The paths `execvp` would try for `program`: itself when it holds a `/`, else one per
/// directory of `path` (glibc's default `/bin:/usr/bin` when unset; an empty entry is the
/// working directory).
fn candidates(program: &[u8], path: Option<&[u8]>) -> io::Result<Vec<CString>> {
    if program.is_empty() {
        return Err(io::Error::from_raw_os_error(libc::ENOENT));
    }
    if program.contains(&b'/') {
        return Ok(vec![nul_free(program)?]);
    }
    path.unwrap_or(b"/bin:/usr/bin")
        .split(|&b| b == b':')
        .map(|dir| {
            if dir.is_empty() {
                nul_free(program)
            } else {
                let mut p = dir.to_vec();
                if !p.ends_with(b"/") {
                    p.push(b'/');
                }
                p.extend_from_slice(program);
                nul_free(p)
            }
        })
        .collect()
}

/// Starts `launch` as a child process; returns once the child exists, before it has run the
/// program (see the module doc). Errors are the parent's: a NUL byte in a string, or no
/// process could be created.
pub(super) fn spawn(launch: &Launch, inherited: &Arc<Inherited>) -> io::Result<Spawned> {
    let plan = Box::new(Plan::new(launch, inherited)?);
    #[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
    if clone_is_safe() {
        return start(plan);
    }
    start_std(&plan)
}

/// Whether glibc's `clone` wrapper leaves the parent's memory alone in a `CLONE_VM` child:
/// before glibc 2.24 it wrote the child's ids into the calling thread's own data (glibc bug
/// 19957), which the child shares with the parent here. Asked once.
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
fn clone_is_safe() -> bool {
    static SAFE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SAFE.get_or_init(|| {
        // SAFETY: returns a static NUL-terminated string such as "2.36".
        let version = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
        let mut parts = version.to_str().unwrap_or("").split('.');
        let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        (major, minor) >= (2, 24)
    })
}

/// Starts the child with `clone` (see the module doc).
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
fn start(plan: Box<Plan>) -> io::Result<Spawned> {
    // Every signal blocked on this thread, glibc's own two (which its `sigfillset` leaves
    // out) too: the child starts with them blocked and runs no handler of the parent's.
    let all: u64 = !0;
    let mut old: u64 = 0;
    let set_size = std::mem::size_of::<u64>();
    // SAFETY: rt_sigprocmask reads `all` and writes `old`, both live.
    unsafe {
        sys(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK as usize,
            &all as *const u64 as usize,
            &mut old as *mut u64 as usize,
            set_size,
        )
    };
    let plan = Box::into_raw(plan);
    // The stack grows down from its end, which must be 16-byte aligned. Taken through the raw
    // pointer, before the child exists: the child writes there.
    // SAFETY: `plan` is live and not yet shared.
    let end = unsafe { (*plan).stack.as_mut_ptr_range().end };
    let top = (end as usize & !15) as *mut libc::c_void;
    // SAFETY: the child runs `child` on its own stack (`top`, inside the plan) and reads only
    // the plan, which is neither changed nor freed until the child is reaped (see `Spawned`);
    // `child` makes raw system calls only and never returns.
    let pid = unsafe { libc::clone(child, top, libc::CLONE_VM | libc::SIGCHLD, plan.cast()) };
    let err = io::Error::last_os_error();
    // SAFETY: restores this thread's mask saved above.
    unsafe {
        sys(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK as usize,
            &old as *const u64 as usize,
            0,
            set_size,
        )
    };
    if pid < 0 {
        // SAFETY: no child was created: the plan is ours again.
        drop(unsafe { Box::from_raw(plan) });
        return Err(err);
    }
    // SAFETY: setpgid takes two pids; the child is ours and not yet reaped. It fails only
    // once the child has called `exec`, having set its group itself.
    unsafe { libc::setpgid(pid, pid) };
    Ok(Spawned {
        pid,
        how: How::Cloned(std::ptr::NonNull::new(plan).map(PlanPtr)),
    })
}

/// `std`'s spawn of the same plan (elsewhere than Linux on x86-64, and with an old glibc).
fn start_std(plan: &Plan) -> io::Result<Spawned> {
    use std::os::fd::BorrowedFd;
    use std::os::unix::process::CommandExt;
    let fd = |i: usize| -> io::Result<std::process::Stdio> {
        // SAFETY: the launch's descriptors are open until `spawn` returns.
        let fd = unsafe { BorrowedFd::borrow_raw(plan.stdio[i]) };
        Ok(fd.try_clone_to_owned()?.into())
    };
    let program = OsStr::from_bytes(plan.argv[0].as_bytes());
    let mut cmd = std::process::Command::new(program);
    cmd.args(
        plan.argv[1..]
            .iter()
            .map(|a| OsStr::from_bytes(a.as_bytes())),
    )
    .current_dir(OsStr::from_bytes(plan.cwd.as_bytes()))
    .stdin(fd(0)?)
    .stdout(fd(1)?)
    .stderr(fd(2)?)
    .process_group(0);
    for kv in &plan.own_env {
        let kv = kv.as_bytes();
        if let Some(eq) = kv.iter().position(|&b| b == b'=') {
            cmd.env(
                OsStr::from_bytes(&kv[..eq]),
                OsStr::from_bytes(&kv[eq + 1..]),
            );
        }
    }
    let child = cmd.spawn()?;
    Ok(Spawned {
        pid: child.id() as i32,
        how: How::Std(child),
    })
}

/// A raw system call of up to four arguments; returns the result or minus the error number.
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
#[inline(always)]
unsafe fn sys(n: libc::c_long, a: usize, b: usize, c: usize, d: usize) -> isize {
    let ret: isize;
    // SAFETY (caller's): the arguments are valid for system call `n`.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a,
            in("rsi") b,
            in("rdx") c,
            in("r10") d,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// Signals given a handler by code that says so ([`handlers_installed`]): reset in every child
/// from then on, even by an executor made before.
static ANNOUNCED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Says that this process is about to give `signals` a handler, before it does: every child
/// started from now on sets them back to their default before its `exec`, whatever it read
/// when its executor was made ([`Inherited::capture`]).
pub fn handlers_installed(signals: &[i32]) {
    let mask = signals
        .iter()
        .filter(|&&sig| (1..=64).contains(&sig))
        .fold(0u64, |m, &sig| m | 1 << (sig - 1));
    ANNOUNCED.fetch_or(mask, std::sync::atomic::Ordering::SeqCst);
}

/// The signals a child must set back to their default before it unblocks signals, as a mask
/// (bit `n - 1` for signal `n`): every signal this process handles now, its handler being the
/// parent's code, which a signal arriving between the unblocking and the `exec` would run in
/// the child, on the parent's memory; `SIGPIPE`, which the Rust runtime ignores and an `exec`
/// would leave ignored; and glibc's two internal signals, whose handlers it installs on
/// first use. Read once per executor: the child asked the kernel about all 64 signals before
/// every `exec`, 62 system calls per job, where the engine handles four or five. A handler
/// installed later is announced first ([`handlers_installed`]), as the engine's Ctrl-C and
/// SIGTERM handlers are.
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
fn signals_to_reset() -> u64 {
    let bit = |sig: i32| 1u64 << (sig - 1);
    let mut reset = bit(libc::SIGPIPE) | bit(32) | bit(33);
    for sig in 1..=64 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        let mut old = KernelSigaction {
            handler: 0,
            flags: 0,
            restorer: 0,
            mask: 0,
        };
        // SAFETY: rt_sigaction only writes the current action into `old`, which is live.
        let got = unsafe {
            sys(
                libc::SYS_rt_sigaction,
                sig as usize,
                0,
                &mut old as *mut KernelSigaction as usize,
                std::mem::size_of::<u64>(),
            )
        };
        // A handler is anything but SIG_DFL (0) and SIG_IGN (1); a signal that cannot be
        // asked about is reset too.
        if got != 0 || old.handler > 1 {
            reset |= bit(sig);
        }
    }
    reset
}

/// Elsewhere children are started by `std`, which resets signals itself.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu")))]
fn signals_to_reset() -> u64 {
    0
}

/// The kernel's `struct sigaction` on x86-64.
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// The child's side: runs in the parent's memory until `execve` (see the module doc), so it
/// makes raw system calls only.
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
extern "C" fn child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the plan, alive and unchanged until this process is reaped.
    let plan = unsafe { &*(arg as *const Plan) };
    // SAFETY: each call below gets live pointers into this frame or into the plan.
    unsafe {
        let dfl = KernelSigaction {
            handler: 0, // SIG_DFL
            flags: 0,
            restorer: 0,
            mask: 0,
        };
        let set_size = std::mem::size_of::<u64>();
        for sig in 1..=64usize {
            let never = sig == libc::SIGKILL as usize || sig == libc::SIGSTOP as usize;
            if !never && plan.reset & (1 << (sig - 1)) != 0 {
                sys(
                    libc::SYS_rt_sigaction,
                    sig,
                    &dfl as *const KernelSigaction as usize,
                    0,
                    set_size,
                );
            }
        }
        let r = sys(libc::SYS_setpgid, 0, 0, 0, 0);
        if r < 0 {
            fail(plan, r);
        }
        for (to, &from) in plan.stdio.iter().enumerate() {
            let r = if from as usize == to {
                // dup2 onto itself would keep close-on-exec set.
                sys(libc::SYS_fcntl, to, libc::F_SETFD as usize, 0, 0)
            } else {
                sys(libc::SYS_dup2, from as usize, to, 0, 0)
            };
            if r < 0 {
                fail(plan, r);
            }
        }
        let r = sys(libc::SYS_chdir, plan.cwd.as_ptr() as usize, 0, 0, 0);
        if r < 0 {
            fail(plan, r);
        }
        let none: u64 = 0;
        sys(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK as usize,
            &none as *const u64 as usize,
            0,
            set_size,
        );
        // As execvp: go on past a missing or forbidden file, report EACCES if one was found.
        let mut last = -(libc::ENOENT as isize);
        let mut denied = false;
        for &path in &plan.path_ptrs {
            let r = sys(
                libc::SYS_execve,
                path as usize,
                plan.argv_ptrs.as_ptr() as usize,
                plan.envp.as_ptr() as usize,
                0,
            );
            match (-r) as i32 {
                libc::EACCES => denied = true,
                libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT => {}
                _ => {
                    last = r;
                    break;
                }
            }
        }
        fail(
            plan,
            if denied && last == -(libc::ENOENT as isize) {
                -(libc::EACCES as isize)
            } else {
                last
            },
        )
    }
}

/// Records the failed step's error (`r`, minus an error number) and ends the child.
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
unsafe fn fail(plan: &Plan, r: isize) -> ! {
    plan.failed
        .store((-r) as i32, std::sync::atomic::Ordering::SeqCst);
    loop {
        // SAFETY: exit_group ends this (single-threaded) child process.
        unsafe { sys(libc::SYS_exit_group, 127, 0, 0, 0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_searched_in_order_and_a_slash_is_taken_as_it_is() {
        let c = |p: &str, path: Option<&str>| -> Vec<String> {
            candidates(p.as_bytes(), path.map(str::as_bytes))
                .unwrap()
                .into_iter()
                .map(|c| c.into_string().unwrap())
                .collect()
        };
        assert_eq!(c("sh", Some("/a:/b/:")), ["/a/sh", "/b/sh", "sh"]);
        assert_eq!(c("sh", None), ["/bin/sh", "/usr/bin/sh"]);
        assert_eq!(c("./x/sh", Some("/a")), ["./x/sh"]);
        assert!(candidates(b"", None).is_err());
    }

    /// Runs through both ways of starting a child, which must agree; returns the first's.
    fn run(argv: &[&str], env: &[(&str, &str)], cwd: &Path) -> (Ended, String) {
        let cloned = run_with(argv, env, cwd, false);
        let std = run_with(argv, env, cwd, true);
        let code = |e: &Ended| match e {
            Ended::Exited(s) => format!("exit {:?}", s.code()),
            Ended::NotExecuted(e) => format!("not run: {:?}", e.kind()),
        };
        assert_eq!(code(&cloned.0), code(&std.0), "{argv:?}");
        cloned
    }

    fn run_with(
        argv: &[&str],
        env: &[(&str, &str)],
        cwd: &Path,
        with_std: bool,
    ) -> (Ended, String) {
        let dir = tempfile::tempdir().unwrap();
        let out_path = dir.path().join("out");
        let out = std::fs::File::create(&out_path).unwrap();
        let null = std::fs::File::open("/dev/null").unwrap();
        use std::os::fd::AsRawFd;
        let args: Vec<String> = argv[1..].iter().map(|s| s.to_string()).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let launch = Launch {
            program: OsStr::new(argv[0]),
            args: &args,
            env: &env,
            cwd,
            stdio: [null.as_raw_fd(), out.as_raw_fd(), out.as_raw_fd()],
        };
        let inherited = Arc::new(Inherited::capture());
        let started = if with_std {
            Plan::new(&launch, &inherited).and_then(|plan| start_std(&plan))
        } else {
            spawn(&launch, &inherited)
        };
        drop((out, null));
        let ended = match started {
            Ok(child) => child.wait().unwrap(),
            // `std` reports a program it cannot run at once.
            Err(e) => Ended::NotExecuted(e),
        };
        (ended, std::fs::read_to_string(out_path).unwrap())
    }

    #[test]
    fn a_child_runs_in_its_directory_and_group_with_its_environment_and_default_signals() {
        let dir = tempfile::tempdir().unwrap();
        let script = "pwd; echo \"$A $B\"; test -n \"$PATH\" && echo path; \
                      cut -d' ' -f5 /proc/$$/stat; echo $$; \
                      while read -r l; do case $l in SigBlk*|SigIgn*) echo \"$l\";; esac; \
                      done < /proc/$$/status; echo err >&2; read x || echo eof";
        let (ended, out) = run(
            &["sh", "-c", script],
            &[("A", "one"), ("B", "x"), ("B", "two")],
            dir.path(),
        );
        let Ended::Exited(status) = ended else {
            panic!("{ended:?}");
        };
        assert!(status.success(), "{out}");
        let lines: Vec<&str> = out.lines().collect();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(lines[0], real.to_str().unwrap());
        assert_eq!(
            lines[1], "one two",
            "the last value of a variable set twice"
        );
        assert_eq!(lines[2], "path", "the inherited environment");
        assert_eq!(lines[3], lines[4], "a process group of its own: {out}");
        // Nothing blocked; SIGPIPE, which the Rust runtime ignores, back to its default (what
        // the engine's own parent had ignored stays ignored, as across any `exec`). Read by the
        // shell itself: a `grep` could read the shell's mask while the shell blocks every
        // signal around its fork of that `grep` (dash does).
        assert_eq!(lines[5], "SigBlk:\t0000000000000000");
        let ignored = u64::from_str_radix(lines[6].trim_start_matches("SigIgn:\t"), 16).unwrap();
        assert_eq!(ignored & (1 << (libc::SIGPIPE - 1)), 0, "{}", lines[6]);
        assert_eq!(&lines[7..], ["err", "eof"], "stderr and stdin");
    }

    #[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
    #[test]
    fn the_signals_reset_in_a_child_are_those_with_a_handler_and_sigpipe() {
        extern "C" fn on_urg(_: libc::c_int) {}
        let bit = |sig: i32| 1u64 << (sig - 1);
        // SIGURG is ignored by default; a handler for it changes no other test's behaviour.
        // SAFETY: installs a handler that does nothing.
        unsafe { libc::signal(libc::SIGURG, on_urg as *const () as libc::sighandler_t) };
        let reset = Inherited::capture().reset;
        assert_ne!(reset & bit(libc::SIGURG), 0, "a handled signal");
        assert_ne!(
            reset & bit(libc::SIGPIPE),
            0,
            "SIGPIPE, ignored by the Rust runtime"
        );
        assert_eq!(
            reset & bit(libc::SIGUSR2),
            0,
            "a signal left at its default"
        );
        assert_eq!(reset & bit(libc::SIGKILL), 0);
        // SAFETY: puts the default back.
        unsafe { libc::signal(libc::SIGURG, libc::SIG_DFL) };
    }

    #[test]
    fn a_handler_announced_after_the_capture_is_reset_in_later_children() {
        let inherited = Arc::new(Inherited::capture());
        let bit = 1u64 << (libc::SIGWINCH - 1);
        // Nothing in the tests handles SIGWINCH; announcing it only makes children reset it.
        assert_eq!(inherited.reset & bit, 0);
        handlers_installed(&[libc::SIGWINCH]);
        let launch = Launch {
            program: OsStr::new("true"),
            args: &[],
            env: &[],
            cwd: Path::new("/"),
            stdio: [0, 1, 2],
        };
        let plan = Plan::new(&launch, &inherited).unwrap();
        assert_ne!(plan.reset & bit, 0);
    }

    #[test]
    fn a_program_that_cannot_be_run_is_reported_with_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        let missing = |ended: Ended| match ended {
            Ended::NotExecuted(e) => e.raw_os_error(),
            other => panic!("{other:?}"),
        };
        let (ended, _) = run(&["no-such-program-anywhere"], &[], dir.path());
        assert_eq!(missing(ended), Some(libc::ENOENT));
        let script = dir.path().join("not-executable");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        let (ended, _) = run(&[script.to_str().unwrap()], &[], dir.path());
        assert_eq!(missing(ended), Some(libc::EACCES));
        let (ended, _) = run(&["true"], &[], &dir.path().join("gone"));
        assert_eq!(missing(ended), Some(libc::ENOENT), "a missing directory");
        // A program that runs and exits with 127 itself is not a failure to run it.
        let (ended, _) = run(&["sh", "-c", "exit 127"], &[], dir.path());
        assert!(matches!(ended, Ended::Exited(s) if s.code() == Some(127)));
    }
}
