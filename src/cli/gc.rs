//! `repro gc`: delete the cached records and objects that `repro.lock` no longer refers to
//! (the rule is `Workspace::gc`), holding the workspace lock; print what was deleted and kept.

use super::args::GcArgs;
use super::load::Loaded;
use super::page::{outln, Page};
use super::{Cli, CliError};

pub(crate) fn gc(cli: &Cli, a: &GcArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let ws = loaded.workspace_exclusive()?;
    let r = ws.gc(a.dry_run)?;
    let mut page = Page::default();
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
