//! Re-executing one instance outside the workspace, for `repro audit`: its results must stay
//! out of the store, the lock and the workspace's outputs.
//!
//! How: a scratch directory (under the system's temporary directory) mirrors the workspace
//! root. Each directory on the way to one of the instance's outputs is a real directory there;
//! every other entry of those directories is a symbolic link to the workspace's own (absolute),
//! and the outputs themselves are absent. So the command, run in the scratch directory with
//! the same argv and declared environment as `repro run` gives it, reads its dependencies,
//! code and binaries through the links and writes its outputs into the scratch directory. The
//! outputs are then hashed as `publish` hashes them and the declared metrics read as `publish`
//! reads them, into a [`LockEntry`] that can be compared with the recorded one; the scratch
//! directory is removed.
//!
//! Limits: a command that writes somewhere other than its declared outputs, through one of the
//! links, writes into the workspace (the engine never lets such a stage's other writes count
//! either); the instance runs alone, without the scheduler's slots (the caller passes the
//! thread limits a run would set).

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cache::{digest_path, Policy, StatCache};
use crate::graph::Instance;

use super::lockfile::LockEntry;
use super::metrics::read_metrics;
use super::open::Workspace;

/// Why a re-execution produced no comparable result.
#[derive(Debug, thiserror::Error)]
pub enum RerunError {
    /// The scratch directory could not be made.
    #[error("cannot prepare the scratch directory `{path}`: {source}")]
    Scratch {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The command did not start.
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        /// `argv[0]`.
        program: String,
        /// The cause.
        source: io::Error,
    },
    /// The command failed.
    #[error("the command {status}; the end of its output:\n{tail}")]
    Failed {
        /// How it ended (`exited with 2`, `was killed by signal 9`).
        status: String,
        /// The last lines of its stdout and stderr.
        tail: String,
    },
    /// The command ran past the stage's `timeout`.
    #[error("the command ran past the stage's timeout of {0:?} and was ended")]
    TimedOut(Duration),
    /// An output is missing or unreadable, or a declared metric cannot be read.
    #[error("{0}")]
    Output(String),
}

/// The result of one re-execution.
#[derive(Debug)]
pub struct Rerun {
    /// Outputs and metrics as a lock entry (key and structural key: the recorded ones, since
    /// the inputs are those the lock names).
    pub entry: LockEntry,
    /// Wall time of the command.
    pub seconds: f64,
}

impl Workspace<'_> {
    /// Re-executes `inst` in a scratch directory over this workspace's files (see the module
    /// doc), `recorded` being its lock entry, with `env` added to its environment (the
    /// scheduler's thread limits); nothing in the workspace changes.
    pub fn rerun_in_scratch(
        &self,
        inst: &Instance,
        recorded: &LockEntry,
        env: &[(String, String)],
    ) -> Result<Rerun, RerunError> {
        let root = self
            .layout
            .root()
            .canonicalize()
            .map_err(|source| RerunError::Scratch {
                path: self.layout.root().to_owned(),
                source,
            })?;
        let tmp = tempfile::Builder::new()
            .prefix("repro-audit-")
            .tempdir()
            .map_err(|source| RerunError::Scratch {
                path: std::env::temp_dir(),
                source,
            })?;
        let scratch = tmp.path().join("ws");
        mirror(&root, &scratch, &inst.outs).map_err(|source| RerunError::Scratch {
            path: scratch.clone(),
            source,
        })?;
        let log = tmp.path().join("log");
        let seconds = run(inst, &recorded.key, env, &scratch, &log)?;
        let fresh = StatCache::default();
        let mut outs = BTreeMap::new();
        for o in &inst.outs {
            let d = digest_path(&scratch, o, &fresh, Policy::Strict)
                .map_err(|e| RerunError::Output(format!("cannot hash output `{o}`: {e}")))?
                .ok_or_else(|| {
                    RerunError::Output(format!("declared output `{o}` was not produced"))
                })?;
            outs.insert(o.clone(), d.tagged());
        }
        let metrics = match &inst.metrics {
            Some(m) => read_metrics(&scratch, m).map_err(RerunError::Output)?,
            None => BTreeMap::new(),
        };
        Ok(Rerun {
            entry: LockEntry {
                key: recorded.key.clone(),
                outs,
                metrics,
                skey: recorded.skey.clone(),
            },
            seconds,
        })
    }
}

