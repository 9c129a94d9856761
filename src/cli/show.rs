//! `repro show INSTANCE`: its state and key, what enters the key, its outputs, the record of
//! its last run with the metrics it recorded, its `repro.lock` entry (and that entry's metrics
//! when they belong to another key), and its upstream; `--json` prints the same facts as one
//! object ([`ShowDoc`], documented in docs/cli.md).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::workspace::{Dirty, State};

use super::args::ShowArgs;
use super::load::Loaded;
use super::page::{outln, Page};
use super::{Cli, CliError};

/// Everything `show` says about one instance.
#[derive(serde::Serialize)]
struct ShowDoc {
    instance: String,
    stage: String,
    /// `fresh`, `restore` or `run`.
    state: &'static str,
    reasons: Vec<Dirty>,
    argv: Vec<String>,
    /// The current key, unless an upstream instance is pending.
    key: Option<String>,
    /// What enters the key, when it is known.
    inputs: Option<InputsDoc>,
    /// The metrics the stage declares (`metrics:`), if any.
    declared_metrics: Option<DeclaredMetrics>,
    /// The action record of the current key, when the cache holds one.
    record: Option<RecordDoc>,
    /// The instance's entry in `repro.lock` for this profile.
    lock: Option<LockDoc>,
    upstream: Vec<String>,
}

#[derive(serde::Serialize)]
struct InputsDoc {
    params: BTreeMap<String, Value>,
    env: BTreeMap<String, String>,
    deps: BTreeMap<String, String>,
    code: BTreeMap<String, String>,
}

#[derive(serde::Serialize)]
struct DeclaredMetrics {
    files: Vec<String>,
    fields: Vec<String>,
    tolerance: f64,
}

#[derive(serde::Serialize)]
struct RecordDoc {
    duration_s: f64,
    host: String,
    device: String,
    log: String,
    finished_at: u64,
    /// The slots it held (`cpu 2`, `gpu 0 · cpu 1`); absent from older records.
    slot: Option<String>,
    /// The commit it ran at (and whether tracked files differed); absent outside a git
    /// checkout and from older records.
    checkout: Option<crate::cache::CheckoutRecord>,
    outputs: BTreeMap<String, String>,
    /// `file#field` to value.
    metrics: BTreeMap<String, f64>,
}

#[derive(serde::Serialize)]
struct LockDoc {
    key: String,
    outputs: BTreeMap<String, String>,
    /// `file#field` to value.
    metrics: BTreeMap<String, f64>,
}

pub(crate) fn show(cli: &Cli, a: &ShowArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let doc = gather(&loaded, &a.instance)?;
    let mut page = Page::default();
    if a.json {
        page.json(&doc)?;
    } else {
        text(&mut page, &doc);
    }
    page.print()
}

fn gather(loaded: &Loaded, instance: &str) -> Result<ShowDoc, CliError> {
    let i = loaded.one(instance)?;
    let ws = loaded.workspace()?;
    let selected = loaded.graph.closure(&[i]);
    let forced = vec![false; loaded.graph.instances.len()];
    let states = ws.plan(&loaded.graph, &selected, &forced)?;
    super::load::show_notes(&ws);
    let Some((_, state)) = states.iter().find(|(j, _)| *j == i) else {
        return Err(CliError::Internal(format!(
            "`{instance}` was selected but not planned"
        )));
    };
    let inst = &loaded.graph.instances[i];
    let reasons = match state {
        State::Run { reasons, .. } | State::Restore { reasons, .. } => reasons.clone(),
        State::Fresh { .. } => Vec::new(),
    };
    let inputs = match state {
        State::Run { inputs, .. } => inputs.as_deref().cloned(),
        _ => Some(ws.inputs(inst)?),
    };
    let key = inputs.as_ref().map(|k| k.key());
    let record = key
        .as_deref()
        .and_then(|k| ws.record(k))
        .map(|r| RecordDoc {
            duration_s: r.duration_s,
            host: r.host,
            device: r.device,
            log: r.log,
            finished_at: r.finished_at,
            slot: r.slot,
            checkout: r.checkout,
            outputs: r.outputs,
            metrics: r.metrics,
        });
    let lock = ws.lock_entry(&inst.id).map(|e| LockDoc {
        key: e.key.clone(),
        outputs: e.outs.clone(),
        metrics: e.metrics.clone(),
    });
    Ok(ShowDoc {
        instance: inst.id.clone(),
        stage: inst.stage_name.clone(),
        state: state.label(),
        reasons,
        argv: inst.argv.clone(),
        key,
        inputs: inputs.map(|k| InputsDoc {
            params: k.params,
            env: k.env,
            deps: k.deps,
            code: k.code,
        }),
        declared_metrics: inst.metrics.as_ref().map(|m| DeclaredMetrics {
            files: m.files.clone(),
            fields: m.fields.clone(),
            tolerance: m.tolerance,
        }),
        record,
        lock,
        upstream: loaded.graph.upstream[i]
            .iter()
            .map(|&u| loaded.graph.instances[u].id.clone())
            .collect(),
    })
}

/// The text form: one fact per line, the name in a column of ten.
fn text(page: &mut Page, d: &ShowDoc) {
    outln!(page, "instance  {}", d.instance);
    outln!(page, "state     {}", d.state);
    for r in &d.reasons {
        outln!(page, "  why     {r}");
    }
    outln!(page, "argv      {}", d.argv.join(" "));
    if let (Some(key), Some(inputs)) = (&d.key, &d.inputs) {
        outln!(page, "key       {key}");
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
    }
    if let Some(r) = &d.record {
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
        for (p, digest) in &r.outputs {
            outln!(page, "  out     {p} {digest}");
        }
        for (name, v) in &r.metrics {
            outln!(page, "  metric  {name} = {v:?}");
        }
    }
    if let Some(l) = &d.lock {
        let current = d.key.as_deref() == Some(l.key.as_str());
        if current {
            outln!(page, "lock      {}", l.key);
        } else {
            outln!(page, "lock      {} (an earlier key)", l.key);
        }
        // The lock's metrics, unless the record above printed the same ones.
        if !current || d.record.is_none() {
            for (name, v) in &l.metrics {
                outln!(page, "  metric  {name} = {v:?}");
            }
        }
    }
    if let Some(m) = &d.declared_metrics {
        let recorded = d.record.as_ref().is_some_and(|r| !r.metrics.is_empty())
            || d.lock.as_ref().is_some_and(|l| !l.metrics.is_empty());
        if !recorded {
            outln!(
                page,
                "metrics   none recorded yet (declared: {} of {})",
                m.fields.join(", "),
                m.files.join(", ")
            );
        }
    }
    outln!(
        page,
        "upstream  {}",
        if d.upstream.is_empty() {
            "(none)".to_owned()
        } else {
            d.upstream.join(", ")
        }
    );
}
