//! Planning without executing: the state of every selected instance, as `repro status`,
//! `show` and `run --dry-run` report it. Instances downstream of one that must run (or be
//! restored) are reported as `UpstreamStale`, since their keys depend on outputs not yet in
//! place, followed by their own reasons (`Workspace::own_reasons`: a changed parameter, code
//! or command), so that `status` shows every reason, not only the upstream one.

use crate::graph::Graph;

use super::check::{CheckError, State};
use super::open::Workspace;

impl Workspace<'_> {
    /// Evaluates `selected` (a topologically ordered, upstream-closed set) in order;
    /// `forced[i]` forces instance `i` to run.
    pub fn plan(
        &self,
        graph: &Graph,
        selected: &[usize],
        forced: &[bool],
    ) -> Result<Vec<(usize, State)>, CheckError> {
        let mut unsettled = vec![false; graph.instances.len()];
        let mut out = Vec::with_capacity(selected.len());
        for &i in selected {
            let pending_id = graph.upstream[i]
                .iter()
                .find(|&&u| unsettled[u])
                .map(|&u| graph.instances[u].id.as_str());
            let mut state = self.evaluate(&graph.instances[i], pending_id, forced[i])?;
            if let (Some(_), State::Run { reasons, .. }) = (pending_id, &mut state) {
                let produced: Vec<&str> = graph.upstream[i]
                    .iter()
                    .flat_map(|&u| graph.instances[u].outs.iter().map(String::as_str))
                    .collect();
                reasons.extend(self.own_reasons(&graph.instances[i], &produced));
            }
            unsettled[i] = !matches!(state, State::Fresh { .. });
            out.push((i, state));
        }
        Ok(out)
    }
}
