//! How long instances are expected to run, from how long they and their neighbours ran before:
//! the basis of the live view's time left and of `repro run --dry-run`'s totals.
//!
//! An instance's own last run (the action record its lock entry names) is its estimate. One
//! that never ran takes its stage's typical duration scaled by what each of its matrix values
//! did elsewhere in the stage: with durations `d`, the estimate is
//! `mean(d) * prod over dims of (mean(d | dim = value) / mean(d))`, the values' effects taken
//! as independent factors (a ListOps run is slow whatever its seed). A stage with no recorded
//! run has no estimate.
//!
//! At most [`MAX_RECORDS`] records are read (evenly spread over the selection), so that a run
//! of a very large pipeline does not wait on reading its whole history; the others are
//! estimated like instances that never ran.
//!
//! A packing stage's members share one process: each member's recorded duration is the pack's
//! wall time, so a member's share of the work is that time over the pack's size.

use std::collections::HashMap;

use crate::cache::ActionRecord;
use crate::graph::Graph;
use crate::workspace::Workspace;

/// The most action records read for one estimate.
pub(crate) const MAX_RECORDS: usize = 5_000;

/// Expected seconds of work for each of `selected` that has an estimate, by instance id.
pub(crate) fn expected(
    graph: &Graph,
    ws: &Workspace<'_>,
    selected: &[usize],
    pack: bool,
) -> HashMap<String, f64> {
    let step = selected.len().div_ceil(MAX_RECORDS).max(1);
    let known: Vec<(usize, f64)> = selected
        .iter()
        .step_by(step)
        .filter_map(|&i| recorded(ws, &graph.instances[i].id).map(|s| (i, s)))
        .collect();
    let estimator = Estimator::new(graph, &known);
    let sizes = pack_sizes(graph, selected);
    selected
        .iter()
        .filter_map(|&i| {
            let inst = &graph.instances[i];
            let seconds = estimator.estimate(graph, i)?;
            let share = match (&inst.pack, pack) {
                (Some(p), true) => {
                    let members = sizes.get(p.group.as_str()).copied().unwrap_or(1);
                    members.min(p.max).max(1) as f64
                }
                _ => 1.0,
            };
            Some((inst.id.clone(), seconds / share))
        })
        .collect()
}

/// The wall time of the run that produced `id`'s lock entry, if its record is readable.
fn recorded(ws: &Workspace<'_>, id: &str) -> Option<f64> {
    let entry = ws.lock_entry(id)?;
    let record = ActionRecord::read(&ws.store().action_path(&entry.key)).ok()??;
    record.duration_s.is_finite().then_some(record.duration_s)
}

/// Selected instances per pack group.
fn pack_sizes<'g>(graph: &'g Graph, selected: &[usize]) -> HashMap<&'g str, usize> {
    let mut sizes = HashMap::new();
    for &i in selected {
        if let Some(p) = &graph.instances[i].pack {
            *sizes.entry(p.group.as_str()).or_insert(0) += 1;
        }
    }
    sizes
}

/// Sum and count of durations.
#[derive(Debug, Clone, Copy, Default)]
struct Mean {
    sum: f64,
    n: usize,
}

impl Mean {
    fn add(&mut self, x: f64) {
        self.sum += x;
        self.n += 1;
    }

    fn get(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }
}

/// Estimates from known durations (see the module doc).
#[derive(Debug, Default)]
pub(crate) struct Estimator {
    /// An instance's own last duration.
    own: HashMap<usize, f64>,
    /// Durations per stage.
    stage: HashMap<usize, Mean>,
    /// Durations per (stage, dimension, value).
    value: HashMap<(usize, String, String), Mean>,
}

impl Estimator {
    /// An estimator from `(instance, seconds)` pairs.
    pub(crate) fn new(graph: &Graph, known: &[(usize, f64)]) -> Estimator {
        let mut e = Estimator::default();
        for &(i, s) in known {
            let inst = &graph.instances[i];
            e.own.insert(i, s);
            e.stage.entry(inst.stage).or_default().add(s);
            for (dim, value) in &inst.matrix {
                e.value
                    .entry((inst.stage, dim.to_owned(), value.to_owned()))
                    .or_default()
                    .add(s);
            }
        }
        e
    }

    /// Instance `i`'s expected seconds, if anything of its stage ran before.
    pub(crate) fn estimate(&self, graph: &Graph, i: usize) -> Option<f64> {
        if let Some(&s) = self.own.get(&i) {
            return Some(s);
        }
        let inst = &graph.instances[i];
        let base = self.stage.get(&inst.stage)?.get()?;
        if base <= 0.0 {
            return Some(0.0);
        }
        let factor: f64 = inst
            .matrix
            .iter()
            .filter_map(|(dim, value)| {
                self.value
                    .get(&(inst.stage, dim.to_owned(), value.to_owned()))
                    .and_then(Mean::get)
            })
            .map(|m| m / base)
            .product();
        Some(base * factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph() -> Graph {
        let yaml = r#"
version: 1
stages:
  train:
    cmd: "echo ${task} ${seed} > out/${task}-${seed}"
    shell: true
    matrix: {task: [fast, slow], seed: [a, b, c]}
    outs: ["out/${task}-${seed}"]
"#;
        let p = crate::spec::parse(std::path::Path::new("p.yaml"), yaml, None).unwrap();
        crate::graph::build(&p).unwrap()
    }

    fn index(g: &Graph, id: &str) -> usize {
        g.instances.iter().position(|i| i.id == id).unwrap()
    }

    #[test]
    fn an_instance_that_ran_takes_its_own_duration() {
        let g = graph();
        let a = index(&g, "train@seed=a,task=fast");
        let e = Estimator::new(&g, &[(a, 7.0)]);
        assert_eq!(e.estimate(&g, a), Some(7.0));
    }

    #[test]
    fn one_that_never_ran_scales_the_stage_by_its_values() {
        let g = graph();
        let known = [
            (index(&g, "train@seed=a,task=fast"), 1.0),
            (index(&g, "train@seed=b,task=fast"), 1.0),
            (index(&g, "train@seed=a,task=slow"), 10.0),
        ];
        let e = Estimator::new(&g, &known);
        // stage mean 4; task=slow mean 10 (x2.5); seed=b mean 1 (x0.25): 4 * 2.5 * 0.25.
        let est = e.estimate(&g, index(&g, "train@seed=b,task=slow")).unwrap();
        assert!((est - 2.5).abs() < 1e-9, "{est}");
        // A seed never seen leaves only the task's factor: 4 * 0.25 for a fast one.
        let est = e.estimate(&g, index(&g, "train@seed=c,task=fast")).unwrap();
        assert!((est - 1.0).abs() < 1e-9, "{est}");
    }

    #[test]
    fn a_stage_without_history_has_no_estimate() {
        let g = graph();
        let e = Estimator::new(&g, &[]);
        assert_eq!(e.estimate(&g, 0), None);
    }
}
