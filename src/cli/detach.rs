//! `repro run --detach`: submit every instance that must run as a batch job, each waiting on
//! its upstream jobs (`afterok`), record them in the workspace, and exit. Instances whose key
//! is known now are submitted with it; the others (downstream of a job not yet run) decide
//! their key when they run. Fresh instances are kept and cached ones restored here first.
//! Instances of a packing stage form packs as a run would form them (one group's instances in
//! order, up to `max`), each one batch job. `repro status` then shows the jobs; `repro run`
//! re-attaches to them (no job is submitted twice while it is alive).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::cache::StoreError;
use crate::exec::{EventSink, ExecEvent, Executor, JobId, JobStatus};
use crate::graph::{Graph, Instance};
use crate::sched::{detached_job, detached_pack_job, Event, Reporter};
use crate::settings::{ExecutorKind, RunSettings};
use crate::workspace::{State, Workspace};

use super::drive::slurm_executor;
use super::load::Loaded;
use super::CliError;

pub(crate) fn detach(
    loaded: &Loaded,
    ws: &mut Workspace<'_>,
    settings: &RunSettings,
    selected: &[usize],
    forced: &[bool],
    reporter: &mut dyn Reporter,
) -> Result<(), CliError> {
    if settings.executor != ExecutorKind::Slurm {
        return Err(CliError::User {
            message: "`--detach` needs a batch executor; this run uses the local one".into(),
            hint: Some("add `--executor slurm`, or set it in repro.local.yaml".into()),
        });
    }
    let graph = &loaded.graph;
    let mut executor = slurm_executor(ws, settings)?;
    let refused: Arc<Mutex<Vec<(JobId, String)>>> = Arc::default();
    let sink_refused = refused.clone();
    executor
        .attach(EventSink::new(move |e| {
            if let ExecEvent::Finished { job, status, .. } = e {
                if matches!(status, JobStatus::NotStarted(_) | JobStatus::Failed(_)) {
                    sink_refused
                        .lock()
                        .expect("refused")
                        .push((job, status.why()));
                }
            }
        }))
        .map_err(|e| CliError::Internal(e.to_string()))?;
    reporter.event(&Event::Plan {
        total: selected.len(),
        profile: settings.profile.clone(),
    });
    let (mut fresh, mut restored) = (0, 0);
    // 1. What must run, in order: an instance runs when its upstream runs, or when its own
    //    inputs changed.
    let mut runs: Vec<(usize, Option<String>)> = Vec::new();
    let mut will_run: HashSet<usize> = HashSet::new();
    let mut built = settings.build.is_none();
    for &i in selected {
        let inst = &graph.instances[i];
        let pending = graph.upstream[i].iter().find(|u| will_run.contains(u));
        let state = ws.evaluate(
            inst,
            pending.map(|&u| graph.instances[u].id.as_str()),
            forced[i],
        )?;
        for message in ws.take_notes() {
            reporter.event(&Event::Note { message });
        }
        let (inputs, reasons) = match state {
            State::Fresh { entry, .. } => {
                ws.accept(inst, entry);
                fresh += 1;
                continue;
            }
            State::Restore {
                key,
                record,
                reasons,
            } => match ws.restore(inst, key, &record) {
                Ok(()) => {
                    restored += 1;
                    reporter.event(&Event::Restored {
                        id: inst.id.clone(),
                    });
                    continue;
                }
                Err(
                    StoreError::Corrupt { .. } | StoreError::Missing(_) | StoreError::NotADigest(_),
                ) => (Some(Box::new(record.inputs.clone())), reasons),
                Err(e) => return Err(CliError::Internal(e.to_string())),
            },
            State::Run { inputs, reasons } => (inputs, reasons),
        };
        if !built {
            build(settings.build.as_deref(), ws.layout().root())?;
            built = true;
        }
        reporter.event(&Event::WouldRun {
            id: inst.id.clone(),
            reasons,
        });
        runs.push((i, inputs.map(|k| k.key())));
        will_run.insert(i);
    }
    // 2. Packs, as a run forms them: instances of one pack group, up to its `max`, in order;
    //    an instance with a live job of an earlier submission runs alone (that job is adopted).
    let registered = executor.registered();
    let units = detach_units(graph, settings, &runs, &registered);
    let mut submitted: HashMap<usize, JobId> = HashMap::new();
    for (n, unit) in units.iter().enumerate() {
        for &(i, _) in unit {
            submitted.insert(i, JobId(n as u64 + 1));
        }
    }
    // 3. One job per unit, after the jobs of its members' upstream.
    for (n, unit) in units.iter().enumerate() {
        let id = JobId(n as u64 + 1);
        let mut after: Vec<JobId> = unit
            .iter()
            .flat_map(|&(i, _)| graph.upstream[i].iter())
            .filter_map(|u| submitted.get(u).copied())
            .filter(|&j| j != id)
            .collect();
        after.sort();
        after.dedup();
        let job = match unit.as_slice() {
            [(i, key)] => detached_job(
                id,
                &graph.instances[*i],
                key.clone(),
                after,
                settings,
                ws.layout(),
            ),
            _ => {
                let members: Vec<(&Instance, Option<String>)> = unit
                    .iter()
                    .map(|(i, key)| (&graph.instances[*i], key.clone()))
                    .collect();
                detached_pack_job(id, &members, after, settings, ws.layout())
            }
        };
        executor
            .submit(job)
            .map_err(|e| CliError::Internal(e.to_string()))?;
    }
    let (jobs, calls) = executor.detach();
    let counts = executor.counts();
    drop(executor);
    ws.save()?;
    super::load::show_notes(ws);
    let refused = std::mem::take(&mut *refused.lock().expect("refused"));
    let mut failed = 0;
    for (job, why) in &refused {
        let Some(unit) = units.get((job.0 as usize).wrapping_sub(1)) else {
            continue;
        };
        for &(i, _) in unit {
            failed += 1;
            reporter.event(&Event::Failed {
                id: graph.instances[i].id.clone(),
                error: why.clone(),
                log_tail: Vec::new(),
                log: String::new(),
            });
        }
    }
    let adopted = units.len() - jobs - refused.len();
    let packs = units.iter().filter(|u| u.len() > 1).count();
    let packed = if packs > 0 {
        format!(
            " ({packs} of them packs, {} instances in all)",
            units.iter().map(Vec::len).sum::<usize>()
        )
    } else {
        String::new()
    };
    reporter.event(&Event::Note {
        message: format!(
            "detached: {jobs} job(s) submitted in {calls} sbatch call(s){packed}, {adopted} already queued or running from an earlier submission, {restored} restored, {fresh} up to date ({}); `repro status` shows progress, `repro run` re-attaches",
            counts.summary()
        ),
    });
    if refused.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "{failed} instance(s) could not be submitted"
        )))
    }
}

