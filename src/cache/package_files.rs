//! Which files of one Cargo package its code digest covers.
//!
//! A key must be computable before anything is built, on a fresh clone, so the set cannot be
//! what the compiler read (cargo's dep-info files exist only after a build). It is instead a
//! superset of it, decided from the tree alone: every file under the package directory,
//! walked recursively, except
//! - the top-level `tests/`, `benches/`, `examples/` and `target/` (they never enter the
//!   package's binaries);
//! - hidden entries (a name starting with `.`), at any depth;
//! - directories holding a `Cargo.toml` of their own: another package, digested through the
//!   path-dependency closure when it is a dependency;
//! - what a `.gitignore` ignores, read from the workspace root down to each directory (never
//!   the user's global excludes or `.git/info/exclude`, which differ between machines);
//! - what the package's `package.exclude` names, or, when `package.include` is given, what it
//!   does not name (cargo's rule for `cargo package`; gitignore-style patterns);
//! - the engine's own entries and declared outputs (`excluded`), as for glob entries.
//!
//! The package's `Cargo.toml` always counts. Symbolic links are followed; a special file
//! (FIFO, socket, device) is an error. That the set covers what the compiler read is checked
//! against the dep-info files of a real build by `tests/engine/depinfo.rs`.
//!
//! Limits: a file outside the package directory that the build reads (an `include_bytes!`
//! of `../../x`) is covered only if it belongs to a package of the closure; the dep-info test
//! catches the other cases.

use std::fs;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;

/// Top-level directories of a package that never enter its binaries.
const NOT_BUILT: [&str; 4] = ["tests", "benches", "examples", "target"];

/// Deepest directory nesting followed (a guard against symbolic-link loops).
const MAX_DEPTH: usize = 64;

/// The files of the package at `dir` (absolute, under `root`) that its code digest covers, as
/// sorted `(path relative to dir, absolute path)`. `manifest` is its parsed `Cargo.toml`;
/// `excluded` says whether a root-relative path is never code.
pub(super) fn package_files(
    root: &Path,
    dir: &Path,
    manifest: &toml::Table,
    excluded: &dyn Fn(&str) -> bool,
) -> Result<Vec<(String, PathBuf)>, String> {
    let shown_dir = dir.strip_prefix(root).unwrap_or(dir);
    let manifest_name = shown_dir.join("Cargo.toml").display().to_string();
    let selection = Selection::of(dir, manifest, &manifest_name)?;
    // The .gitignore files of the directories from the root down to the package.
    let mut ignores = Vec::new();
    if let Some(below) = below_root(root, dir) {
        let mut at = root.to_path_buf();
        ignores.push(gitignore_of(&at));
        for c in below.components() {
            at.push(c);
            ignores.push(gitignore_of(&at));
        }
    } else {
        ignores.push(gitignore_of(dir));
    }
    let mut walk = Walk {
        root,
        selection: &selection,
        excluded,
        out: Vec::new(),
    };
    walk.visit(dir, "", &mut ignores, 0)?;
    let mut out = walk.out;
    if !out.iter().any(|(r, _)| r == "Cargo.toml") {
        out.push(("Cargo.toml".to_owned(), dir.join("Cargo.toml")));
    }
    out.sort();
    Ok(out)
}

/// `dir` relative to `root`, when it lies under it. A root of `.` (a pipeline file named
/// without a directory) prefixes nothing: the relative paths found under it are already
/// relative to it.
fn below_root<'a>(root: &Path, dir: &'a Path) -> Option<&'a Path> {
    dir.strip_prefix(root)
        .ok()
        .or_else(|| (root == Path::new(".") && dir.is_relative()).then_some(dir))
}

/// The package's own `include` / `exclude` lists.
enum Selection {
    /// Neither list: every file.
    All,
    /// `package.include`: only files these patterns (or a parent of the file) match.
    Include(Gitignore),
    /// `package.exclude`: every file but those these patterns (or a parent) match.
    Exclude(Gitignore),
}

