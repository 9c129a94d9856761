//! `repro clean`: deleting declared outputs from the workspace, never from the cache, so that
//! the next `repro run` restores them from the store instead of executing anything.
//!
//! How it works: [`Workspace::clean_plan`] checks each declared output path (only those that
//! exist are listed) and refuses one that would reach outside the workspace or into the
//! engine's own directories: an absolute path or one with `..`, a path below a symbolic link,
//! or a path at or inside the content store or `.repro/`. [`Workspace::clean`] then removes
//! each path (a directory with its tree; a symbolic link itself, never what it points to) and
//! forgets it in the outputs ledger and the stat cache, as the removal of an orphan does.
//!
//! Limits: the caller holds the workspace lock (`Workspace::open_exclusive`), so no run of
//! this workspace writes meanwhile; a path whose removal fails stops the clean with an error
//! naming it, and the paths removed before it stay removed.

use std::path::Component;

use crate::cache::atomic;

use super::open::{Workspace, WorkspaceError};

/// A declared output that `repro clean` refuses to delete.
#[derive(Debug, thiserror::Error)]
#[error("refusing to delete `{path}`: {why}")]
pub struct CleanRefused {
    /// The output path as declared.
    pub path: String,
    /// Why.
    pub why: String,
}

impl Workspace<'_> {
    /// Of `outs` (declared output paths, relative to the workspace root), the ones that exist,
    /// in order and without duplicates; refuses any that would delete outside the workspace
    /// or inside the cache or `.repro/`.
    pub fn clean_plan<'a>(
        &self,
        outs: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<String>, CleanRefused> {
        let store = self.layout.store();
        let private = self.layout.private();
        let mut out: Vec<String> = Vec::new();
        for rel in outs {
            let refuse = |why: &str| CleanRefused {
                path: rel.to_owned(),
                why: why.to_owned(),
            };
            let p = std::path::Path::new(rel);
            if rel.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
                return Err(refuse("it is not a plain path inside the workspace"));
            }
            if let Some(link) = self.layout.linked_parent(rel) {
                return Err(refuse(&format!(
                    "its parent `{link}` is a symbolic link, so it may lie outside the workspace"
                )));
            }
            let abs = self.layout.abs(rel);
            if abs.starts_with(&store) || store.starts_with(&abs) {
                return Err(refuse("it is or holds the cache"));
            }
            if abs.starts_with(&private) || private.starts_with(&abs) {
                return Err(refuse("it is or holds the engine's `.repro` directory"));
            }
            if std::fs::symlink_metadata(&abs).is_ok() && !out.iter().any(|o| o == rel) {
                out.push(rel.to_owned());
            }
        }
        Ok(out)
    }

    /// Removes `paths` (from [`Workspace::clean_plan`]) from the workspace, and from the
    /// outputs ledger and the stat cache, then saves the ledger.
    pub fn clean(&mut self, paths: &[String]) -> Result<(), WorkspaceError> {
        self.remove_outputs(paths.iter().map(String::as_str))
    }

    /// Removes each workspace-relative path (each removal atomic) and forgets it in the stat
    /// cache and the outputs ledger, then saves the ledger: what `clean` and the removal of
    /// orphans share.
    pub(super) fn remove_outputs<'p>(
        &mut self,
        paths: impl Iterator<Item = &'p str>,
    ) -> Result<(), WorkspaceError> {
        for rel in paths {
            let abs = self.layout.abs(rel);
            atomic::remove_path(&abs).map_err(|source| WorkspaceError::Io { path: abs, source })?;
            self.stat.forget(rel);
            self.ledger.get_mut().expect("ledger").forget(rel);
        }
        let path = self.layout.outputs_ledger();
        self.ledger
            .get_mut()
            .expect("ledger")
            .save(&path)
            .map_err(|source| WorkspaceError::Io { path, source })
    }
}
