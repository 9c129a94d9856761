//! `repro init`, `repro clean`, `repro profiles` and `repro completions`: the commands a new
//! user reaches for around the run itself.

use std::fs;

use crate::common::{command_in, run_limited, Ws};

/// A workspace directory `ws` with no pipeline yet (the `Ws` helper's file removed).
fn empty() -> Ws {
    let ws = Ws::new("");
    fs::remove_file(ws.root.join("pipeline.yaml")).expect("rm");
    ws
}

#[test]
fn init_writes_a_starter_that_runs_and_the_gitignore_lines_once() {
    let ws = empty();
    ws.write(".gitignore", "target\n/cache/*");
    let out = ws.ok(&["init"]);
    assert!(
        out.stderr.starts_with(
            "repro: wrote `pipeline.yaml` (stages `generate` and `summarize`, profiles `quick` and `full`) and 4 lines to `.gitignore`"
        ),
        "{}",
        out.both()
    );
    let ignore = ws.read(".gitignore");
    assert!(ignore.starts_with("target\n/cache/*\n# repro"), "{ignore}");
    for line in [
        "/.repro/",
        "/cache/*",
        "/repro.local.yaml",
        "/data/",
        "/results/",
    ] {
        assert_eq!(
            ignore.lines().filter(|l| *l == line).count(),
            1,
            "{line} in {ignore}"
        );
    }
    // The starter runs as written, and records its metric.
    let run = ws.ok(&["run"]);
    assert!(run.stderr.contains("2 ran, 0 restored"), "{}", run.both());
    let shown = ws.ok(&["metrics", "show"]);
    assert!(
        shown
            .stdout
            .contains("summarize  results/summary.json#lines  3"),
        "{}",
        shown.both()
    );
    ws.ok(&["run", "-p", "full"]);
    // Never over an existing pipeline, and nothing else is touched.
    let before = ws.read("pipeline.yaml");
    let again = ws.code(&["init"], 2);
    insta::assert_snapshot!(again.stderr, @r"
    error: `pipeline.yaml` exists already; refusing to overwrite it
    hint: remove it first to start over, or run `repro init` in another directory
    ");
    assert_eq!(ws.read("pipeline.yaml"), before);
    assert_eq!(ws.read(".gitignore"), ignore);
}

#[test]
fn init_creates_the_named_directory() {
    let ws = empty();
    let out = ws.ok(&["init", "sub/dir"]);
    assert!(
        out.stderr.contains("`sub/dir/pipeline.yaml`"),
        "{}",
        out.both()
    );
    assert!(ws.root.join("sub/dir/pipeline.yaml").is_file());
    assert!(ws.read("sub/dir/.gitignore").contains("/.repro/\n"));
    let run = run_limited(command_in(&ws.root.join("sub/dir"), &ws.counter, &["run"]));
    assert_eq!(run.code, 0, "{}", run.both());
    let f = ws.code(&["init", "-f", "x.yaml"], 2);
    insta::assert_snapshot!(f.stderr, @r"
    error: `repro init` writes `pipeline.yaml` into a directory; `-f x.yaml` names no directory
    hint: name the directory instead: `repro init DIR`
    ");
    assert!(!ws.root.join("x.yaml").exists());
}

const TWO: &str = r#"version: 1
profiles:
  small:
    default: true
    description: one task
    matrix:
      task: [a]
  all: {}
  none:
    skip: [make, sum]
stages:
  make:
    cmd: "echo ${task} >> \"$COUNTER\"; echo ${task} > out/${task}/v.txt"
    shell: true
    matrix:
      task: [a, b]
    outs: ["out/${task}/v.txt"]
  sum:
    cmd: "cat out/*/v.txt > sum.txt"
    shell: true
    deps: [out]
    outs: [sum.txt]
"#;

#[test]
fn clean_deletes_the_profiles_outputs_and_the_next_run_restores_them() {
    let ws = Ws::new(TWO);
    ws.ok(&["run"]);
    let objects = ws.objects();
    let dry = ws.ok(&["clean", "-n"]);
    assert_eq!(
        dry.stdout,
        "would delete out/a/v.txt\nwould delete sum.txt\n",
        "{}",
        dry.both()
    );
    assert!(ws.root.join("sum.txt").is_file(), "-n deletes nothing");
    let only = ws.ok(&["clean", "sum"]);
    assert_eq!(only.stdout, "deleted sum.txt\n");
    assert!(ws.root.join("out/a/v.txt").is_file());
    let all = ws.ok(&["clean"]);
    assert_eq!(all.stdout, "deleted out/a/v.txt\n");
    assert!(
        all.stderr
            .contains("deleted 1 output of profile `small`; the cache keeps them"),
        "{}",
        all.both()
    );
    assert_eq!(ws.objects(), objects, "the cache keeps every object");
    let run = ws.ok(&["run"]);
    assert!(run.stderr.contains("0 ran, 2 restored"), "{}", run.both());
    assert_eq!(ws.ran(), ["a"], "nothing ran again");
    assert_eq!(ws.read("sum.txt"), "a\n");
    // Another profile's outputs are its own.
    ws.ok(&["run", "-p", "all"]);
    let other = ws.ok(&["clean", "-p", "all", "-n", "make"]);
    assert_eq!(
        other.stdout,
        "would delete out/a/v.txt\nwould delete out/b/v.txt\n"
    );
}

#[test]
fn clean_refuses_an_output_below_a_symbolic_link() {
    let ws = Ws::new(TWO);
    ws.ok(&["run"]);
    let outside = ws.tmp().join("outside");
    fs::create_dir_all(outside.join("a")).expect("mkdir");
    fs::write(outside.join("a/v.txt"), "keep").expect("write");
    fs::remove_dir_all(ws.root.join("out")).expect("rm out");
    std::os::unix::fs::symlink(&outside, ws.root.join("out")).expect("symlink");
    let out = ws.code(&["clean", "make"], 2);
    insta::assert_snapshot!(out.stderr, @r"
    error: refusing to delete `out/a/v.txt`: its parent `out` is a symbolic link, so it may lie outside the workspace
    hint: declare outputs as plain paths inside the workspace, outside `cache/` and `.repro/`
    ");
    assert_eq!(
        fs::read_to_string(outside.join("a/v.txt")).expect("read"),
        "keep"
    );
}

#[test]
fn profiles_lists_default_counts_skips_and_descriptions() {
    let ws = Ws::new(TWO);
    let out = ws.ok(&["profiles"]);
    insta::assert_snapshot!(out.stdout, @r"
    profile  default  instances  skips     description
    all               3          -
    none              0          make,sum
    small    yes      2          -         one task
    ");
    let json = ws.ok(&["profiles", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(doc[2]["name"], "small");
    assert_eq!(doc[2]["default"], true);
    assert_eq!(doc[2]["instances"], 2);
    assert_eq!(doc[1]["skipped"][1], "sum");
    // Without profiles, the one line is the name the lock records.
    let plain = Ws::new("version: 1\nstages:\n  a:\n    cmd: \"true\"\n    outs: [x]\n");
    let out = plain.ok(&["profiles"]);
    assert!(
        out.stdout.contains("\ndefault  yes      1"),
        "{}",
        out.both()
    );
}

#[test]
fn completions_print_a_script_naming_the_commands() {
    let ws = empty();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef repro"),
        ("fish", "complete -c repro"),
    ] {
        let out = ws.ok(&["completions", shell]);
        assert!(
            out.stdout.contains(marker),
            "{shell}: {}",
            &out.stdout[..200.min(out.stdout.len())]
        );
        for cmd in ["params", "metrics", "clean", "profiles", "run"] {
            assert!(out.stdout.contains(cmd), "{shell} lacks {cmd}");
        }
        assert!(
            !out.stdout.contains("internal-reaper"),
            "{shell}: hidden commands stay hidden"
        );
    }
    // The bash script completes in a real bash: `repro me<TAB>`, `repro metrics <TAB>`.
    let script = ws.tmp().join("repro.bash");
    fs::write(&script, ws.ok(&["completions", "bash"]).stdout).expect("write");
    let probe = std::process::Command::new("bash")
        .arg("-c")
        .arg(r#"source "$1"; COMP_WORDS=(repro me); COMP_CWORD=1; _repro repro me repro; echo "${COMPREPLY[*]}"; COMP_WORDS=(repro metrics ""); COMP_CWORD=2; _repro repro "" metrics; echo "${COMPREPLY[*]}""#)
        .arg("bash")
        .arg(&script)
        .output()
        .expect("run bash");
    let said = String::from_utf8_lossy(&probe.stdout);
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines.first(), Some(&"metrics"), "{said}");
    assert!(
        lines.get(1).is_some_and(|l| l.contains("show diff")),
        "{said}"
    );
    let bad = ws.code(&["completions", "tcsh"], 2);
    assert!(
        bad.stderr.contains("invalid value 'tcsh'"),
        "{}",
        bad.both()
    );
}
