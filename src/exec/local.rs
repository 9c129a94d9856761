//! The local executor: a child process per job, in its own process group so that cancelling
//! reaches its children too (SIGTERM to the group, then SIGKILL after a grace period).
//! stdout and stderr go to the job's log file; stdin is closed.

use std::fs::File;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Executor, Job, JobResult, Outcome};

/// Runs jobs as local child processes.
#[derive(Debug, Default)]
pub struct LocalExecutor;

const GRACE: Duration = Duration::from_secs(5);

impl Executor for LocalExecutor {
    fn run(&self, job: &Job, cancel: &Arc<AtomicBool>) -> JobResult {
        let start = Instant::now();
        let done = |outcome| JobResult {
            outcome,
            duration: start.elapsed(),
        };
        if let Some(parent) = job.log.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let log = match File::create(&job.log) {
            Ok(f) => f,
            Err(e) => {
                return done(Outcome::SpawnError(format!(
                    "cannot create log `{}`: {e}",
                    job.log.display()
                )))
            }
        };
        let err_log = match log.try_clone() {
            Ok(f) => f,
            Err(e) => return done(Outcome::SpawnError(e.to_string())),
        };
        let program = resolve_program(&job.argv[0], &job.cwd);
        let mut cmd = Command::new(&program);
        cmd.args(&job.argv[1..])
            .current_dir(&job.cwd)
            .envs(job.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err_log))
            .process_group(0);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                return done(Outcome::SpawnError(format!(
                    "cannot start `{}`: {e}",
                    job.argv[0]
                )))
            }
        };
        let pgid = child.id() as i32;
        let mut poll = Duration::from_millis(1);
        let mut term_sent: Option<Instant> = None;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    if term_sent.is_some() {
                        return done(Outcome::Cancelled);
                    }
                    return done(match (status.code(), status.signal()) {
                        (Some(0), _) => Outcome::Success,
                        (Some(c), _) => Outcome::Failed(format!("exit status {c}")),
                        (None, Some(s)) => Outcome::Failed(format!("killed by signal {s}")),
                        (None, None) => Outcome::Failed("ended abnormally".to_owned()),
                    });
                }
                Ok(None) => {}
                Err(e) => return done(Outcome::Failed(format!("cannot wait for the child: {e}"))),
            }
            if cancel.load(Ordering::SeqCst) {
                match term_sent {
                    None => {
                        // SAFETY: kill(2) with a negative pid signals the child's process group.
                        unsafe { libc::kill(-pgid, libc::SIGTERM) };
                        term_sent = Some(Instant::now());
                    }
                    Some(t) if t.elapsed() > GRACE => {
                        // SAFETY: as above.
                        unsafe { libc::kill(-pgid, libc::SIGKILL) };
                    }
                    Some(_) => {}
                }
            }
            std::thread::sleep(poll);
            poll = (poll * 2).min(Duration::from_millis(20));
        }
    }
}

/// `argv[0]` with a `/` is relative to the working directory; a bare name goes through `PATH`.
fn resolve_program(arg0: &str, cwd: &std::path::Path) -> std::path::PathBuf {
    if arg0.contains('/') && !arg0.starts_with('/') {
        cwd.join(arg0)
    } else {
        std::path::PathBuf::from(arg0)
    }
}
