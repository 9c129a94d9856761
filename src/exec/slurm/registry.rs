//! The workspace's record of submitted batch jobs: one small JSON file per instance under
//! `.repro/slurm/jobs/`, written (atomically) before `sbatch` is called and completed with the
//! job id after, so that a controller killed at any instant leaves every job it submitted
//! findable: by id, or by its batch's unique job comment when it died inside `sbatch`. A run
//! that finds a live job for an instance (same key, or a key not known at submission) adopts
//! it instead of submitting again. When a job's end has been handled its file moves to
//! `.repro/slurm/done/`, where `repro logs` still finds the job's output file. A job that runs a
//! pack has one entry per member, each with the same job id, batch and index, and `pack`
//! naming all the pack's instances.
//!
//! An entry is read back from disk, where anything may have written it: the output file it
//! names is used only through [`Entry::out_file`], which refuses a path that leaves the Slurm
//! output folder (`.repro/slurm/out`), by `..`, an absolute path or a symbolic link, so that
//! an entry saying `out: /etc/passwd` is reported, never printed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::jobid::SlurmJobId;
use crate::cache::atomic;
use crate::workspace::Layout;

/// A registry entry whose output file is outside the Slurm output folder.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the batch job entry of `{instance}` under `.repro/slurm/` names the output file `{out}`, which is not inside `.repro/slurm/out`; it is not read")]
pub struct OutsideOut {
    /// The entry's instance.
    pub instance: String,
    /// The path it names.
    pub out: String,
}

/// One submitted job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The instance id.
    pub instance: String,
    /// The cache key it was submitted for (`None`: decided when the job runs, after its
    /// upstream jobs: `--detach`).
    pub key: Option<String>,
    /// Slurm's job id (`123` or `123_4`), once `sbatch` answered.
    pub job: Option<SlurmJobId>,
    /// The submission's batch name (also the job's `--comment`).
    pub batch: String,
    /// The array index within the batch.
    pub index: u32,
    /// The job's output file, relative to the workspace root.
    pub out: String,
    /// Unix seconds at submission.
    pub submitted: u64,
    /// When the job runs a pack: every instance of the pack, this one included, in manifest
    /// order (empty: the job runs this instance alone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pack: Vec<String>,
}

impl Entry {
    /// The job's output file in the workspace of `layout`: `out` must be a relative path
    /// without `..` inside the Slurm output folder, and must stay inside it once symbolic
    /// links are followed (when it exists).
    pub fn out_file(&self, layout: &Layout) -> Result<PathBuf, OutsideOut> {
        let outside = || OutsideOut {
            instance: self.instance.clone(),
            out: self.out.clone(),
        };
        let rel = Path::new(&self.out);
        if !rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            return Err(outside());
        }
        let folder = layout.slurm_out();
        let path = layout.root().join(rel);
        if !path.starts_with(&folder) || path == folder {
            return Err(outside());
        }
        if let (Ok(real), Ok(real_folder)) = (path.canonicalize(), folder.canonicalize()) {
            if !real.starts_with(real_folder) {
                return Err(outside());
            }
        }
        Ok(path)
    }
}

/// The registry folder of one workspace.
#[derive(Debug, Clone)]
pub struct Registry {
    dir: PathBuf,
}

fn file_name(instance: &str) -> String {
    let h = blake3::hash(instance.as_bytes()).to_hex();
    format!("{}.json", &h[..24])
}

impl Registry {
    /// The registry under `dir` (`.repro/slurm`).
    pub fn new(dir: &Path) -> Registry {
        Registry {
            dir: dir.to_owned(),
        }
    }

    /// The folder of live entries (`jobs/`).
    pub(super) fn live(&self) -> PathBuf {
        self.dir.join("jobs")
    }

    fn done(&self) -> PathBuf {
        self.dir.join("done")
    }

    /// Records (or replaces) an instance's job.
    pub fn put(&self, e: &Entry) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(e).expect("entries serialise");
        atomic::write(&self.live().join(file_name(&e.instance)), &bytes)
    }

    /// The live entry of an instance.
    pub fn get(&self, instance: &str) -> Option<Entry> {
        read(&self.live().join(file_name(instance)))
    }

    /// The last ended entry of an instance.
    pub fn last_done(&self, instance: &str) -> Option<Entry> {
        read(&self.done().join(file_name(instance)))
    }

    /// Moves an instance's entry to `done/` (its job's end was handled).
    pub fn finish(&self, instance: &str) {
        let from = self.live().join(file_name(instance));
        let to = self.done().join(file_name(instance));
        if std::fs::create_dir_all(self.done()).is_ok() && std::fs::rename(&from, &to).is_ok() {
            return;
        }
        let _ = std::fs::remove_file(from);
    }

    /// Forgets an instance's live entry (its submission failed).
    pub fn forget(&self, instance: &str) {
        let _ = std::fs::remove_file(self.live().join(file_name(instance)));
    }

    /// Every live entry.
    pub fn all(&self) -> Vec<Entry> {
        let Ok(dir) = std::fs::read_dir(self.live()) else {
            return Vec::new();
        };
        let mut v: Vec<Entry> = dir
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .filter_map(|e| read(&e.path()))
            .collect();
        v.sort_by(|a, b| a.instance.cmp(&b.instance));
        v
    }
}

fn read(path: &Path) -> Option<Entry> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_file_outside_the_slurm_output_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        std::fs::create_dir_all(layout.slurm_out()).unwrap();
        let entry = |out: &str| Entry {
            instance: "a".into(),
            key: None,
            job: None,
            batch: "b1".into(),
            index: 0,
            out: out.into(),
            submitted: 1,
            pack: Vec::new(),
        };
        assert_eq!(
            entry(".repro/slurm/out/b1_0.out").out_file(&layout),
            Ok(layout.slurm_out().join("b1_0.out"))
        );
        for bad in [
            "/etc/passwd",
            ".repro/slurm/out/../../../../etc/passwd",
            ".repro/slurm/jobs/x.json",
            "pipeline.yaml",
            ".repro/slurm/out",
            "./.repro/slurm/out/b1_0.out",
            "",
        ] {
            let e = entry(bad).out_file(&layout).unwrap_err();
            assert_eq!(e.out, bad);
            assert!(e.to_string().contains("entry of `a`"), "{e}");
        }
        // A symbolic link inside the folder that leads out of it.
        std::os::unix::fs::symlink("/etc/passwd", layout.slurm_out().join("b1_1.out")).unwrap();
        assert!(entry(".repro/slurm/out/b1_1.out")
            .out_file(&layout)
            .is_err());
    }

    #[test]
    fn entries_round_trip_and_move_to_done() {
        let dir = tempfile::tempdir().unwrap();
        let r = Registry::new(dir.path());
        let e = Entry {
            instance: "train@seed=1".into(),
            key: Some("ab".into()),
            job: Some(SlurmJobId::task(41, 3)),
            batch: "b1".into(),
            index: 3,
            out: ".repro/slurm/out/b1_3.out".into(),
            submitted: 1,
            pack: Vec::new(),
        };
        r.put(&e).unwrap();
        // The id is stored as Slurm's text, as it always was.
        let text = std::fs::read_to_string(r.live().join(file_name(&e.instance))).unwrap();
        assert!(text.contains(r#""job": "41_3""#), "{text}");
        assert_eq!(r.get("train@seed=1"), Some(e.clone()));
        assert_eq!(r.all(), vec![e.clone()]);
        r.finish("train@seed=1");
        assert_eq!(r.get("train@seed=1"), None);
        assert_eq!(r.last_done("train@seed=1"), Some(e));
        assert!(r.all().is_empty());
    }
}
