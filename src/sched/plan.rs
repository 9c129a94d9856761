//! Planning without executing: the state of every selected instance, as `repro status` and
//! `repro run --dry-run` show it. Instances downstream of one that must run (or be restored)
//! are reported as `UpstreamStale`, since their keys depend on outputs not yet in place.

use crate::cache::{CheckError, Checker, State};
use crate::graph::Graph;

/// Evaluates `selected` (a topologically ordered, upstream-closed set) in order.
pub fn plan(
    graph: &Graph,
    selected: &[usize],
    checker: &Checker<'_>,
    forced: &[bool],
) -> Result<Vec<(usize, State)>, CheckError> {
    let mut unsettled: Vec<Option<usize>> = vec![None; graph.instances.len()];
    let mut out = Vec::with_capacity(selected.len());
    for &i in selected {
        let pending = graph.upstream[i]
            .iter()
            .find_map(|&u| unsettled[u].map(|root| (u, root)));
        let pending_id = pending.map(|(u, _)| graph.instances[u].id.as_str());
        let state = checker.evaluate(&graph.instances[i], pending_id, forced[i])?;
        if !matches!(state, State::Fresh { .. }) {
            unsettled[i] = Some(i);
        }
        out.push((i, state));
    }
    Ok(out)
}
