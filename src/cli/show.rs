//! `repro show INSTANCE`: its state and key, what enters the key, its outputs and the record
//! of its last run.

use crate::workspace::State;

use super::args::OneArgs;
use super::load::Loaded;
use super::page::{outln, Page};
use super::{Cli, CliError};

pub(crate) fn show(cli: &Cli, a: &OneArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let i = loaded.one(&a.instance)?;
    let ws = loaded.workspace()?;
    let selected = loaded.graph.closure(&[i]);
    let forced = vec![false; loaded.graph.instances.len()];
    let states = ws.plan(&loaded.graph, &selected, &forced)?;
    super::load::show_notes(&ws);
    let state = &states
        .iter()
        .find(|(j, _)| *j == i)
        .expect("instance planned")
        .1;
    let inst = &loaded.graph.instances[i];
    let mut page = Page::default();
    outln!(page, "instance  {}", inst.id);
    outln!(page, "state     {}", state.label());
    if let State::Run { reasons, .. } | State::Restore { reasons, .. } = state {
        for r in reasons {
            outln!(page, "  why     {r}");
        }
    }
    outln!(page, "argv      {}", inst.argv.join(" "));
    let inputs = match state {
        State::Run { inputs, .. } => inputs.as_deref().cloned(),
        _ => Some(ws.inputs(inst)?),
    };
    if let Some(inputs) = inputs {
        outln!(page, "key       {}", inputs.key());
        for (k, v) in &inputs.params {
            outln!(page, "  param   {k} = {v}");
        }
        for (k, v) in &inputs.env {
            outln!(page, "  env     {k} = {v}");
        }
        for (k, v) in &inputs.deps {
            outln!(page, "  dep     {k} {v}");
        }
        for (k, v) in &inputs.code {
            outln!(page, "  code    {k} {v}");
        }
        if let Some(r) = ws.record(&inputs.key()) {
            outln!(
                page,
                "record    ran in {:.2}s on {} ({}), log {}",
                r.duration_s,
                r.host,
                r.device,
                r.log
            );
            if let Some(slot) = &r.slot {
                outln!(page, "  slot    {slot}");
            }
            match &r.checkout {
                Some(c) => outln!(page, "  commit  {c}"),
                None => outln!(page, "  commit  not recorded"),
            }
            for (p, d) in &r.outputs {
                outln!(page, "  out     {p} {d}");
            }
        }
    }
    if let Some(e) = ws.lock_entry(&inst.id) {
        outln!(page, "lock      {}", e.key);
    }
    let ups: Vec<&str> = loaded.graph.upstream[i]
        .iter()
        .map(|&u| loaded.graph.instances[u].id.as_str())
        .collect();
    outln!(
        page,
        "upstream  {}",
        if ups.is_empty() {
            "(none)".to_owned()
        } else {
            ups.join(", ")
        }
    );
    page.print()
}
