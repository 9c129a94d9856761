//! What may make a stage's numbers differ without changing its key: the device it ran on and
//! the versions of the tools the pipeline declares (`report.versions`: here rustc, cargo and
//! libtorch). Recorded in every action record (`ActionRecord::platform`), never hashed into a
//! key: a key says what is computed, and the same computation on another GPU or toolchain must
//! stay a cache hit (its numbers are compared within the stage's tolerance instead, by `repro
//! verify --reference` and `repro audit`).
//!
//! Gathered once per process, on a thread of their own ([`Facts`]) from the moment the
//! first job is about to start, else at the first publish: each declared version command is
//! run from the workspace root (its first line kept, or why it is unavailable); the CPU model
//! comes from `/proc/cpuinfo`, GPU names from `nvidia-smi --query-gpu=index,name` when it runs.
//! The checkout's commit (`git rev-parse HEAD`, and whether tracked files differ from it) is
//! gathered at the same time, while the first jobs may already run (a stage that changes
//! tracked files may be seen in the `dirty` flag or not), and recorded beside the platform (`ActionRecord::checkout`), for
//! the same reason: it says which source produced a result, while the key says what was
//! computed (its code entries are the digests of the files that ran).
//! Known limit: a GPU named by UUID rather than index in `CUDA_VISIBLE_DEVICES` is shown by
//! its id.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cache::{CheckoutRecord, Platform};
use crate::spec::Pipeline;

/// The facts of this machine, before the device of one run is known.
#[derive(Debug, Clone)]
pub struct Machine {
    /// The CPU model (or `unknown CPU`).
    pub cpu: String,
    /// GPU index to model name.
    pub gpus: BTreeMap<String, String>,
    /// Declared version label to its first line (or `unavailable: why`).
    pub versions: BTreeMap<String, String>,
    /// The checkout's commit, when the workspace is a git checkout.
    pub checkout: Option<CheckoutRecord>,
}

impl Machine {
    /// Gathers the facts for `pipeline`, whose version commands run from `root`.
    pub fn gather(pipeline: &Pipeline, root: &Path) -> Machine {
        Machine::gather_declared(&declared(pipeline), root)
    }

    /// Gathers the facts, running the declared version commands (label to argv) from `root`.
    fn gather_declared(declared: &BTreeMap<String, Vec<String>>, root: &Path) -> Machine {
        let versions = declared
            .iter()
            .map(|(label, argv)| {
                let args: Vec<&str> = argv.iter().map(String::as_str).collect();
                let v = crate::runreport::provenance::first_line(root, &args)
                    .unwrap_or_else(|why| format!("unavailable: {why}"));
                (label.clone(), v)
            })
            .collect();
        let checkout = crate::runreport::provenance::checkout(root);
        Machine {
            cpu: cpu_model(),
            gpus: gpu_names(root),
            versions,
            checkout: checkout.commit.ok().map(|commit| CheckoutRecord {
                commit,
                dirty: checkout.dirty,
            }),
        }
    }

