//! Facts about the checkout and the tools, gathered by running real commands from the
//! workspace root when the page is written: the git commit and whether tracked files differ
//! from it (`git rev-parse HEAD`, `git --no-optional-locks status --porcelain
//! --untracked-files=no`), and each version command the pipeline declares
//! (`report.versions`), whose first line of output is shown. Each command gets [`COMMAND_LIMIT`]; one that fails, is missing or runs past it is
//! shown as unavailable, with why, never as a guess.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one command may take.
pub(crate) const COMMAND_LIMIT: Duration = Duration::from_secs(20);

/// The first pause between looks at whether a command has ended (each pause doubles).
const POLL_FIRST: Duration = Duration::from_micros(250);
/// The longest pause between looks at whether a command has ended.
const POLL_MAX: Duration = Duration::from_millis(20);

/// The checkout's commit, or why it is unknown.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Checkout {
    /// `HEAD`'s commit, or `Err(why)`.
    pub(crate) commit: Result<String, String>,
    /// Whether tracked files differ from it (`None` when unknown).
    pub(crate) dirty: Option<bool>,
}

/// Reads the checkout of `root`.
pub(crate) fn checkout(root: &Path) -> Checkout {
    let commit = first_line(root, &["git", "rev-parse", "HEAD"]);
    let dirty = match (
        &commit,
        output(
            root,
            // Without the index's optional lock: the first jobs may run beside this, and a
            // stage that commits must not find `.git/index.lock` taken.
            &[
                "git",
                "--no-optional-locks",
                "status",
                "--porcelain",
                "--untracked-files=no",
            ],
        ),
    ) {
        (Ok(_), Ok(text)) => Some(!text.trim().is_empty()),
        _ => None,
    };
    Checkout { commit, dirty }
}

/// The first non-empty line a command prints (stdout, else stderr), or why there is none.
pub(crate) fn first_line(root: &Path, argv: &[&str]) -> Result<String, String> {
    let text = output(root, argv)?;
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| format!("`{}` printed nothing", argv.join(" ")))
}

/// What a command prints on stdout (or on stderr when stdout is empty: `rustc -vV` style tools
/// print there), when it exits 0 within [`COMMAND_LIMIT`].
pub(crate) fn output(root: &Path, argv: &[&str]) -> Result<String, String> {
    let shown = argv.join(" ");
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| "empty command".to_owned())?;
    let mut child = Command::new(program)
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    // Read on threads so that a chatty command cannot fill a pipe and stall.
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = stdout.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let start = Instant::now();
    // Looked at again after a pause that doubles up to `POLL_MAX`: these commands end within
    // a few milliseconds, and a run's first publication waits for them.
    let mut pause = POLL_FIRST;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > COMMAND_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("`{shown}` ran past {}s", COMMAND_LIMIT.as_secs()));
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(POLL_MAX);
            }
            Err(e) => return Err(format!("cannot wait for `{shown}`: {e}")),
        }
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    if !status.success() {
        let why = err.lines().next().unwrap_or("").trim().to_owned();
        return Err(format!(
            "`{shown}` failed ({status}){}",
            if why.is_empty() {
                String::new()
            } else {
                format!(": {why}")
            }
        ));
    }
    Ok(if out.trim().is_empty() { err } else { out })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_the_first_line_a_real_command_prints() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            first_line(
                dir.path(),
                &["sh", "-c", "echo; echo 'tool 1.2'; echo more"]
            ),
            Ok("tool 1.2".to_owned())
        );
        assert_eq!(
            first_line(dir.path(), &["sh", "-c", "echo 'on stderr 3' >&2"]),
            Ok("on stderr 3".to_owned())
        );
    }

    #[test]
    fn a_missing_or_failing_command_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let e = first_line(dir.path(), &["no-such-command-here"]).unwrap_err();
        assert!(e.contains("cannot start"), "{e}");
        let e = first_line(dir.path(), &["sh", "-c", "echo bad >&2; exit 3"]).unwrap_err();
        assert!(e.contains("failed") && e.contains("bad"), "{e}");
    }

    #[test]
    fn a_folder_outside_git_has_no_commit() {
        let dir = tempfile::tempdir().unwrap();
        let c = checkout(dir.path());
        assert!(c.commit.is_err());
        assert_eq!(c.dirty, None);
    }
}
