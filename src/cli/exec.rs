//! `repro exec INSTANCE`: run exactly one instance and publish its result, the unit that a
//! batch system calls. Its upstream must already be up to date; an instance that is already
//! fresh or cached is not run again.
//!
//! Inside a batch job (`--batch MANIFEST`, written by the Slurm executor) it runs beside its
//! controller, which holds the workspace lock: it opens the workspace shared (holding the
//! writers' lock shared, and running nothing while a local writer holds it), checks that the
//! instance's key is still the one it was submitted for, runs it on a plain local executor
//! without the pipeline's build (the controller built the binaries), and publishes the action
//! record and outputs in the store, for the controller to take in. It runs only as a job that
//! a controller recorded in the workspace's Slurm registry (`check_registered`): by hand, its
//! result would reach no journal and a later `repro gc` would delete it. The manifest must be a
//! regular file of at most 1 MiB (a device or a named pipe would hang the job).

use std::path::Path;

use repro_manifest::BatchManifest;

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
    let settings = RunSettings::for_exec(&loaded.pipeline, true);
    let mut ws = loaded.workspace_exclusive()?;
    super::load::clear_orphans(&mut ws, &loaded.graph, &settings)?;
    check_upstream(&loaded, &ws, i)?;
    run_one(&loaded, &mut ws, &settings, i, Mode::Controller)
}

fn run_one(
    loaded: &Loaded,
    ws: &mut Workspace<'_>,
    settings: &RunSettings,
    i: usize,
    mode: Mode,
) -> Result<(), CliError> {
    let graph = &loaded.graph;
    let forced = vec![false; graph.instances.len()];
    let mut reporter = ProgressReporter::new();
    let tally = dispatch(graph, ws, settings, &[i], &forced, &mut reporter, mode)?;
    if tally.interrupted {
        return Err(CliError::Interrupted(format!(
            "`{}` did not complete: interrupted",
            graph.instances[i].id
        )));
    }
    if tally.failed > 0 {
        return Err(CliError::Failed(format!(
            "`{}` did not complete",
            graph.instances[i].id
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

/// `--batch MANIFEST`: one array task of a submission.
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
    let member = m.members.get(index).ok_or_else(|| {
        CliError::user(format!(
            "the manifest `{}` has no member {index}",
            manifest.display()
        ))
    })?;
    let loaded = Loaded::load(cli)?;
    let i = loaded
        .graph
        .instances
        .iter()
        .position(|x| x.id == member.instance)
        .ok_or_else(|| {
            CliError::user(format!(
                "no instance `{}` in the pipeline any more",
                member.instance
            ))
        })?;
    let inst = &loaded.graph.instances[i];
    let mut ws = Workspace::open_shared(&loaded.pipeline, &loaded.graph)?;
    check_registered(&ws, manifest, index, &inst.id)?;
    check_upstream(&loaded, &ws, i)?;
    let changed = |found: &str| {
        CliError::Failed(format!(
            "the inputs of `{}` changed since it was submitted (key {} expected, {} found); `repro run` again submits it anew",
            inst.id,
            short(member.key.as_deref().unwrap_or_default()),
            short(found)
        ))
    };
    let expected = |found: &str| member.key.as_deref().is_none_or(|k| k == found);
    match ws.evaluate(inst, None, false)? {
        State::Fresh { entry } if expected(&entry.key) => {
            eprintln!(
                "repro: `{}` is already published (key {})",
                inst.id,
                short(&entry.key)
            );
            Ok(())
        }
        State::Restore { key, record, .. } if expected(&key) => {
            ws.restore(inst, key, &record).map_err(|e| {
                CliError::Internal(format!("cannot restore `{}` from the store: {e}", inst.id))
            })?;
            eprintln!("repro: `{}` restored from the store", inst.id);
            Ok(())
        }
        State::Fresh { entry } => Err(changed(&entry.key)),
        State::Restore { key, .. } => Err(changed(&key)),
        State::Run {
            inputs: Some(inputs),
            ..
        } if !expected(&inputs.key()) => Err(changed(&inputs.key())),
        State::Run { .. } => {
            let settings = RunSettings::for_exec(&loaded.pipeline, false);
            run_one(&loaded, &mut ws, &settings, i, Mode::InJob)
        }
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
