//! Where everything of a workspace lives, in one place. Every path the engine reads or writes
//! under the workspace root is computed here:
//!
//! | path | what |
//! |---|---|
//! | `cache/` | the content store (its inside is `cache::Store`'s business) |
//! | `repro.lock` | the committed lock file |
//! | `.repro/lock` | the workspace lock (`flock`) |
//! | `.repro/stat-cache` | remembered file digests |
//! | `.repro/runs/` | one file per running `repro run`, naming its processes' token |
//! | `.repro/published` | keys published or restored since `repro.lock` was last written |
//! | `.repro/logs/<id>.log` | the log of an instance's latest attempt |
//! | `.repro/last-run/<profile>.json` | what the latest `repro run` of a profile did, for the report page |
//! | `.repro/outputs` | every path declared as an output here, with what was last put there |
//! | `.repro/packs/<job>/` | a running pack's manifest and its members' completion markers |
//! | `.repro/slurm/` | the Slurm executor's registry, submissions' manifests and scripts |
//! | `.repro/slurm/out/` | batch jobs' output files |
//!
//! Temporary files are siblings of what they replace (`cache::atomic`), so that the final
//! rename never crosses a filesystem.

use std::path::{Path, PathBuf};

use crate::cache::hash_bytes;

/// The paths of one workspace.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout of the workspace rooted at `root` (the directory of `pipeline.yaml`).
    pub fn new(root: &Path) -> Layout {
        Layout {
            root: root.to_path_buf(),
        }
    }

    /// The workspace root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The absolute path of a workspace-relative path.
    pub fn abs(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// The first existing parent of `rel` (inside the workspace) that is a symbolic link, if
    /// any: writing or deleting `rel` would then reach outside the workspace.
    pub fn linked_parent(&self, rel: &str) -> Option<String> {
        let parts: Vec<&str> = rel.split('/').collect();
        for n in 1..parts.len() {
            let prefix = parts[..n].join("/");
            match std::fs::symlink_metadata(self.root.join(&prefix)) {
                Ok(m) if m.file_type().is_symlink() => return Some(prefix),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }

    /// The content store's directory.
    pub fn store(&self) -> PathBuf {
        self.root.join("cache")
    }

    /// The committed lock file.
    pub fn lock_file(&self) -> PathBuf {
        self.root.join("repro.lock")
    }

    /// The engine's private directory.
    pub fn private(&self) -> PathBuf {
        self.root.join(".repro")
    }

    /// The workspace lock file.
    pub fn workspace_lock(&self) -> PathBuf {
        self.private().join("lock")
    }

    /// The writers' lock: shared by batch jobs, exclusive for a local writer (`wslock`).
    pub fn writers_lock(&self) -> PathBuf {
        self.private().join("writers.lock")
    }

    /// The journal of keys published since `repro.lock` was last written (kept by `gc`).
    pub fn journal(&self) -> PathBuf {
        self.private().join("published")
    }

    /// Where runs record themselves, so that a later run can end what a killed one left.
    pub fn runs(&self) -> PathBuf {
        self.private().join("runs")
    }

    /// What the latest `repro run` of `profile` did (`runreport::RunRecord`): a name made of
    /// safe characters is used as is, any other is hashed.
    pub fn last_run(&self, profile: &str) -> PathBuf {
        let safe = !profile.is_empty()
            && profile
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !profile.starts_with('.');
        let name = if safe {
            profile.to_owned()
        } else {
            hash_bytes(profile.as_bytes())
        };
        self.private().join("last-run").join(format!("{name}.json"))
    }

    /// Where packs keep their manifests and completion markers while they run.
    pub fn packs(&self) -> PathBuf {
        self.private().join("packs")
    }

    /// Where a pack's manifest and its members' completion markers live while it runs:
    /// `.repro/packs/<name>`.
    pub fn pack_dir(&self, name: &str) -> PathBuf {
        self.packs().join(name)
    }

    /// The Slurm executor's folder: its registry of submitted jobs (`jobs/`, `done/`), the
    /// submissions' manifests and scripts (`batches/`), and the jobs' output (`out/`).
    pub fn slurm(&self) -> PathBuf {
        self.private().join("slurm")
    }

    /// Where batch jobs write their output: `.repro/slurm/out`.
    pub fn slurm_out(&self) -> PathBuf {
        self.slurm().join("out")
    }

    /// `path` as the workspace-relative text the engine records (`/`-separated); a path
    /// outside the root is given whole.
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }

    /// The output ledger: every path an instance declared as an output in this workspace.
    pub fn outputs_ledger(&self) -> PathBuf {
        self.private().join("outputs")
    }

    /// The stat cache file.
    pub fn stat_cache(&self) -> PathBuf {
        self.private().join("stat-cache")
    }

    /// The log of an instance's latest attempt: `.repro/logs/<id>.log`. When the id holds
    /// characters outside a safe set, they are replaced by `_` and a short digest of the whole
    /// id is appended (`<safe>~<digest>.log`), so that two ids that differ only in replaced
    /// characters never share a log.
    pub fn log(&self, id: &str) -> PathBuf {
        let is_safe = |c: char| c.is_ascii_alphanumeric() || "-_.=,@+".contains(c);
        let name = if id.chars().all(is_safe) {
            format!("{id}.log")
        } else {
            let safe: String = id
                .chars()
                .map(|c| if is_safe(c) { c } else { '_' })
                .collect();
            format!("{safe}~{}.log", &hash_bytes(id.as_bytes())[..12])
        };
        self.logs().join(name)
    }

    /// The folder of the attempts' logs: `.repro/logs`.
    pub fn logs(&self) -> PathBuf {
        self.private().join("logs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_named_after_the_instance_and_never_shared_by_two_ids() {
        let l = Layout::new(Path::new("/w"));
        assert_eq!(
            l.log("train@seed=1,task=a"),
            Path::new("/w/.repro/logs/train@seed=1,task=a.log")
        );
        let (a, b) = (l.log("s@v=a;b"), l.log("s@v=a:b"));
        assert_ne!(
            a, b,
            "ids differing only in replaced characters get their own logs"
        );
        assert!(a.to_string_lossy().starts_with("/w/.repro/logs/s@v=a_b~"));
        assert_eq!(l.lock_file(), Path::new("/w/repro.lock"));
        assert_eq!(l.workspace_lock(), Path::new("/w/.repro/lock"));
        assert_eq!(l.slurm_out(), Path::new("/w/.repro/slurm/out"));
        assert_eq!(
            l.relative(&l.slurm_out().join("b_1.out")),
            ".repro/slurm/out/b_1.out"
        );
        assert_eq!(l.relative(Path::new("/elsewhere/x")), "/elsewhere/x");
    }
}
