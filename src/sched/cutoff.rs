//! Early cutoff, counted: which instances executed and produced exactly the outputs they had
//! before, and which dependents were then kept without executing.
//!
//! Deps enter keys by content (see `cache/`), so an upstream instance that executes again and
//! writes byte-identical outputs leaves the keys of its dependents unchanged: they are found
//! fresh (or restorable) and do not execute. The dispatcher already behaves that way; this
//! module only counts it, so that the run's summary can say how much work the cutoff saved.
//!
//! How: when an instance is found to need running, the output digests of its previous lock
//! entry (under this profile) are remembered; when its run is published, the new entry's
//! digests are compared with them, path for path. An instance counts as *unchanged* when both
//! maps are equal. Every executed instance marks itself *touched*; an instance that settles
//! fresh or restored while one of its direct upstream instances is touched counts as *kept*
//! and is touched in turn, so that the whole subtree below a cut is counted, not only its
//! first level.
//!
//! Limits: an instance with no previous lock entry (a first run, or a lock that was never
//! saved) never counts as unchanged, even if the store holds a record with the same outputs;
//! a kept instance is counted whether its upstream's outputs changed or not (a dependent that
//! reads only the unchanged part of an upstream's outputs is a cutoff too).

use std::collections::{BTreeMap, HashMap};

use crate::graph::Graph;

/// Output path to tagged digest, as in a lock entry.
type Outputs = BTreeMap<String, String>;

/// The counts and the per-instance facts behind them.
#[derive(Debug, Default)]
pub(super) struct Cutoff {
    /// Previous output digests of instances waiting to run (those with a lock entry).
    before: HashMap<usize, Outputs>,
    /// Executed in this run, or kept below an instance that was.
    touched: Vec<bool>,
    /// Executed with outputs identical to their previous lock entry's.
    pub(super) unchanged: usize,
    /// Settled without executing although an instance upstream executed.
    pub(super) kept: usize,
}

impl Cutoff {
    /// A tracker for a graph of `instances` instances.
    pub(super) fn new(instances: usize) -> Cutoff {
        Cutoff {
            touched: vec![false; instances],
            ..Cutoff::default()
        }
    }

    /// Instance `i` must run; `previous` is its lock entry's outputs, if it has one.
    pub(super) fn will_run(&mut self, i: usize, previous: Option<&Outputs>) {
        if let Some(outs) = previous {
            self.before.insert(i, outs.clone());
        }
    }

    /// Instance `i` executed and was published with `outputs`; returns whether they equal the
    /// previous ones.
    pub(super) fn executed(&mut self, i: usize, outputs: Option<&Outputs>) -> bool {
        self.touched[i] = true;
        let same = match (self.before.remove(&i), outputs) {
            (Some(old), Some(new)) => &old == new,
            _ => false,
        };
        if same {
            self.unchanged += 1;
        }
        same
    }

    /// Instance `i` settled without executing (fresh or restored); it counts as kept when an
    /// instance upstream of it executed (or was kept below one that did).
    pub(super) fn settled(&mut self, graph: &Graph, i: usize) {
        self.before.remove(&i);
        if graph.upstream[i].iter().any(|&u| self.touched[u]) {
            self.touched[i] = true;
            self.kept += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outs(pairs: &[(&str, &str)]) -> Outputs {
        pairs
            .iter()
            .map(|(p, d)| (p.to_string(), d.to_string()))
            .collect()
    }

    #[test]
    fn identical_outputs_count_as_unchanged_and_different_ones_do_not() {
        let mut c = Cutoff::new(3);
        let a = outs(&[("a.txt", "file:1")]);
        c.will_run(0, Some(&a));
        assert!(c.executed(0, Some(&a)));
        c.will_run(1, Some(&a));
        assert!(!c.executed(1, Some(&outs(&[("a.txt", "file:2")]))));
        c.will_run(2, None);
        assert!(!c.executed(2, Some(&a)));
        assert_eq!(c.unchanged, 1);
    }
}
