//! Finding and ending a run's processes by the token in their environment.
//!
//! Every job's environment carries `REPRO_JOB_TOKEN=<run>/<job>`. A process group reaches only
//! the processes that stayed in it; a stage that calls `setsid`, or whose children outlive a
//! killed engine, escapes it, but not its inherited environment. Scanning `/proc/*/environ`
//! (readable for one's own processes) finds them all. Limits: a process that clears its
//! environment is not found; Linux only (elsewhere nothing is found).

use std::time::{Duration, Instant};

/// The environment variable that marks a job's processes.
pub const TOKEN_VAR: &str = "REPRO_JOB_TOKEN";

/// The pids of the processes whose `REPRO_JOB_TOKEN` starts with `prefix`.
pub fn find(prefix: &str) -> Vec<i32> {
    let needle = format!("{TOKEN_VAR}={prefix}");
    let me = std::process::id() as i32;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter(|&pid| pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
                env.split(|b| *b == 0)
                    .any(|var| var.starts_with(needle.as_bytes()))
            })
        })
        .collect()
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
    end_and_confirm(prefix, grace).0
}

/// [`end_all`], also returning the pids still alive at the end (empty: all confirmed gone).
/// When the first scan finds nothing, that scan is the confirmation: one scan of `/proc`.
pub fn end_and_confirm(prefix: &str, grace: Duration) -> (usize, Vec<i32>) {
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
    fn processes_that_left_their_group_are_found_by_token_and_ended() {
        let prefix = format!("test-{}-{}/", std::process::id(), line!());
        let mut child = Command::new("sh")
            .args(["-c", "setsid sleep 30 & sleep 30"])
            .env(TOKEN_VAR, format!("{prefix}1"))
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while find(&prefix).len() < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(find(&prefix).len(), 3, "sh, its sleep and the setsid sleep");
        assert_eq!(end_all(&prefix, Duration::from_secs(2)), 3);
        let _ = child.wait();
        assert!(find(&prefix).is_empty());
    }
}
