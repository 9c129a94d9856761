//! `repro.lock` at two points in history, for `repro params diff` and `repro metrics diff`:
//! the working tree's file, or the file committed at a git revision (`git show REV:repro.lock`,
//! run by the real `git` program beside the workspace).
//!
//! How it works: `git rev-parse` first says whether the workspace is in a work tree at all and
//! resolves the revision to a commit, so that each way of failing has its own message (not a
//! git repository, unknown revision, no `repro.lock` at that commit); the committed text is then
//! parsed by the same reader as the working tree's file, and a malformed lock is named as
//! `REV:repro.lock` with its line.
//!
//! Limits: the lock is looked up beside the pipeline file (`REV:./repro.lock` relative to the
//! workspace root), so a workspace that moved inside the repository between the two commits is
//! not followed. A missing working-tree lock reads as empty, as everywhere else.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::graph::matches;
use crate::workspace::{LockEntry, LockError, LockFile};

use super::CliError;

/// The lock file's name beside the pipeline file.
const LOCK_NAME: &str = "repro.lock";

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Side {
    /// The working tree's `repro.lock`.
    Worktree,
    /// `repro.lock` as committed at this revision.
    Rev(String),
}

impl Side {
    /// The column heading and JSON name: the revision as given, or `workspace`.
    pub(crate) fn label(&self) -> &str {
        match self {
            Side::Worktree => "workspace",
            Side::Rev(r) => r,
        }
    }

    /// The two sides named by up to two revisions: none compares `HEAD` with the working
    /// tree, one compares that revision with the working tree, two compare the two commits.
    pub(crate) fn pair(revs: &[String]) -> Result<(Side, Side), CliError> {
        match revs {
            [] => Ok((Side::Rev("HEAD".into()), Side::Worktree)),
            [a] => Ok((Side::Rev(a.clone()), Side::Worktree)),
            [a, b] => Ok((Side::Rev(a.clone()), Side::Rev(b.clone()))),
            _ => Err(CliError::user("expected at most two revisions")),
        }
    }
}

/// Why the lock at a revision could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RevLockError {
    /// `git` could not be started.
    #[error("failed to run `git`: {0}")]
    NoGit(String),
    /// The workspace is not inside a git work tree.
    #[error("`{0}` is not inside a git repository")]
    NotGit(String),
    /// The revision names no commit.
    #[error("unknown revision `{0}`")]
    UnknownRev(String),
    /// The commit has no `repro.lock` beside the pipeline file.
    #[error("no `{LOCK_NAME}` at revision `{0}`")]
    NoLock(String),
    /// The committed lock does not parse.
    #[error(transparent)]
    Parse(#[from] LockError),
}

impl RevLockError {
    /// The fix, when known.
    fn hint(&self) -> Option<String> {
        match self {
            RevLockError::NoGit(_) | RevLockError::NotGit(_) => Some(format!(
                "these commands compare `{LOCK_NAME}` between git commits: commit it in a git repository first (`git init`, `git add {LOCK_NAME}`, `git commit`)"
            )),
            RevLockError::UnknownRev(_) => {
                Some("name a commit, branch or tag (`git log --oneline` lists commits)".into())
            }
            RevLockError::NoLock(_) => Some(format!(
                "`{LOCK_NAME}` was not committed at that revision; name a later one (`git log --oneline -- {LOCK_NAME}`)"
            )),
            RevLockError::Parse(e) => e.hint(),
        }
    }
}

impl From<RevLockError> for CliError {
    fn from(e: RevLockError) -> Self {
        CliError::User {
            hint: e.hint(),
            message: e.to_string(),
        }
    }
}

/// Reads the lock of `side` for the workspace at `root`.
pub(crate) fn read_side(root: &Path, side: &Side) -> Result<LockFile, RevLockError> {
    match side {
        Side::Worktree => Ok(LockFile::read(&root.join(LOCK_NAME))?),
        Side::Rev(rev) => read_at(&git_dir(root), rev),
    }
}

/// `root`, or `.` for the current directory (git refuses an empty `-C`).
fn git_dir(root: &Path) -> PathBuf {
    if root.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        root.to_owned()
    }
}

/// Runs `git -C dir ARGS`; returns whether it succeeded and its stdout.
fn git(dir: &Path, args: &[&str]) -> Result<(bool, Vec<u8>), RevLockError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| RevLockError::NoGit(e.to_string()))?;
    Ok((out.status.success(), out.stdout))
}

