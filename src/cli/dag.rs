//! `repro dag`: the graph as text (each instance with its upstream) or Graphviz (`--dot`).

use super::args::DagArgs;
use super::load::Loaded;
use super::{Cli, CliError};

#[allow(clippy::print_stdout)]
pub(crate) fn dag(cli: &Cli, a: &DagArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let targets = loaded.targets(&a.targets)?;
    let selected = loaded.graph.closure(&targets);
    let g = &loaded.graph;
    if a.dot {
        println!("digraph repro {{\n  rankdir=LR;\n  node [shape=box, fontsize=10];");
        for &i in &selected {
            println!("  \"{}\";", g.instances[i].id);
            for &u in &g.upstream[i] {
                println!("  \"{}\" -> \"{}\";", g.instances[u].id, g.instances[i].id);
            }
        }
        println!("}}");
    } else {
        for &i in &selected {
            let ups: Vec<&str> = g.upstream[i]
                .iter()
                .map(|&u| g.instances[u].id.as_str())
                .collect();
            if ups.is_empty() {
                println!("{}", g.instances[i].id);
            } else {
                println!("{} <- {}", g.instances[i].id, ups.join(", "));
            }
        }
        let stages: std::collections::BTreeSet<&str> = selected
            .iter()
            .map(|&i| g.instances[i].stage_name.as_str())
            .collect();
        println!("{} instances, {} stages", selected.len(), stages.len());
    }
    Ok(())
}
