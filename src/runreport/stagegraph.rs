//! The pipeline as a stage-level graph: one node per stage (never per instance, so a grid of
//! thousands of runs stays readable), labelled with its instance count and how many are fresh,
//! coloured green when every instance is fresh, amber when some are stale, red when none is
//! fresh; one arrow per pair of stages whose instances depend on each other.
//!
//! Layout: a stage's column is the length of the longest path to it from a stage without
//! upstream; stages of one column stack in name order. Arrows are straight, from the right edge
//! of one box to the left edge of the other; the arrowhead is an SVG marker defined in the
//! same SVG (`url(#arrow)`, a reference inside the page).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::graph::Graph;

use super::html::{esc, num};

/// One stage's box.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StageNode {
    /// The stage's name.
    pub(crate) name: String,
    /// Its instances in this profile.
    pub(crate) instances: usize,
    /// Of those, how many are up to date.
    pub(crate) fresh: usize,
}

/// The stage graph of `graph`, with `fresh[i]` saying whether instance `i` is up to date.
pub(crate) fn stage_graph(graph: &Graph, fresh: &[bool]) -> (Vec<StageNode>, Vec<(usize, usize)>) {
    let mut names: Vec<String> = graph
        .instances
        .iter()
        .map(|i| i.stage_name.clone())
        .collect();
    names.sort();
    names.dedup();
    let index = |name: &str| {
        names
            .binary_search_by(|n| n.as_str().cmp(name))
            .unwrap_or(0)
    };
    let mut nodes: Vec<StageNode> = names
        .iter()
        .map(|n| StageNode {
            name: n.clone(),
            instances: 0,
            fresh: 0,
        })
        .collect();
    let mut edges = BTreeSet::new();
    for (i, inst) in graph.instances.iter().enumerate() {
        let s = index(&inst.stage_name);
        nodes[s].instances += 1;
        if fresh.get(i).copied().unwrap_or(false) {
            nodes[s].fresh += 1;
        }
        for &u in &graph.upstream[i] {
            let from = index(&graph.instances[u].stage_name);
            if from != s {
                edges.insert((from, s));
            }
        }
    }
    (nodes, edges.into_iter().collect())
}

const BOX_W: f64 = 170.0;
const BOX_H: f64 = 46.0;
const GAP_X: f64 = 60.0;
const GAP_Y: f64 = 18.0;

/// Renders the graph as SVG.
pub(crate) fn render(out: &mut String, nodes: &[StageNode], edges: &[(usize, usize)]) {
    let column = columns(nodes.len(), edges);
    let mut row = vec![0usize; nodes.len()];
    let mut filled = vec![0usize; nodes.len() + 1];
    for (i, &c) in column.iter().enumerate() {
        row[i] = filled[c];
        filled[c] += 1;
    }
    let cols = column.iter().max().map_or(1, |m| m + 1);
    let rows = filled.iter().max().copied().unwrap_or(1).max(1);
    let w = cols as f64 * (BOX_W + GAP_X) - GAP_X + 20.0;
    let h = rows as f64 * (BOX_H + GAP_Y) - GAP_Y + 20.0;
    let pos = |i: usize| {
        (
            10.0 + column[i] as f64 * (BOX_W + GAP_X),
            10.0 + row[i] as f64 * (BOX_H + GAP_Y),
        )
    };
    let _ = write!(
        out,
        "<svg class=\"stages\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" height=\"{1}\" role=\"img\" aria-label=\"stage graph\" xmlns=\"http://www.w3.org/2000/svg\"><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>",
        num(w),
        num(h)
    );
    for &(a, b) in edges {
        let (ax, ay) = pos(a);
        let (bx, by) = pos(b);
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>",
            num(ax + BOX_W),
            num(ay + BOX_H / 2.0),
            num(bx),
            num(by + BOX_H / 2.0)
        );
    }
    for (i, n) in nodes.iter().enumerate() {
        let (x, y) = pos(i);
        let (fill, state) = if n.fresh == n.instances {
            ("#d7f0d7", "fresh")
        } else if n.fresh == 0 {
            ("#f6d2d2", "stale")
        } else {
            ("#fbe5c0", "partly stale")
        };
        let _ = write!(
            out,
            "<g class=\"stage\" data-stage=\"{name}\" data-state=\"{state}\"><title>{name}: {n_i} instance(s), {f} fresh, {s} stale</title><rect x=\"{x}\" y=\"{y}\" width=\"{bw}\" height=\"{bh}\" rx=\"6\" fill=\"{fill}\" stroke=\"#777\"/><text x=\"{tx}\" y=\"{ty1}\" text-anchor=\"middle\" class=\"name\">{name}</text><text x=\"{tx}\" y=\"{ty2}\" text-anchor=\"middle\">{n_i} × · {f} fresh</text></g>",
            name = esc(&n.name),
            n_i = n.instances,
            f = n.fresh,
            s = n.instances - n.fresh,
            x = num(x),
            y = num(y),
            bw = num(BOX_W),
            bh = num(BOX_H),
            tx = num(x + BOX_W / 2.0),
            ty1 = num(y + 19.0),
            ty2 = num(y + 37.0),
        );
    }
    out.push_str("</svg>");
}

/// Each node's column: the longest path to it (edges go from lower to higher column).
fn columns(n: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut col = vec![0usize; n];
    // The stage graph of a valid pipeline has no cycle; `n` rounds settle any acyclic graph,
    // and the bound keeps a malformed one from looping.
    for _ in 0..n {
        let mut changed = false;
        for &(a, b) in edges {
            if col[b] < col[a] + 1 && col[a] + 1 < n {
                col[b] = col[a] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    col
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, instances: usize, fresh: usize) -> StageNode {
        StageNode {
            name: name.into(),
            instances,
            fresh,
        }
    }

    #[test]
    fn columns_follow_the_longest_path() {
        // gen -> train -> stats -> table, gen -> probe -> table
        let edges = [(0, 1), (1, 2), (2, 4), (0, 3), (3, 4)];
        assert_eq!(columns(5, &edges), vec![0, 1, 2, 1, 3]);
    }

    #[test]
    fn each_stage_is_one_box_coloured_by_how_many_instances_are_fresh() {
        let nodes = [node("gen", 4, 4), node("train", 12, 3), node("table", 1, 0)];
        let mut out = String::new();
        render(&mut out, &nodes, &[(0, 1), (1, 2)]);
        assert_eq!(out.matches("<g class=\"stage\"").count(), 3);
        assert!(out.contains("data-stage=\"gen\" data-state=\"fresh\""));
        assert!(out.contains("data-stage=\"train\" data-state=\"partly stale\""));
        assert!(out.contains("data-stage=\"table\" data-state=\"stale\""));
        assert!(out.contains("12 × · 3 fresh"));
        assert_eq!(out.matches("marker-end=\"url(#arrow)\"").count(), 2);
    }
}
