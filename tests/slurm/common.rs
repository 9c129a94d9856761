//! Shared helpers of the Slurm tests: a temporary workspace whose `repro.local.yaml` keeps the
//! executor's waits short, a way to run the real `repro` binary in it (with a time limit), the
//! workspace's jobs as the real Slurm reports them, and wrappers that sit first on `PATH` in
//! front of Slurm's own commands to inject faults.
//!
//! Jobs are found by their working directory (`squeue %Z`), not by their job name: the name is
//! derived from the workspace root, and a bug there would make the tests cancel other
//! workspaces' jobs. Dropping a [`Ws`] cancels whatever of its jobs is still queued or
//! running, so that a failed test leaves nothing behind for the next one.
//!
//! Every test calls [`Ws::new`], which fails (never skips) when no Slurm answers.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long one `repro` invocation may take before the test fails (a job over its `time`
/// takes Slurm up to about 90 s to end).
pub(crate) const LIMIT: Duration = Duration::from_secs(170);

/// The site file every workspace gets: short waits so that failures show within seconds.
pub(crate) const SITE: &str =
    "slurm:\n  publish_grace: 5s\n  unreachable_after: 20s\n  command_timeout: 3s\n";

/// Slurm states in which a job still holds or waits for resources.
pub(crate) const LIVE: &str = "PENDING,RUNNING,CONFIGURING,COMPLETING,SUSPENDED,REQUEUED";

