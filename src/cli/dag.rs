//! `repro dag`: the graph as text (each instance with its upstream), Graphviz (`--dot`) or JSON
//! (`--json`, one [`DagDoc`], documented in docs/cli.md). With `--stages`, one node per
//! stage with its instance count and the edges between stages (`overview::stage_graph`), so
//! that a grid of thousands of instances stays readable.
//!
//! `dag` reads only the pipeline, never the workspace: it says nothing about what is fresh
//! (planning would hash inputs whose stat cache is cold); `repro status` counts fresh and stale
//! instances per stage.

use super::args::DagArgs;
use super::load::Loaded;
use super::overview::{stage_graph, StageNode};
use super::page::{outln, Page};
use super::{Cli, CliError};

/// `repro dag --json`: the stages always; the instances unless `--stages`.
#[derive(serde::Serialize)]
struct DagDoc {
    stages: Vec<StageNode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instances: Option<Vec<InstanceNode>>,
}

/// One instance and the instances it reads from.
#[derive(serde::Serialize)]
struct InstanceNode {
    id: String,
    stage: String,
    upstream: Vec<String>,
}

pub(crate) fn dag(cli: &Cli, a: &DagArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let targets = loaded.targets(&a.targets)?;
    let selected = loaded.graph.closure(&targets);
    let g = &loaded.graph;
    let stages = stage_graph(g, &selected);
    let mut page = Page::default();
    if a.json {
        let instances = (!a.stages).then(|| {
            selected
                .iter()
                .map(|&i| InstanceNode {
                    id: g.instances[i].id.clone(),
                    stage: g.instances[i].stage_name.clone(),
                    upstream: g.upstream[i]
                        .iter()
                        .map(|&u| g.instances[u].id.clone())
                        .collect(),
                })
                .collect()
        });
        page.json(&DagDoc { stages, instances })?;
        return page.print();
    }
    if a.dot {
        outln!(
            page,
            "digraph repro {{\n  rankdir=LR;\n  node [shape=box, fontsize=10];"
        );
        if a.stages {
            for s in &stages {
                outln!(
                    page,
                    "  \"{}\" [label=\"{}\\n{} {}\"];",
                    s.stage,
                    s.stage,
                    s.instances,
                    plural(s.instances)
                );
                for u in &s.upstream {
                    outln!(page, "  \"{u}\" -> \"{}\";", s.stage);
                }
            }
        } else {
            for &i in &selected {
                outln!(page, "  \"{}\";", g.instances[i].id);
                for &u in &g.upstream[i] {
                    outln!(
                        page,
                        "  \"{}\" -> \"{}\";",
                        g.instances[u].id,
                        g.instances[i].id
                    );
                }
            }
        }
        outln!(page, "}}");
        return page.print();
    }
    if a.stages {
        for s in &stages {
            let head = format!("{} ({} {})", s.stage, s.instances, plural(s.instances));
            if s.upstream.is_empty() {
                outln!(page, "{head}");
            } else {
                outln!(page, "{head} <- {}", s.upstream.join(", "));
            }
        }
    } else {
        for &i in &selected {
            let ups: Vec<&str> = g.upstream[i]
                .iter()
                .map(|&u| g.instances[u].id.as_str())
                .collect();
            if ups.is_empty() {
                outln!(page, "{}", g.instances[i].id);
            } else {
                outln!(page, "{} <- {}", g.instances[i].id, ups.join(", "));
            }
        }
    }
    outln!(
        page,
        "{} instances, {} stages",
        selected.len(),
        stages.len()
    );
    page.print()
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        "instance"
    } else {
        "instances"
    }
}
