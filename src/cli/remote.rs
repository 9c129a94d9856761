//! What `push`, `pull` and `status --remote` share: choosing and opening the remote from the
//! flags and the site settings, and listing the targets' `repro.lock` entries.

use crate::remote::{self, Chosen, Transport};
use crate::settings::SiteSettings;
use crate::workspace::{LockEntry, Workspace};

use super::load::Loaded;
use super::CliError;

/// The opened remote with its description and connection count.
pub(crate) struct Opened {
    pub(crate) transport: Box<dyn Transport>,
    pub(crate) label: String,
    /// The remote's URL alone (for JSON).
    pub(crate) url: String,
    pub(crate) connections: usize,
}

/// Chooses the remote (`flag`, else the site default) and opens it for `jobs` transfers
/// (else the site's `remote.connections`).
pub(crate) fn open(
    loaded: &Loaded,
    flag: Option<&str>,
    jobs: Option<u32>,
) -> Result<Opened, CliError> {
    let site = SiteSettings::load(&loaded.pipeline.root).map_err(|e| CliError::User {
        message: e.to_string(),
        hint: Some("see docs/cache.md for the `remote:` settings".into()),
    })?;
    let chosen: Chosen = remote::choose(&site.remote, flag)?;
    let connections = match jobs {
        Some(0) => return Err(CliError::user("--jobs must be at least 1")),
        Some(n) => n as usize,
        None => site.remote.connections.get() as usize,
    };
    let transport = remote::open(&chosen, connections)?;
    let label = match &chosen.name {
        Some(n) => format!("`{n}` ({})", chosen.url),
        None => format!("`{}`", chosen.url),
    };
    Ok(Opened {
        transport,
        label,
        url: chosen.url.to_string(),
        connections,
    })
}

/// The targets and their upstream: those with a lock entry, and the ids of those without.
pub(crate) struct Locked<'w> {
    /// Instance id and lock entry.
    pub(crate) found: Vec<(String, std::borrow::Cow<'w, LockEntry>)>,
    /// Instances without a lock entry.
    pub(crate) unlocked: Vec<String>,
}

/// The targets and their upstream, with their lock entries.
pub(crate) fn locked<'w>(
    loaded: &Loaded,
    ws: &'w Workspace<'_>,
    targets: &[String],
) -> Result<Locked<'w>, CliError> {
    let selected = loaded.graph.closure(&loaded.targets(targets)?);
    let mut found = Vec::new();
    let mut unlocked = Vec::new();
    for i in selected {
        let id = &loaded.graph.instances[i].id;
        match ws.lock_entry(id) {
            Some(e) => found.push((id.clone(), e)),
            None => unlocked.push(id.clone()),
        }
    }
    Ok(Locked { found, unlocked })
}

/// Writes one line on stderr (best effort: with stderr gone there is nowhere to say more).
pub(crate) fn note(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "repro: {line}");
}