    /// The platform of a run on `device` (`cpu`, or comma-separated GPU ids).
    pub fn platform(&self, device: &str) -> Platform {
        let device = if device == "cpu" || device.is_empty() {
            format!("cpu: {}", self.cpu)
        } else {
            device
                .split(',')
                .map(|id| match self.gpus.get(id.trim()) {
                    Some(name) => format!("gpu {id}: {name}"),
                    None => format!("gpu {id}"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        Platform {
            device,
            versions: self.versions.clone(),
        }
    }
}

/// A workspace's facts of this machine: gathered once, on a thread of their own from
/// [`Facts::start`] on (a run starts its first jobs while `git` and the version commands run,
/// instead of waiting for them at its first publish), else in place at the first
/// [`Facts::get`].
#[derive(Debug, Default)]
pub(super) struct Facts {
    known: std::sync::OnceLock<Machine>,
    soon: std::sync::Mutex<Soon>,
}

/// Where the gathering stands.
#[derive(Debug, Default)]
enum Soon {
    /// Not asked for: a run that starts nothing runs no `git`.
    #[default]
    NotAsked,
    /// Running on its own thread.
    Running(Gathering),
    /// Asked for already (taken by [`Facts::get`], or no thread could start).
    Asked,
}

impl Facts {
    /// The facts for `pipeline`, whose version commands run from `root`: those of the thread
    /// [`Facts::start`] started, else gathered here; once.
    pub(super) fn get(&self, pipeline: &Pipeline, root: &Path) -> &Machine {
        self.known.get_or_init(|| {
            match std::mem::replace(&mut *self.soon(), Soon::Asked) {
                Soon::Running(g) => g.finish(),
                Soon::NotAsked | Soon::Asked => None,
            }
            .unwrap_or_else(|| Machine::gather(pipeline, root))
        })
    }

    /// Starts gathering the facts on a thread of their own, unless they are known or were
    /// asked for already.
    pub(super) fn start(&self, pipeline: &Pipeline, root: &Path) {
        if self.known.get().is_some() {
            return;
        }
        let mut soon = self.soon();
        if matches!(*soon, Soon::NotAsked) {
            *soon = Gathering::start(pipeline, root).map_or(Soon::Asked, Soon::Running);
        }
    }

    fn soon(&self) -> std::sync::MutexGuard<'_, Soon> {
        // The guarded value is replaced whole: a panic elsewhere cannot leave it half-written.
        self.soon
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The facts of this machine, being gathered on a thread of their own.
#[derive(Debug)]
struct Gathering(std::thread::JoinHandle<Machine>);

impl Gathering {
    /// Starts gathering the facts for `pipeline` from `root`; `None` when no thread could be
    /// started (the caller then gathers them itself, when they are needed).
    fn start(pipeline: &Pipeline, root: &Path) -> Option<Gathering> {
        let declared = declared(pipeline);
        let root = root.to_owned();
        std::thread::Builder::new()
            .name("repro-facts".into())
            .spawn(move || Machine::gather_declared(&declared, &root))
            .ok()
            .map(Gathering)
    }

    /// Waits for the facts; `None` if the thread panicked.
    fn finish(self) -> Option<Machine> {
        self.0.join().ok()
    }
}

/// The version commands `pipeline` declares (`report.versions`), label to argv.
fn declared(pipeline: &Pipeline) -> BTreeMap<String, Vec<String>> {
    pipeline
        .report
        .as_ref()
        .map(|r| r.versions.clone())
        .unwrap_or_default()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

fn gpu_names(root: &Path) -> BTreeMap<String, String> {
    let args = [
        "nvidia-smi",
        "--query-gpu=index,name",
        "--format=csv,noheader",
    ];
    let Ok(text) = crate::runreport::provenance::output(root, &args) else {
        return BTreeMap::new();
    };
    text.lines()
        .filter_map(|l| l.split_once(','))
        .map(|(i, n)| (i.trim().to_owned(), n.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_names_its_cpu_or_each_of_its_gpus() {
        let m = Machine {
            cpu: "Xeon".into(),
            gpus: BTreeMap::from([("0".into(), "H100".into())]),
            versions: BTreeMap::from([("rustc".into(), "rustc 1.0".into())]),
            checkout: None,
        };
        assert_eq!(m.platform("cpu").device, "cpu: Xeon");
        assert_eq!(m.platform("0,1").device, "gpu 0: H100, gpu 1");
        assert_eq!(m.platform("0").versions["rustc"], "rustc 1.0");
    }

    /// A pipeline whose one version command appends a line to `gathered.txt` per run.
    fn counted(dir: &Path) -> Pipeline {
        let yaml = "version: 1\nreport:\n  out: report.html\n  versions:\n    tool: [sh, -c, 'echo run >> gathered.txt; echo tool 2.0']\nstages:\n  a:\n    cmd: 'true'\n    outs: [a.txt]\n";
        crate::spec::parse(&dir.join("pipeline.yaml"), yaml, None).unwrap()
    }

    fn runs(dir: &Path) -> usize {
        std::fs::read_to_string(dir.join("gathered.txt")).map_or(0, |t| t.lines().count())
    }

    #[test]
    fn the_facts_are_gathered_once_whether_asked_for_early_or_late() {
        let dir = tempfile::tempdir().unwrap();
        let (pipeline, root) = (counted(dir.path()), dir.path());
        let early = Facts::default();
        early.start(&pipeline, root);
        assert!(matches!(*early.soon(), Soon::Running(_)));
        early.start(&pipeline, root);
        assert_eq!(early.get(&pipeline, root).versions["tool"], "tool 2.0");
        assert!(matches!(*early.soon(), Soon::Asked));
        assert_eq!(early.get(&pipeline, root).versions["tool"], "tool 2.0");
        early.start(&pipeline, root);
        assert_eq!(runs(root), 1, "the thread's facts were taken, once");

        let late = Facts::default();
        assert_eq!(late.get(&pipeline, root).versions["tool"], "tool 2.0");
        late.start(&pipeline, root);
        assert!(
            !matches!(*late.soon(), Soon::Running(_)),
            "asked for after use: no thread"
        );
        assert_eq!(runs(root), 2);
    }

    #[test]
    fn facts_gathered_on_a_thread_are_those_gathered_in_place() {
        let dir = tempfile::tempdir().unwrap();
        // A checkout with a commit, so that both have one to agree on.
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["commit", "-q", "--allow-empty", "-m", "start"]);
        let yaml = "version: 1\nreport:\n  out: report.html\n  versions:\n    tool: [sh, -c, 'echo tool 4.2']\n    gone: [no-such-tool-here]\nstages:\n  a:\n    cmd: 'true'\n    outs: [a.txt]\n";
        let pipeline = crate::spec::parse(&dir.path().join("pipeline.yaml"), yaml, None).unwrap();
        let here = Machine::gather(&pipeline, dir.path());
        let there = Gathering::start(&pipeline, dir.path())
            .expect("a thread starts")
            .finish()
            .expect("the thread ends without panicking");
        assert_eq!(there.versions["tool"], "tool 4.2");
        assert!(
            there.versions["gone"].starts_with("unavailable: "),
            "{:?}",
            there.versions
        );
        let commit = |m: &Machine| m.checkout.as_ref().map(|c| (c.commit.clone(), c.dirty));
        assert!(
            commit(&there).is_some_and(|(c, _)| c.len() == 40),
            "{:?}",
            there.checkout
        );
        assert_eq!(
            (&there.cpu, &there.gpus, &there.versions, commit(&there)),
            (&here.cpu, &here.gpus, &here.versions, commit(&here))
        );
    }
}