impl Selection {
    fn of(dir: &Path, manifest: &toml::Table, shown: &str) -> Result<Selection, String> {
        let package = manifest.get("package");
        let list = |field: &str| -> Result<Option<Gitignore>, String> {
            let Some(value) = package.and_then(|p| p.get(field)) else {
                return Ok(None);
            };
            let Some(items) = value.as_array() else {
                return Err(format!(
                    "`{shown}`: `package.{field}` is not a list of patterns"
                ));
            };
            let mut b = GitignoreBuilder::new(dir);
            for item in items {
                let Some(p) = item.as_str() else {
                    return Err(format!(
                        "`{shown}`: `package.{field}` holds `{item}`, not a pattern"
                    ));
                };
                b.add_line(None, p).map_err(|e| {
                    format!("`{shown}`: bad pattern `{p}` in `package.{field}`: {e}")
                })?;
            }
            b.build()
                .map(Some)
                .map_err(|e| format!("`{shown}`: `package.{field}`: {e}"))
        };
        // As cargo does: `include`, when given, overrides `exclude`.
        if let Some(g) = list("include")? {
            return Ok(Selection::Include(g));
        }
        Ok(list("exclude")?.map_or(Selection::All, Selection::Exclude))
    }

    /// Whether the package-relative `rel` is taken (a directory: whether to descend).
    fn takes(&self, rel: &str, is_dir: bool) -> bool {
        match self {
            Selection::All => true,
            // A directory may hold included files whatever its own name.
            Selection::Include(_) if is_dir => true,
            Selection::Include(g) => g.matched_path_or_any_parents(rel, false).is_ignore(),
            Selection::Exclude(g) => !g.matched_path_or_any_parents(rel, is_dir).is_ignore(),
        }
    }
}

/// The matcher of `dir/.gitignore` (empty without one). Lines git would reject are skipped,
/// as git skips them.
fn gitignore_of(dir: &Path) -> Gitignore {
    let file = dir.join(".gitignore");
    if !file.is_file() {
        return Gitignore::empty();
    }
    let mut b = GitignoreBuilder::new(dir);
    let _partial_error = b.add(&file);
    b.build().unwrap_or_else(|_| Gitignore::empty())
}

/// Whether the innermost `.gitignore` with an opinion ignores `abs`.
fn ignored(ignores: &[Gitignore], abs: &Path, is_dir: bool) -> bool {
    for g in ignores.iter().rev() {
        match g.matched(abs, is_dir) {
            Match::Ignore(_) => return true,
            Match::Whitelist(_) => return false,
            Match::None => {}
        }
    }
    false
}

struct Walk<'a> {
    root: &'a Path,
    selection: &'a Selection,
    excluded: &'a dyn Fn(&str) -> bool,
    out: Vec<(String, PathBuf)>,
}

