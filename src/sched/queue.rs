//! The ready queue over the DAG: an instance becomes ready when its last selected upstream
//! settles (fresh, restored or run), not when a whole level finishes; a failure blocks
//! everything downstream of it.

use std::collections::VecDeque;

use crate::graph::Graph;

/// Readiness bookkeeping for one dispatch.
#[derive(Debug)]
pub(crate) struct ReadyQueue {
    selected: Vec<bool>,
    pending: Vec<usize>,
    blocked: Vec<bool>,
    ready: VecDeque<usize>,
}

impl ReadyQueue {
    /// The queue for `selected` (upstream-closed, topologically ordered): instances with no
    /// selected upstream are ready at once.
    pub(crate) fn new(graph: &Graph, selected: &[usize]) -> ReadyQueue {
        let n = graph.instances.len();
        let mut in_sel = vec![false; n];
        for &i in selected {
            in_sel[i] = true;
        }
        let pending: Vec<usize> = (0..n)
            .map(|i| graph.upstream[i].iter().filter(|&&u| in_sel[u]).count())
            .collect();
        let ready = selected
            .iter()
            .copied()
            .filter(|&i| pending[i] == 0)
            .collect();
        ReadyQueue {
            selected: in_sel,
            pending,
            blocked: vec![false; n],
            ready,
        }
    }

    /// The next ready instance.
    pub(crate) fn pop(&mut self) -> Option<usize> {
        self.ready.pop_front()
    }

    /// Drops every ready instance (the run is stopping).
    pub(crate) fn clear(&mut self) {
        self.ready.clear();
    }

    /// `i` settled: its selected dependents whose last upstream this was become ready.
    pub(crate) fn settle(&mut self, graph: &Graph, i: usize) {
        for &d in &graph.downstream[i] {
            if self.selected[d] {
                self.pending[d] -= 1;
                if self.pending[d] == 0 && !self.blocked[d] {
                    self.ready.push_back(d);
                }
            }
        }
    }

    /// Whether settling all of `settling` now would make some instance ready: a selected,
    /// unblocked dependent whose unsettled upstream instances are all among them.
    pub(crate) fn would_release(&self, graph: &Graph, settling: &[usize]) -> bool {
        let mut left: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        for &i in settling {
            for &d in &graph.downstream[i] {
                if self.selected[d] && !self.blocked[d] {
                    let n = left.entry(d).or_insert(self.pending[d]);
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// `i` failed: everything selected downstream of it is blocked.
    pub(crate) fn block_downstream(&mut self, graph: &Graph, i: usize) {
        let mut stack = vec![i];
        while let Some(x) = stack.pop() {
            for &d in &graph.downstream[x] {
                if self.selected[d] && !self.blocked[d] {
                    self.blocked[d] = true;
                    stack.push(d);
                }
            }
        }
    }

    /// Whether `i` is selected and still waits for an upstream instance to settle.
    pub(crate) fn is_waiting(&self, i: usize) -> bool {
        self.selected[i] && self.pending[i] > 0 && !self.blocked[i]
    }

    /// Whether `i` was blocked by a failure upstream.
    pub(crate) fn is_blocked(&self, i: usize) -> bool {
        self.blocked[i]
    }
}
