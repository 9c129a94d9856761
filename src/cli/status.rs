//! `repro status`: every stale instance with its reasons; `--check` exits 1 when any is stale.

use crate::workspace::{Dirty, State};

use super::args::StatusArgs;
use super::load::Loaded;
use super::page::{outln, Page};
use super::{Cli, CliError};

#[derive(serde::Serialize)]
struct Row<'a> {
    instance: &'a str,
    state: &'static str,
    key: Option<String>,
    reasons: Vec<Dirty>,
}

pub(crate) fn status(cli: &Cli, a: &StatusArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let targets = loaded.targets(&a.targets)?;
    let selected = loaded.graph.closure(&targets);
    let ws = loaded.workspace()?;
    let forced = vec![false; loaded.graph.instances.len()];
    let states = ws.plan(&loaded.graph, &selected, &forced)?;
    let _ = ws.save_stat_cache();
    super::load::show_notes(&ws);
    let mut rows = Vec::new();
    for (i, s) in &states {
        let (key, reasons) = match s {
            State::Fresh { entry } => (Some(entry.key.clone()), vec![]),
            State::Restore { key, reasons, .. } => (Some(key.clone()), reasons.clone()),
            State::Run { inputs, reasons } => (inputs.as_ref().map(|i| i.key()), reasons.clone()),
        };
        rows.push(Row {
            instance: &loaded.graph.instances[*i].id,
            state: s.label(),
            key,
            reasons,
        });
    }
    let mut page = Page::default();
    let stale = rows.iter().filter(|r| r.state != "fresh").count();
    if a.json {
        let doc = serde_json::json!({
            "profile": ws.profile(),
            "total": rows.len(),
            "stale": stale,
            "instances": rows,
        });
        outln!(
            page,
            "{}",
            serde_json::to_string_pretty(&doc).expect("json")
        );
    } else {
        for r in rows.iter().filter(|r| r.state != "fresh") {
            let why: Vec<String> = r.reasons.iter().map(|d| d.to_string()).collect();
            outln!(page, "{:<8} {}: {}", r.state, r.instance, why.join("; "));
        }
        if stale == 0 {
            outln!(
                page,
                "all {} instances up to date (profile `{}`)",
                rows.len(),
                ws.profile()
            );
        } else {
            outln!(
                page,
                "{stale} of {} instances stale (profile `{}`)",
                rows.len(),
                ws.profile()
            );
        }
    }
    page.print()?;
    if a.check && stale > 0 {
        return Err(CliError::Failed(format!("{stale} instance(s) stale")));
    }
    Ok(())
}
