//! `repro gc`: delete the cached records and objects that `repro.lock` no longer refers to
//! (the rule is `Workspace::gc`), holding the workspace lock; print what was deleted and kept.

use super::args::GcArgs;
use super::load::Loaded;
use super::{Cli, CliError};

#[allow(clippy::print_stdout)]
pub(crate) fn gc(cli: &Cli, a: &GcArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let ws = loaded.workspace_exclusive()?;
    let r = ws.gc(a.dry_run)?;
    let verb = if a.dry_run { "would delete" } else { "deleted" };
    println!(
        "{verb} {} records and {} objects ({} bytes); kept {} records, {} objects",
        r.records_dropped, r.objects_dropped, r.bytes_freed, r.records_kept, r.objects_kept
    );
    Ok(())
}