fn read_at(dir: &Path, rev: &str) -> Result<LockFile, RevLockError> {
    let (inside, _) = git(dir, &["rev-parse", "--is-inside-work-tree"])?;
    if !inside {
        return Err(RevLockError::NotGit(dir.display().to_string()));
    }
    // A revision starting with `-` would read as an option.
    if rev.starts_with('-') || rev.is_empty() {
        return Err(RevLockError::UnknownRev(rev.to_owned()));
    }
    let (ok, commit) = git(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )?;
    let commit = String::from_utf8_lossy(&commit).trim().to_owned();
    if !ok || commit.is_empty() {
        return Err(RevLockError::UnknownRev(rev.to_owned()));
    }
    let (ok, text) = git(dir, &["show", &format!("{commit}:./{LOCK_NAME}")])?;
    if !ok {
        return Err(RevLockError::NoLock(rev.to_owned()));
    }
    let text = String::from_utf8_lossy(&text);
    Ok(LockFile::parse_named(&text, &format!("{rev}:{LOCK_NAME}"))?)
}

/// The text of the file `name` (a path relative to the workspace root) as committed at `rev`
/// (already checked by [`read_side`]); `None` when it was not committed there or is not text.
pub(crate) fn text_at(root: &Path, rev: &str, name: &str) -> Option<String> {
    let (ok, text) = git(&git_dir(root), &["show", &format!("{rev}:./{name}")]).ok()?;
    if !ok {
        return None;
    }
    String::from_utf8(text).ok()
}

/// The entries of `profile` whose instance id one of `targets` selects (all without
/// targets), by instance id.
pub(crate) fn entries_of<'l>(
    lock: &'l LockFile,
    profile: &str,
    targets: &[String],
) -> BTreeMap<&'l str, Cow<'l, LockEntry>> {
    lock.entries()
        .filter(|(p, id, _)| *p == profile && selected(targets, id))
        .map(|(_, id, e)| (id, e))
        .collect()
}

/// Whether `targets` (none: all) select the instance `id`, read back into its stage and
/// dimension values as `graph::matches` takes them.
pub(crate) fn selected(targets: &[String], id: &str) -> bool {
    if targets.is_empty() {
        return true;
    }
    let (stage, dims) = id.split_once('@').unwrap_or((id, ""));
    let matrix: crate::spec::Dims = dims
        .split(',')
        .filter_map(|d| d.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    targets.iter().any(|t| matches(t, id, stage, &matrix))
}

/// Refuses a target that selects no instance id among `ids` (the ids of both sides).
pub(crate) fn check_targets<'a>(
    targets: &[String],
    ids: impl Iterator<Item = &'a str> + Clone,
    profile: &str,
) -> Result<(), CliError> {
    for t in targets {
        let one = std::slice::from_ref(t);
        if !ids.clone().any(|id| selected(one, id)) {
            return Err(CliError::User {
                message: format!(
                    "target `{t}` matches no instance recorded in `{LOCK_NAME}` for profile `{profile}`"
                ),
                hint: Some(
                    "`repro metrics show` lists the recorded instances; `-p` chooses the profile"
                        .into(),
                ),
            });
        }
    }
    Ok(())
}

/// A number as the lock writes it, or `-` for none.
pub(crate) fn number(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v}"))
}

/// `new - old`, rounded to 12 significant digits so that `0.95 -> 0.9731` reads `0.0231`,
/// not `0.023100000000000009`.
pub(crate) fn change(old: f64, new: f64) -> f64 {
    let d = new - old;
    format!("{d:.11e}").parse().unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_default_to_head_against_the_working_tree() {
        assert_eq!(
            Side::pair(&[]).unwrap(),
            (Side::Rev("HEAD".into()), Side::Worktree)
        );
        let two = ["a".to_owned(), "b".to_owned()];
        assert_eq!(
            Side::pair(&two).unwrap(),
            (Side::Rev("a".into()), Side::Rev("b".into()))
        );
        assert!(Side::pair(&["a".into(), "b".into(), "c".into()]).is_err());
    }

    #[test]
    fn targets_select_lock_ids_like_graph_targets() {
        let t = |s: &str| vec![s.to_owned()];
        assert!(selected(&[], "x"));
        assert!(selected(
            &t("train@task=listops"),
            "train@seed=1,task=listops"
        ));
        assert!(!selected(
            &t("train@task=listops"),
            "train@seed=1,task=parity"
        ));
        assert!(selected(&t("train"), "train@seed=1,task=parity"));
        assert!(!selected(&t("gen"), "train@seed=1,task=parity"));
    }

    #[test]
    fn changes_are_rounded_to_what_was_recorded() {
        assert_eq!(change(0.95, 0.9731), 0.0231);
        assert_eq!(change(1.0, 0.5), -0.5);
        assert_eq!(number(None), "-");
        assert_eq!(number(Some(0.125)), "0.125");
    }
}
