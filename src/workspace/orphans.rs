//! Orphaned outputs: paths the engine produced for instances that are no longer in the graph.
//!
//! The rule (docs/pipeline.md, "Outputs that leave the pipeline"): the engine owns every path
//! an instance of this workspace has declared as an output (the ledger, `ledger.rs`). When the
//! instance leaves the graph (a matrix value removed, a profile switched, a stage renamed),
//! what it left there must never be read by the instances that remain, or a table would count a
//! run that is no longer in the pipeline. So before a run executes anything,
//! [`Workspace::sweep_orphans`] looks at every orphan that a current instance would read (it lies
//! at, under or above one of its `deps`, or matches a glob dep):
//! - bytes equal to what the engine last put there: removed. The store keeps the object, so
//!   bringing the instance back restores it instead of re-running it;
//! - other bytes (edited since, or left by an attempt killed before it was published): never
//!   removed silently. The run refuses, naming each path and how to clear it.
//!
//! Orphans that no current instance reads are kept (they may belong to another profile) and
//! listed by `repro status`; `repro gc --orphans` removes those holding the engine's bytes.
//!
//! Files the engine never declared (a user's file under a dependency directory) are not
//! orphans: they are the user's inputs, read and hashed like any other.
//!
//! Known limit: a path is an orphan only when it neither lies inside nor contains a path the
//! graph declares; an old output that *contains* a current one (the graph declared `runs` and
//! now declares `runs/1`) is left alone.

use std::collections::{BTreeMap, HashSet};

use crate::cache::{digest_path, Policy};
use crate::graph::{is_glob, Graph};

use super::open::{Workspace, WorkspaceError};

/// One orphaned output found in the workspace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Orphan {
    /// Its workspace-relative path.
    pub path: String,
    /// Whether it holds exactly what the engine last put there (then it may be removed).
    pub engine_bytes: bool,
    /// The current instances that would read it, by id (empty: nobody reads it).
    pub read_by: Vec<String>,
}

/// A run that would read orphans the engine may not remove.
#[derive(Debug, thiserror::Error)]
#[error(
    "failed to start: {} output(s) of instances no longer in the pipeline would be read, and they differ from what repro wrote: {}",
    .0.len(),
    list(.0)
)]
pub struct StrayOutputs(pub Vec<Orphan>);

impl StrayOutputs {
    /// The way out.
    pub fn hint(&self) -> String {
        let paths: Vec<&str> = self.0.iter().map(|o| o.path.as_str()).collect();
        format!(
            "repro never deletes files it did not write: move them out of the way or delete them (`rm -r {}`), or put their instances back in the pipeline; `repro status` lists every orphan",
            paths.join(" ")
        )
    }
}

