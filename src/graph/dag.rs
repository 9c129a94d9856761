//! The dependency graph over instances.
//!
//! Edges are inferred, never declared: instance B depends on instance A when one of B's deps
//! equals one of A's outputs, lies inside an output directory of A, is a directory that
//! contains an output of A, or is a glob that matches any of these. Validation here rejects
//! an output declared twice (or nested inside another output, by path components), a `code:`
//! glob that points into an output, a dep that neither exists on disk nor is produced, and
//! cycles (the cycle is printed).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashSet};
use std::path::Path;

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::spec::rules::{self, shown};
use crate::spec::{Pipeline, SpecError, SpecErrorKind};

use super::instance::{is_glob, normalise, Instance};

/// Instances with their edges, in a topological order.
#[derive(Debug)]
pub struct Graph {
    /// All instances; indices are stable for the life of the graph.
    pub instances: Vec<Instance>,
    /// For each instance, the instances it depends on (sorted, deduplicated).
    pub upstream: Vec<Vec<usize>>,
    /// For each instance, the instances that depend on it.
    pub downstream: Vec<Vec<usize>>,
    /// A topological order (upstream first) that keeps the instances' own order (stages by
    /// name, then matrix order) wherever the edges allow: of the instances whose upstream is
    /// placed, the lowest index comes next. `repro status` lists instances in this order; the
    /// scheduler likewise starts, of the instances waiting for slots, the lowest index.
    pub order: Vec<usize>,
    by_id: BTreeMap<String, usize>,
}

impl Graph {
    /// Builds and validates the graph of `instances` (from `expand`) in `pipeline`.
    pub fn build(pipeline: &Pipeline, instances: Vec<Instance>) -> Result<Graph, SpecError> {
        let err = |_inst: &Instance, field: String, kind: SpecErrorKind| {
            SpecError::new(&pipeline.file, pipeline.positions.get(&field), field, kind)
        };
        // Outputs: unique, not nested inside one another.
        let mut outs: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, inst) in instances.iter().enumerate() {
            for (j, out) in inst.outs.iter().enumerate() {
                if let Some(&other) = outs.get(out.as_str()) {
                    let other = &instances[other];
                    return Err(err(
                        inst,
                        format!("stages.{}.outs[{j}]", inst.stage_name),
                        SpecErrorKind::DuplicateOutput {
                            path: out.clone(),
                            instance: inst.id.clone(),
                            other: other.id.clone(),
                            unused_dims: unused_dims(pipeline, inst, other, j),
                        },
                    ));
                }
                outs.insert(out, i);
            }
        }
        // Nesting is a matter of path components: `a/c` lies inside `a`, `a-b` does not, and
        // sorted order can put `a-b` between them, so each output's ancestors are looked up.
        for inst in &instances {
            for (j, out) in inst.outs.iter().enumerate() {
                if let Some((outer, pi)) = enclosing_output(out, &outs) {
                    return Err(err(
                        inst,
                        format!("stages.{}.outs[{j}]", inst.stage_name),
                        SpecErrorKind::NestedOutput {
                            path: out.clone(),
                            instance: inst.id.clone(),
                            outer: outer.to_owned(),
                            other: instances[pi].id.clone(),
                        },
                    ));
                }
            }
        }
        check_code_globs(pipeline, &instances, &outs)?;

        let mut upstream: Vec<Vec<usize>> = vec![Vec::new(); instances.len()];
        for (i, inst) in instances.iter().enumerate() {
            for (j, dep) in inst.deps.iter().enumerate() {
                let producers = producers_of(dep, &outs);
                if producers.contains(&i) {
                    let out = inst
                        .outs
                        .iter()
                        .find(|o| !producers_of(dep, &BTreeMap::from([(o.as_str(), i)])).is_empty())
                        .or_else(|| inst.outs.first())
                        .cloned()
                        .unwrap_or_default();
                    return Err(err(
                        inst,
                        format!("stages.{}.deps[{j}]", inst.stage_name),
                        SpecErrorKind::OwnDep {
                            instance: inst.id.clone(),
                            dep: dep.clone(),
                            out,
                        },
                    ));
                }
                if producers.is_empty() && !exists(&pipeline.root, dep) {
                    return Err(err(
                        inst,
                        format!("stages.{}.deps[{j}]", inst.stage_name),
                        SpecErrorKind::MissingDep {
                            path: dep.clone(),
                            instance: inst.id.clone(),
                        },
                    ));
                }
                upstream[i].extend(producers);
            }
            upstream[i].sort_unstable();
            upstream[i].dedup();
        }

