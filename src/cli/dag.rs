//! `repro dag`: the graph as text (each instance with its upstream) or Graphviz (`--dot`).

use super::args::DagArgs;
use super::load::Loaded;
use super::page::{outln, Page};
use super::{Cli, CliError};

pub(crate) fn dag(cli: &Cli, a: &DagArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let targets = loaded.targets(&a.targets)?;
    let selected = loaded.graph.closure(&targets);
    let g = &loaded.graph;
    let mut page = Page::default();
    if a.dot {
        outln!(
            page,
            "digraph repro {{\n  rankdir=LR;\n  node [shape=box, fontsize=10];"
        );
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
        outln!(page, "}}");
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
        let stages: std::collections::BTreeSet<&str> = selected
            .iter()
            .map(|&i| g.instances[i].stage_name.as_str())
            .collect();
        outln!(
            page,
            "{} instances, {} stages",
            selected.len(),
            stages.len()
        );
    }
    page.print()
}
