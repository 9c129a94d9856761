//! `repro logs INSTANCE`: the log of the instance's last successful run (from the cache), or
//! of its last attempt (from `.repro/logs/`) when that failed.

use std::io::Write;

use super::args::OneArgs;
use super::load::Loaded;
use super::{Cli, CliError};

pub(crate) fn logs(cli: &Cli, a: &OneArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let i = loaded.one(&a.instance)?;
    let inst = &loaded.graph.instances[i];
    let ws = loaded.workspace()?;
    let attempt = ws.layout().log(&inst.id);
    let recorded = ws
        .lock_entry(&inst.id)
        .and_then(|e| ws.record(&e.key))
        .map(|r| ws.store().object_path(&r.log));
    // Prefer the latest attempt when it is newer than the recorded run.
    let path = match (&recorded, attempt.exists()) {
        (Some(r), true) => {
            let newer = std::fs::metadata(&attempt).and_then(|m| m.modified()).ok()
                > std::fs::metadata(r).and_then(|m| m.modified()).ok();
            if newer {
                attempt
            } else {
                r.clone()
            }
        }
        (Some(r), false) => r.clone(),
        (None, true) => attempt,
        (None, false) => {
            return Err(CliError::user(format!(
                "no log for `{}`: it has not run in this workspace",
                inst.id
            )))
        }
    };
    let bytes = std::fs::read(&path)
        .map_err(|e| CliError::Internal(format!("cannot read `{}`: {e}", path.display())))?;
    std::io::stdout()
        .write_all(&bytes)
        .map_err(|e| CliError::Internal(e.to_string()))
}
