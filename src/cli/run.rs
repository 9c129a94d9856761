//! `repro run`: bring targets up to date (or `--dry-run`: say what would happen and why).

use crate::cache::{State, WorkspaceLock};
use crate::report::{JsonReporter, ProgressReporter};
use crate::sched::{gpus, plan, Event, Options, Reporter};

use super::args::RunArgs;
use super::workspace::{dispatch, Workspace};
use super::{Cli, CliError};

pub(crate) fn run(cli: &Cli, a: &RunArgs) -> Result<(), CliError> {
    let mut ws = Workspace::load(cli)?;
    if a.no_build {
        ws.pipeline.build = None;
    }
    super::resources::apply(&a.set_resources, &ws.pipeline, &mut ws.graph)?;
    let targets = ws.targets(&a.targets)?;
    let selected = ws.graph.closure(&targets);
    let mut forced = vec![false; ws.graph.instances.len()];
    if a.force {
        for &t in &targets {
            forced[t] = true;
        }
    }
    let mut reporter: Box<dyn Reporter> = if a.json {
        Box::new(JsonReporter)
    } else {
        Box::new(ProgressReporter::new())
    };

    if a.dry_run {
        let checker = ws.checker()?;
        let states = plan(&ws.graph, &selected, &checker, &forced)?;
        let (mut run, mut restore, mut fresh) = (0, 0, 0);
        for (i, state) in states {
            let id = ws.graph.instances[i].id.clone();
            match state {
                State::Fresh { .. } => fresh += 1,
                State::Restore { reasons, .. } => {
                    restore += 1;
                    reporter.event(&Event::WouldRestore { id, reasons });
                }
                State::Run { reasons, .. } => {
                    run += 1;
                    reporter.event(&Event::WouldRun { id, reasons });
                }
            }
        }
        if !a.json {
            #[allow(clippy::print_stdout)]
            {
                println!(
                    "{run} to run, {restore} to restore, {fresh} up to date ({} selected)",
                    run + restore + fresh
                );
            }
        }
        let _ = checker
            .stat
            .save(&crate::cache::Checker::stat_cache_path(&checker.root));
        return Ok(());
    }

    let _lock = WorkspaceLock::acquire(ws.root())
        .map_err(|e| CliError::Internal(format!("cannot take the workspace lock: {e}")))?;
    let mut checker = ws.checker()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = a.jobs.unwrap_or(cores as u32).max(1);
    let options = Options {
        jobs,
        gpus: gpus::detect(a.gpus.as_deref()),
        keep_going: a.keep_going,
        threads_per_slot: (cores / jobs as usize).max(1),
    };
    let tally = dispatch(
        &ws,
        &mut checker,
        options,
        &selected,
        &forced,
        reporter.as_mut(),
    )?;
    if tally.interrupted {
        return Err(CliError::Failed(
            "interrupted; completed instances were published and a new run resumes".into(),
        ));
    }
    if tally.failed > 0 {
        return Err(CliError::Failed(format!(
            "{} instance(s) failed",
            tally.failed
        )));
    }
    Ok(())
}
