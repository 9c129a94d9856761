//! Per-stage overviews for pipelines too big to read instance by instance (the paper's profile
//! has thousands of instances): what `status` and `run -n` count per stage, the table they
//! print, the rule that decides whether they also list each instance, and the stage-level
//! graph of `dag --stages`.
//!
//! Every selected instance falls in exactly one class, so a stage's counts add up to its
//! instances: `fresh`; `running` (a local process runs it now, see `status::Running`);
//! `restore` (stale, but the cache holds the result of its current key); `failed` (stale, and
//! the latest run of this profile recorded it as failed, `.repro/last-run/<profile>.json`);
//! `run` (every other stale instance). The stale count is everything but `fresh`.
//!
//! Instance lines: `status` and `run -n` list every instance that is not fresh, with its
//! reasons, when at most [`LIST_LIMIT`] are; above that they print a line naming the count and
//! `--instances`, which lists them all. A small pipeline therefore shows its reasons without a
//! flag, and a grid of thousands stays one screen. `--json` always carries every instance.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::graph::Graph;
use crate::runreport::{Outcome, RunRecord};
use crate::workspace::Workspace;

/// Most instances that are not fresh that `status` and `run -n` list without `--instances`.
pub(crate) const LIST_LIMIT: usize = 20;

/// The class an instance is counted in (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Up to date.
    Fresh,
    /// Stale; would run.
    Run,
    /// Stale; the cache holds its result.
    Restore,
    /// A local process runs it now.
    Running,
    /// Stale, and the latest run failed on it.
    Failed,
}

impl Class {
    /// The label of its instance lines in `status` (and of its JSON `state`).
    pub(crate) fn label(self) -> &'static str {
        match self {
            Class::Fresh => "fresh",
            Class::Run => "run",
            Class::Restore => "restore",
            Class::Running => "running",
            Class::Failed => "failed",
        }
    }
}

/// One stage's counts; `instances` is the sum of the others.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct StageCounts {
    /// The stage's name.
    pub(crate) stage: String,
    /// Its selected instances.
    pub(crate) instances: usize,
    /// Up to date.
    pub(crate) fresh: usize,
    /// Stale, to run.
    pub(crate) run: usize,
    /// Stale, restorable from the cache.
    pub(crate) restore: usize,
    /// Being run by a local process now.
    pub(crate) running: usize,
    /// Stale, and failed in the latest run.
    pub(crate) failed: usize,
}

/// The ids of the instances the latest run of the workspace's profile recorded as failed
/// (empty without a readable record: the counts then show them as `run`).
pub(crate) fn last_failed(ws: &Workspace<'_>) -> HashSet<String> {
    let path = ws.layout().last_run(ws.profile());
    match RunRecord::read(&path) {
        Ok(Some(r)) => r
            .instances
            .into_iter()
            .filter(|(_, run)| run.outcome == Outcome::Failed)
            .map(|(id, _)| id)
            .collect(),
        _ => HashSet::new(),
    }
}

/// The class of a stale or fresh instance, given whether it is restorable, running now and
/// failed in the latest run.
pub(crate) fn classify(fresh: bool, restore: bool, running: bool, failed: bool) -> Class {
    if fresh {
        Class::Fresh
    } else if running {
        Class::Running
    } else if restore {
        Class::Restore
    } else if failed {
        Class::Failed
    } else {
        Class::Run
    }
}

/// Counts per stage, in the order the pipeline declares its stages.
pub(crate) fn tally(graph: &Graph, classes: &[(usize, Class)]) -> Vec<StageCounts> {
    let mut by_stage: BTreeMap<usize, StageCounts> = BTreeMap::new();
    for &(i, class) in classes {
        let inst = &graph.instances[i];
        let c = by_stage.entry(inst.stage).or_insert_with(|| StageCounts {
            stage: inst.stage_name.clone(),
            ..StageCounts::default()
        });
        c.instances += 1;
        match class {
            Class::Fresh => c.fresh += 1,
            Class::Run => c.run += 1,
            Class::Restore => c.restore += 1,
            Class::Running => c.running += 1,
            Class::Failed => c.failed += 1,
        }
    }
    by_stage.into_values().collect()
}

