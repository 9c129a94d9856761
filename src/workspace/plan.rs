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
        let mut out = Vec::with_capacity(selected.len());
        self.plan_each(graph, selected, forced, |i, state| out.push((i, state)))?;
        Ok(out)
    }

    /// [`Self::plan`], handing each state to `each` as it is decided instead of keeping them
    /// all: `status` of a 50,000-instance pipeline keeps a key per instance, not a lock entry.
    pub fn plan_each(
        &self,
        graph: &Graph,
        selected: &[usize],
        forced: &[bool],
        mut each: impl FnMut(usize, State),
    ) -> Result<(), CheckError> {
        let mut unsettled = vec![false; graph.instances.len()];
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
            each(i, state);
        }
        Ok(())
    }
}
