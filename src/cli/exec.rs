//! `repro exec INSTANCE`: run exactly one instance and publish its result, the unit that a
//! batch system calls. Its upstream must already be up to date; an instance that is already
//! fresh or cached is not run again.
//!
//! Inside a batch job (`--batch MANIFEST`, written by the Slurm executor) it runs beside its
//! controller, which holds the workspace lock: it opens the workspace shared (holding the
//! writers' lock shared, and running nothing while a local writer holds it), checks that the
//! instance's key is still the one it was submitted for, runs it on a plain local executor
//! without the pipeline's build (the controller built the binaries), and publishes the action
//! record and outputs in the store, for the controller to take in. A job may run a pack: the
//! members are checked one by one and run as one pack, each published on its own. It runs only as a job that
//! a controller recorded in the workspace's Slurm registry (`check_registered`): by hand, its
//! result would reach no journal and a later `repro gc` would delete it. The manifest must be a
//! regular file of at most 1 MiB (a device or a named pipe would hang the job).

use std::path::Path;

use crate::exec::slurm::BatchManifest;

use crate::cache::bounded::{read_text, SMALL_FILE_LIMIT};
use crate::exec::slurm;
use crate::report::ProgressReporter;
use crate::settings::RunSettings;
use crate::workspace::{State, Workspace};

use super::args::ExecArgs;
use super::drive::{dispatch, Mode};
use super::load::Loaded;
use super::{Cli, CliError};

pub(crate) fn exec(cli: &Cli, a: &ExecArgs) -> Result<(), CliError> {
    if let Some(manifest) = &a.batch {
        return in_job(cli, manifest);
    }
    let loaded = Loaded::load(cli)?;
    let i = loaded.one(a.instance.as_deref().unwrap_or_default())?;
    let settings = RunSettings::for_exec(&loaded.pipeline, false);
    let mut ws = loaded.workspace_exclusive()?;
    super::load::clear_orphans(&mut ws, &loaded.graph, &settings)?;
    check_upstream(&loaded, &ws, i)?;
    run_many(&loaded, &mut ws, &settings, &[i], Mode::Controller)
}

/// Runs the instances `run` (ascending) in one dispatch; fails unless all completed.
fn run_many(
    loaded: &Loaded,
    ws: &mut Workspace<'_>,
    settings: &RunSettings,
    run: &[usize],
    mode: Mode,
) -> Result<(), CliError> {
    let graph = &loaded.graph;
    let forced = vec![false; graph.instances.len()];
    let mut reporter = ProgressReporter::new();
    let tally = dispatch(graph, ws, settings, run, &forced, &mut reporter, mode)?;
    let ids: Vec<&str> = run
        .iter()
        .map(|&i| graph.instances[i].id.as_str())
        .collect();
    if tally.interrupted {
        return Err(CliError::Interrupted(format!(
            "`{}` did not complete: interrupted",
            ids.join("`, `")
        )));
    }
    if tally.failed > 0 {
        return Err(CliError::Failed(format!(
            "`{}` did not complete",
            ids.join("`, `")
        )));
    }
    Ok(())
}

fn check_upstream(loaded: &Loaded, ws: &Workspace<'_>, i: usize) -> Result<(), CliError> {
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
    Ok(())
}

/// `--batch MANIFEST`: one array task of a submission, which runs one instance or a pack of
/// instances of one stage (the manifest member's `packed_with`). Each instance is checked on
/// its own (recorded, upstream up to date, key unchanged); those to run run together, as one
/// pack when there are several, and each is published on its own. An instance that cannot
/// run fails the job after the others ran: the controller takes in every published record and
/// tries the rest again alone.
fn in_job(cli: &Cli, manifest: &Path) -> Result<(), CliError> {
    let index: usize = match std::env::var("SLURM_ARRAY_TASK_ID") {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| CliError::user(format!("SLURM_ARRAY_TASK_ID `{v}` is not an index")))?,
        Err(_) => 0,
    };
    let text = read_text(manifest, SMALL_FILE_LIMIT).map_err(|e| {
        CliError::user(format!(
            "failed to read manifest `{}`: {e}",
            manifest.display()
        ))
    })?;
    let m = BatchManifest::parse(&text, manifest).map_err(|e| CliError::user(e.to_string()))?;
    let task = m.members.get(index).ok_or_else(|| {
        CliError::user(format!(
            "the manifest `{}` has no member {index}",
            manifest.display()
        ))
    })?;
    let loaded = Loaded::load(cli)?;
    let mut ws = Workspace::open_shared(&loaded.pipeline, &loaded.graph)?;
    let packed = !task.packed_with.is_empty();
    let mut to_run = Vec::new();
    let mut refused = Vec::new();
    for (instance, key) in task.instances() {
        match settle(&loaded, &mut ws, manifest, index, instance, key) {
            Ok(Some(i)) => to_run.push(i),
            Ok(None) => {}
            Err(e) if packed => {
                eprintln!("repro: {instance}: {e}");
                refused.push(instance.to_owned());
            }
            Err(e) => return Err(e),
        }
    }
    to_run.sort_unstable();
    if !to_run.is_empty() {
        let settings = RunSettings::for_exec(&loaded.pipeline, true);
        run_many(&loaded, &mut ws, &settings, &to_run, Mode::InJob)?;
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "{} of the pack's {} instances could not run here: {}",
            refused.len(),
            task.packed_with.len() + 1,
            refused.join(", ")
        )))
    }
}

