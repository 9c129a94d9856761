//! `repro params diff`, `repro metrics show` and `repro metrics diff`: `repro.lock` compared
//! between two commits of a real git repository (the working tree's lock against
//! `git show REV:repro.lock`), and every way the committed side can be missing or broken
//! named with exit 2.

use std::path::Path;
use std::process::Command;

use crate::common::{run_limited, Out, Ws};

const PIPELINE: &str = r#"version: 1
params:
  n: 1
  label: a
  label2: b
profiles:
  small:
    default: true
  big:
    params:
      n: 4
stages:
  make:
    cmd: "echo '{\"score\": ${params.n}}' > out/${task}.json"
    shell: true
    matrix:
      task: [x, y]
    outs: ["out/${task}.json"]
    metrics:
      files: ["out/${task}.json"]
      fields: [score]
      tolerance: 0
  other:
    cmd: "echo ${params.label} > other.txt"
    shell: true
    outs: [other.txt]
"#;

/// Runs real `git ARGS` in `dir`, confined to the test's temporary directory.
fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=repro tests",
            "-c",
            "user.email=tests@invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap_or(dir))
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `repro ARGS`, with git unable to find a repository above the temporary directory.
fn repro(ws: &Ws, args: &[&str]) -> Out {
    let mut cmd = ws.command(args);
    cmd.env("GIT_CEILING_DIRECTORIES", ws.tmp());
    let out = run_limited(cmd);
    assert!(!out.stderr.contains("panicked"), "{}", out.both());
    out
}

/// `repro ARGS` that must exit `code`.
fn code(ws: &Ws, args: &[&str], code: i32) -> Out {
    let out = repro(ws, args);
    assert_eq!(
        out.code,
        code,
        "`repro {}`:\n{}",
        args.join(" "),
        out.both()
    );
    out
}

/// A workspace whose first run is committed, then changed: `n` 1 -> 3 (both `make`
/// instances), `other` reads `label2` instead of `label`; and run again.
fn two_commits() -> Ws {
    let ws = Ws::new(PIPELINE);
    code(&ws, &["run"], 0);
    git(&ws.root, &["init", "-q"]);
    git(&ws.root, &["add", "pipeline.yaml", "repro.lock"]);
    git(&ws.root, &["commit", "-q", "-m", "first"]);
    ws.edit_pipeline("  n: 1", "  n: 3");
    ws.edit_pipeline("echo ${params.label} >", "echo ${params.label2} >");
    code(&ws, &["run"], 0);
    ws
}

