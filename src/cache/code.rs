//! Code digests: what code a stage runs, as one digest per `code:` entry.
//!
//! An entry that names a package of the Cargo workspace at the pipeline root digests
//! - the package's files as `package_files` selects them: the whole package directory but
//!   its tests, benches, examples, hidden and ignored entries and nested packages, so that an
//!   asset compiled in with `include_bytes!` or a file `build.rs` reads counts;
//! - the same for every path dependency, transitively (so a change in a shared crate counts);
//! - the `Cargo.lock` entries (name, version, source, checksum) of the package's dependency
//!   closure, so a bumped crate counts but an unrelated crate added elsewhere does not;
//! - the workspace's `[profile]` table (optimisation settings change numerics).
//!
//! Any other entry is a glob relative to the root; it digests the matching files' paths and
//! contents. An entry matching nothing is an error. Results are memoised per process.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::digest::list_files;
use super::hash::hash_bytes;
use super::package_files::package_files;
use super::statcache::StatCache;

/// One workspace package.
#[derive(Debug, Clone)]
struct Package {
    dir: PathBuf,
    manifest: toml::Table,
    path_deps: Vec<String>,
}

/// Computes and memoises code digests for one workspace root.
pub struct CodeDigester {
    root: PathBuf,
    packages: BTreeMap<String, Package>,
    lock: Option<toml::Table>,
    profile: String,
    memo: Mutex<HashMap<String, String>>,
    /// Top-level entries never read as code (the engine's own), compared case-insensitively.
    reserved: Vec<String>,
    /// Paths never read as code (declared outputs), compared by components.
    outputs: Vec<String>,
}

impl CodeDigester {
    /// Reads the workspace manifests under `root` (a root without `Cargo.toml` has no packages).
    pub fn new(root: &Path) -> Result<CodeDigester, String> {
        let mut packages = BTreeMap::new();
        let mut lock = None;
        let mut profile = String::new();
        let manifest = root.join("Cargo.toml");
        if manifest.exists() {
            let top = read_toml(&manifest)?;
            profile = top
                .get("profile")
                .map(|p| p.to_string())
                .unwrap_or_default();
            let ws = top.get("workspace").and_then(|w| w.as_table());
            let ws_deps = ws
                .and_then(|w| w.get("dependencies"))
                .and_then(|d| d.as_table())
                .cloned()
                .unwrap_or_default();
            let mut members: Vec<PathBuf> = Vec::new();
            for m in ws
                .and_then(|w| w.get("members"))
                .and_then(|m| m.as_array())
                .into_iter()
                .flatten()
            {
                let Some(pattern) = m.as_str() else { continue };
                let full = root.join(pattern);
                for p in glob::glob(&full.to_string_lossy())
                    .map_err(|e| format!("bad workspace member `{pattern}`: {e}"))?
                    .flatten()
                {
                    members.push(p);
                }
            }
            if top.contains_key("package") && !members.iter().any(|m| same_dir(m, root)) {
                members.push(root.to_owned());
            }
            for dir in members {
                let man = dir.join("Cargo.toml");
                if !man.exists() {
                    continue;
                }
                let t = read_toml(&man)?;
                let Some(name) = t
                    .get("package")
                    .and_then(|p| p.get("name"))
                    .and_then(|n| n.as_str())
                else {
                    continue;
                };
                let mut path_deps = Vec::new();
                for section in ["dependencies", "build-dependencies"] {
                    for (dep, spec) in t
                        .get(section)
                        .and_then(|d| d.as_table())
                        .into_iter()
                        .flatten()
                    {
                        let is_path = spec.get("path").is_some()
                            || (spec.get("workspace").and_then(|w| w.as_bool()) == Some(true)
                                && ws_deps.get(dep).and_then(|d| d.get("path")).is_some());
                        if is_path {
                            path_deps.push(dep.clone());
                        }
                    }
                }
                packages.insert(
                    name.to_owned(),
                    Package {
                        dir,
                        manifest: t.clone(),
                        path_deps,
                    },
                );
            }
            let lock_path = root.join("Cargo.lock");
            if lock_path.exists() {
                lock = Some(read_toml(&lock_path)?);
            }
        }
        Ok(CodeDigester {
            root: root.to_owned(),
            packages,
            lock,
            profile,
            memo: Mutex::new(HashMap::new()),
            reserved: Vec::new(),
            outputs: Vec::new(),
        })
    }

