//! Loading what every command needs: the pipeline and its graph, the workspace over them, and
//! target resolution.
//!
//! Without `-f`, the pipeline file is `pipeline.yaml` in the current directory or the nearest
//! parent that has one, as git and cargo find their files: the search stops at the filesystem
//! root and follows the physical parent (`..`), and the path handed on is relative
//! (`../../pipeline.yaml`), so messages stay short and the workspace root is its directory.
//! `-f PATH` means exactly that path.

use std::path::{Path, PathBuf};

use crate::graph::{self, Graph};
use crate::settings::{ExecutorKind, RunSettings};
use crate::spec::{self, Pipeline};
use crate::workspace::{SweepError, Workspace, WorkspaceError};

use super::{Cli, CliError};

/// The loaded pipeline and its graph (never changed after loading).
pub(crate) struct Loaded {
    pub(crate) pipeline: Pipeline,
    /// Never freed: a command loads one graph and exits, and freeing a 50,000-instance graph
    /// instance by instance took a tenth of a no-op run's time; the process's exit returns
    /// the memory at once.
    pub(crate) graph: std::mem::ManuallyDrop<Graph>,
}

impl From<WorkspaceError> for CliError {
    fn from(e: WorkspaceError) -> Self {
        if e.is_user_error() {
            CliError::User {
                hint: e.hint(),
                message: e.to_string(),
            }
        } else {
            CliError::Internal(e.to_string())
        }
    }
}

impl Loaded {
    pub(crate) fn load(cli: &Cli) -> Result<Loaded, CliError> {
        let file = match &cli.file {
            Some(f) => f.clone(),
            None => find_pipeline_file()?,
        };
        let pipeline = spec::load(&file, cli.profile.as_deref())?;
        let graph = graph::build(&pipeline)?;
        Ok(Loaded {
            pipeline,
            graph: std::mem::ManuallyDrop::new(graph),
        })
    }

    /// The workspace, for reading.
    pub(crate) fn workspace(&self) -> Result<Workspace<'_>, CliError> {
        Ok(Workspace::open(&self.pipeline, &self.graph)?)
    }

    /// The workspace with its lock held, for commands that publish or delete.
    pub(crate) fn workspace_exclusive(&self) -> Result<Workspace<'_>, CliError> {
        Ok(Workspace::open_exclusive(&self.pipeline, &self.graph)?)
    }

    /// Selected instances (without upstream), topologically ordered; empty targets mean all.
    pub(crate) fn targets(&self, targets: &[String]) -> Result<Vec<usize>, CliError> {
        let all = ["all".to_owned()];
        let targets = if targets.is_empty() {
            &all[..]
        } else {
            targets
        };
        graph::select(
            &self.graph,
            targets,
            &self.pipeline.skipped,
            self.pipeline.profile.as_deref(),
        )
        .map_err(|e| CliError::User {
            hint: Some(e.hint()),
            message: e.to_string(),
        })
    }

    /// Exactly one instance named by `pattern`.
    pub(crate) fn one(&self, pattern: &str) -> Result<usize, CliError> {
        if let Some(i) = self.graph.index_of(pattern) {
            return Ok(i);
        }
        let found = self.targets(&[pattern.to_owned()])?;
        match found.as_slice() {
            [i] => Ok(*i),
            many => Err(CliError::User {
                message: format!("`{pattern}` matches {} instances, expected one", many.len()),
                hint: Some(format!(
                    "for example `{}`",
                    self.graph.instances[many[0]].id
                )),
            }),
        }
    }
}

/// Before a command executes instances: a local writer first makes sure no batch job of the
/// workspace still writes (`writers::exclude_batch_jobs`), so that nothing is swept from under
/// one; then the graph's outputs are claimed in the ledger and the orphaned outputs that a
/// current instance would read are removed (`Workspace::sweep_orphans`), saying so on stderr;
/// refuses when one of them holds bytes repro did not write.
pub(crate) fn clear_orphans(
    ws: &mut Workspace<'_>,
    graph: &Graph,
    settings: &RunSettings,
) -> Result<(), CliError> {
    if settings.executor == ExecutorKind::Local {
        super::writers::exclude_batch_jobs(ws, settings.slurm.command_timeout.get())?;
    }
    use std::io::Write;
    let removed = ws.sweep_orphans(graph).map_err(|e| match e {
        SweepError::Stray(s) => CliError::User {
            hint: Some(s.hint()),
            message: s.to_string(),
        },
        SweepError::Workspace(w) => w.into(),
    })?;
    ws.claim_outputs(graph)?;
    let mut err = std::io::stderr().lock();
    for o in removed {
        let _ = writeln!(
            err,
            "repro: removed `{}`: an output of an instance no longer in the pipeline, which `{}` would read (the cache keeps it)",
            o.path,
            o.read_by.first().map_or("", String::as_str)
        );
    }
    Ok(())
}

/// Shows the workspace's notes (unreadable records and the like) on stderr.
pub(crate) fn show_notes(ws: &Workspace<'_>) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    for n in ws.take_notes() {
        let _ = writeln!(err, "repro: note: {n}");
    }
}

/// The default pipeline file's name.
const DEFAULT_FILE: &str = "pipeline.yaml";

/// `pipeline.yaml` in the current directory or its nearest ancestor that has one, as a path
/// relative to the current directory.
pub(crate) fn find_pipeline_file() -> Result<PathBuf, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::user(format!("cannot read the current directory: {e}")))?;
    search_upward(&cwd).ok_or_else(|| CliError::User {
        message: format!(
            "no `{DEFAULT_FILE}` in `{}` or any parent directory",
            cwd.display()
        ),
        hint: Some("run inside a workspace, or name the file with `-f PATH`".into()),
    })
}

/// The relative path (`pipeline.yaml`, `../pipeline.yaml`, ...) of the nearest
/// `pipeline.yaml` at or above `start`, stopping at the filesystem root.
fn search_upward(start: &Path) -> Option<PathBuf> {
    let mut up = PathBuf::new();
    for dir in start.ancestors() {
        if dir.join(DEFAULT_FILE).is_file() {
            return Some(up.join(DEFAULT_FILE));
        }
        up.push("..");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_upward_finds_the_nearest_file_as_a_relative_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let deep = dir.path().join("a/b/c");
        std::fs::create_dir_all(&deep).expect("mkdir");
        std::fs::write(dir.path().join("a").join(DEFAULT_FILE), "").expect("write");
        assert_eq!(
            search_upward(&deep),
            Some(PathBuf::from("../../pipeline.yaml"))
        );
        std::fs::write(deep.join(DEFAULT_FILE), "").expect("write");
        assert_eq!(search_upward(&deep), Some(PathBuf::from("pipeline.yaml")));
        // A directory named `pipeline.yaml` is not the file.
        let other = dir.path().join("x");
        std::fs::create_dir_all(other.join(DEFAULT_FILE)).expect("mkdir");
        assert_eq!(search_upward(&other), None);
    }
}
