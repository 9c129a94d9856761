//! `repro logs INSTANCE`: the log that belongs to what `repro show` names, and which attempt it
//! is, on stderr (stdout carries the log alone):
//! - when the instance's current key has a record (it is fresh, or restorable), that record's
//!   log from the cache, whatever attempt ran since: an attempt that was interrupted or failed
//!   and was then replaced by a restore is not what the outputs came from (a note names its
//!   log when it is newer);
//! - otherwise the latest attempt's log from `.repro/logs/` (it failed, was interrupted, or is
//!   still running: nothing recorded it);
//! - otherwise the log of the run the lock last recorded, an earlier key (the instance is
//!   stale).
//!
//! Then, when the instance last ran as a batch job, that job's own output file (Slurm's
//! messages and the job's engine). A registry entry naming an output file outside
//! `.repro/slurm/out` is reported (an error when there is nothing else to show, a note
//! otherwise) and that file is never read.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cache::ActionRecord;
use crate::exec::slurm;
use crate::workspace::{Layout, State, Workspace};

use super::args::LogsArgs;
use super::load::Loaded;
use super::{Cli, CliError};

pub(crate) fn logs(cli: &Cli, a: &LogsArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let i = loaded.one(&a.instance)?;
    let inst = &loaded.graph.instances[i];
    let ws = loaded.workspace()?;
    let attempt = ws.layout().log(&inst.id);
    if a.follow {
        let running = super::status::Running::find(ws.layout(), std::iter::once(inst.id.as_str()));
        match running.get(inst.id.as_str()) {
            Some(r) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "repro: following the attempt {}; this ends when it does",
                    r.describe()
                );
                return follow(ws.layout(), &attempt);
            }
            None => {
                let _ = writeln!(
                    std::io::stderr(),
                    "repro: note: `{}` is not running here now (a pack's members and batch jobs are not followed): its log as `repro logs` shows it",
                    inst.id
                );
            }
        }
    }
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
    let (path, which) = match choose(&loaded, &ws, i, &attempt)? {
        Some(found) => found,
        None if job_out.is_some() => return print_job_output(job_out.as_deref(), false),
        None => {
            return Err(CliError::user(format!(
                "no log for `{}`: it has not run in this workspace",
                inst.id
            )))
        }
    };
    let bytes = std::fs::read(&path)
        .map_err(|e| CliError::Internal(format!("cannot read `{}`: {e}", path.display())))?;
    {
        let mut err = std::io::stderr().lock();
        for line in which {
            let _ = writeln!(err, "repro: {line}");
        }
    }
    std::io::stdout()
        .write_all(&bytes)
        .map_err(|e| CliError::Internal(e.to_string()))?;
    print_job_output(job_out.as_deref(), true)
}

/// The log to show for instance `i` and the lines that say which attempt it belongs to (see
/// the module doc), or `None` when there is none.
fn choose(
    loaded: &Loaded,
    ws: &Workspace<'_>,
    i: usize,
    attempt: &Path,
) -> Result<Option<(PathBuf, Vec<String>)>, CliError> {
    let graph = &loaded.graph;
    let forced = vec![false; graph.instances.len()];
    let states = ws.plan(graph, &graph.closure(&[i]), &forced)?;
    let key = states
        .into_iter()
        .find(|(j, _)| *j == i)
        .and_then(|(_, state)| match state {
            State::Fresh { entry, .. } => Some(entry.key),
            State::Restore { key, .. } => Some(key),
            State::Run { inputs, .. } => inputs.map(|k| k.key()),
        });
    let log_of =
        |r: &ActionRecord| Some(ws.store().object_path(&r.log)).filter(|_| !r.log.is_empty());
    let described = |r: &ActionRecord, what: &str| {
        format!(
            "{what} (key {}, {:.2}s on {}, {})",
            &r.key[..r.key.len().min(12)],
            r.duration_s,
            r.host,
            r.device
        )
    };
    if let Some(record) = key.as_deref().and_then(|k| ws.record(k)) {
        if let Some(path) = log_of(&record) {
            let mut lines = vec![described(
                &record,
                "log of the recorded run that `repro show` names",
            )];
            if newer(attempt, &path) {
                lines.push(format!(
                    "note: a later attempt that was not recorded (it failed, was interrupted or is still running) wrote `{}`",
                    attempt.strip_prefix(".").unwrap_or(attempt).display()
                ));
            }
            return Ok(Some((path, lines)));
        }
    }
    if attempt.exists() {
        return Ok(Some((
            attempt.to_owned(),
            vec!["log of the latest attempt, which nothing recorded (it failed, was interrupted or is still running)".into()],
        )));
    }
    let earlier = ws
        .lock_entry(&graph.instances[i].id)
        .and_then(|e| ws.record(&e.key));
    Ok(earlier.and_then(|r| {
        log_of(&r).map(|path| {
            (
                path,
                vec![described(
                    &r,
                    "log of the run `repro.lock` last recorded, for an earlier key (the instance is stale)",
                )],
            )
        })
    }))
}

/// Whether file `a` exists and was modified after `b`.
fn newer(a: &Path, b: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(a), modified(b)) {
        (Some(x), Some(y)) => x > y,
        (Some(_), None) => true,
        _ => false,
    }
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

/// Prints `log` as it grows until no process holds it open any more (the attempt ended), then
/// what it gained last. A log that shrinks (a new attempt rewrote it) is printed again from its
/// start.
fn follow(layout: &Layout, log: &Path) -> Result<(), CliError> {
    use std::io::{Read, Seek, SeekFrom};
    let canonical = std::fs::canonicalize(log).unwrap_or_else(|_| log.to_owned());
    let mut offset = 0u64;
    let mut out = std::io::stdout();
    let mut copy = |offset: &mut u64| -> Result<(), CliError> {
        let Ok(mut f) = std::fs::File::open(log) else {
            return Ok(());
        };
        let len = f.metadata().map_or(0, |m| m.len());
        if len < *offset {
            *offset = 0;
        }
        let mut bytes = Vec::new();
        f.seek(SeekFrom::Start(*offset))
            .and_then(|_| f.read_to_end(&mut bytes))
            .map_err(|e| CliError::Internal(format!("cannot read `{}`: {e}", log.display())))?;
        *offset += bytes.len() as u64;
        out.write_all(&bytes)
            .and_then(|()| out.flush())
            .map_err(|e| CliError::Internal(e.to_string()))
    };
    loop {
        copy(&mut offset)?;
        if !crate::exec::procs::open_files_under(&layout.logs()).contains_key(&canonical) {
            return copy(&mut offset);
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}
