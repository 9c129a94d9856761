//! `repro params diff [REV [REV]]`: which parameters of each recorded instance differ between
//! `repro.lock` at two points (`HEAD` and the working tree by default).
//!
//! How it works: the lock records each instance's key, not its parameters; the parameters
//! that entered a key are in the action record of that key (`cache/actions/KEY.json`, its
//! `inputs.params`). So for every instance of the profile whose key differs between the two
//! locks, the two records are read from the local cache and their parameters compared: changed
//! (old -> new), added, removed. An instance in one lock only shows all its parameters as
//! added or removed. Keys that changed for another reason (code, dependencies) show nothing.
//!
//! A record that is not in the local cache (a lock committed elsewhere and never pulled) is
//! replaced by the pipeline file of the same side: in the working tree, the instance's key
//! inputs computed from the checkout, used only when they give the lock's key (the pipeline
//! may have changed since the lock was written); at a revision, the pipeline file committed
//! there (`git show REV:pipeline.yaml`) expanded under the same profile, whose parameters are
//! those a run of it would have keyed. Only an instance
//! that neither can give (no record, and a pipeline file that is absent at that revision or no
//! longer loads) is listed as unknown, with `repro pull` as the fix. Parameters are compared as
//! JSON values; the text shows them as JSON.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use clap::{Args, Subcommand};
use serde_json::Value;

use crate::workspace::LockEntry;

use super::load::Loaded;
use super::page::{outln, Page};
use super::revlock::{check_targets, entries_of, read_side, text_at, Side};
use super::table::table;
use super::{Cli, CliError};

/// `repro params`.
#[derive(Debug, Args)]
pub struct ParamsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ParamsCommand,
}

/// `repro params` subcommands.
#[derive(Debug, Subcommand)]
pub enum ParamsCommand {
    /// Compare the parameters recorded for each instance between two revisions of
    /// `repro.lock` (default: `HEAD` and the working tree).
    Diff(DiffArgs),
}

/// `repro params diff` and `repro metrics diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Up to two git revisions: none compares `HEAD` with the working tree's `repro.lock`,
    /// one compares that revision with the working tree, two compare the two revisions.
    #[arg(num_args = 0..=2, value_name = "REV")]
    pub revs: Vec<String>,
    /// Only instances these targets select (repeatable), e.g. `train@task=listops`.
    #[arg(long = "target", short = 't', value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Also list what did not change.
    #[arg(long)]
    pub all: bool,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// One parameter of one instance on two sides.
#[derive(Debug, serde::Serialize)]
struct ParamRow {
    instance: String,
    param: String,
    old: Option<Value>,
    new: Option<Value>,
    /// `changed`, `added`, `removed` or `unchanged`.
    change: &'static str,
}

/// An instance whose parameters could not be read on one side.
#[derive(Debug, serde::Serialize)]
struct Unknown {
    instance: String,
    side: String,
    key: String,
}

/// The `--json` document.
#[derive(Debug, serde::Serialize)]
struct ParamsDiff {
    profile: String,
    old: String,
    new: String,
    params: Vec<ParamRow>,
    unknown: Vec<Unknown>,
}

pub(crate) fn params(cli: &Cli, a: &ParamsArgs) -> Result<(), CliError> {
    match &a.command {
        ParamsCommand::Diff(d) => diff(cli, d),
    }
}

