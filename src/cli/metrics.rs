//! `repro metrics show [TARGETS]` and `repro metrics diff [REV [REV]]`: the numbers that
//! stages declare under `metrics:`, as `repro.lock` records them (`metric FILE#FIELD VALUE`
//! lines; docs/cache.md).
//!
//! How it works: `show` reads the working tree's lock and lists the metrics of the profile's
//! instances that the targets select; `diff` reads the lock at two points (`revlock`) and
//! lists, per instance and metric, the old value, the new one and the change (new - old),
//! leaving out metrics that did not change unless `--all`.
//!
//! Limits: only what the lock records is shown: an instance that has not run since its
//! stage declared `metrics:` has none, and a metric's file is not read from the workspace.

use std::collections::{BTreeMap, BTreeSet};

use clap::{Args, Subcommand};

use super::load::Loaded;
use super::page::{outln, Page};
use super::params::DiffArgs;
use super::revlock::{change, check_targets, entries_of, number, read_side, Side};
use super::table::table;
use super::{Cli, CliError};

/// `repro metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: MetricsCommand,
}

/// `repro metrics` subcommands.
#[derive(Debug, Subcommand)]
pub enum MetricsCommand {
    /// List the declared metrics that the working tree's `repro.lock` records for the
    /// profile's instances.
    Show(ShowArgs),
    /// Compare the recorded metrics between two revisions of `repro.lock` (default: `HEAD`
    /// and the working tree): old, new and the change.
    Diff(DiffArgs),
}

/// `repro metrics show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Targets (default: all), e.g. `train@task=listops`.
    pub targets: Vec<String>,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The `--json` document of `show`.
#[derive(Debug, serde::Serialize)]
struct Shown {
    profile: String,
    /// Instance id to `file#field` to value.
    metrics: BTreeMap<String, BTreeMap<String, f64>>,
}

/// One metric of one instance on two sides.
#[derive(Debug, serde::Serialize)]
struct MetricRow {
    instance: String,
    metric: String,
    old: Option<f64>,
    new: Option<f64>,
    /// `new - old` when both exist.
    change: Option<f64>,
}

/// The `--json` document of `diff`.
#[derive(Debug, serde::Serialize)]
struct MetricsDiff {
    profile: String,
    old: String,
    new: String,
    metrics: Vec<MetricRow>,
}

pub(crate) fn metrics(cli: &Cli, a: &MetricsArgs) -> Result<(), CliError> {
    match &a.command {
        MetricsCommand::Show(s) => show(cli, s),
        MetricsCommand::Diff(d) => diff(cli, d),
    }
}

/// The profile's lock name (`default` without profiles) and the workspace root.
fn profile_and_root(cli: &Cli) -> Result<(String, std::path::PathBuf), CliError> {
    let loaded = Loaded::load(cli)?;
    Ok((
        crate::workspace::Workspace::profile_name(&loaded.pipeline),
        loaded.pipeline.root.clone(),
    ))
}

fn show(cli: &Cli, a: &ShowArgs) -> Result<(), CliError> {
    let (profile, root) = profile_and_root(cli)?;
    let lock = read_side(&root, &Side::Worktree)?;
    check_targets(
        &a.targets,
        entries_of(&lock, &profile, &[]).keys().copied(),
        &profile,
    )?;
    let doc = Shown {
        metrics: entries_of(&lock, &profile, &a.targets)
            .into_iter()
            .filter(|(_, e)| !e.metrics.is_empty())
            .map(|(id, e)| (id.to_owned(), e.metrics.clone()))
            .collect(),
        profile,
    };
    let mut page = Page::default();
    if a.json {
        page.json(&doc)?;
    } else if doc.metrics.is_empty() {
        outln!(
            page,
            "no metrics recorded in `repro.lock` for profile `{}`",
            doc.profile
        );
    } else {
        let mut rows = vec![vec!["instance".into(), "metric".into(), "value".into()]];
        for (id, ms) in &doc.metrics {
            for (m, v) in ms {
                rows.push(vec![id.clone(), m.clone(), number(Some(*v))]);
            }
        }
        table(&mut page, &rows);
    }
    page.print()
}

fn diff(cli: &Cli, a: &DiffArgs) -> Result<(), CliError> {
    let (old_side, new_side) = Side::pair(&a.revs)?;
    let (profile, root) = profile_and_root(cli)?;
    let old_lock = read_side(&root, &old_side)?;
    let new_lock = read_side(&root, &new_side)?;
    let ids = entries_of(&old_lock, &profile, &[]);
    let ids_new = entries_of(&new_lock, &profile, &[]);
    check_targets(
        &a.targets,
        ids.keys().chain(ids_new.keys()).copied(),
        &profile,
    )?;
    let old = entries_of(&old_lock, &profile, &a.targets);
    let new = entries_of(&new_lock, &profile, &a.targets);
    let mut rows = Vec::new();
    let all_ids: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
    for id in all_ids {
        let none = BTreeMap::new();
        let mo = old.get(id).map_or(&none, |e| &e.metrics);
        let mn = new.get(id).map_or(&none, |e| &e.metrics);
        let names: BTreeSet<&String> = mo.keys().chain(mn.keys()).collect();
        for name in names {
            let (vo, vn) = (mo.get(name).copied(), mn.get(name).copied());
            if vo == vn && !a.all {
                continue;
            }
            rows.push(MetricRow {
                instance: id.to_owned(),
                metric: name.clone(),
                old: vo,
                new: vn,
                change: vo.zip(vn).map(|(o, n)| change(o, n)),
            });
        }
    }
    let doc = MetricsDiff {
        profile,
        old: old_side.label().to_owned(),
        new: new_side.label().to_owned(),
        metrics: rows,
    };
    let mut page = Page::default();
    if a.json {
        page.json(&doc)?;
    } else if doc.metrics.is_empty() {
        outln!(
            page,
            "no metric differs between `{}` and `{}` (profile `{}`)",
            doc.old,
            doc.new,
            doc.profile
        );
    } else {
        let mut rows = vec![vec![
            "instance".to_owned(),
            "metric".to_owned(),
            doc.old.clone(),
            doc.new.clone(),
            "change".to_owned(),
        ]];
        rows.extend(doc.metrics.iter().map(|r| {
            vec![
                r.instance.clone(),
                r.metric.clone(),
                number(r.old),
                number(r.new),
                r.change
                    .map_or_else(|| "-".to_owned(), |c| format!("{c:+}")),
            ]
        }));
        table(&mut page, &rows);
    }
    page.print()
}
