//! `repro run --pull`: before the run, bring from the remote the action records (and their
//! objects) of the instances that would otherwise execute, as Bazel's remote cache does; the
//! run then restores them like any cached result.
//!
//! How: plan the selection; pull, with every check of `repro pull` but against no lock's
//! outputs (the key alone names the computation: the record's inputs must hash to it, every
//! object to its digest), the records of the instances that must run and whose key is known;
//! plan again, since restored upstream outputs make their dependents' keys known, until a
//! round pulls nothing. A record the remote lacks is not a problem (that instance runs); one
//! that fails a check is named on stderr and its instance runs.
//!
//! Limits: one request per instance and round before the run starts, not overlapped with the
//! dispatcher.

use std::collections::BTreeSet;

use crate::remote::Wanted;
use crate::workspace::{State, Workspace};

use super::load::Loaded;
use super::CliError;

/// Pulls what the remote named by `flag` (else the default) holds for the instances of
/// `selected` that would run; returns the number of records pulled.
pub(crate) fn pull_before_run(
    loaded: &Loaded,
    ws: &mut Workspace<'_>,
    selected: &[usize],
    forced: &[bool],
    flag: Option<&str>,
) -> Result<usize, CliError> {
    let remote = super::remote::open(loaded, flag, None)?;
    let mut asked: BTreeSet<String> = BTreeSet::new();
    let mut pulled = 0;
    loop {
        let wanted: Vec<Wanted> = ws
            .plan(&loaded.graph, selected, forced)?
            .into_iter()
            .filter(|(i, _)| !forced[*i])
            .filter_map(|(i, s)| match s {
                State::Run {
                    inputs: Some(inputs),
                    ..
                } => Some(Wanted {
                    id: loaded.graph.instances[i].id.clone(),
                    key: inputs.key(),
                    outs: None,
                }),
                _ => None,
            })
            .filter(|w| asked.insert(w.key.clone()))
            .collect();
        if wanted.is_empty() {
            break;
        }
        let r = crate::remote::pull(
            ws.store(),
            remote.transport.as_ref(),
            &wanted,
            remote.connections,
        )?;
        for p in &r.problems {
            super::remote::note(&format!("warning: --pull: {p}; it runs here instead"));
        }
        super::remote::note(&format!(
            "--pull: {} of {} record(s) pulled from {} ({} objects, {} bytes), {} not there",
            r.pulled,
            wanted.len(),
            remote.label,
            r.objects,
            r.bytes,
            r.absent
        ));
        pulled += r.pulled;
        if r.pulled == 0 {
            break;
        }
        // Their outputs in place make their dependents' keys known for the next round.
        super::pull::restore(loaded, ws, selected, forced)?;
    }
    Ok(pulled)
}