/// The counts as an aligned table, a header line then one line per stage.
pub(crate) fn table(counts: &[StageCounts]) -> Vec<String> {
    const HEAD: [&str; 6] = ["instances", "fresh", "run", "restore", "running", "failed"];
    let name_w = counts
        .iter()
        .map(|c| c.stage.len())
        .chain(std::iter::once("stage".len()))
        .max()
        .unwrap_or(0);
    let mut lines = vec![format!("{:<name_w$}  {}", "stage", HEAD.join("  "))];
    for c in counts {
        let values = [
            c.instances,
            c.fresh,
            c.run,
            c.restore,
            c.running,
            c.failed,
        ];
        let cells: Vec<String> = values
            .iter()
            .zip(HEAD)
            .map(|(v, h)| format!("{v:>w$}", w = h.len()))
            .collect();
        lines.push(format!("{:<name_w$}  {}", c.stage, cells.join("  ")));
    }
    lines
}

/// Whether to list instances one by one: with `--instances`, or when few are not fresh.
pub(crate) fn list_instances(flag: bool, not_fresh: usize) -> bool {
    flag || not_fresh <= LIST_LIMIT
}

/// One stage of the stage-level graph.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct StageNode {
    /// The stage's name.
    pub(crate) stage: String,
    /// Its selected instances.
    pub(crate) instances: usize,
    /// The stages some of whose instances its instances read, in declaration order.
    pub(crate) upstream: Vec<String>,
}

/// The stage-level graph of the `selected` instances, in the order the pipeline declares its
/// stages.
pub(crate) fn stage_graph(graph: &Graph, selected: &[usize]) -> Vec<StageNode> {
    let mut counts: BTreeMap<usize, (String, usize, BTreeSet<usize>)> = BTreeMap::new();
    for &i in selected {
        let inst = &graph.instances[i];
        let e = counts
            .entry(inst.stage)
            .or_insert_with(|| (inst.stage_name.clone(), 0, BTreeSet::new()));
        e.1 += 1;
        for &u in &graph.upstream[i] {
            let up = graph.instances[u].stage;
            if up != inst.stage {
                e.2.insert(up);
            }
        }
    }
    let name_of: BTreeMap<usize, String> =
        counts.iter().map(|(&s, (n, _, _))| (s, n.clone())).collect();
    counts
        .into_values()
        .map(|(stage, instances, ups)| StageNode {
            stage,
            instances,
            upstream: ups
                .iter()
                .filter_map(|s| name_of.get(s).cloned())
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(stage: &str, fresh: usize, run: usize, failed: usize) -> StageCounts {
        StageCounts {
            stage: stage.into(),
            instances: fresh + run + failed,
            fresh,
            run,
            failed,
            ..StageCounts::default()
        }
    }

    #[test]
    fn table_aligns_numbers_under_their_headers() {
        let lines = table(&[counts("prep", 2, 0, 0), counts("train_long", 1, 120, 3)]);
        assert_eq!(
            lines,
            [
                "stage       instances  fresh  run  restore  running  failed",
                "prep                2      2    0        0        0       0",
                "train_long        124      1  120        0        0       3",
            ]
        );
    }

    #[test]
    fn classes_prefer_running_then_restore_then_failed() {
        assert_eq!(classify(true, true, true, true), Class::Fresh);
        assert_eq!(classify(false, true, true, true), Class::Running);
        assert_eq!(classify(false, true, false, true), Class::Restore);
        assert_eq!(classify(false, false, false, true), Class::Failed);
        assert_eq!(classify(false, false, false, false), Class::Run);
    }

    #[test]
    fn instances_are_listed_up_to_the_limit_or_with_the_flag() {
        assert!(list_instances(false, LIST_LIMIT));
        assert!(!list_instances(false, LIST_LIMIT + 1));
        assert!(list_instances(true, 10_000));
    }
}
