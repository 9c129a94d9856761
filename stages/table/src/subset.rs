//! What the report is built from, read from the data rather than assumed: which tasks,
//! activations, variants, seeds and epochs the stats summaries cover, and which runs were
//! probed. Rendered as Markdown bullet lines at the top of `table.md` and `claims.md`.

use std::collections::BTreeSet;

use common::{Task, Variant, PAPER_SEEDS};
use stats::schema::{activation_order, variant_order};

use crate::input::Inputs;

/// Bullet lines (without the leading `- `) describing the data behind the report.
pub fn describe_subset(inputs: &Inputs) -> Vec<String> {
    let mut lines = Vec::new();
    let run: Vec<Task> = inputs.stats.keys().copied().collect();
    let not_run: Vec<Task> = Task::ALL.into_iter().filter(|t| !run.contains(t)).collect();
    lines.push(format!(
        "Tasks with runs: {} ({} of 8); not run: {}.",
        list(run.iter().map(|t| format!("`{t}`"))),
        run.len(),
        list(not_run.iter().map(|t| format!("`{t}`")))
    ));
    for (task, (path, file)) in &inputs.stats {
        let mut activations: Vec<_> = file.groups.iter().map(|g| g.activation).collect();
        activations.sort_by_key(activation_order);
        activations.dedup();
        let mut variants: Vec<Variant> = file.groups.iter().map(|g| g.variant).collect();
        variants.sort_by_key(variant_order);
        variants.dedup();
        let seeds: BTreeSet<u64> = file
            .groups
            .iter()
            .flat_map(|g| g.seeds.iter().copied())
            .collect();
        let epochs: BTreeSet<usize> = file
            .groups
            .iter()
            .flat_map(|g| g.epochs.iter().copied())
            .collect();
        let runs: usize = file.groups.iter().map(|g| g.seeds_run).sum();
        let converged: usize = file.groups.iter().map(|g| g.seeds_converged).sum();
        let diverged: usize = file.groups.iter().map(|g| g.diverged).sum();
        let paper_seeds = seeds.iter().filter(|s| PAPER_SEEDS.contains(s)).count();
        let seeds_text = if seeds.len() <= 10 {
            list(seeds.iter().map(u64::to_string))
        } else {
            format!("{} seeds", seeds.len())
        };
        let paper_epochs = task.settings().epochs;
        let epochs_text = list(epochs.iter().map(usize::to_string));
        let epochs_note = if epochs.len() == 1 && epochs.contains(&paper_epochs) {
            "as the paper".to_owned()
        } else {
            format!("paper: {paper_epochs}")
        };
        lines.push(format!(
            "`{task}`: activations {}; variants {} ({} of the paper's 15); seeds {} ({} of them from the paper's 10); \
             epochs {epochs_text} ({epochs_note}); {runs} runs, {converged} converged, {diverged} diverged; \
             summary `{}`.",
            list(activations.iter().map(|a| a.to_string())),
            list(variants.iter().map(|v| v.to_string())),
            variants.iter().filter(|v| Variant::paper_grid().contains(v)).count(),
            seeds_text,
            paper_seeds,
            path.file_name().and_then(|n| n.to_str()).unwrap_or_default(),
        ));
    }
    if inputs.probes.is_empty() {
        lines.push("Probes: none.".to_owned());
    } else {
        let probes = inputs
            .probes
            .iter()
            .map(|(_, p)| format!("`{}` {} seed {}", p.task, p.variant, p.seed));
        lines.push(format!(
            "Probes ({}): {}.",
            inputs.probes.len(),
            list(probes)
        ));
    }
    lines
}

/// Comma-separated list, or `none`.
pub fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}
