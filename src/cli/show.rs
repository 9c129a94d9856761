//! `repro show INSTANCE`: its state and key, what enters the key, its outputs and the record
//! of its last run.

use crate::cache::State;
use crate::sched::plan;

use super::args::OneArgs;
use super::workspace::Workspace;
use super::{Cli, CliError};

#[allow(clippy::print_stdout)]
pub(crate) fn show(cli: &Cli, a: &OneArgs) -> Result<(), CliError> {
    let ws = Workspace::load(cli)?;
    let i = ws.one(&a.instance)?;
    let checker = ws.checker()?;
    let selected = ws.graph.closure(&[i]);
    let forced = vec![false; ws.graph.instances.len()];
    let states = plan(&ws.graph, &selected, &checker, &forced)?;
    let state = &states
        .iter()
        .find(|(j, _)| *j == i)
        .expect("instance planned")
        .1;
    let inst = &ws.graph.instances[i];
    println!("instance  {}", inst.id);
    println!("state     {}", state.label());
    if let State::Run { reasons, .. } | State::Restore { reasons, .. } = state {
        for r in reasons {
            println!("  why     {r}");
        }
    }
    println!("argv      {}", inst.argv.join(" "));
    let inputs = match state {
        State::Run { inputs, .. } => inputs.as_deref().cloned(),
        _ => Some(checker.inputs(inst)?),
    };
    if let Some(inputs) = inputs {
        println!("key       {}", inputs.key());
        for (k, v) in &inputs.params {
            println!("  param   {k} = {v}");
        }
        for (k, v) in &inputs.env {
            println!("  env     {k} = {v}");
        }
        for (k, v) in &inputs.deps {
            println!("  dep     {k} {v}");
        }
        for (k, v) in &inputs.code {
            println!("  code    {k} {v}");
        }
        if let Some(r) = checker.record(&inputs.key()) {
            println!(
                "record    ran in {:.2}s on {} ({}), log {}",
                r.duration_s, r.host, r.device, r.log
            );
            for (p, d) in &r.outputs {
                println!("  out     {p} {d}");
            }
        }
    }
    if let Some(e) = checker
        .lock
        .entries
        .get(&(checker.profile.clone(), inst.id.clone()))
    {
        println!("lock      {}", e.key);
    }
    let ups: Vec<&str> = ws.graph.upstream[i]
        .iter()
        .map(|&u| ws.graph.instances[u].id.as_str())
        .collect();
    println!(
        "upstream  {}",
        if ups.is_empty() {
            "(none)".to_owned()
        } else {
            ups.join(", ")
        }
    );
    Ok(())
}
