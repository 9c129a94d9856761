//! `repro push`: upload the targets' (and their upstream's) records and objects named by
//! `repro.lock` to a remote (`remote::push`); print a summary; exit 1 if anything failed.

use std::time::Instant;

use super::args::RemoteArgs;
use super::load::Loaded;
use super::page::{outln, Page};
use super::remote::{locked, note, open};
use super::{Cli, CliError};

pub(crate) fn push(cli: &Cli, a: &RemoteArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let ws = loaded.workspace()?;
    let super::remote::Locked { found, unlocked } = locked(&loaded, &ws, &a.targets)?;
    if !unlocked.is_empty() {
        note(&format!(
            "{} instance(s) not in `repro.lock` (profile `{}`), not pushed, e.g. `{}`",
            unlocked.len(),
            ws.profile(),
            unlocked[0]
        ));
    }
    let wanted: Vec<(String, String)> = found
        .iter()
        .map(|(id, e)| (id.clone(), e.key.clone()))
        .collect();
    let remote = open(&loaded, a.remote.as_deref(), a.jobs)?;
    let start = Instant::now();
    let r = crate::remote::push(
        ws.store(),
        remote.transport.as_ref(),
        &wanted,
        remote.connections,
    )?;
    for (id, key) in &r.conflicts {
        note(&format!(
            "warning: {id}: the remote already holds a different record for key `{key}`; kept it, not overwritten"
        ));
    }
    let mut page = Page::default();
    for p in &r.problems {
        outln!(page, "FAILED {p}");
    }
    outln!(
        page,
        "pushed to {}: {} of {} records, {} of {} objects ({} bytes) uploaded; {} requests in {:.2}s",
        remote.label,
        r.records_uploaded,
        r.records,
        r.objects_uploaded,
        r.objects,
        r.bytes,
        r.requests,
        start.elapsed().as_secs_f64()
    );
    page.print()?;
    if r.problems.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "{} record(s) not pushed",
            r.problems.len()
        )))
    }
}