        let mut g: DiGraph<usize, ()> = DiGraph::with_capacity(instances.len(), 0);
        let nodes: Vec<NodeIndex> = (0..instances.len()).map(|i| g.add_node(i)).collect();
        for (i, ups) in upstream.iter().enumerate() {
            for &u in ups {
                g.add_edge(nodes[u], nodes[i], ());
            }
        }
        let order = match toposort(&g, None) {
            Ok(_) => declaration_order(&upstream),
            Err(cycle) => {
                let start = g[cycle.node_id()];
                let text = describe_cycle(&g, start, &instances);
                let inst = &instances[start];
                return Err(err(
                    inst,
                    format!("stages.{}.deps", inst.stage_name),
                    SpecErrorKind::Cycle(text),
                ));
            }
        };
        let mut downstream = vec![Vec::new(); instances.len()];
        for (i, ups) in upstream.iter().enumerate() {
            for &u in ups {
                downstream[u].push(i);
            }
        }
        let by_id = instances
            .iter()
            .enumerate()
            .map(|(i, inst)| (inst.id.clone(), i))
            .collect();
        Ok(Graph {
            instances,
            upstream,
            downstream,
            order,
            by_id,
        })
    }

    /// The index of the instance with this exact id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// `roots` and everything they depend on, transitively, in topological order.
    pub fn closure(&self, roots: &[usize]) -> Vec<usize> {
        let mut keep = vec![false; self.instances.len()];
        let mut stack: Vec<usize> = roots.to_vec();
        while let Some(i) = stack.pop() {
            if !keep[i] {
                keep[i] = true;
                stack.extend(&self.upstream[i]);
            }
        }
        self.order.iter().copied().filter(|&i| keep[i]).collect()
    }
}

/// For two instances of one stage that declare the same `j`-th output: the dimensions in which
/// they differ and which that output's template does not reference (`${dim}`), the likely
/// omission. Empty for instances of different stages.
fn unused_dims(pipeline: &Pipeline, a: &Instance, b: &Instance, j: usize) -> Vec<String> {
    if a.stage_name != b.stage_name {
        return Vec::new();
    }
    let template = pipeline
        .stages
        .iter()
        .find(|s| s.name == a.stage_name)
        .and_then(|s| s.outs.get(j))
        .map_or("", String::as_str);
    a.matrix
        .iter()
        .filter(|(d, v)| b.matrix.get(d) != Some(*v))
        .map(|(d, _)| d.to_owned())
        .filter(|d| !template.contains(&format!("${{{d}}}")))
        .collect()
}

/// The shortest output that strictly contains `path` (compared by components), if any.
fn enclosing_output<'o>(path: &str, outs: &BTreeMap<&'o str, usize>) -> Option<(&'o str, usize)> {
    path.match_indices('/')
        .find_map(|(slash, _)| outs.get_key_value(&path[..slash]))
        .map(|(&o, &i)| (o, i))
}

/// Refuses a `code:` glob whose literal leading part is, or lies inside, a declared output:
/// everything it matches is produced by the pipeline, never code. (Globs that merely may
/// match outputs, such as `**`, are the code digest's to skip.)
fn check_code_globs(
    pipeline: &Pipeline,
    instances: &[Instance],
    outs: &BTreeMap<&str, usize>,
) -> Result<(), SpecError> {
    for stage in &pipeline.stages {
        for (i, entry) in stage.code.iter().enumerate() {
            if rules::could_be_package(entry) {
                continue;
            }
            let Some(norm) = normalise(entry) else {
                continue;
            };
            let literal = rules::literal_prefix(&norm);
            if literal.is_empty() {
                continue;
            }
            let hit = outs
                .get_key_value(literal.as_str())
                .map(|(&o, &k)| (o, k))
                .or_else(|| enclosing_output(&literal, outs));
            if let Some((out, k)) = hit {
                let field = format!("stages.{}.code[{i}]", stage.name);
                return Err(SpecError::new(
                    &pipeline.file,
                    pipeline.positions.get(&field),
                    field,
                    SpecErrorKind::Code(format!(
                        "code glob `{}` points into output `{out}` of `{}`, which is produced by the pipeline, not code",
                        shown(entry),
                        instances[k].id
                    )),
                ));
            }
        }
    }
    Ok(())
}