    /// Leaves out of every glob entry the top-level `reserved` entries (such as `cache`,
    /// `.repro`, `.git`) and everything at or inside `outputs`: code that includes the cache
    /// or a stage's own outputs would be stale forever.
    pub fn excluding(mut self, reserved: Vec<String>, outputs: Vec<String>) -> Self {
        self.reserved = reserved;
        self.outputs = outputs;
        self
    }

    fn excluded(&self, rel: &str) -> bool {
        let first = rel.split('/').next().unwrap_or_default();
        self.reserved.iter().any(|r| first.eq_ignore_ascii_case(r))
            || self.outputs.iter().any(|o| {
                rel == o
                    || rel
                        .strip_prefix(o.as_str())
                        .is_some_and(|t| t.starts_with('/'))
            })
    }

    /// Whether `name` is a workspace package.
    pub fn is_package(&self, name: &str) -> bool {
        self.packages.contains_key(name)
    }

    /// The digest of one `code:` entry.
    pub fn digest(&self, entry: &str, cache: &StatCache) -> Result<String, String> {
        if let Some(d) = self.memo.lock().expect("memo").get(entry) {
            return Ok(d.clone());
        }
        let d = if self.is_package(entry) {
            self.package_digest(entry, cache)?
        } else {
            self.glob_digest(entry, cache)?
        };
        self.memo
            .lock()
            .expect("memo")
            .insert(entry.to_owned(), d.clone());
        Ok(d)
    }

    /// The workspace packages, by name, with their directories.
    pub fn packages(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.packages
            .iter()
            .map(|(n, p)| (n.as_str(), p.dir.as_path()))
    }

