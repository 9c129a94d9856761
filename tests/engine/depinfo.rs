//! The code digest of a package covers every workspace file the compiler read to build its
//! binaries. The file set is decided before building (`cache::package_files`); this test
//! checks it against cargo's dep-info files (`target/<profile>/<bin>.d`) of the binaries
//! already built (by `make build`, which `make test` runs first). It builds nothing.
//!
//! A missing dep-info file fails the test when `CI` is set; elsewhere the binary is skipped
//! with a note (a plain `cargo test` builds no stage binaries).

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use repro::cache::CodeDigester;

/// The workspace root (the `repro` package's directory).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding the binaries of this build (`target/release` under `--release`).
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/engine-<hash>
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary under target/<profile>/deps")
        .to_owned()
}

/// The binaries of the package whose manifest is `manifest` in `dir`: `[[bin]]` names, the
/// package name for `src/main.rs`, and the stems of `src/bin/*.rs`.
fn bins(name: &str, dir: &Path) -> BTreeSet<String> {
    let manifest: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml"))
        .expect("manifest")
        .parse()
        .expect("manifest parses");
    let mut out = BTreeSet::new();
    for b in manifest
        .get("bin")
        .and_then(|b| b.as_array())
        .into_iter()
        .flatten()
    {
        if let Some(n) = b.get("name").and_then(|n| n.as_str()) {
            out.insert(n.to_owned());
        }
    }
    if dir.join("src/main.rs").is_file() {
        out.insert(name.to_owned());
    }
    for e in std::fs::read_dir(dir.join("src/bin"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "rs") {
            if let Some(stem) = p.file_stem() {
                out.insert(stem.to_string_lossy().into_owned());
            }
        }
    }
    out
}

/// `a/b/../c` as `a/c`, lexically (dep-info paths of `include!("../x")` keep the `..`).
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The target and the files of a dep-info file's first rule (spaces escaped as `\ `).
fn parse_depinfo(text: &str) -> (PathBuf, Vec<PathBuf>) {
    let line = text.lines().next().unwrap_or_default();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => word.extend(chars.next()),
            ' ' => words.push(std::mem::take(&mut word)),
            c => word.push(c),
        }
    }
    words.push(word);
    words.retain(|w| !w.is_empty());
    let target = words.first().cloned().unwrap_or_default();
    let target = target.strip_suffix(':').unwrap_or(&target).to_owned();
    (
        PathBuf::from(target),
        words.into_iter().skip(1).map(PathBuf::from).collect(),
    )
}

#[test]
fn every_workspace_file_a_binary_was_compiled_from_is_in_its_package_code_digest() {
    let root = root();
    let in_ci = std::env::var_os("CI").is_some();
    let code = CodeDigester::new(&root).expect("workspace manifests");
    let mut checked = 0;
    let mut problems = Vec::new();
    for (name, dir) in code.packages() {
        let covered: BTreeSet<String> = code
            .package_file_set(name)
            .expect("file set")
            .into_iter()
            .collect();
        for bin in bins(name, dir) {
            let d = bin_dir().join(format!("{bin}.d"));
            let Ok(text) = std::fs::read_to_string(&d) else {
                assert!(
                    !in_ci,
                    "`{}` is missing: run `make build` first",
                    d.display()
                );
                eprintln!(
                    "note: skipping `{bin}`: `{}` is absent (not built)",
                    d.display()
                );
                continue;
            };
            let (target, files) = parse_depinfo(&text);
            // The checkout it was built in: `<root>/target/<profile>/<bin>`.
            let built_in = target
                .ancestors()
                .nth(3)
                .filter(|_| {
                    target.ancestors().nth(2).and_then(Path::file_name) == Some("target".as_ref())
                })
                .map(Path::to_owned)
                .unwrap_or_else(|| root.clone());
            let mut own = 0;
            for f in files {
                let f = normalise(&f);
                let Ok(rel) = f.strip_prefix(&built_in) else {
                    continue; // a registry crate: covered by its `Cargo.lock` entry
                };
                if !root.join(rel).is_file() {
                    continue; // gone since that build
                }
                own += 1;
                let rel = rel.to_string_lossy().into_owned();
                if !covered.contains(&rel) {
                    problems.push(format!(
                        "`{bin}` (package `{name}`) was compiled from `{rel}`"
                    ));
                }
            }
            assert!(own > 0, "`{}` names no file of the workspace", d.display());
            checked += 1;
        }
    }
    assert!(
        problems.is_empty(),
        "files read by the compiler but not in the package's code digest:\n{}",
        problems.join("\n")
    );
    eprintln!("checked the dep-info of {checked} binaries");
}
