//! `repro logs INSTANCE`: the log of the instance's last successful run (from the cache), or
//! of its last attempt (from `.repro/logs/`) when that failed; then, when the instance last
//! ran as a batch job, that job's own output file (Slurm's messages and the job's engine).
//! A registry entry naming an output file outside `.repro/slurm/out` is reported (an error
//! when there is nothing else to show, a note otherwise) and that file is never read.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::exec::slurm;
use crate::workspace::Layout;

use super::args::OneArgs;
use super::load::Loaded;
use super::{Cli, CliError};

pub(crate) fn logs(cli: &Cli, a: &OneArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let i = loaded.one(&a.instance)?;
    let inst = &loaded.graph.instances[i];
    let ws = loaded.workspace()?;
    let attempt = ws.layout().log(&inst.id);
    let job_out = match job_output(ws.layout(), &inst.id) {
        Ok(found) => found,
        Err(e) if ws.lock_entry(&inst.id).is_none() && !attempt.exists() => {
            return Err(CliError::user(e.to_string()))
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "repro: note: {e}");
            None
        }
    };
    let recorded = ws
        .lock_entry(&inst.id)
        .and_then(|e| ws.record(&e.key))
        .map(|r| ws.store().object_path(&r.log));
    // Prefer the latest attempt when it is newer than the recorded run.
    let path = match (&recorded, attempt.exists()) {
        (Some(r), true) => {
            let newer = std::fs::metadata(&attempt).and_then(|m| m.modified()).ok()
                > std::fs::metadata(r).and_then(|m| m.modified()).ok();
            if newer {
                attempt
            } else {
                r.clone()
            }
        }
        (Some(r), false) => r.clone(),
        (None, true) => attempt,
        (None, false) if job_out.is_some() => {
            return print_job_output(job_out.as_deref(), false);
        }
        (None, false) => {
            return Err(CliError::user(format!(
                "no log for `{}`: it has not run in this workspace",
                inst.id
            )))
        }
    };
    let bytes = std::fs::read(&path)
        .map_err(|e| CliError::Internal(format!("cannot read `{}`: {e}", path.display())))?;
    std::io::stdout()
        .write_all(&bytes)
        .map_err(|e| CliError::Internal(e.to_string()))?;
    print_job_output(job_out.as_deref(), true)
}

/// The batch job output file of an instance's latest job, if there is one; an error when its
/// registry entry names a file outside the Slurm output folder.
fn job_output(layout: &Layout, instance: &str) -> Result<Option<PathBuf>, slurm::OutsideOut> {
    let registry = slurm::Registry::new(&layout.slurm());
    let Some(entry) = registry
        .get(instance)
        .or_else(|| registry.last_done(instance))
    else {
        return Ok(None);
    };
    let path = entry.out_file(layout)?;
    Ok(path.is_file().then_some(path))
}

fn print_job_output(path: Option<&Path>, header: bool) -> Result<(), CliError> {
    let Some(path) = path else { return Ok(()) };
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::Internal(format!("cannot read `{}`: {e}", path.display())))?;
    let mut out = std::io::stdout();
    if header {
        writeln!(out, "--- batch job output: {}", path.display())
            .map_err(|e| CliError::Internal(e.to_string()))?;
    }
    out.write_all(&bytes)
        .map_err(|e| CliError::Internal(e.to_string()))
}