fn diff(cli: &Cli, a: &DiffArgs) -> Result<(), CliError> {
    let (old_side, new_side) = Side::pair(&a.revs)?;
    let loaded = Loaded::load(cli)?;
    let ws = loaded.workspace()?;
    let profile = ws.profile().to_owned();
    let root = loaded.pipeline.root.clone();
    let old_lock = read_side(&root, &old_side)?;
    let new_lock = read_side(&root, &new_side)?;
    let all = entries_of(&old_lock, &profile, &[]);
    let all_new = entries_of(&new_lock, &profile, &[]);
    check_targets(
        &a.targets,
        all.keys().chain(all_new.keys()).copied(),
        &profile,
    )?;
    let old = entries_of(&old_lock, &profile, &a.targets);
    let new = entries_of(&new_lock, &profile, &a.targets);
    let file = cli.file.as_deref().and_then(|f| f.file_name()).map_or_else(
        || "pipeline.yaml".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let old_declared = declared(&root, &old_side, &file, &profile);
    let new_declared = declared(&root, &new_side, &file, &profile);
    let instances: std::collections::HashMap<&str, &crate::graph::Instance> = loaded
        .graph
        .instances
        .iter()
        .map(|i| (i.id.as_str(), i))
        .collect();
    let mut doc = ParamsDiff {
        profile,
        old: old_side.label().to_owned(),
        new: new_side.label().to_owned(),
        params: Vec::new(),
        unknown: Vec::new(),
    };
    let ids: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
    for id in ids {
        let (o, n) = (old.get(id), new.get(id));
        if !a.all && o.map(|e| &e.key) == n.map(|e| &e.key) {
            continue;
        }
        let mut side = |e: Option<&Cow<'_, LockEntry>>,
                        side: &Side,
                        declared: &Option<Declared>|
         -> Option<BTreeMap<String, Value>> {
            let e = e?;
            let label = side.label();
            let from_pipeline = || match side {
                // The working tree's pipeline may have changed since the lock was written:
                // its parameters count only if they give the lock's key.
                Side::Worktree => {
                    let inputs = ws.inputs(instances.get(id)?).ok()?;
                    (inputs.key() == e.key).then_some(inputs.params)
                }
                Side::Rev(_) => declared.as_ref().and_then(|d| d.get(id).cloned()),
            };
            match ws
                .record(&e.key)
                .map(|r| r.inputs.params)
                .or_else(from_pipeline)
            {
                Some(p) => Some(p),
                None => {
                    doc.unknown.push(Unknown {
                        instance: id.to_owned(),
                        side: label.to_owned(),
                        key: e.key.clone(),
                    });
                    None
                }
            }
        };
        let po = side(o, &old_side, &old_declared);
        let pn = side(n, &new_side, &new_declared);
        if (o.is_some() && po.is_none()) || (n.is_some() && pn.is_none()) {
            continue;
        }
        let (po, pn) = (po.unwrap_or_default(), pn.unwrap_or_default());
        let names: BTreeSet<&String> = po.keys().chain(pn.keys()).collect();
        for name in names {
            let (vo, vn) = (po.get(name), pn.get(name));
            let change = match (vo, vn) {
                (Some(x), Some(y)) if x == y => "unchanged",
                (Some(_), Some(_)) => "changed",
                (None, _) => "added",
                (_, None) => "removed",
            };
            if change == "unchanged" && !a.all {
                continue;
            }
            doc.params.push(ParamRow {
                instance: id.to_owned(),
                param: name.clone(),
                old: vo.cloned(),
                new: vn.cloned(),
                change,
            });
        }
    }
    super::load::show_notes(&ws);
    print(&doc, a.json)
}

/// Each instance's parameters as a pipeline file declares them, by instance id.
type Declared = BTreeMap<String, BTreeMap<String, Value>>;

/// The parameters every instance of `profile` declares in `file` as committed at the
/// revision of `side`. `None` for the working tree (its instances are checked against the
/// lock's key instead), and (said on stderr) when the file is absent at the revision or does
/// not load under `profile`.
fn declared(root: &std::path::Path, side: &Side, file: &str, profile: &str) -> Option<Declared> {
    let of = |graph: &crate::graph::Graph| -> Declared {
        graph
            .instances
            .iter()
            .map(|i| (i.id.clone(), i.params.clone()))
            .collect()
    };
    let Side::Rev(rev) = side else {
        return None;
    };
    let text = text_at(root, rev, file)?;
    let name = format!("{rev}:{file}");
    match crate::spec::parse(std::path::Path::new(&name), &text, Some(profile))
        .map_err(|e| e.to_string())
        .and_then(|p| crate::graph::build(&p).map_err(|e| e.to_string()))
    {
        Ok(graph) => Some(of(&graph)),
        Err(e) => {
            eprintln!("repro: note: `{name}` does not load under profile `{profile}`, so only cached records give parameters at `{rev}`: {e}");
            None
        }
    }
}

fn print(doc: &ParamsDiff, json: bool) -> Result<(), CliError> {
    let mut page = Page::default();
    if json {
        page.json(doc)?;
        return page.print();
    }
    let show = |v: &Option<Value>| v.as_ref().map_or_else(|| "-".to_owned(), Value::to_string);
    let mut rows = vec![vec![
        "instance".to_owned(),
        "param".to_owned(),
        doc.old.clone(),
        doc.new.clone(),
        "change".to_owned(),
    ]];
    rows.extend(doc.params.iter().map(|r| {
        vec![
            r.instance.clone(),
            r.param.clone(),
            show(&r.old),
            show(&r.new),
            r.change.to_owned(),
        ]
    }));
    if doc.params.is_empty() {
        outln!(
            page,
            "no parameter differs between `{}` and `{}` (profile `{}`){}",
            doc.old,
            doc.new,
            doc.profile,
            if doc.unknown.is_empty() {
                ""
            } else {
                " among the instances whose parameters are known"
            }
        );
    } else {
        table(&mut page, &rows);
    }
    unknown_notes(&doc.unknown);
    page.print()
}

/// The most unknown records named one by one; the rest are counted (`--json` lists all).
const NAMED: usize = 10;

/// Says on stderr which instances' parameters could not be read.
fn unknown_notes(unknown: &[Unknown]) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    if unknown.len() > NAMED {
        let _ = writeln!(
            err,
            "repro: note: the parameters of {} instances are unknown: their records are not in the local cache (`repro pull` fetches them; `--json` lists them all) and the pipeline file does not give them, for example:",
            unknown.len()
        );
    }
    for u in unknown.iter().take(NAMED) {
        let _ = writeln!(
            err,
            "repro: note: the parameters of `{}` at `{}` are unknown: its record `{}` is not in the local cache (`repro pull` fetches it) and the pipeline file there does not give them",
            u.instance, u.side, u.key
        );
    }
}
