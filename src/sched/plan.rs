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
    let mut unsettled = vec![false; graph.instances.len()];
    let mut out = Vec::with_capacity(selected.len());
    for &i in selected {
        let pending_id = graph.upstream[i]
            .iter()
            .find(|&&u| unsettled[u])
            .map(|&u| graph.instances[u].id.as_str());
        let state = checker.evaluate(&graph.instances[i], pending_id, forced[i])?;
        unsettled[i] = !matches!(state, State::Fresh { .. });
        out.push((i, state));
    }
    Ok(out)
}
