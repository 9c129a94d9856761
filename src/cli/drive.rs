//! Driving a dispatch from the command line: the local executor, Ctrl-C and SIGTERM as
//! interrupts, and saving the workspace afterwards (the lock entries of whatever completed,
//! even when the run failed).

use crate::exec::{sweep, LocalExecutor};
use crate::graph::Graph;
use crate::sched::{DispatchError, Dispatcher, Event, Inbox, Interrupts, Reporter, Tally};
use crate::settings::RunSettings;
use crate::workspace::Workspace;

use super::CliError;

/// Runs `selected` and saves the workspace.
pub(crate) fn dispatch(
    graph: &Graph,
    ws: &mut Workspace<'_>,
    settings: &RunSettings,
    selected: &[usize],
    forced: &[bool],
    reporter: &mut dyn Reporter,
) -> Result<Tally, CliError> {
    let inbox = Inbox::new();
    Interrupts::Signals.install(inbox.sender());
    // End what an earlier, killed run left running before any output is touched.
    let registry = ws.layout().runs();
    for message in sweep(&registry) {
        reporter.event(&Event::Note { message });
    }
    let mut executor = std::env::current_exe()
        .and_then(|exe| LocalExecutor::supervised(&exe, &registry))
        .unwrap_or_else(|e| {
            reporter.event(&Event::Note {
                message: format!(
                    "cannot start the reaper ({e}): if repro is killed, its stages may outlive it until the next run"
                ),
            });
            LocalExecutor::new()
        });
    let result =
        Dispatcher::new(graph, ws, &mut executor, settings, reporter).run(selected, forced, &inbox);
    drop(executor);
    // Save even after a failure (completed work is kept); the run's own error, if any, is
    // the one to report, and a failed save then only adds a line.
    let saved = ws.save();
    super::load::show_notes(ws);
    let result = result.map_err(|e| match e {
        e @ DispatchError::Build { .. } => CliError::Failed(e.to_string()),
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
