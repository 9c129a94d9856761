//! Loading what every command needs: the pipeline and its graph, the workspace over them, and
//! target resolution.

use crate::graph::{self, Graph};
use crate::spec::{self, Pipeline};
use crate::workspace::{Workspace, WorkspaceError};

use super::{Cli, CliError};

/// The loaded pipeline and its graph (never changed after loading).
pub(crate) struct Loaded {
    pub(crate) pipeline: Pipeline,
    pub(crate) graph: Graph,
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
        let pipeline = spec::load(&cli.file, cli.profile.as_deref())?;
        let graph = graph::build(&pipeline)?;
        Ok(Loaded { pipeline, graph })
    }

    /// The workspace, for reading.
    pub(crate) fn workspace(&self) -> Result<Workspace<'_>, CliError> {
        Ok(Workspace::open(&self.pipeline)?)
    }

    /// The workspace with its lock held, for commands that publish or delete.
    pub(crate) fn workspace_exclusive(&self) -> Result<Workspace<'_>, CliError> {
        Ok(Workspace::open_exclusive(&self.pipeline)?)
    }

    /// Selected instances (without upstream), topologically ordered; empty targets mean all.
    pub(crate) fn targets(&self, targets: &[String]) -> Result<Vec<usize>, CliError> {
        let all = ["all".to_owned()];
        let targets = if targets.is_empty() {
            &all[..]
        } else {
            targets
        };
        graph::select(&self.graph, targets).map_err(|e| CliError::User {
            message: e.to_string(),
            hint: Some("list instances with `repro dag`".into()),
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

/// Shows the workspace's notes (unreadable records and the like) on stderr.
pub(crate) fn show_notes(ws: &Workspace<'_>) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    for n in ws.take_notes() {
        let _ = writeln!(err, "repro: note: {n}");
    }
}
