//! A note when the workspace's site file would be committed by mistake: `repro.local.yaml`
//! holds one machine's settings (its partition, account, executor), and a fresh workspace in a
//! git work tree shows it in `git status` until `.gitignore` names it.
//!
//! The check asks git itself (`git check-ignore`), so every source of ignore rules counts
//! (nested `.gitignore` files, `.git/info/exclude`, `core.excludesFile`). It is made only when
//! the workspace's own site file exists and `REPRO_CONFIG` does not name another one.
//!
//! Limits: without a `git` program, or outside a work tree, nothing is said; a site file that
//! is already committed counts as not ignored (git ignores no tracked file).

use std::path::Path;
use std::process::{Command, Stdio};

use super::site::SITE_FILE;

/// The note to show when the site file of the workspace at `root` exists in a git work tree
/// that does not ignore it.
pub fn unignored_site_file(root: &Path) -> Option<String> {
    if std::env::var_os("REPRO_CONFIG").is_some() || !root.join(SITE_FILE).is_file() {
        return None;
    }
    let status = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["check-ignore", "-q", "--", SITE_FILE])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    // 0: ignored; 1: not ignored; 128: not a work tree, or git failed.
    (status.code() == Some(1)).then(|| {
        format!(
            "`{SITE_FILE}` holds this machine's settings, but git does not ignore it (`git status` shows it); add the line `/{SITE_FILE}` to the `.gitignore` beside it"
        )
    })
}