#[test]
fn params_diff_lists_changed_added_and_removed_parameters_per_instance() {
    let ws = two_commits();
    let out = code(&ws, &["params", "diff"], 0);
    insta::assert_snapshot!(out.stdout, @r#"
    instance     param   HEAD  workspace  change
    make@task=x  n       1     3          changed
    make@task=y  n       1     3          changed
    other        label   "a"   -          removed
    other        label2  -     "b"        added
    "#);
    // Targets narrow it; `--all` adds what did not change (nothing here but `n`).
    let one = code(&ws, &["params", "diff", "-t", "make@task=y"], 0);
    assert_eq!(one.stdout.lines().count(), 2, "{}", one.both());
    let json = code(&ws, &["params", "diff", "--json", "-t", "other"], 0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(doc["old"], "HEAD");
    assert_eq!(doc["new"], "workspace");
    assert_eq!(doc["params"][0]["param"], "label");
    assert_eq!(doc["params"][0]["old"], "a");
    assert!(doc["params"][0]["new"].is_null());
    assert_eq!(doc["params"][1]["change"], "added");
    // Committed: the working tree equals HEAD, and two revisions compare two commits.
    git(&ws.root, &["commit", "-q", "-am", "second"]);
    let same = code(&ws, &["params", "diff"], 0);
    assert_eq!(
        same.stdout,
        "no parameter differs between `HEAD` and `workspace` (profile `small`)\n"
    );
    let revs = code(&ws, &["params", "diff", "HEAD~1", "HEAD", "-t", "make"], 0);
    assert!(
        revs.stdout.starts_with(
            "instance     param  HEAD~1  HEAD  change\nmake@task=x  n      1       3     changed\n"
        ),
        "{}",
        revs.both()
    );
}

#[test]
fn params_diff_without_cached_records_reads_each_sides_pipeline_file() {
    let ws = two_commits();
    // No record of either side: the working tree's pipeline and the one committed at HEAD
    // give the same answer the records gave.
    std::fs::remove_dir_all(ws.root.join("cache/actions")).expect("rm records");
    let out = code(&ws, &["params", "diff"], 0);
    insta::assert_snapshot!(out.stdout, @r#"
    instance     param   HEAD  workspace  change
    make@task=x  n       1     3          changed
    make@task=y  n       1     3          changed
    other        label   "a"   -          removed
    other        label2  -     "b"        added
    "#);
    assert!(!out.stderr.contains("unknown"), "{}", out.both());
}

#[test]
fn params_diff_never_takes_an_edited_pipelines_parameters_for_an_older_lock_entry() {
    let ws = two_commits();
    let lock = ws.read("repro.lock");
    let key = lock
        .split("[small] other\nkey ")
        .nth(1)
        .and_then(|r| r.lines().next())
        .expect("key of other")
        .to_owned();
    std::fs::remove_file(ws.root.join(format!("cache/actions/{key}.json"))).expect("rm record");
    // Edited, not run: the lock's entry still holds `label2: b`'s key.
    ws.edit_pipeline("  label2: b", "  label2: c");
    let out = code(&ws, &["params", "diff", "-t", "other"], 0);
    assert!(!out.stdout.contains("\"c\""), "{}", out.both());
    assert!(
        out.stderr
            .contains("the parameters of `other` at `workspace` are unknown"),
        "{}",
        out.both()
    );
}

#[test]
fn params_diff_names_what_neither_a_record_nor_a_committed_pipeline_gives() {
    let ws = Ws::new(PIPELINE);
    code(&ws, &["run"], 0);
    git(&ws.root, &["init", "-q"]);
    // Only the lock is committed: HEAD has no pipeline file to read parameters from.
    git(&ws.root, &["add", "repro.lock"]);
    git(&ws.root, &["commit", "-q", "-m", "lock only"]);
    ws.edit_pipeline("echo ${params.label} >", "echo ${params.label2} >");
    code(&ws, &["run"], 0);
    let lock = ws.read("repro.lock");
    let old_key = {
        let head = std::process::Command::new("git")
            .args(["show", "HEAD:repro.lock"])
            .current_dir(&ws.root)
            .output()
            .expect("git show");
        let text = String::from_utf8_lossy(&head.stdout).into_owned();
        text.split("[small] other\nkey ")
            .nth(1)
            .and_then(|r| r.lines().next())
            .expect("key of other at HEAD")
            .to_owned()
    };
    assert!(!lock.contains(&old_key), "the key changed");
    std::fs::remove_file(ws.root.join(format!("cache/actions/{old_key}.json"))).expect("rm record");
    let out = code(&ws, &["params", "diff", "-t", "other"], 0);
    assert!(
        out.stderr.contains(&format!(
            "the parameters of `other` at `HEAD` are unknown: its record `{old_key}` is not in the local cache (`repro pull` fetches it) and the pipeline file there does not give them"
        )),
        "{}",
        out.both()
    );
    assert_eq!(
        out.stdout,
        "no parameter differs between `HEAD` and `workspace` (profile `small`) among the instances whose parameters are known\n"
    );
    let json = code(&ws, &["params", "diff", "--json"], 0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(doc["unknown"][0]["instance"], "other", "{doc}");
    assert_eq!(doc["unknown"][0]["key"], old_key.as_str());
}

#[test]
fn metrics_show_lists_the_recorded_metrics_of_the_profile_and_targets() {
    let ws = Ws::new(PIPELINE);
    code(&ws, &["run"], 0);
    let all = code(&ws, &["metrics", "show"], 0);
    insta::assert_snapshot!(all.stdout, @r"
    instance     metric            value
    make@task=x  out/x.json#score  1
    make@task=y  out/y.json#score  1
    ");
    let one = code(&ws, &["metrics", "show", "make@task=y", "--json"], 0);
    let doc: serde_json::Value = serde_json::from_str(&one.stdout).expect("json");
    assert_eq!(doc["profile"], "small");
    assert_eq!(doc["metrics"]["make@task=y"]["out/y.json#score"], 1.0);
    assert!(doc["metrics"].get("make@task=x").is_none(), "{doc}");
    // `-p` chooses the lock entries of another profile: none until it ran.
    let big = code(&ws, &["metrics", "show", "-p", "big"], 0);
    assert_eq!(
        big.stdout,
        "no metrics recorded in `repro.lock` for profile `big`\n"
    );
    code(&ws, &["run", "-p", "big"], 0);
    let big = code(&ws, &["metrics", "show", "-p", "big", "make@task=x"], 0);
    assert!(
        big.stdout.contains("make@task=x  out/x.json#score  4\n"),
        "{}",
        big.both()
    );
    let bad = code(&ws, &["metrics", "show", "trian"], 2);
    insta::assert_snapshot!(bad.stderr, @r"
    error: target `trian` matches no instance recorded in `repro.lock` for profile `small`
    hint: `repro metrics show` lists the recorded instances; `-p` chooses the profile
    ");
}

#[test]
fn metrics_diff_shows_old_new_and_change() {
    let ws = two_commits();
    let out = code(&ws, &["metrics", "diff"], 0);
    insta::assert_snapshot!(out.stdout, @r"
    instance     metric            HEAD  workspace  change
    make@task=x  out/x.json#score  1     3          +2
    make@task=y  out/y.json#score  1     3          +2
    ");
    let json = code(&ws, &["metrics", "diff", "--json", "-t", "make@task=x"], 0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(doc["metrics"].as_array().map(Vec::len), Some(1), "{doc}");
    assert_eq!(doc["metrics"][0]["old"], 1.0);
    assert_eq!(doc["metrics"][0]["new"], 3.0);
    assert_eq!(doc["metrics"][0]["change"], 2.0);
}

#[test]
fn a_missing_or_broken_committed_lock_is_named_with_exit_2() {
    let ws = Ws::new(PIPELINE);
    code(&ws, &["run"], 0);
    let not_git = code(&ws, &["metrics", "diff"], 2);
    insta::assert_snapshot!(not_git.stderr, @r"
    error: `.` is not inside a git repository
    hint: these commands compare `repro.lock` between git commits: commit it in a git repository first (`git init`, `git add repro.lock`, `git commit`)
    ");
    git(&ws.root, &["init", "-q"]);
    git(&ws.root, &["add", "pipeline.yaml"]);
    git(&ws.root, &["commit", "-q", "-m", "no lock"]);
    let no_lock = code(&ws, &["params", "diff"], 2);
    insta::assert_snapshot!(no_lock.stderr, @r"
    error: no `repro.lock` at revision `HEAD`
    hint: `repro.lock` was not committed at that revision; name a later one (`git log --oneline -- repro.lock`)
    ");
    let unknown = code(&ws, &["params", "diff", "v9"], 2);
    insta::assert_snapshot!(unknown.stderr, @r"
    error: unknown revision `v9`
    hint: name a commit, branch or tag (`git log --oneline` lists commits)
    ");
    let option = code(&ws, &["metrics", "diff", "--", "--all"], 2);
    assert!(
        option.stderr.starts_with("error: unknown revision `--all`"),
        "{}",
        option.both()
    );
    let good = ws.read("repro.lock");
    ws.write("repro.lock", &good.replacen("\nkey ", "\nkey nothex", 1));
    git(&ws.root, &["add", "repro.lock"]);
    git(&ws.root, &["commit", "-q", "-m", "broken lock"]);
    ws.write("repro.lock", &good);
    let broken = code(&ws, &["metrics", "diff"], 2);
    assert!(
        broken
            .stderr
            .starts_with("error: failed to parse `HEAD:repro.lock` at line 4: key `nothex"),
        "{}",
        broken.both()
    );
    let three = code(&ws, &["params", "diff", "a", "b", "c"], 2);
    assert!(three.stderr.contains("error:"), "{}", three.both());
}
