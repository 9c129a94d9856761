//! Code keys of Cargo packages: a stage whose `code:` names a package re-runs when any file
//! that can change the package's binaries changes (an asset compiled in with
//! `include_bytes!`, a template, a file of a path dependency), and never for a file that
//! cannot (its tests, benches, hidden or ignored files, a nested package). The workspace is a
//! small synthetic Cargo workspace: the engine only hashes its files, nothing is compiled.

use crate::common::Ws;

/// `plot` (two instances) is built from package `plot`, `gen` from package `gen`; both
/// depend on the path package `common`.
const PIPELINE: &str = r#"version: 1
stages:
  gen:
    cmd: "echo gen >> \"$COUNTER\"; echo g > out/gen.txt"
    shell: true
    code: [gen]
    outs: [out/gen.txt]
  plot:
    cmd: "echo plot-${kind} >> \"$COUNTER\"; echo ${kind} > out/plot-${kind}.txt"
    shell: true
    matrix:
      kind: [a, b]
    code: [plot]
    outs: ["out/plot-${kind}.txt"]
"#;

/// A workspace with both packages and everything run once.
fn ran_once() -> Ws {
    let ws = Ws::new(PIPELINE);
    ws.write(".gitignore", "/cache/*\n/.repro\n/out\n*.orig\n");
    ws.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"pkgs/*\"]\n\n[profile.release]\nopt-level = 3\n",
    );
    ws.write("pkgs/common/Cargo.toml", "[package]\nname = \"common\"\n");
    ws.write("pkgs/common/src/lib.rs", "pub fn f() {}\n");
    ws.write("pkgs/common/data/table.txt", "1 2 3\n");
    for p in ["gen", "plot"] {
        ws.write(
            &format!("pkgs/{p}/Cargo.toml"),
            &format!("[package]\nname = \"{p}\"\n\n[dependencies]\ncommon = {{ path = \"../common\" }}\n"),
        );
        ws.write(&format!("pkgs/{p}/src/main.rs"), "fn main() {}\n");
        ws.write(&format!("pkgs/{p}/tests/cli.rs"), "#[test]\nfn t() {}\n");
    }
    ws.write("pkgs/plot/assets/font.ttf", "glyphs v1\n");
    ws.write("pkgs/plot/templates/page.html", "<p>{}</p>\n");
    ws.write("pkgs/plot/benches/b.rs", "fn main() {}\n");
    ws.write("pkgs/plot/.editorconfig", "root = true\n");
    ws.write(
        "pkgs/plot/vendor/Cargo.toml",
        "[package]\nname = \"vendored\"\n",
    );
    ws.write("pkgs/plot/vendor/src/lib.rs", "\n");
    ws.ok(&["run"]);
    assert_eq!(ws.ran().len(), 3, "{:?}", ws.ran());
    ws
}

/// The counter lines appended by the run after `edit`, sorted.
fn reruns_after(ws: &Ws, edit: impl FnOnce(&Ws)) -> Vec<String> {
    let before = ws.ran().len();
    edit(ws);
    ws.ok(&["run"]);
    let mut ran = ws.ran()[before..].to_vec();
    ran.sort();
    ran
}

#[test]
fn a_changed_asset_reruns_exactly_the_stages_built_from_its_package() {
    let ws = ran_once();
    assert_eq!(
        reruns_after(&ws, |ws| ws
            .write("pkgs/plot/assets/font.ttf", "glyphs v2\n")),
        ["plot-a", "plot-b"]
    );
    assert_eq!(
        reruns_after(&ws, |ws| ws
            .write("pkgs/plot/templates/page.html", "<b>{}</b>\n")),
        ["plot-a", "plot-b"]
    );
    // A data file of the shared path dependency changes both packages' binaries.
    assert_eq!(
        reruns_after(&ws, |ws| ws.write("pkgs/common/data/table.txt", "1 2 4\n")),
        ["gen", "plot-a", "plot-b"]
    );
    assert_eq!(reruns_after(&ws, |_| {}), Vec::<String>::new());
}

#[test]
fn a_changed_test_file_reruns_nothing() {
    let ws = ran_once();
    let ran = reruns_after(&ws, |ws| {
        ws.write("pkgs/plot/tests/cli.rs", "#[test]\nfn t2() {}\n");
        ws.write("pkgs/gen/tests/new.rs", "\n");
        ws.write("pkgs/plot/benches/b.rs", "fn main() { }\n");
        ws.write("pkgs/plot/.editorconfig", "root = false\n");
        ws.write("pkgs/plot/src/main.rs.orig", "ignored by .gitignore\n");
        ws.write(
            "pkgs/plot/vendor/src/lib.rs",
            "// a nested package, not a dependency\n",
        );
    });
    assert_eq!(ran, Vec::<String>::new());
}

#[test]
fn the_root_package_digest_skips_the_lock_the_store_and_run_outputs() {
    let ws = Ws::new(
        r#"version: 1
stages:
  tool:
    cmd: "echo tool >> \"$COUNTER\"; echo t > results/t.txt"
    shell: true
    code: [tool]
    outs: [results/t.txt]
"#,
    );
    ws.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\".\"]\n\n[package]\nname = \"tool\"\n",
    );
    ws.write("src/main.rs", "fn main() {}\n");
    ws.ok(&["run"]);
    // The lock, the store, `.repro` and `results/` changed; none of them is code.
    assert_eq!(reruns_after(&ws, |_| {}), Vec::<String>::new());
    assert_eq!(
        reruns_after(&ws, |ws| ws.write("src/main.rs", "fn main() { }\n")),
        ["tool"]
    );
}
