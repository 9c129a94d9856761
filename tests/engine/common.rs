//! Shared helpers: a temporary workspace with a `pipeline.yaml`, a way to run the real `repro`
//! binary in it (with a time limit, so a hung engine fails the test instead of the suite), and
//! a side-effect counter that stages append to, so that tests can prove what ran.
//!
//! The counter lives outside the workspace and reaches stages through the inherited `COUNTER`
//! environment variable, which is not part of any cache key: moving or copying a workspace
//! keeps its keys, and a restore from the cache leaves no trace in the counter.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long one `repro` invocation may take before the test fails.
pub(crate) const LIMIT: Duration = Duration::from_secs(120);

/// A temporary workspace: `<tmp>/ws/pipeline.yaml` plus the counter `<tmp>/counter`.
pub(crate) struct Ws {
    _dir: tempfile::TempDir,
    /// The workspace root (holds `pipeline.yaml`).
    pub(crate) root: PathBuf,
    /// The side-effect counter file (outside the workspace).
    pub(crate) counter: PathBuf,
}

// The chaos crate includes this file too and uses only some of these.
#[allow(unused_imports)]
pub(crate) use crate::process::{alive, signal, Out};

impl Ws {
    /// A fresh workspace with this pipeline text.
    pub(crate) fn new(pipeline: &str) -> Ws {
        let dir = tempfile::Builder::new()
            .prefix("repro-it-")
            .tempdir()
            .expect("tempdir");
        let root = dir.path().join("ws");
        fs::create_dir_all(&root).expect("mkdir ws");
        let ws = Ws {
            counter: dir.path().join("counter"),
            root,
            _dir: dir,
        };
        ws.write("pipeline.yaml", pipeline);
        ws
    }

    /// The temporary directory that holds the workspace and the counter.
    pub(crate) fn tmp(&self) -> &Path {
        self.root.parent().expect("ws has a parent")
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

    /// Replaces `from` with `to` in `pipeline.yaml` (which must contain it).
    pub(crate) fn edit_pipeline(&self, from: &str, to: &str) {
        let text = self.read("pipeline.yaml");
        assert!(
            text.contains(from),
            "pipeline.yaml does not contain {from:?}"
        );
        self.write("pipeline.yaml", &text.replacen(from, to, 1));
    }

    /// A `repro` command in the workspace, with `COUNTER` set and no GPU discovery from the
    /// test's own environment.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        command_in(&self.root, &self.counter, args)
    }

    /// Runs `repro ARGS` to completion.
    pub(crate) fn repro(&self, args: &[&str]) -> Out {
        run_limited(self.command(args))
    }

    /// Runs `repro ARGS` and asserts exit 0.
    pub(crate) fn ok(&self, args: &[&str]) -> Out {
        let out = self.repro(args);
        assert_eq!(
            out.code,
            0,
            "`repro {}` failed:\n{}",
            args.join(" "),
            out.both()
        );
        out
    }

    /// Runs `repro ARGS` on a machine whose GPUs are `devices` (made known through
    /// `CUDA_VISIBLE_DEVICES`, since `--gpus` only chooses among detected devices) and
    /// asserts exit 0.
    pub(crate) fn ok_on_gpus(&self, devices: &str, args: &[&str]) -> Out {
        let mut cmd = self.command(args);
        cmd.env("CUDA_VISIBLE_DEVICES", devices);
        let out = run_limited(cmd);
        assert_eq!(
            out.code,
            0,
            "`repro {}` on GPUs {devices} failed:\n{}",
            args.join(" "),
            out.both()
        );
        out
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

    /// Every line appended to the counter so far.
    pub(crate) fn ran(&self) -> Vec<String> {
        fs::read_to_string(&self.counter)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// How many times the counter line `name` was appended.
    pub(crate) fn count(&self, name: &str) -> usize {
        self.ran().iter().filter(|l| *l == name).count()
    }

    /// Files under `cache/objects`.
    pub(crate) fn objects(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let dir = self.root.join("cache/objects");
        for a in fs::read_dir(&dir).into_iter().flatten().flatten() {
            for b in fs::read_dir(a.path()).into_iter().flatten().flatten() {
                out.push(b.path());
            }
        }
        out.sort();
        out
    }
}

/// A `repro` command in `root` with `COUNTER` pointing at `counter`.
pub(crate) fn command_in(root: &Path, counter: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_repro"));
    c.args(args)
        .current_dir(root)
        .env("COUNTER", counter)
        .env_remove("CUDA_VISIBLE_DEVICES")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Runs a command to completion within [`LIMIT`]; kills it and panics past that.
pub(crate) fn run_limited(mut cmd: Command) -> Out {
    let child = cmd.spawn().expect("spawn repro");
    wait_limited(child)
}

/// Waits for a spawned child within [`LIMIT`], collecting its output.
pub(crate) fn wait_limited(child: Child) -> Out {
    crate::process::wait_within(child, LIMIT)
}

/// Polls `cond` every 20 ms for up to `secs` seconds.
pub(crate) fn wait_for(secs: u64, what: &str, cond: impl FnMut() -> bool) {
    crate::process::poll_until(secs, Duration::from_millis(20), what, cond)
}

/// Replaces 64-hex digests and `1.23s` durations so that output can be snapshotted.
pub(crate) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let hex = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            .count();
        if hex >= 64 && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()) {
            out.push_str("[hash]");
            i += hex;
            continue;
        }
        // A number followed by `s` at a word end: a duration.
        if chars[i].is_ascii_digit()
            && (i == 0 || !chars[i - 1].is_ascii_alphanumeric() && chars[i - 1] != '.')
        {
            let len = chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || **c == '.')
                .count();
            let next = chars.get(i + len);
            let after = chars.get(i + len + 1);
            if next == Some(&'s')
                && after.is_none_or(|c| !c.is_ascii_alphanumeric())
                && chars[i..i + len].contains(&'.')
            {
                out.push_str("[time]");
                i += len + 1;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Lines of `text` that contain `needle`.
pub(crate) fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

/// Parses `--json` output: one JSON object per line.
pub(crate) fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

#[test]
fn redact_hides_hashes_and_durations_only() {
    let h = "a".repeat(64);
    assert_eq!(
        redact(&format!("key {h} in 0.53s (1.2s) 3 ran, v1.5")),
        "key [hash] in [time] ([time]) 3 ran, v1.5"
    );
    assert_eq!(redact("job2.5s"), "job2.5s");
}
