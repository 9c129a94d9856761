//! `repro pull`: fetch and check what `repro.lock` names for the targets and their upstream
//! (`remote::pull`), then, if nothing failed, restore their outputs into the workspace as
//! `repro run` would (every pulled instance becomes fresh without running). On any missing or
//! corrupt record or object: each is named, the workspace is left as it was, exit 1.

use std::time::Instant;

use crate::remote::{PullReport, Wanted};
use crate::workspace::{State, Workspace};

use super::args::RemoteArgs;
use super::load::Loaded;
use super::page::{outln, Page};
use super::remote::{locked, note, open};
use super::{Cli, CliError};

pub(crate) fn pull(cli: &Cli, a: &RemoteArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let mut ws = loaded.workspace_exclusive()?;
    let mut page = Page::default();
    let pulled = fetch_and_restore(&loaded, &mut ws, a, &mut page)?;
    if pulled.report.problems.is_empty() {
        ws.save()?;
        page.print()
    } else {
        page.print()?;
        Err(CliError::Failed(format!(
            "{} record(s) missing or corrupt on the remote; the workspace is unchanged",
            pulled.report.problems.len()
        )))
    }
}

/// What [`fetch_and_restore`] did.
pub(crate) struct Pulled {
    /// The transfer's report (its problems already on the page).
    pub(crate) report: PullReport,
    /// The remote, as printed.
    pub(crate) remote: String,
    /// Instances restored into the workspace (0 when anything failed).
    pub(crate) restored: usize,
    /// Lock entries pulled for: instance id and the lock's key, before anything changed.
    pub(crate) keys: Vec<(String, String)>,
}

/// Pulls the targets of `a` into `ws` and, when nothing failed, restores them; writes the
/// problems and the summary on `page`. The caller saves the workspace.
pub(crate) fn fetch_and_restore(
    loaded: &Loaded,
    ws: &mut Workspace<'_>,
    a: &RemoteArgs,
    page: &mut Page,
) -> Result<Pulled, CliError> {
    let super::remote::Locked { found, unlocked } = locked(loaded, ws, &a.targets)?;
    if !unlocked.is_empty() {
        note(&format!(
            "{} instance(s) not in `repro.lock` (profile `{}`), nothing to pull for them, e.g. `{}`",
            unlocked.len(),
            ws.profile(),
            unlocked[0]
        ));
    }
    let wanted: Vec<Wanted> = found
        .iter()
        .map(|(id, e)| Wanted {
            id: id.clone(),
            key: e.key.clone(),
            outs: Some(e.outs.clone()),
        })
        .collect();
    let keys = wanted
        .iter()
        .map(|w| (w.id.clone(), w.key.clone()))
        .collect();
    let remote = open(loaded, a.remote.as_deref(), a.jobs)?;
    let start = Instant::now();
    let r = crate::remote::pull(
        ws.store(),
        remote.transport.as_ref(),
        &wanted,
        remote.connections,
    )?;
    for p in &r.problems {
        outln!(page, "FAILED {p}");
    }
    outln!(
        page,
        "pulled from {}: {} records ({} already here) of {}, {} objects ({} bytes); {} requests in {:.2}s",
        remote.label,
        r.pulled,
        r.present,
        r.records,
        r.objects,
        r.bytes,
        r.requests,
        start.elapsed().as_secs_f64()
    );
    let mut restored = 0;
    if r.problems.is_empty() {
        let selected = loaded.graph.closure(&loaded.targets(&a.targets)?);
        let forced = vec![false; loaded.graph.instances.len()];
        restored = restore(loaded, ws, &selected, &forced)?;
        outln!(page, "restored {restored} instance(s) into the workspace");
    }
    Ok(Pulled {
        report: r,
        remote: remote.label,
        restored,
        keys,
    })
}

/// Restores every selected instance whose key is now in the store, upstream first: each round
/// plans the graph again, since a downstream key is known only once its upstream's outputs
/// are in place. Returns how many were restored. Instances marked in `forced` are left alone.
pub(crate) fn restore(
    loaded: &Loaded,
    ws: &mut Workspace<'_>,
    selected: &[usize],
    forced: &[bool],
) -> Result<usize, CliError> {
    ws.claim_outputs(&loaded.graph)?;
    let mut total = 0;
    for _ in 0..=selected.len() {
        let states = ws.plan(&loaded.graph, selected, forced)?;
        let mut batch = Vec::new();
        for (i, s) in states {
            let inst = &loaded.graph.instances[i];
            match s {
                State::Restore { key, record, .. } => batch.push((inst, key, *record)),
                State::Fresh { entry, .. } => ws.accept(inst, entry),
                State::Run { .. } => {}
            }
        }
        let restored = batch.len();
        let items: Vec<_> = batch.iter().map(|(i, k, r)| (*i, k.as_str(), r)).collect();
        let results = ws.restore_many(&items);
        if let Some(((inst, _, _), Err(e))) = batch.iter().zip(results).find(|(_, r)| r.is_err()) {
            return Err(CliError::Failed(format!(
                "cannot restore `{}`: {e}",
                inst.id
            )));
        }
        total += restored;
        if restored == 0 {
            break;
        }
    }
    Ok(total)
}
