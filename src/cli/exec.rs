//! `repro exec INSTANCE`: run exactly one instance and publish its result, the unit that a
//! batch system (one Slurm job per instance) calls. Its upstream must already be up to date;
//! an instance that is already fresh or cached is not run again.

use crate::report::ProgressReporter;
use crate::settings::RunSettings;
use crate::workspace::State;

use super::args::OneArgs;
use super::drive::dispatch;
use super::load::Loaded;
use super::{Cli, CliError};

pub(crate) fn exec(cli: &Cli, a: &OneArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let i = loaded.one(&a.instance)?;
    let settings = RunSettings::for_exec(&loaded.pipeline);
    let mut ws = loaded.workspace_exclusive()?;
    let graph = &loaded.graph;
    let upstream = graph.closure(&graph.upstream[i]);
    let forced = vec![false; graph.instances.len()];
    for (u, state) in ws.plan(graph, &upstream, &forced)? {
        if !matches!(state, State::Fresh { .. }) {
            return Err(CliError::User {
                message: format!(
                    "upstream `{}` of `{}` is not up to date ({})",
                    graph.instances[u].id,
                    graph.instances[i].id,
                    state.label()
                ),
                hint: Some(format!("run `repro run {}` first", graph.instances[u].id)),
            });
        }
    }
    let mut reporter = ProgressReporter::new();
    let tally = dispatch(graph, &mut ws, &settings, &[i], &forced, &mut reporter)?;
    if tally.failed > 0 || tally.interrupted {
        return Err(CliError::Failed(format!(
            "`{}` did not complete",
            graph.instances[i].id
        )));
    }
    Ok(())
}
