//! Driving a dispatch from the command line: the executor the settings name, Ctrl-C and
//! SIGTERM as interrupts, and saving the workspace afterwards (the lock entries of whatever
//! completed, even when the run failed).

use crate::exec::{slurm, sweep, Executor, LocalExecutor, SlurmExecutor};
use crate::graph::Graph;
use crate::sched::{DispatchError, Dispatcher, Event, Inbox, Interrupts, Reporter, Tally};
use crate::settings::{ExecutorKind, RunSettings};
use crate::workspace::Workspace;

use super::CliError;

/// Which executor a dispatch uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Mode {
    /// The settings' executor (a `repro run`, or `repro exec` on its own).
    Controller,
    /// A plain local executor inside a batch job: the batch system owns the job's processes,
    /// and other jobs of the same run share the workspace, so nothing is swept.
    InJob,
}

/// The local executor of a controller: earlier runs' leftovers swept, a reaper beside it.
fn local(ws: &Workspace<'_>, reporter: &mut dyn Reporter) -> LocalExecutor {
    // End what an earlier, killed run left running before any output is touched.
    let registry = ws.layout().runs();
    for message in sweep(&registry) {
        reporter.event(&Event::Note { message });
    }
    std::env::current_exe()
        .and_then(|exe| LocalExecutor::supervised(&exe, &registry))
        .unwrap_or_else(|e| {
            reporter.event(&Event::Note {
                message: format!(
                    "cannot start the reaper ({e}): if repro is killed, its stages may outlive it until the next run"
                ),
            });
            LocalExecutor::new()
        })
}

/// The Slurm executor for the workspace.
pub(crate) fn slurm_executor(
    ws: &Workspace<'_>,
    settings: &RunSettings,
) -> Result<SlurmExecutor, CliError> {
    let pipeline = ws.pipeline();
    let program = std::env::current_exe()
        .map_err(|e| CliError::Internal(format!("cannot find the repro binary: {e}")))?;
    // Jobs run elsewhere: every path they get is absolute.
    let root = std::fs::canonicalize(&pipeline.root).map_err(|e| {
        CliError::Internal(format!(
            "cannot resolve the workspace `{}`: {e}",
            pipeline.root.display()
        ))
    })?;
    let file = pipeline
        .file
        .file_name()
        .map_or_else(|| pipeline.file.clone(), |n| root.join(n));
    let store = ws.store().clone();
    Ok(SlurmExecutor::new(
        settings.slurm.clone(),
        slurm::Paths {
            root,
            program,
            pipeline: file,
            profile: pipeline.profile.clone(),
        },
        std::sync::Arc::new(move |key: &str| store.action_path(key).is_file()),
    ))
}

/// Runs `selected` and saves the workspace.
pub(crate) fn dispatch(
    graph: &Graph,
    ws: &mut Workspace<'_>,
    settings: &RunSettings,
    selected: &[usize],
    forced: &[bool],
    reporter: &mut dyn Reporter,
    mode: Mode,
) -> Result<Tally, CliError> {
    if matches!(mode, Mode::Controller) {
        // Synced together (`cache/commit.rs`). Not inside a batch job: its controller, on
        // another node, takes in a record it sees once the job has ended, even a job that died
        // with its node, whose page cache may have held the record's objects.
        ws.group_commits()?;
    }
    let inbox = Inbox::new()
        .map_err(|e| CliError::Internal(format!("cannot make the dispatcher's inbox: {e}")))?;
    Interrupts::Signals.install(inbox.sender());
    let mut counts = None;
    let mut executor: Box<dyn Executor> = match (mode, settings.executor) {
        (Mode::InJob, _) => Box::new(LocalExecutor::new()),
        // `load::clear_orphans` made sure that no batch job writes beside this one.
        (Mode::Controller, ExecutorKind::Local) => Box::new(local(ws, reporter)),
        (Mode::Controller, ExecutorKind::Slurm) => {
            let ex = slurm_executor(ws, settings)?;
            counts = Some(ex.counts());
            Box::new(ex)
        }
    };
    let result = Dispatcher::new(graph, ws, executor.as_mut(), settings, reporter)
        .run(selected, forced, &inbox);
    drop(executor);
    if let Some(c) = counts.filter(|c| c.total() > 0) {
        reporter.event(&Event::Note {
            message: format!("Slurm commands: {}", c.summary()),
        });
    }
    // Save even after a failure (completed work is kept); the run's own error, if any, is
    // the one to report, and a failed save then only adds a line.
    let saved = ws.save();
    super::load::show_notes(ws);
    let result = result.map_err(|e| match e {
        e @ (DispatchError::Build { .. } | DispatchError::Silent { .. }) => {
            CliError::Failed(e.to_string())
        }
        DispatchError::Check(e) => e.into(),
        e => CliError::Internal(e.to_string()),
    });
    match (result, saved) {
        (Ok(tally), Ok(())) => Ok(tally),
        (Ok(_), Err(e)) => Err(e.into()),
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(save)) => {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "repro: also failed to save: {save}");
            Err(e)
        }
    }
}