fn list(orphans: &[Orphan]) -> String {
    orphans
        .iter()
        .map(|o| match o.read_by.first() {
            Some(r) => format!("`{}` (read by `{r}`)", o.path),
            None => format!("`{}`", o.path),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Workspace<'_> {
    /// Claims every output that `graph` declares in the ledger, and writes the ledger at once
    /// if that added a path: before anything runs, so that what an interrupted attempt leaves
    /// is known to be the engine's.
    pub fn claim_outputs(&mut self, graph: &Graph) -> Result<(), WorkspaceError> {
        if self.shared {
            return Ok(());
        }
        let ledger = self.ledger.get_mut().expect("ledger");
        if ledger.claim(graph.instances.iter().flat_map(|i| i.outs.iter())) {
            let path = self.layout.outputs_ledger();
            ledger
                .save(&path)
                .map_err(|source| WorkspaceError::Io { path, source })?;
        }
        Ok(())
    }

    /// The orphaned outputs present in the workspace, sorted by path, each with the current
    /// instances that would read it. Paths of the ledger that no longer exist are forgotten.
    pub fn orphans(&self, graph: &Graph) -> Result<Vec<Orphan>, WorkspaceError> {
        let declared: HashSet<&str> = graph
            .instances
            .iter()
            .flat_map(|i| i.outs.iter().map(String::as_str))
            .collect();
        // Every proper ancestor of a declared output: an old path there contains a current one.
        let mut above: HashSet<&str> = HashSet::new();
        for d in &declared {
            let mut rest = *d;
            while let Some((parent, _)) = rest.rsplit_once('/') {
                if !above.insert(parent) {
                    break;
                }
                rest = parent;
            }
        }
        let candidates: Vec<(String, Option<String>)> = {
            let ledger = self.ledger.lock().expect("ledger");
            ledger
                .entries()
                .filter(|(p, _)| !above.contains(p.as_str()) && !inside_declared(p, &declared))
                .map(|(p, d)| (p.clone(), d.cloned()))
                .collect()
        };
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        let mut gone = Vec::new();
        for (path, recorded) in candidates {
            let abs = self.layout.abs(&path);
            if std::fs::symlink_metadata(&abs).is_err() {
                gone.push(path);
                continue;
            }
            // Hashed afresh, not taken from the stat cache: a file edited by hand with its size
            // and mtime kept must never pass for repro's bytes and be deleted.
            self.stat.forget(&path);
            let now = match digest_path(self.layout.root(), &path, &self.stat, Policy::Strict) {
                Ok(d) => d.map(|d| d.tagged()),
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => None,
                Err(source) => return Err(WorkspaceError::Io { path: abs, source }),
            };
            found.push(Orphan {
                engine_bytes: now.is_some() && now == recorded,
                path,
                read_by: Vec::new(),
            });
        }
        {
            let mut ledger = self.ledger.lock().expect("ledger");
            for p in gone {
                ledger.forget(&p);
            }
        }
        if !found.is_empty() {
            self.mark_readers(graph, &mut found);
        }
        Ok(found)
    }

    /// Fills `read_by`: the instances with a dep at, under or above the orphan, or a glob dep
    /// matching it, something under it or a directory above it. Orphans are looked up by path
    /// (each dep costs its depth plus the orphans under it), so a grid's thousands of deps are
    /// not each compared with every orphan.
    fn mark_readers(&self, graph: &Graph, orphans: &mut [Orphan]) {
        let index: BTreeMap<String, usize> = orphans
            .iter()
            .enumerate()
            .map(|(n, o)| (o.path.clone(), n))
            .collect();
        let mut globs: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for inst in &graph.instances {
            let mut hit: Vec<usize> = Vec::new();
            for dep in &inst.deps {
                if is_glob(dep) {
                    let matches = globs
                        .entry(dep.as_str())
                        .or_insert_with(|| self.glob_matches(dep));
                    for m in matches.iter() {
                        hit.extend(related(&index, m));
                    }
                } else {
                    hit.extend(related(&index, dep));
                }
            }
            hit.sort_unstable();
            hit.dedup();
            for n in hit {
                orphans[n].read_by.push(inst.id.clone());
            }
        }
    }

    /// The workspace-relative paths that glob `pattern` matches now.
    fn glob_matches(&self, pattern: &str) -> Vec<String> {
        let abs = self.layout.abs(pattern);
        glob::glob(&abs.to_string_lossy())
            .map(|paths| {
                paths
                    .flatten()
                    .filter_map(|p| {
                        p.strip_prefix(self.layout.root())
                            .ok()
                            .map(|r| r.to_string_lossy().into_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Before a run executes anything: removes the orphans that a current instance would read
    /// and that hold the engine's bytes, and returns their paths; refuses (touching nothing)
    /// when such an orphan holds other bytes.
    pub fn sweep_orphans(&mut self, graph: &Graph) -> Result<Vec<Orphan>, SweepError> {
        let read: Vec<Orphan> = self
            .orphans(graph)?
            .into_iter()
            .filter(|o| !o.read_by.is_empty())
            .collect();
        let strays: Vec<Orphan> = read.iter().filter(|o| !o.engine_bytes).cloned().collect();
        if !strays.is_empty() {
            return Err(SweepError::Stray(StrayOutputs(strays)));
        }
        self.remove_orphans(&read)?;
        Ok(read)
    }

    /// Removes `orphans` from the workspace and the ledger (each removal atomic), then saves
    /// the ledger.
    pub fn remove_orphans(&mut self, orphans: &[Orphan]) -> Result<(), WorkspaceError> {
        if orphans.is_empty() {
            return Ok(());
        }
        self.remove_outputs(orphans.iter().map(|o| o.path.as_str()))
    }

    /// Makes the key inputs of later checks leave out the orphans that the next run will
    /// remove, so that `status` and `--dry-run` show the keys (and staleness) the run will
    /// find.
    pub fn hide_orphans(&mut self, orphans: &[Orphan]) {
        self.hidden = orphans
            .iter()
            .filter(|o| !o.read_by.is_empty() && o.engine_bytes)
            .map(|o| o.path.clone())
            .collect();
    }
}

/// The orphans (indices in `index`, by path) at `path`, above it or under it.
fn related<'i>(index: &'i BTreeMap<String, usize>, path: &str) -> impl Iterator<Item = usize> + 'i {
    let mut above = Vec::new();
    let mut rest = path;
    loop {
        if let Some(&n) = index.get(rest) {
            above.push(n);
        }
        match rest.rsplit_once('/') {
            Some((parent, _)) => rest = parent,
            None => break,
        }
    }
    // Paths under `path` sort between `path/` and `path0` (`0` follows `/`).
    let under = index
        .range(format!("{path}/")..format!("{path}0"))
        .map(|(_, &n)| n);
    above.into_iter().chain(under)
}

fn inside_declared(path: &str, declared: &HashSet<&str>) -> bool {
    let mut rest = path;
    loop {
        if declared.contains(rest) {
            return true;
        }
        match rest.rsplit_once('/') {
            Some((parent, _)) => rest = parent,
            None => return false,
        }
    }
}

/// Why a run could not clear the orphans it would read.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Orphans with bytes the engine did not write.
    #[error(transparent)]
    Stray(#[from] StrayOutputs),
    /// Reading or removing failed.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn related_orphans_are_those_at_above_or_under_a_path() {
        let index: BTreeMap<String, usize> = ["runs/3", "runs3", "data", "runs/30/x", "a/b/c"]
            .iter()
            .enumerate()
            .map(|(n, p)| ((*p).to_owned(), n))
            .collect();
        let found = |p: &str| {
            let mut v: Vec<usize> = related(&index, p).collect();
            v.sort();
            v
        };
        assert_eq!(
            found("runs"),
            [0, 3],
            "under the dep, whole components only"
        );
        assert_eq!(found("runs/3"), [0]);
        assert_eq!(found("runs/3/m.txt"), [0], "above the dep");
        assert_eq!(found("data/x/y"), [2]);
        assert_eq!(found("a"), [4]);
        assert!(found("b").is_empty());
    }

    #[test]
    fn a_path_inside_a_declared_output_is_that_output_s_business() {
        let declared: HashSet<&str> = ["runs", "data/a"].into_iter().collect();
        assert!(inside_declared("runs/3", &declared));
        assert!(inside_declared("data/a", &declared));
        assert!(!inside_declared("data/b", &declared));
        assert!(!inside_declared("data", &declared));
    }
}
