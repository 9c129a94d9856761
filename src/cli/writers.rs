//! One writer per output: before a local writer (a local `repro run`, a plain `repro exec`)
//! touches anything, it takes the writers' lock exclusively and makes sure no batch job
//! submitted from the workspace is still queued or running: those jobs (of a killed Slurm
//! controller, say) would write the same outputs. A job running now holds the lock shared
//! (`Workspace::open_shared`); a queued one is found in the submission registry and asked about
//! with one `squeue`. The run then refuses, naming the jobs, with the two ways out: adopt them
//! (`repro run --executor slurm`) or cancel them. Jobs that ended are left in the registry for
//! the next Slurm run to collect.

use std::time::Duration;

use crate::exec::slurm::{self, Entry, Phase, Registry, Runner};
use crate::workspace::Workspace;

use super::CliError;

/// Takes the writers' lock for a local writer, or refuses while batch jobs may write.
/// `timeout` bounds the one `squeue` call (made only when jobs are registered).
pub(crate) fn exclude_batch_jobs(
    ws: &mut Workspace<'_>,
    timeout: Duration,
) -> Result<(), CliError> {
    let held = ws.exclude_batch_jobs()?;
    let root = ws.layout().root().to_owned();
    let entries = Registry::new(&slurm::state_dir(&root)).all();
    if held && entries.is_empty() {
        return Ok(());
    }
    let live: Result<Vec<Entry>, String> = if entries.is_empty() {
        Ok(Vec::new())
    } else {
        Runner::new(timeout)
            .run("squeue", &slurm::query_args(&slurm::job_name(&root)))
            .map(|answer| {
                let seen = slurm::parse_squeue(&answer);
                entries
                    .iter()
                    .filter(|e| match e.job {
                        Some(id) => seen.get(&id).is_some_and(|s| {
                            !matches!(slurm::phase(s), Phase::Completed | Phase::Ended(_))
                        }),
                        // Recorded before `sbatch` answered: alive if its batch is in the queue.
                        None => seen.values().any(|s| s.comment == e.batch),
                    })
                    .cloned()
                    .collect()
            })
            .map_err(|e| e.to_string())
    };
    let (jobs, unknown) = match live {
        Ok(live) if held && live.is_empty() => return Ok(()),
        Ok(live) => (live, None),
        Err(why) => (entries, Some(why)),
    };
    Err(refusal(&jobs, unknown, held))
}

/// The error that names the jobs and the ways out.
fn refusal(jobs: &[Entry], unknown: Option<String>, held: bool) -> CliError {
    let ids: Vec<String> = jobs
        .iter()
        .map(|e| {
            e.job
                .map_or_else(|| format!("of submission {}", e.batch), |id| id.to_string())
        })
        .collect();
    let shown = if ids.len() > 8 {
        format!("{} and {} more", ids[..8].join(", "), ids.len() - 8)
    } else {
        ids.join(", ")
    };
    let message = match (&unknown, jobs.is_empty()) {
        (_, true) => "batch jobs of this workspace are running (they hold `.repro/writers.lock`): a local run would write the same outputs beside them".to_owned(),
        (Some(why), false) => format!(
            "{} batch job(s) submitted from this workspace may still be queued or running (Slurm jobs {shown}), and Slurm cannot be asked ({why}): a local run could write the same outputs beside them",
            jobs.len()
        ),
        (None, false) => format!(
            "{} batch job(s) submitted from this workspace are still {} (Slurm jobs {shown}): a local run would write the same outputs beside them",
            jobs.len(),
            if held { "queued or running" } else { "running" }
        ),
    };
    let cancel: Vec<String> = jobs
        .iter()
        .filter_map(|e| e.job.map(|id| id.to_string()))
        .collect();
    let cancel = if cancel.is_empty() {
        format!("`scancel --name={}`", "repro-...")
    } else {
        format!("`scancel {}`", cancel.join(" "))
    };
    let mut hint = format!(
        "`repro run --executor slurm` adopts them and collects their results; or cancel them ({cancel}) and run again"
    );
    if unknown.is_some() {
        hint.push_str(
            "; if this workspace was moved away from its cluster, remove `.repro/slurm/jobs/`",
        );
    }
    CliError::User {
        message,
        hint: Some(hint),
    }
}
