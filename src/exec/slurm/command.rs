//! Running Slurm's commands (`sbatch`, `squeue`, `scancel`) with a time limit each, retried
//! with back-off when the failure looks transient (a timeout, an unreachable controller), and
//! counted, so that a benchmark can show how many queries a run made.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many times each command was called (attempts, not logical calls).
#[derive(Debug, Default)]
pub struct CallCounts {
    /// `sbatch` calls.
    pub sbatch: AtomicU64,
    /// `squeue` calls.
    pub squeue: AtomicU64,
    /// `scancel` calls.
    pub scancel: AtomicU64,
    /// `scontrol` calls.
    pub scontrol: AtomicU64,
}

impl CallCounts {
    fn count(&self, program: &str) {
        let c = match program {
            "sbatch" => &self.sbatch,
            "squeue" => &self.squeue,
            "scancel" => &self.scancel,
            "scontrol" => &self.scontrol,
            _ => return,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Calls of every command together.
    pub fn total(&self) -> u64 {
        [&self.sbatch, &self.squeue, &self.scancel, &self.scontrol]
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// `sbatch N, squeue N, scancel N, scontrol N`.
    pub fn summary(&self) -> String {
        format!(
            "sbatch {}, squeue {}, scancel {}, scontrol {}",
            self.sbatch.load(Ordering::Relaxed),
            self.squeue.load(Ordering::Relaxed),
            self.scancel.load(Ordering::Relaxed),
            self.scontrol.load(Ordering::Relaxed)
        )
    }
}

/// A Slurm command that failed for good.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{program}` failed: {message}")]
pub struct SlurmError {
    /// The command.
    pub program: String,
    /// Slurm's own message (its stderr), or what went wrong running it.
    pub message: String,
    /// Whether retrying later may help (a timeout, an unreachable controller).
    pub transient: bool,
}

/// Runs Slurm commands.
#[derive(Debug, Clone)]
pub struct Runner {
    /// One attempt's limit.
    pub timeout: Duration,
    /// Attempts in all for a transient failure.
    pub attempts: u32,
    /// The first back-off (doubled after each attempt).
    pub backoff: Duration,
    /// Counts of calls made.
    pub counts: Arc<CallCounts>,
    /// The folder holding Slurm's commands (`None`: found on `PATH`); tests put stand-ins
    /// there.
    pub dir: Option<PathBuf>,
}

/// Phrases of Slurm's messages that mean "try again later".
const TRANSIENT: [&str; 8] = [
    "timed out",
    "Unable to contact",
    "temporarily unavailable",
    "Socket",
    "Connection refused",
    "Zero Bytes were transmitted",
    "try again",
    "Slurm temporarily",
];

impl Runner {
    /// A runner with this per-attempt limit, 3 attempts, and 1 s first back-off.
    pub fn new(timeout: Duration) -> Runner {
        Runner {
            timeout,
            attempts: 3,
            backoff: Duration::from_secs(1),
            counts: Arc::default(),
            dir: None,
        }
    }

    /// Runs `program args`, retrying transient failures; returns stdout.
    pub fn run(&self, program: &str, args: &[String]) -> Result<String, SlurmError> {
        self.run_or_find(program, args, || None)
    }

    /// Runs `program args` as [`Runner::run`] does, but after each transient failure (and its
    /// back-off) first asks `landed` whether the command took effect after all (an `sbatch`
    /// whose answer was lost): its `Some(answer)` stands for the command's stdout, and the
    /// command is not repeated.
    pub fn run_or_find(
        &self,
        program: &str,
        args: &[String],
        mut landed: impl FnMut() -> Option<String>,
    ) -> Result<String, SlurmError> {
        let mut wait = self.backoff;
        let attempts = self.attempts.max(1);
        let mut attempt = 1;
        loop {
            match self.once(program, args) {
                Ok(out) => return Ok(out),
                Err(e) if e.transient && attempt < attempts => {
                    std::thread::sleep(wait);
                    wait *= 2;
                    if let Some(answer) = landed() {
                        return Ok(answer);
                    }
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn once(&self, program: &str, args: &[String]) -> Result<String, SlurmError> {
        self.counts.count(program);
        let fail = |message: String, transient: bool| SlurmError {
            program: program.to_owned(),
            message,
            transient,
        };
        let path = self
            .dir
            .as_ref()
            .map_or_else(|| PathBuf::from(program), |d| d.join(program));
        let mut child = Command::new(path)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                let transient = e.kind() != std::io::ErrorKind::NotFound;
                fail(format!("cannot run it: {e}"), transient)
            })?;
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let out = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = stdout.read_to_end(&mut s);
            s
        });
        let err = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = stderr.read_to_end(&mut s);
            s
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(fail(
                        format!("no answer within {:.0}s", self.timeout.as_secs_f64()),
                        true,
                    ));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(fail(e.to_string(), true)),
            }
        };
        let out = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
        let err = String::from_utf8_lossy(&err.join().unwrap_or_default())
            .trim()
            .to_owned();
        if status.success() {
            return Ok(out);
        }
        let transient = status.code().is_none() || TRANSIENT.iter().any(|t| err.contains(t));
        let message = if err.is_empty() {
            format!("{status}")
        } else {
            err
        };
        Err(fail(message, transient))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner() -> Runner {
        Runner {
            timeout: Duration::from_millis(300),
            attempts: 3,
            backoff: Duration::from_millis(1),
            counts: Arc::default(),
            dir: None,
        }
    }

    #[test]
    fn output_and_errors_come_back() {
        let r = runner();
        assert_eq!(r.run("echo", &["hi".into()]).unwrap(), "hi\n");
        let e = r
            .run(
                "sh",
                &["-c".into(), "echo 'Invalid partition' >&2; exit 1".into()],
            )
            .unwrap_err();
        assert_eq!(e.message, "Invalid partition");
        assert!(!e.transient);
        let e = r.run("no-such-slurm-command", &[]).unwrap_err();
        assert!(!e.transient, "{e}");
    }

    #[test]
    fn a_hanging_command_is_stopped_and_retried() {
        let r = runner();
        let t = Instant::now();
        let e = r.run("sleep", &["5".into()]).unwrap_err();
        assert!(e.transient);
        assert!(e.message.contains("no answer"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(3));
        let e = r
            .run(
                "sh",
                &["-c".into(), "echo 'Socket timed out' >&2; exit 1".into()],
            )
            .unwrap_err();
        assert!(e.transient);
    }

    #[test]
    fn a_command_that_landed_after_all_is_not_repeated() {
        let r = runner();
        let flaky = ["-c".into(), "echo 'Socket timed out' >&2; exit 1".into()];
        let mut asked = 0;
        let out = r.run_or_find("sh", &flaky, || {
            asked += 1;
            Some("42".into())
        });
        assert_eq!(out.unwrap(), "42");
        assert_eq!(asked, 1);
        // Not found: every attempt is made, and the last error comes back.
        let mut asked = 0;
        let e = r
            .run_or_find("sh", &flaky, || {
                asked += 1;
                None
            })
            .unwrap_err();
        assert_eq!((asked, e.message.as_str()), (2, "Socket timed out"));
        // A lasting failure is not retried, and nothing is asked.
        let refused = ["-c".into(), "echo 'Invalid partition' >&2; exit 1".into()];
        let e = r
            .run_or_find("sh", &refused, || panic!("asked"))
            .unwrap_err();
        assert!(!e.transient);
    }
}
