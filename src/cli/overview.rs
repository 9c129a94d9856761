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
/// (empty without a readable record: the counts then show them as `run`). The record is read
/// only when `any_stale`: a no-op `status` on a wide pipeline does not parse it.
pub(crate) fn last_failed(ws: &Workspace<'_>, any_stale: bool) -> HashSet<String> {
    if !any_stale {
        return HashSet::new();
    }
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

/// Where a stage sorts: its depth, then its name.
type Rank = (usize, String);

/// The order in which overviews list stages: by depth (the longest chain of stages above a
/// stage, over the whole graph), then by name; so a stage comes after those it reads from.
/// Returns each stage index's rank key.
fn stage_ranks(graph: &Graph) -> BTreeMap<usize, Rank> {
    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut names: BTreeMap<usize, &str> = BTreeMap::new();
    for (i, inst) in graph.instances.iter().enumerate() {
        names.insert(inst.stage, inst.stage_name.as_str());
        for &u in &graph.upstream[i] {
            let up = graph.instances[u].stage;
            if up != inst.stage {
                edges.insert((up, inst.stage));
            }
        }
    }
    let mut depth: BTreeMap<usize, usize> = names.keys().map(|&s| (s, 0)).collect();
    // Longest paths by relaxation; at most one round per stage, so a cycle between stages
    // (possible across different instances) only stops the deepening.
    for _ in 0..names.len() {
        let mut changed = false;
        for &(from, to) in &edges {
            let d = depth.get(&from).copied().unwrap_or(0) + 1;
            if let Some(t) = depth.get_mut(&to) {
                if *t < d {
                    *t = d;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    names
        .into_iter()
        .map(|(s, name)| (s, (depth.get(&s).copied().unwrap_or(0), name.to_owned())))
        .collect()
}

/// Counts per stage, upstream stages first (see [`stage_ranks`]).
pub(crate) fn tally(graph: &Graph, classes: &[(usize, Class)]) -> Vec<StageCounts> {
    let ranks = stage_ranks(graph);
    let mut by_stage: BTreeMap<Rank, StageCounts> = BTreeMap::new();
    for &(i, class) in classes {
        let inst = &graph.instances[i];
        let rank = ranks
            .get(&inst.stage)
            .cloned()
            .unwrap_or((0, inst.stage_name.clone()));
        let c = by_stage.entry(rank).or_insert_with(|| StageCounts {
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
    let rows: Vec<[String; 6]> = counts
        .iter()
        .map(|c| {
            [c.instances, c.fresh, c.run, c.restore, c.running, c.failed].map(|v| v.to_string())
        })
        .collect();
    let name_w = counts
        .iter()
        .map(|c| c.stage.len())
        .chain(std::iter::once("stage".len()))
        .max()
        .unwrap_or(0);
    let widths: Vec<usize> = HEAD
        .iter()
        .enumerate()
        .map(|(k, h)| rows.iter().map(|r| r[k].len()).fold(h.len(), usize::max))
        .collect();
    let line = |name: &str, cells: &[String]| {
        let cells: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(v, &w)| format!("{v:>w$}"))
            .collect();
        format!("{name:<name_w$}  {}", cells.join("  "))
    };
    let head: Vec<String> = HEAD.iter().map(|h| (*h).to_owned()).collect();
    let mut lines = vec![line("stage", &head)];
    for (c, r) in counts.iter().zip(&rows) {
        lines.push(line(&c.stage, r));
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

/// The stage-level graph of the `selected` instances, upstream stages first (see
/// [`stage_ranks`]); each node's `upstream` in the same order.
pub(crate) fn stage_graph(graph: &Graph, selected: &[usize]) -> Vec<StageNode> {
    let ranks = stage_ranks(graph);
    let rank = |s: usize, name: &str| {
        ranks
            .get(&s)
            .cloned()
            .unwrap_or_else(|| (0, name.to_owned()))
    };
    let mut counts: BTreeMap<Rank, (usize, BTreeSet<Rank>)> = BTreeMap::new();
    for &i in selected {
        let inst = &graph.instances[i];
        let e = counts
            .entry(rank(inst.stage, &inst.stage_name))
            .or_insert_with(|| (0, BTreeSet::new()));
        e.0 += 1;
        for &u in &graph.upstream[i] {
            let up = &graph.instances[u];
            if up.stage != inst.stage {
                e.1.insert(rank(up.stage, &up.stage_name));
            }
        }
    }
    counts
        .into_iter()
        .map(|((_, stage), (instances, ups))| StageNode {
            stage,
            instances,
            upstream: ups.into_iter().map(|(_, name)| name).collect(),
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
        let lines = table(&[counts("prep", 2, 0, 0), counts("train_long", 1, 3600, 3)]);
        assert_eq!(
            lines,
            [
                "stage       instances  fresh   run  restore  running  failed",
                "prep                2      2     0        0        0       0",
                "train_long       3604      1  3600        0        0       3",
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
