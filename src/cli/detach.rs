//! `repro run --detach`: submit every instance that must run as a batch job, each waiting on
//! its upstream jobs (`afterok`), record them in the workspace, and exit. Instances whose key
//! is known now are submitted with it; the others (downstream of a job not yet run) decide
//! their key when they run. Fresh instances are kept and cached ones restored here first.
//! `repro status` then shows the jobs; `repro run` re-attaches to them (no job is submitted
//! twice while it is alive).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::cache::StoreError;
use crate::exec::{EventSink, ExecEvent, Executor, JobId, JobStatus};
use crate::sched::{detached_job, Event, Reporter};
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
    let mut submitted: HashMap<usize, JobId> = HashMap::new();
    let mut built = settings.build.is_none();
    for &i in selected {
        let inst = &graph.instances[i];
        let pending = graph.upstream[i].iter().find(|u| submitted.contains_key(u));
        let state = ws.evaluate(
            inst,
            pending.map(|&u| graph.instances[u].id.as_str()),
            forced[i],
        )?;
        for message in ws.take_notes() {
            reporter.event(&Event::Note { message });
        }
        let (inputs, reasons) = match state {
            State::Fresh { entry } => {
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
            build(settings, ws.layout().root())?;
            built = true;
        }
        let id = JobId(submitted.len() as u64 + 1);
        let after = graph.upstream[i]
            .iter()
            .filter_map(|u| submitted.get(u).copied())
            .collect();
        reporter.event(&Event::WouldRun {
            id: inst.id.clone(),
            reasons,
        });
        let key = inputs.map(|k| k.key());
        executor
            .submit(detached_job(id, inst, key, after, settings, ws.layout()))
            .map_err(|e| CliError::Internal(e.to_string()))?;
        submitted.insert(i, id);
    }
    let (jobs, calls) = executor.detach();
    let counts = executor.counts();
    drop(executor);
    ws.save()?;
    super::load::show_notes(ws);
    let refused = std::mem::take(&mut *refused.lock().expect("refused"));
    let by_job: HashMap<JobId, usize> = submitted.iter().map(|(&i, &j)| (j, i)).collect();
    for (job, why) in &refused {
        if let Some(&i) = by_job.get(job) {
            reporter.event(&Event::Failed {
                id: graph.instances[i].id.clone(),
                error: why.clone(),
                log_tail: Vec::new(),
                log: String::new(),
            });
        }
    }
    let adopted = submitted.len() - jobs - refused.len();
    reporter.event(&Event::Note {
        message: format!(
            "detached: {jobs} job(s) submitted in {calls} sbatch call(s), {adopted} already queued or running from an earlier submission, {restored} restored, {fresh} up to date ({}); `repro status` shows progress, `repro run` re-attaches",
            counts.summary()
        ),
    });
    if refused.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "{} instance(s) could not be submitted",
            refused.len()
        )))
    }
}

/// Runs the pipeline's `build:` command here, before anything is submitted: the jobs run the
/// binaries it builds.
fn build(settings: &RunSettings, root: &std::path::Path) -> Result<(), CliError> {
    let Some(argv) = &settings.build else {
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
