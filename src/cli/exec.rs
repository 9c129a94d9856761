//! `repro exec INSTANCE`: run exactly one instance and publish its result, the unit that a
//! batch system (one Slurm job per instance) calls. Its upstream must already be up to date;
//! an instance that is already fresh or cached is not run again.

use crate::cache::{State, WorkspaceLock};
use crate::report::ProgressReporter;
use crate::sched::{gpus, plan, Options};

use super::args::OneArgs;
use super::workspace::{dispatch, Workspace};
use super::{Cli, CliError};

pub(crate) fn exec(cli: &Cli, a: &OneArgs) -> Result<(), CliError> {
    let ws = Workspace::load(cli)?;
    let i = ws.one(&a.instance)?;
    let _lock = WorkspaceLock::acquire(ws.root())
        .map_err(|e| CliError::Internal(format!("cannot take the workspace lock: {e}")))?;
    let mut checker = ws.checker()?;
    let upstream = ws.graph.closure(&ws.graph.upstream[i]);
    let forced = vec![false; ws.graph.instances.len()];
    for (u, state) in plan(&ws.graph, &upstream, &checker, &forced)? {
        if !matches!(state, State::Fresh { .. }) {
            return Err(CliError::User {
                message: format!(
                    "upstream `{}` of `{}` is not up to date ({})",
                    ws.graph.instances[u].id,
                    ws.graph.instances[i].id,
                    state.label()
                ),
                hint: Some(format!(
                    "run `repro run {}` first",
                    ws.graph.instances[u].id
                )),
            });
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let options = Options {
        jobs: 1,
        gpus: gpus::detect(None),
        keep_going: false,
        threads_per_slot: cores,
    };
    let mut reporter = ProgressReporter::new();
    let tally = dispatch(&ws, &mut checker, options, &[i], &forced, &mut reporter)?;
    if tally.failed > 0 || tally.interrupted {
        return Err(CliError::Failed(format!(
            "`{}` did not complete",
            ws.graph.instances[i].id
        )));
    }
    Ok(())
}