/// What `--detach` submits, one job per unit: an instance alone, or a pack (the instances of
/// one pack group, in order, up to its `max`). Instances with a live job of an earlier
/// submission (`registered`) and those of stages that do not pack run alone.
fn detach_units(
    graph: &Graph,
    settings: &RunSettings,
    runs: &[(usize, Option<String>)],
    registered: &HashSet<String>,
) -> Vec<Vec<(usize, Option<String>)>> {
    let mut units: Vec<Vec<(usize, Option<String>)>> = Vec::new();
    // The unit still open for each pack group.
    let mut open: HashMap<&str, usize> = HashMap::new();
    for (i, key) in runs {
        let inst = &graph.instances[*i];
        let pack = inst
            .pack
            .as_ref()
            .filter(|p| settings.pack && p.max >= 2 && !registered.contains(&inst.id));
        let Some(pack) = pack else {
            units.push(vec![(*i, key.clone())]);
            continue;
        };
        match open.get(pack.group.as_str()) {
            Some(&u) if units[u].len() < pack.max => units[u].push((*i, key.clone())),
            _ => {
                open.insert(pack.group.as_str(), units.len());
                units.push(vec![(*i, key.clone())]);
            }
        }
    }
    units
}

/// Runs the pipeline's `build:` command here, before anything is submitted (or re-run by
/// `repro audit`): the jobs run the binaries it builds.
pub(crate) fn build(argv: Option<&[String]>, root: &std::path::Path) -> Result<(), CliError> {
    let Some(argv) = argv else {
        return Ok(());
    };
    let status = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(root)
        .stdout(std::process::Stdio::from(std::io::stderr()))
        .status()
        .map_err(|e| {
            CliError::Failed(format!(
                "the build command `{}` failed: {e}",
                argv.join(" ")
            ))
        })?;
    if !status.success() {
        return Err(CliError::Failed(format!(
            "the build command `{}` failed: {status}",
            argv.join(" ")
        )));
    }
    Ok(())
}
