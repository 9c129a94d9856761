//! `repro gc`: delete the cached records and objects that `repro.lock` no longer refers to
//! (the rule is `Workspace::gc`), holding the workspace lock; print what was deleted and kept.
//! With `--orphans`, first remove the workspace's orphaned outputs that still hold what repro
//! wrote (`Workspace::orphans`); those that differ are named and kept. What packs of killed
//! runs or batch jobs left under `.repro/packs` is removed too (no job may be live then).
//! `--json` prints the same counts as one [`GcDoc`] (documented in docs/cli.md).

use crate::exec::slurm;

use super::args::GcArgs;
use super::load::Loaded;
use super::page::{outln, Page};
use super::{Cli, CliError};

/// `repro gc --json`.
#[derive(serde::Serialize)]
struct GcDoc {
    /// Whether nothing was deleted (`-n`).
    dry_run: bool,
    records_deleted: usize,
    objects_deleted: usize,
    bytes_freed: u64,
    temporaries_deleted: usize,
    records_kept: usize,
    objects_kept: usize,
    /// With `--orphans`: orphaned outputs removed (or, with `-n`, that would be).
    orphans_removed: Vec<String>,
    /// With `--orphans`: orphaned outputs kept because they differ from what repro wrote.
    orphans_kept: Vec<String>,
}

pub(crate) fn gc(cli: &Cli, a: &GcArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let mut ws = loaded.workspace_exclusive()?;
    // A batch job running now holds the writers' lock shared, registered or not.
    if !ws.exclude_batch_jobs()? {
        return Err(CliError::User {
            message: "batch jobs of this workspace are running (they hold `.repro/writers.lock`): gc could delete what they are publishing".into(),
            hint: Some("wait for them, or cancel them (`scancel --name=repro-...`), then run `repro run` once".into()),
        });
    }
    // Batch jobs publish into the store without the lock: while any is registered, objects
    // it has stored but not yet recorded would look unreferenced.
    let jobs = slurm::Registry::new(&slurm::state_dir(ws.layout().root())).all();
    if !jobs.is_empty() {
        return Err(CliError::User {
            message: format!(
                "{} batch job(s) submitted from this workspace have not been collected (e.g. `{}`): gc could delete what they are publishing",
                jobs.len(),
                jobs[0].instance
            ),
            hint: Some(
                "run `repro run` to collect them (or cancel them with `scancel --name=repro-...`, then run `repro run` once)".into(),
            ),
        });
    }
    let mut page = Page::default();
    let (mut orphans_removed, mut orphans_kept) = (Vec::new(), Vec::new());
    if a.orphans {
        let orphans = ws.orphans(&loaded.graph)?;
        let (mine, changed): (Vec<_>, Vec<_>) = orphans.into_iter().partition(|o| o.engine_bytes);
        if !a.dry_run {
            ws.remove_orphans(&mine)?;
        }
        orphans_removed = mine.into_iter().map(|o| o.path).collect();
        orphans_kept = changed.into_iter().map(|o| o.path).collect();
    }
    let r = ws.gc(a.dry_run)?;
    if !a.dry_run {
        // What packs of killed runs or batch jobs left in `.repro/packs` (no job is live now);
        // a failure to remove loses only space.
        let _ = crate::cache::atomic::remove_path(&ws.layout().packs());
    }
    if a.json {
        page.json(&GcDoc {
            dry_run: a.dry_run,
            records_deleted: r.records_dropped,
            objects_deleted: r.objects_dropped,
            bytes_freed: r.bytes_freed,
            temporaries_deleted: r.temporaries_dropped,
            records_kept: r.records_kept,
            objects_kept: r.objects_kept,
            orphans_removed,
            orphans_kept,
        })?;
        return page.print();
    }
    let verb = if a.dry_run { "would remove" } else { "removed" };
    for path in &orphans_removed {
        outln!(page, "{verb} orphaned output `{path}`");
    }
    for path in &orphans_kept {
        outln!(
            page,
            "kept orphaned output `{path}`: it differs from what repro wrote (move or delete it by hand)"
        );
    }
    let verb = if a.dry_run { "would delete" } else { "deleted" };
    outln!(
        page,
        "{verb} {} records, {} objects ({} bytes) and {} stale temporaries; kept {} records, {} objects",
        r.records_dropped,
        r.objects_dropped,
        r.bytes_freed,
        r.temporaries_dropped,
        r.records_kept,
        r.objects_kept
    );
    page.print()
}