/// Checks one instance of a batch job's task and settles what needs no run: already
/// published, or restored from the store. Returns the instance's index when it must run.
fn settle(
    loaded: &Loaded,
    ws: &mut Workspace<'_>,
    manifest: &Path,
    index: usize,
    instance: &str,
    key: Option<&str>,
) -> Result<Option<usize>, CliError> {
    let i = loaded
        .graph
        .instances
        .iter()
        .position(|x| x.id == instance)
        .ok_or_else(|| {
            CliError::user(format!("no instance `{instance}` in the pipeline any more"))
        })?;
    let inst = &loaded.graph.instances[i];
    check_registered(ws, manifest, index, &inst.id)?;
    check_upstream(loaded, ws, i)?;
    let changed = |found: &str| {
        CliError::Failed(format!(
            "the inputs of `{}` changed since it was submitted (key {} expected, {} found); `repro run` again submits it anew",
            inst.id,
            short(key.unwrap_or_default()),
            short(found)
        ))
    };
    let expected = |found: &str| key.is_none_or(|k| k == found);
    match ws.evaluate(inst, None, false)? {
        State::Fresh { entry, .. } if expected(&entry.key) => {
            eprintln!(
                "repro: `{}` is already published (key {})",
                inst.id,
                short(&entry.key)
            );
            Ok(None)
        }
        State::Restore { key, record, .. } if expected(&key) => {
            ws.restore(inst, key, &record).map_err(|e| {
                CliError::Internal(format!("cannot restore `{}` from the store: {e}", inst.id))
            })?;
            eprintln!("repro: `{}` restored from the store", inst.id);
            Ok(None)
        }
        State::Fresh { entry, .. } => Err(changed(&entry.key)),
        State::Restore { key, .. } => Err(changed(&key)),
        State::Run {
            inputs: Some(inputs),
            ..
        } if !expected(&inputs.key()) => Err(changed(&inputs.key())),
        State::Run { .. } => Ok(Some(i)),
    }
}

/// Refuses a batch job that no controller recorded: its result would be published in the
/// store with nothing to take it into `repro.lock` (the controller does that when the job
/// ends), so a later `repro gc` would delete it. A recorded job is the live registry entry of
/// its instance with the manifest's batch name and this array index; the controller writes
/// it before `sbatch`, and `repro gc` refuses to run while one is live.
fn check_registered(
    ws: &Workspace<'_>,
    manifest: &Path,
    index: usize,
    instance: &str,
) -> Result<(), CliError> {
    let batch = manifest
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let entry = slurm::Registry::new(&ws.layout().slurm()).get(instance);
    if entry.is_some_and(|e| e.batch == batch && e.index as usize == index) {
        return Ok(());
    }
    Err(CliError::User {
        message: format!(
            "no controller recorded a batch job for `{instance}` from `{}` (no live entry of batch `{batch}`, index {index}, under `.repro/slurm/jobs/`): its result would be journaled by nothing, and a later `repro gc` would delete it",
            manifest.display()
        ),
        hint: Some(format!(
            "`repro exec --batch` runs inside jobs that `repro run --executor slurm` submits; by hand, run `repro exec {instance}`"
        )),
    })
}

fn short(key: &str) -> &str {
    &key[..12.min(key.len())]
}