/// Panics unless `SLURM_CONF` is set and `sinfo` answers.
pub(crate) fn require_slurm() {
    assert!(
        std::env::var_os("SLURM_CONF").is_some(),
        "SLURM_CONF is unset: start a local Slurm with `eval \"$(scripts/slurm-local.sh start)\"` (make test-slurm)"
    );
    let out = Command::new("sinfo")
        .arg("--noheader")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `sinfo`: {e}"));
    assert!(
        out.status.success(),
        "`sinfo` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A temporary workspace `<tmp>/ws` with `pipeline.yaml` and [`SITE`] as `repro.local.yaml`;
/// `<tmp>/bin` comes first on `PATH` for `repro` (wrappers), `<tmp>/counter` is `$COUNTER`.
pub(crate) struct Ws {
    _dir: tempfile::TempDir,
    /// The workspace root, absolute and canonical.
    pub(crate) root: PathBuf,
    /// The side-effect counter file (outside the workspace), `$COUNTER` in stages.
    pub(crate) counter: PathBuf,
    /// Extra environment for `repro`.
    env: Vec<(String, String)>,
}

pub(crate) use crate::process::{signal, Out};

/// One job of the workspace, as `squeue -t all` reports it.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// `123` or `123_4`.
    pub(crate) id: String,
    /// The job name.
    pub(crate) name: String,
    /// `PENDING`, `COMPLETED`, ...
    pub(crate) state: String,
    /// The comment (repro's batch name).
    pub(crate) comment: String,
}

impl Ws {
    /// A fresh workspace with this pipeline text; fails the test when Slurm is not running.
    pub(crate) fn new(pipeline: &str) -> Ws {
        require_slurm();
        let dir = tempfile::Builder::new()
            .prefix("repro-slurm-it-")
            .tempdir()
            .expect("tempdir");
        let base = dir.path().canonicalize().expect("canonical tempdir");
        let root = base.join("ws");
        fs::create_dir_all(&root).expect("mkdir ws");
        fs::create_dir_all(base.join("bin")).expect("mkdir bin");
        let ws = Ws {
            counter: base.join("counter"),
            root,
            env: Vec::new(),
            _dir: dir,
        };
        ws.write("pipeline.yaml", pipeline);
        ws.write("repro.local.yaml", SITE);
        ws
    }

    /// The temporary directory that holds the workspace, `bin/` and the counter.
    pub(crate) fn tmp(&self) -> &Path {
        self.root.parent().expect("ws has a parent")
    }

    /// Sets an environment variable for every later `repro`.
    pub(crate) fn set_env(&mut self, name: &str, value: &str) {
        self.env.push((name.to_owned(), value.to_owned()));
    }

    /// Writes a workspace file, creating parent directories.
    pub(crate) fn write(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&p, text).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    }

    /// Reads a workspace file.
    pub(crate) fn read(&self, rel: &str) -> String {
        let p = self.root.join(rel);
        fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
    }

    /// Puts an executable `sh` script named `program` first on `PATH`; `$REAL` in `body` is
    /// the real command and `$T` the test's temporary directory (for state files).
    pub(crate) fn wrap(&self, program: &str, body: &str) {
        let real = which(program);
        let path = self.tmp().join("bin").join(program);
        let text = format!(
            "#!/bin/sh\nREAL={}\nT={}\n{body}\n",
            real.display(),
            self.tmp().display()
        );
        fs::write(&path, text).expect("write wrapper");
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    /// A `repro` command in the workspace: `COUNTER` set, the wrappers first on `PATH`,
    /// `squeue` polled every second, and no executor settings inherited from the caller.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_repro"));
        let path = format!(
            "{}:{}",
            self.tmp().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.args(args)
            .current_dir(&self.root)
            .env("COUNTER", &self.counter)
            .env("PATH", path)
            .env("REPRO_SLURM_POLL", "1s")
            .env_remove("CUDA_VISIBLE_DEVICES")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, _) in std::env::vars() {
            if k.starts_with("REPRO_") && k != "REPRO_SLURM_POLL" {
                c.env_remove(k);
            }
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Runs `repro ARGS` to completion.
    pub(crate) fn repro(&self, args: &[&str]) -> Out {
        wait_limited(self.command(args).spawn().expect("spawn repro"))
    }

    /// Runs `repro ARGS` and asserts the exit code.
    pub(crate) fn code(&self, args: &[&str], code: i32) -> Out {
        let out = self.repro(args);
        assert_eq!(
            out.code,
            code,
            "`repro {}`: unexpected exit code:\n{}",
            args.join(" "),
            out.both()
        );
        out
    }

    /// Runs `repro ARGS` and asserts exit 0.
    pub(crate) fn ok(&self, args: &[&str]) -> Out {
        self.code(args, 0)
    }

    /// Every line appended to the counter so far.
    pub(crate) fn ran(&self) -> Vec<String> {
        fs::read_to_string(&self.counter)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Instance → key, from `repro.lock` (empty when there is none).
    pub(crate) fn lock_keys(&self) -> std::collections::BTreeMap<String, String> {
        let text = fs::read_to_string(self.root.join("repro.lock")).unwrap_or_default();
        let mut keys = std::collections::BTreeMap::new();
        let mut current = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix('[') {
                current = rest.split_once("] ").map(|(_, id)| id.to_owned());
            } else if let (Some(id), Some(key)) = (&current, line.strip_prefix("key ")) {
                keys.insert(id.clone(), key.to_owned());
            }
        }
        keys
    }

    /// Action records in the store.
    pub(crate) fn records(&self) -> usize {
        files(&self.root.join("cache/actions"))
    }

    /// Files in a folder of the executor's state (`jobs`, `done`, `batches`, `out`).
    pub(crate) fn slurm_files(&self, folder: &str) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(self.root.join(".repro/slurm").join(folder))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        v.sort();
        v
    }

    /// The Slurm ids recorded in `.repro/slurm/jobs/` so far (entries only: a temporary file
    /// that a killed controller left unrenamed is not a record).
    pub(crate) fn registered_ids(&self) -> Vec<String> {
        self.slurm_files("jobs")
            .iter()
            .filter(|p| is_entry(p))
            .filter_map(|p| fs::read(p).ok())
            .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .filter_map(|v| v["job"].as_str().map(str::to_owned))
            .collect()
    }

    /// Every job of this workspace that Slurm still reports (any state).
    pub(crate) fn jobs(&self) -> Vec<Job> {
        self.jobs_in("all")
    }

    /// This workspace's jobs in the given `squeue -t` states.
    pub(crate) fn jobs_in(&self, states: &str) -> Vec<Job> {
        self.try_jobs_in(states).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Ws::jobs_in`], or why `squeue` did not answer (for `Drop`, which must not panic).
    fn try_jobs_in(&self, states: &str) -> Result<Vec<Job>, String> {
        let squeue = find("squeue").ok_or("`squeue` is not on PATH")?;
        let out = Command::new(squeue)
            .args([
                "--noheader",
                "--array",
                "-t",
                states,
                "-o",
                "%i|%j|%T|%k|%Z",
            ])
            .output()
            .map_err(|e| format!("cannot run squeue: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "squeue failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let root = self.root.to_string_lossy().into_owned();
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.trim().splitn(5, '|').collect();
                let dir = f
                    .get(4)?
                    .trim()
                    .trim_end_matches("/.")
                    .trim_end_matches('/');
                (dir == root).then(|| Job {
                    id: f[0].to_owned(),
                    name: f[1].to_owned(),
                    state: f[2].to_owned(),
                    comment: f[3].to_owned(),
                })
            })
            .collect())
    }

    /// The distinct submissions (`sbatch` calls that created jobs) Slurm knows for this
    /// workspace.
    pub(crate) fn submissions(&self) -> std::collections::BTreeSet<String> {
        self.jobs().into_iter().map(|j| j.comment).collect()
    }

    /// Cancels this workspace's live jobs (by id) and waits up to `secs` for them to end.
    /// Never panics (it runs in `Drop`): without an answer from Slurm it does nothing.
    pub(crate) fn cancel_jobs(&self, secs: u64) {
        let live = || self.try_jobs_in(LIVE).unwrap_or_default();
        let ids: Vec<String> = live().into_iter().map(|j| j.id).collect();
        let Some(scancel) = find("scancel").filter(|_| !ids.is_empty()) else {
            return;
        };
        let _ = Command::new(scancel).args(&ids).status();
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !live().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Ws {
    /// What the jobs and the run left behind, for a failing test's output: Slurm's output of
    /// every job (`.repro/slurm/out/`), every instance log (`.repro/logs/`) and the jobs
    /// Slurm still reports.
    pub(crate) fn evidence(&self) -> String {
        let mut text = String::new();
        for dir in [".repro/slurm/out", ".repro/logs"] {
            let mut paths: Vec<PathBuf> = fs::read_dir(self.root.join(dir))
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .collect();
            paths.sort();
            for p in paths {
                let body = fs::read(&p).unwrap_or_default();
                text.push_str(&format!(
                    "--- {}\n{}\n",
                    p.display(),
                    String::from_utf8_lossy(&body)
                ));
            }
        }
        // Without a panic: this runs while a test is already panicking.
        let jobs = self
            .try_jobs_in("all")
            .map_or_else(|e| e, |jobs| format!("{jobs:?}"));
        text.push_str(&format!("--- squeue (this workspace's jobs)\n{jobs}\n"));
        text
    }
}

impl Drop for Ws {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("the failed test's workspace:\n{}", self.evidence());
        }
        self.cancel_jobs(15);
    }
}

/// Whether `path` is a registry entry (`<hash>.json`), not a temporary file beside one.
pub(crate) fn is_entry(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".json") && !n.starts_with('.'))
}

fn files(dir: &Path) -> usize {
    fs::read_dir(dir).into_iter().flatten().flatten().count()
}

/// The real `program` on `PATH` (never a wrapper: those live only in `repro`'s `PATH`).
pub(crate) fn which(program: &str) -> PathBuf {
    find(program).unwrap_or_else(|| panic!("`{program}` is not on PATH"))
}

/// [`which`], or `None` when `program` is not on `PATH`.
fn find(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Waits for a spawned child within [`LIMIT`], collecting its output.
pub(crate) fn wait_limited(child: Child) -> Out {
    crate::process::wait_within(child, LIMIT)
}

/// Polls `cond` every 200 ms (a Slurm query each time, at most) for up to `secs` seconds.
pub(crate) fn wait_for(secs: u64, what: &str, cond: impl FnMut() -> bool) {
    crate::process::poll_until(secs, Duration::from_millis(200), what, cond)
}

/// Fails unless `text` contains `needle`, showing the whole output.
pub(crate) fn assert_has(out: &Out, needle: &str) {
    assert!(
        out.stderr.contains(needle) || out.stdout.contains(needle),
        "expected {needle:?} in the output:\n{}",
        out.both()
    );
}
