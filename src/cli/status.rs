//! `repro status`: every stale instance with its reasons; `--check` exits 1 when any is stale.

use crate::cache::State;
use crate::sched::plan;

use super::args::StatusArgs;
use super::workspace::Workspace;
use super::{Cli, CliError};

#[derive(serde::Serialize)]
struct Row<'a> {
    instance: &'a str,
    state: &'static str,
    key: Option<String>,
    reasons: Vec<crate::cache::Dirty>,
}

pub(crate) fn status(cli: &Cli, a: &StatusArgs) -> Result<(), CliError> {
    let ws = Workspace::load(cli)?;
    let targets = ws.targets(&a.targets)?;
    let selected = ws.graph.closure(&targets);
    let checker = ws.checker()?;
    let forced = vec![false; ws.graph.instances.len()];
    let states = plan(&ws.graph, &selected, &checker, &forced)?;
    let _ = checker
        .stat
        .save(&crate::cache::Checker::stat_cache_path(&checker.root));
    let mut rows = Vec::new();
    for (i, s) in &states {
        let (key, reasons) = match s {
            State::Fresh { key, .. } => (Some(key.clone()), vec![]),
            State::Restore { key, reasons, .. } => (Some(key.clone()), reasons.clone()),
            State::Run { inputs, reasons } => (inputs.as_ref().map(|i| i.key()), reasons.clone()),
        };
        rows.push(Row {
            instance: &ws.graph.instances[*i].id,
            state: s.label(),
            key,
            reasons,
        });
    }
    let stale = rows.iter().filter(|r| r.state != "fresh").count();
    #[allow(clippy::print_stdout)]
    if a.json {
        let doc = serde_json::json!({
            "profile": checker.profile,
            "total": rows.len(),
            "stale": stale,
            "instances": rows,
        });
        println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
    } else {
        for r in rows.iter().filter(|r| r.state != "fresh") {
            let why: Vec<String> = r.reasons.iter().map(|d| d.to_string()).collect();
            println!("{:<8} {}: {}", r.state, r.instance, why.join("; "));
        }
        if stale == 0 {
            println!(
                "all {} instances up to date (profile `{}`)",
                rows.len(),
                checker.profile
            );
        } else {
            println!(
                "{stale} of {} instances stale (profile `{}`)",
                rows.len(),
                checker.profile
            );
        }
    }
    if a.check && stale > 0 {
        return Err(CliError::Failed(format!("{stale} instance(s) stale")));
    }
    Ok(())
}