/// Builds the scratch tree: real directories on the way to each output, links for the rest.
fn mirror(root: &Path, scratch: &Path, outs: &[String]) -> io::Result<()> {
    let outs: BTreeSet<&str> = outs.iter().map(String::as_str).collect();
    let mut dirs: BTreeSet<String> = BTreeSet::from([String::new()]);
    for o in &outs {
        let mut at = String::new();
        let parts: Vec<&str> = o.split('/').collect();
        for p in &parts[..parts.len() - 1] {
            at = if at.is_empty() {
                (*p).to_owned()
            } else {
                format!("{at}/{p}")
            };
            dirs.insert(at.clone());
        }
    }
    for d in &dirs {
        std::fs::create_dir_all(scratch.join(d))?;
        let entries = match std::fs::read_dir(root.join(d)) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for e in entries {
            let name = e?.file_name();
            let Some(name) = name.to_str() else { continue };
            let rel = if d.is_empty() {
                name.to_owned()
            } else {
                format!("{d}/{name}")
            };
            if dirs.contains(&rel) || outs.contains(rel.as_str()) {
                continue;
            }
            std::os::unix::fs::symlink(root.join(&rel), scratch.join(&rel))?;
        }
    }
    Ok(())
}

/// Runs the instance's command in `dir`, its output to `log`; returns its wall time.
fn run(
    inst: &Instance,
    key: &str,
    env: &[(String, String)],
    dir: &Path,
    log: &Path,
) -> Result<f64, RerunError> {
    let scratch_err = |source| RerunError::Scratch {
        path: log.to_owned(),
        source,
    };
    let out = std::fs::File::create(log).map_err(scratch_err)?;
    let err = out.try_clone().map_err(scratch_err)?;
    let program = &inst.argv[0];
    let resolved = if program.contains('/') && !program.starts_with('/') {
        dir.join(program)
    } else {
        PathBuf::from(program)
    };
    let params = serde_json::to_string(&inst.params).unwrap_or_default();
    let started = Instant::now();
    let mut child = Command::new(resolved)
        .args(&inst.argv[1..])
        .current_dir(dir)
        .envs(&inst.env)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("REPRO_KEY", key)
        .env("REPRO_INSTANCE", &inst.id)
        .env("REPRO_PARAMS", params)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|source| RerunError::Spawn {
            program: program.clone(),
            source,
        })?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {}
            Err(e) => {
                return Err(RerunError::Failed {
                    status: format!("could not be waited for ({e})"),
                    tail: tail(log),
                })
            }
        }
        if let Some(limit) = inst.timeout {
            if started.elapsed() > limit {
                // Ending a child that has just exited fails harmlessly; `wait` reaps it.
                let _ = child.kill();
                let _ = child.wait();
                return Err(RerunError::TimedOut(limit));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let seconds = started.elapsed().as_secs_f64();
    if status.success() {
        return Ok(seconds);
    }
    use std::os::unix::process::ExitStatusExt;
    let how = match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited with {c}"),
        (None, Some(s)) => format!("was killed by signal {s}"),
        _ => "ended abnormally".to_owned(),
    };
    Err(RerunError::Failed {
        status: how,
        tail: tail(log),
    })
}

/// The last lines of a log, for a failure's message.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirror_links_everything_but_the_outputs_and_their_parents() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("work/data")).unwrap();
        std::fs::create_dir_all(r.join("work/stats")).unwrap();
        std::fs::write(r.join("work/data/x"), "x").unwrap();
        std::fs::write(r.join("work/stats/a.json"), "old").unwrap();
        std::fs::write(r.join("work/stats/b.json"), "other").unwrap();
        std::fs::write(r.join("tool.sh"), "t").unwrap();
        let s = tempfile::tempdir().unwrap();
        let scratch = s.path().join("ws");
        mirror(r, &scratch, &["work/stats/a.json".to_owned()]).unwrap();
        let kind = |p: &str| std::fs::symlink_metadata(scratch.join(p)).map(|m| m.file_type());
        assert!(kind("tool.sh").unwrap().is_symlink());
        assert!(kind("work").unwrap().is_dir());
        assert!(kind("work/data").unwrap().is_symlink());
        assert!(kind("work/stats").unwrap().is_dir());
        assert!(kind("work/stats/b.json").unwrap().is_symlink());
        assert!(kind("work/stats/a.json").is_err(), "the output is left out");
        // Writing the output in the scratch tree leaves the workspace's copy alone.
        std::fs::write(scratch.join("work/stats/a.json"), "new").unwrap();
        assert_eq!(
            std::fs::read_to_string(r.join("work/stats/a.json")).unwrap(),
            "old"
        );
    }
}