impl Walk<'_> {
    fn shown(&self, abs: &Path) -> String {
        abs.strip_prefix(self.root)
            .unwrap_or(abs)
            .display()
            .to_string()
    }

    fn visit(
        &mut self,
        at: &Path,
        rel: &str,
        ignores: &mut Vec<Gitignore>,
        depth: usize,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "cannot list `{}`: nested more than {MAX_DEPTH} directories deep (a symbolic link loop?)",
                self.shown(at)
            ));
        }
        let read_err = |e: std::io::Error| format!("cannot list `{}`: {e}", self.shown(at));
        let mut entries = Vec::new();
        for entry in fs::read_dir(at).map_err(read_err)? {
            entries.push(entry.map_err(read_err)?);
        }
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let abs = entry.path();
            let r = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let meta = fs::metadata(&abs)
                .map_err(|e| format!("cannot read `{}`: {e}", self.shown(&abs)))?;
            let is_dir = meta.is_dir();
            if is_dir && depth == 0 && NOT_BUILT.contains(&name.as_str()) {
                continue;
            }
            if is_dir && abs.join("Cargo.toml").exists() {
                continue;
            }
            if ignored(ignores, &abs, is_dir) || !self.selection.takes(&r, is_dir) {
                continue;
            }
            let from_root = abs
                .strip_prefix(self.root)
                .unwrap_or(&abs)
                .to_string_lossy()
                .into_owned();
            if (self.excluded)(&from_root) {
                continue;
            }
            if is_dir {
                ignores.push(gitignore_of(&abs));
                let result = self.visit(&abs, &r, ignores, depth + 1);
                ignores.pop();
                result?;
            } else if meta.is_file() {
                self.out.push((r, abs));
            } else {
                return Err(format!(
                    "cannot read `{}`: neither a regular file nor a directory (a FIFO, socket or device)",
                    self.shown(&abs)
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` (root-relative path, text) under a fresh directory.
    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let p = dir.path().join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        dir
    }

    /// The package-relative files of the package at `pkg` (root-relative).
    fn files_of(root: &Path, pkg: &str) -> Result<Vec<String>, String> {
        let dir = root.join(pkg);
        let manifest: toml::Table = fs::read_to_string(dir.join("Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap();
        let never = |rel: &str| rel.starts_with("cache/");
        Ok(package_files(root, &dir, &manifest, &never)?
            .into_iter()
            .map(|(r, _)| r)
            .collect())
    }

    #[test]
    fn a_package_covers_its_assets_and_build_inputs_but_not_tests_hidden_ignored_or_nested_packages(
    ) {
        let dir = tree(&[
            (".gitignore", "/cache/*\n*.bak\n"),
            ("p/Cargo.toml", "[package]\nname = \"p\"\n"),
            ("p/.gitignore", "generated/\n!keep.bak\n"),
            ("p/build.rs", "fn main() {}"),
            ("p/src/main.rs", "fn main() {}"),
            ("p/src/old.rs.bak", "x"),
            ("p/src/keep.bak", "x"),
            ("p/assets/font.ttf", "font"),
            ("p/templates/page.html", "<p>"),
            ("p/generated/out.rs", "x"),
            ("p/.hidden/x", "x"),
            ("p/src/.swp", "x"),
            ("p/tests/cli.rs", "x"),
            ("p/benches/b.rs", "x"),
            ("p/examples/e.rs", "x"),
            ("p/target/release/p", "x"),
            ("p/src/tests/inner.rs", "x"),
            ("p/inner/Cargo.toml", "[package]\nname = \"inner\"\n"),
            ("p/inner/src/lib.rs", "x"),
        ]);
        assert_eq!(
            files_of(dir.path(), "p").unwrap(),
            [
                "Cargo.toml",
                "assets/font.ttf",
                "build.rs",
                "src/keep.bak",
                "src/main.rs",
                "src/tests/inner.rs",
                "templates/page.html",
            ]
        );
    }

    #[test]
    fn include_and_exclude_select_as_cargo_does_and_cargo_toml_always_counts() {
        let dir = tree(&[
            (
                "Cargo.toml",
                "[package]\nname = \"r\"\ninclude = [\"/src/\", \"*.txt\"]\nexclude = [\"src/\"]\n",
            ),
            ("src/lib.rs", "x"),
            ("notes.txt", "x"),
            ("docs/a.txt", "x"),
            ("README.md", "x"),
            ("repro.lock", "x"),
            ("cache/objects/ab", "x"),
            (
                "q/Cargo.toml",
                "[package]\nname = \"q\"\nexclude = [\"/data\", \"*.md\"]\n",
            ),
            ("q/src/lib.rs", "x"),
            ("q/src/notes.md", "x"),
            ("q/data/big.bin", "x"),
            ("q/src/data/small.bin", "x"),
        ]);
        assert_eq!(
            files_of(dir.path(), "").unwrap(),
            ["Cargo.toml", "docs/a.txt", "notes.txt", "src/lib.rs"]
        );
        assert_eq!(
            files_of(dir.path(), "q").unwrap(),
            ["Cargo.toml", "src/data/small.bin", "src/lib.rs"]
        );
    }

    #[test]
    fn a_bad_include_list_names_the_manifest_and_the_field() {
        let dir = tree(&[
            (
                "p/Cargo.toml",
                "[package]\nname = \"p\"\ninclude = \"src\"\n",
            ),
            ("q/Cargo.toml", "[package]\nname = \"q\"\nexclude = [3]\n"),
        ]);
        let err = files_of(dir.path(), "p").unwrap_err();
        assert!(
            err.contains("`p/Cargo.toml`") && err.contains("`package.include`"),
            "{err}"
        );
        let err = files_of(dir.path(), "q").unwrap_err();
        assert!(
            err.contains("`q/Cargo.toml`") && err.contains("`package.exclude` holds `3`"),
            "{err}"
        );
    }
}
