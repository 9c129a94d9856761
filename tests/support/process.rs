//! Process helpers shared by the integration test crates (`engine`, `slurm`), included with
//! `#[path]`: what one invocation printed and how it ended, waiting for a child within a time
//! limit while draining its pipes, polling for a condition, and signals.

use std::process::{Child, Output};
use std::time::{Duration, Instant};

/// What one invocation printed and how it ended.
#[derive(Debug)]
pub(crate) struct Out {
    /// Exit code; `-signal` when killed by a signal.
    pub(crate) code: i32,
    /// stdout.
    pub(crate) stdout: String,
    /// stderr.
    pub(crate) stderr: String,
}

impl Out {
    /// Both streams, for assertion messages.
    pub(crate) fn both(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// From a finished process's output.
    pub(crate) fn from(o: Output) -> Out {
        use std::os::unix::process::ExitStatusExt;
        let code = o
            .status
            .code()
            .unwrap_or_else(|| -o.status.signal().unwrap_or(0));
        Out {
            code,
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Waits for a spawned child within `limit`, collecting its output; kills it and panics past
/// that. The pipes are drained on threads, so a chatty child cannot block on a full pipe.
pub(crate) fn wait_within(mut child: Child, limit: Duration) -> Out {
    let mut so = child.stdout.take();
    let mut se = child.stderr.take();
    let t1 = std::thread::spawn(move || read_all(so.as_mut()));
    let t2 = std::thread::spawn(move || read_all(se.as_mut()));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("repro did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = t1.join().expect("reader");
    let stderr = t2.join().expect("reader");
    Out::from(Output {
        status,
        stdout,
        stderr,
    })
}

fn read_all<R: std::io::Read>(r: Option<&mut R>) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Some(r) = r {
        let _ = r.read_to_end(&mut buf);
    }
    buf
}

/// Polls `cond` every `every` for up to `secs` seconds; panics past that.
pub(crate) fn poll_until(secs: u64, every: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}"
        );
        std::thread::sleep(every);
    }
}

/// Whether a process with this pid exists (a zombie counts as gone only once reaped).
#[allow(dead_code)] // used by the engine tests, not by the Slurm ones
pub(crate) fn alive(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks for existence and permission.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Sends a signal to a process.
pub(crate) fn signal(pid: u32, sig: i32) {
    // SAFETY: plain kill(2) on a pid the test started.
    let rc = unsafe { libc::kill(pid as i32, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
}