fn exists(root: &Path, dep: &str) -> bool {
    if is_glob(dep) {
        let pattern = root.join(dep);
        return glob::glob(&pattern.to_string_lossy()).is_ok_and(|mut g| g.next().is_some());
    }
    root.join(dep).exists()
}

/// Instances whose outputs a dep refers to.
fn producers_of(dep: &str, outs: &BTreeMap<&str, usize>) -> Vec<usize> {
    if is_glob(dep) {
        let Ok(pattern) = glob::Pattern::new(dep) else {
            return Vec::new();
        };
        let opts = glob::MatchOptions {
            require_literal_separator: true,
            ..Default::default()
        };
        // As for plain paths, a glob reaches an output when it matches the output, a path
        // inside an output directory (its leading components match the output), or a
        // directory holding the output (it matches a leading part of the output's path).
        // Limit: a glob that starts with `**` reaches only outputs it matches itself.
        let parts: Vec<&str> = dep.split('/').collect();
        let inside: Vec<Option<glob::Pattern>> = (1..parts.len())
            .map(|m| glob::Pattern::new(&parts[..m].join("/")).ok())
            .collect();
        return outs
            .iter()
            .filter(|(o, _)| {
                let comps: Vec<&str> = o.split('/').collect();
                (1..=comps.len()).any(|m| pattern.matches_with(&comps[..m].join("/"), opts))
                    || inside
                        .get(comps.len() - 1)
                        .is_some_and(|p| p.as_ref().is_some_and(|p| p.matches_with(o, opts)))
            })
            .map(|(_, &i)| i)
            .collect();
    }
    let mut found = Vec::new();
    if let Some(&i) = outs.get(dep) {
        found.push(i);
    }
    // The dep lies inside an output directory.
    let mut p = dep;
    while let Some(slash) = p.rfind('/') {
        p = &p[..slash];
        if let Some(&i) = outs.get(p) {
            found.push(i);
        }
    }
    // The dep is a directory holding outputs.
    let prefix = format!("{dep}/");
    found.extend(
        outs.range(prefix.as_str()..)
            .take_while(|(o, _)| o.starts_with(&prefix))
            .map(|(_, &i)| i),
    );
    found
}

fn describe_cycle(g: &DiGraph<usize, ()>, start: usize, instances: &[Instance]) -> String {
    let sccs = tarjan_scc(g);
    let scc = sccs
        .iter()
        .find(|c| c.iter().any(|n| g[*n] == start) && (c.len() > 1 || g.contains_edge(c[0], c[0])));
    let Some(scc) = scc else {
        return instances[start].id.clone();
    };
    let members: HashSet<NodeIndex> = scc.iter().copied().collect();
    let first = scc[0];
    let mut path = vec![first];
    let mut cur = first;
    loop {
        let next = g
            .neighbors(cur)
            .find(|n| members.contains(n) && (*n == first || !path.contains(n)));
        match next {
            Some(n) if n == first => break,
            Some(n) => {
                path.push(n);
                cur = n;
            }
            None => break,
        }
    }
    path.push(first);
    path.iter()
        .map(|n| format!("`{}`", instances[g[*n]].id))
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// The topological order of an acyclic graph given by `upstream` in which, among the
/// instances whose upstream instances are all placed, the lowest index comes first.
fn declaration_order(upstream: &[Vec<usize>]) -> Vec<usize> {
    let n = upstream.len();
    let mut waiting: Vec<usize> = upstream.iter().map(Vec::len).collect();
    let mut downstream = vec![Vec::new(); n];
    for (i, ups) in upstream.iter().enumerate() {
        for &u in ups {
            downstream[u].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| waiting[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for &d in &downstream[i] {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.push(Reverse(d));
            }
        }
    }
    order
}