    /// Every file the digest of the package `name` covers, its path-dependency closure
    /// included, as sorted root-relative paths (for checking the set against what a build
    /// read). An unknown name is an error.
    pub fn package_file_set(&self, name: &str) -> Result<Vec<String>, String> {
        if !self.is_package(name) {
            return Err(format!("`{name}` is not a workspace package"));
        }
        let mut out: Vec<String> = self
            .closure_files(name)?
            .into_iter()
            .map(|(_, _, a)| self.rel(&a))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn rel(&self, a: &Path) -> String {
        a.strip_prefix(&self.root)
            .unwrap_or(a)
            .to_string_lossy()
            .into_owned()
    }

    /// `(package, path relative to its directory, absolute path)` of every file digested for
    /// `name`, package by package in name order.
    fn closure_files(&self, name: &str) -> Result<Vec<(String, String, PathBuf)>, String> {
        let mut closure = BTreeSet::new();
        let mut stack = vec![name.to_owned()];
        while let Some(p) = stack.pop() {
            if let Some(pkg) = self.packages.get(&p) {
                if closure.insert(p.clone()) {
                    stack.extend(pkg.path_deps.iter().cloned());
                }
            }
        }
        let excluded = |rel: &str| self.excluded(rel);
        let mut out = Vec::new();
        for p in closure {
            let pkg = &self.packages[&p];
            for (r, a) in package_files(&self.root, &pkg.dir, &pkg.manifest, &excluded)? {
                out.push((p.clone(), r, a));
            }
        }
        Ok(out)
    }

    fn package_digest(&self, name: &str, cache: &StatCache) -> Result<String, String> {
        let mut text = String::from("repro-code v2\n");
        for (p, r, a) in self.closure_files(name)? {
            let rel = self.rel(&a);
            let meta = std::fs::metadata(&a).map_err(|e| format!("cannot read `{rel}`: {e}"))?;
            let d = cache
                .file_digest(&rel, &a, &meta)
                .map_err(|e| format!("cannot read `{rel}`: {e}"))?;
            text.push_str(&format!("{p}/{r} {d}\n"));
        }
        text.push_str(&self.lock_closure(name));
        text.push_str("profile ");
        text.push_str(&self.profile);
        Ok(hash_bytes(text.as_bytes()))
    }

    /// The `Cargo.lock` entries of `name`'s dependency closure, one line each, sorted.
    fn lock_closure(&self, name: &str) -> String {
        let Some(lock) = &self.lock else {
            return String::new();
        };
        let Some(pkgs) = lock.get("package").and_then(|p| p.as_array()) else {
            return String::new();
        };
        let mut by_name: HashMap<&str, Vec<&toml::Table>> = HashMap::new();
        for p in pkgs.iter().filter_map(|p| p.as_table()) {
            if let Some(n) = p.get("name").and_then(|n| n.as_str()) {
                by_name.entry(n).or_default().push(p);
            }
        }
        let field =
            |t: &toml::Table, k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
        let mut seen = BTreeSet::new();
        let mut stack: Vec<(String, Option<String>)> = vec![(name.to_owned(), None)];
        while let Some((n, version)) = stack.pop() {
            for t in by_name.get(n.as_str()).into_iter().flatten() {
                let v = field(t, "version");
                if version.as_ref().is_some_and(|want| *want != v) {
                    continue;
                }
                let line = format!(
                    "lock {n} {v} {} {}\n",
                    field(t, "source"),
                    field(t, "checksum")
                );
                if !seen.insert(line) {
                    continue;
                }
                for d in t
                    .get("dependencies")
                    .and_then(|d| d.as_array())
                    .into_iter()
                    .flatten()
                {
                    let Some(d) = d.as_str() else { continue };
                    let mut parts = d.split(' ');
                    let dn = parts.next().unwrap_or("").to_owned();
                    stack.push((dn, parts.next().map(str::to_owned)));
                }
            }
        }
        seen.into_iter().collect()
    }

    fn glob_digest(&self, pattern: &str, cache: &StatCache) -> Result<String, String> {
        let full = self.root.join(pattern);
        let mut files = Vec::new();
        let mut left_out = 0usize;
        let rel_of = |a: &Path| {
            a.strip_prefix(&self.root)
                .unwrap_or(a)
                .to_string_lossy()
                .into_owned()
        };
        for p in glob::glob(&full.to_string_lossy())
            .map_err(|e| format!("invalid glob `{pattern}`: {e}"))?
            .flatten()
        {
            if self.excluded(&rel_of(&p)) {
                left_out += 1;
                continue;
            }
            if p.is_dir() {
                for (_, a) in
                    list_files(&p).map_err(|e| format!("cannot list `{}`: {e}", p.display()))?
                {
                    if self.excluded(&rel_of(&a)) {
                        left_out += 1;
                    } else {
                        files.push(a);
                    }
                }
            } else {
                files.push(p);
            }
        }
        if files.is_empty() && left_out > 0 {
            return Err(format!(
                "code entry `{pattern}` matches only the engine's files or declared outputs, which are never code"
            ));
        }
        if files.is_empty() {
            let known = self.packages.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err(format!(
                "code entry `{pattern}` is neither a workspace package (packages: {}) nor a glob matching files",
                if known.is_empty() { "none".to_owned() } else { known }
            ));
        }
        files.sort();
        files.dedup();
        let mut text = String::from("repro-code-glob v1\n");
        for a in files {
            let rel = a
                .strip_prefix(&self.root)
                .unwrap_or(&a)
                .to_string_lossy()
                .into_owned();
            let meta = std::fs::metadata(&a).map_err(|e| format!("cannot read `{rel}`: {e}"))?;
            let d = cache
                .file_digest(&rel, &a, &meta)
                .map_err(|e| format!("cannot read `{rel}`: {e}"))?;
            text.push_str(&format!("{rel} {d}\n"));
        }
        Ok(hash_bytes(text.as_bytes()))
    }
}

fn read_toml(path: &Path) -> Result<toml::Table, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    text.parse::<toml::Table>()
        .map_err(|e| format!("cannot parse `{}`: {e}", path.display()))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
