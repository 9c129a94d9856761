//! Hit and miss for every reason an instance goes stale: each test changes one input, checks
//! that `repro status` names the reason (and `--check` fails), that `repro run` re-runs exactly
//! the affected instances (the counter), and that everything is fresh afterwards.

use crate::common::{json_lines, redact, Ws};

/// Two tasks; `prep` copies a raw input, `train` runs a glob-tracked script with a per-task
/// learning rate and a declared environment variable.
const PIPELINE: &str = r#"version: 1
params:
  lr: {a: 1.0, b: 2.0}
stages:
  prep:
    cmd: "echo prep-${task} >> \"$COUNTER\"; cat inputs/${task}.txt > data/${task}.txt"
    shell: true
    matrix:
      task: [a, b]
    deps: ["inputs/${task}.txt"]
    outs: ["data/${task}.txt"]
  train:
    cmd: "echo train-${task} >> \"$COUNTER\"; sh src/model.sh ${params.lr.${task}} < data/${task}.txt > runs/${task}.txt"
    shell: true
    matrix:
      task: [a, b]
    deps: ["data/${task}.txt"]
    code: ["src/*.sh"]
    env: {MODE: fast}
    outs: ["runs/${task}.txt"]
"#;

/// A workspace with everything run once.
fn ran_once() -> Ws {
    let ws = Ws::new(PIPELINE);
    ws.write("inputs/a.txt", "alpha\n");
    ws.write("inputs/b.txt", "beta\n");
    ws.write("src/model.sh", "cat\necho \"lr=$1 mode=$MODE\"\n");
    ws.ok(&["run", "-j", "2"]);
    assert_eq!(
        ws.ran().len(),
        4,
        "first run runs every instance once: {:?}",
        ws.ran()
    );
    ws
}

/// The reasons `repro status` prints for one instance (`None`: not listed, i.e. fresh).
fn status_of(out: &str, instance: &str) -> Option<String> {
    out.lines()
        .find(|l| l.split_whitespace().nth(1) == Some(&format!("{instance}:")))
        .map(str::to_owned)
}

/// Asserts that `status --check` fails, returning the status text.
fn stale_status(ws: &Ws) -> String {
    let out = ws.code(&["status", "--check"], 1);
    assert!(out.stderr.contains("stale"), "{}", out.both());
    out.stdout
}

/// Asserts a clean state: `status --check` passes, `run` does nothing.
fn assert_clean(ws: &Ws) {
    let before = ws.ran().len();
    let st = ws.code(&["status", "--check"], 0);
    assert!(
        st.stdout.contains("all 4 instances up to date"),
        "{}",
        st.both()
    );
    let run = ws.ok(&["run"]);
    assert!(run.stderr.contains("nothing to do"), "{}", run.both());
    assert_eq!(ws.ran().len(), before, "a clean workspace ran something");
}

#[test]
fn never_run_is_stale_then_second_run_does_nothing() {
    let ws = Ws::new(PIPELINE);
    ws.write("inputs/a.txt", "alpha\n");
    ws.write("inputs/b.txt", "beta\n");
    ws.write("src/model.sh", "cat\n");
    let st = stale_status(&ws);
    insta::assert_snapshot!(redact(&st), @r"
    run      prep@task=a: never run
    run      prep@task=b: never run
    run      train@task=a: upstream `prep@task=a` is stale
    run      train@task=b: upstream `prep@task=b` is stale
    stage  instances  fresh  run  restore  running  failed
    prep           2      0    2        0        0       0
    train          2      0    2        0        0       0
    4 of 4 instances stale (profile `default`)
    ");
    ws.ok(&["run"]);
    let mut ran = ws.ran();
    ran.sort();
    assert_eq!(ran, ["prep-a", "prep-b", "train-a", "train-b"]);
    assert_clean(&ws);
}

#[test]
fn param_change_reruns_only_the_instance_that_reads_it() {
    let ws = ran_once();
    ws.edit_pipeline("lr: {a: 1.0,", "lr: {a: 1.5,");
    let st = stale_status(&ws);
    assert_eq!(
        status_of(&st, "train@task=a").as_deref(),
        Some("run      train@task=a: param `lr.a` changed from 1.0 to 1.5"),
        "{st}"
    );
    assert_eq!(status_of(&st, "train@task=b"), None, "{st}");
    assert_eq!(status_of(&st, "prep@task=a"), None, "{st}");
    let run = ws.ok(&["run"]);
    assert!(
        run.stderr
            .contains("started   train@task=a [cpu] (param `lr.a` changed from 1.0 to 1.5)"),
        "{}",
        run.both()
    );
    assert_eq!(ws.ran()[4..], ["train-a"]);
    assert!(ws.read("runs/a.txt").contains("lr=1.5"));
    assert_clean(&ws);
}

#[test]
fn param_reverted_restores_from_cache_without_running() {
    let ws = ran_once();
    ws.edit_pipeline("lr: {a: 1.0,", "lr: {a: 1.5,");
    ws.ok(&["run"]);
    assert_eq!(ws.ran().len(), 5);
    ws.edit_pipeline("lr: {a: 1.5,", "lr: {a: 1.0,");
    let st = stale_status(&ws);
    assert_eq!(
        status_of(&st, "train@task=a").as_deref(),
        Some("restore  train@task=a: output `runs/a.txt` modified"),
        "{st}"
    );
    let run = ws.ok(&["run"]);
    assert!(
        run.stderr.contains("restored  train@task=a"),
        "{}",
        run.both()
    );
    assert_eq!(ws.ran().len(), 5, "a cached key must not run again");
    assert!(ws.read("runs/a.txt").contains("lr=1.0"));
    assert_clean(&ws);
}

#[test]
fn dep_change_reruns_the_reader_and_its_downstream() {
    let ws = ran_once();
    ws.write("inputs/a.txt", "ALPHA\n");
    let st = stale_status(&ws);
    assert_eq!(
        status_of(&st, "prep@task=a").as_deref(),
        Some("run      prep@task=a: dep `inputs/a.txt` changed"),
        "{st}"
    );
    assert_eq!(
        status_of(&st, "train@task=a").as_deref(),
        Some("run      train@task=a: upstream `prep@task=a` is stale"),
        "{st}"
    );
    assert_eq!(status_of(&st, "prep@task=b"), None, "{st}");
    let run = ws.ok(&["run"]);
    assert!(
        run.stderr
            .contains("started   train@task=a [cpu] (dep `data/a.txt` changed)"),
        "{}",
        run.both()
    );
    assert_eq!(ws.ran()[4..], ["prep-a", "train-a"]);
    assert!(ws.read("runs/a.txt").starts_with("ALPHA"));
    assert_clean(&ws);
}

/// An instance whose own code changed while its upstream is also stale once showed only
/// "upstream stale": status (and `show`, `run -n`) list every reason.
#[test]
fn status_shows_own_reasons_beside_the_stale_upstream() {
    let ws = ran_once();
    ws.write("inputs/a.txt", "ALPHA\n");
    ws.write("src/model.sh", "cat\necho \"lr=$1 mode=$MODE v2\"\n");
    ws.edit_pipeline("lr: {a: 1.0,", "lr: {a: 1.5,");
    let st = stale_status(&ws);
    insta::assert_snapshot!(st, @r"
    run      prep@task=a: dep `inputs/a.txt` changed
    run      train@task=a: upstream `prep@task=a` is stale; param `lr.a` changed from 1.0 to 1.5; code of `src/*.sh` changed
    run      train@task=b: code of `src/*.sh` changed
    stage  instances  fresh  run  restore  running  failed
    prep           2      1    1        0        0       0
    train          2      0    2        0        0       0
    3 of 4 instances stale (profile `default`)
    ");
    let dry = ws.ok(&["run", "-n", "--json"]);
    let events = json_lines(&dry.stdout);
    let train_a = events
        .iter()
        .find(|e| e["id"] == "train@task=a")
        .unwrap_or_else(|| panic!("{}", dry.stdout));
    let reasons: Vec<&str> = train_a["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["upstream_stale", "param_changed", "code_changed"],
        "{}",
        dry.stdout
    );
}

#[test]
fn code_change_in_a_glob_reruns_every_stage_that_lists_it() {
    let ws = ran_once();
    ws.write("src/model.sh", "cat\necho \"lr=$1 mode=$MODE v2\"\n");
    let st = stale_status(&ws);
    for t in ["a", "b"] {
        assert_eq!(
            status_of(&st, &format!("train@task={t}")),
            Some(format!(
                "run      train@task={t}: code of `src/*.sh` changed"
            )),
            "{st}"
        );
        assert_eq!(status_of(&st, &format!("prep@task={t}")), None, "{st}");
    }
    ws.ok(&["run"]);
    let mut again = ws.ran()[4..].to_vec();
    again.sort();
    assert_eq!(again, ["train-a", "train-b"]);
    assert_clean(&ws);
}

#[test]
fn a_new_file_matching_the_code_glob_counts_as_a_code_change() {
    let ws = ran_once();
    ws.write("src/extra.sh", "true\n");
    let st = stale_status(&ws);
    assert!(
        status_of(&st, "train@task=a").is_some_and(|l| l.contains("code of `src/*.sh` changed")),
        "{st}"
    );
}

#[test]
fn command_change_reruns_with_reason_command_changed() {
    let ws = ran_once();
    ws.edit_pipeline("sh src/model.sh", "true; sh src/model.sh");
    let st = stale_status(&ws);
    assert_eq!(
        status_of(&st, "train@task=a").as_deref(),
        Some("run      train@task=a: command changed"),
        "{st}"
    );
    assert_eq!(status_of(&st, "prep@task=a"), None, "{st}");
    ws.ok(&["run"]);
    assert_eq!(ws.ran().len(), 6);
    assert_clean(&ws);
}

#[test]
fn env_change_reruns_with_reason_env_changed() {
    let ws = ran_once();
    ws.edit_pipeline("MODE: fast", "MODE: slow");
    let st = stale_status(&ws);
    assert_eq!(
        status_of(&st, "train@task=b").as_deref(),
        Some("run      train@task=b: env `MODE` changed"),
        "{st}"
    );
    ws.ok(&["run"]);
    assert_eq!(ws.ran().len(), 6);
    assert!(
        ws.read("runs/b.txt").contains("mode=slow"),
        "the declared env reaches the stage"
    );
    assert_clean(&ws);
}

#[test]
fn undeclared_environment_does_not_enter_the_key() {
    let ws = ran_once();
    let mut cmd = ws.command(&["status", "--check"]);
    cmd.env("SOME_UNRELATED_VARIABLE", "1")
        .env("MODE", "changed-outside");
    let out = crate::common::run_limited(cmd);
    assert_eq!(out.code, 0, "{}", out.both());
}

#[test]
fn missing_output_is_restored_from_cache_without_running() {
    let ws = ran_once();
    let original = ws.read("runs/a.txt");
    std::fs::remove_file(ws.root.join("runs/a.txt")).unwrap();
    let st = stale_status(&ws);
    assert_eq!(
        status_of(&st, "train@task=a").as_deref(),
        Some("restore  train@task=a: output `runs/a.txt` missing"),
        "{st}"
    );
    let run = ws.ok(&["run"]);
    assert!(
        run.stderr.contains("restored  train@task=a"),
        "{}",
        run.both()
    );
    assert!(
        run.stderr.contains("0 ran, 1 restored, 3 fresh"),
        "{}",
        run.both()
    );
    assert_eq!(ws.ran().len(), 4, "restoring must not run the stage");
    assert_eq!(ws.read("runs/a.txt"), original);
    assert_clean(&ws);
}

#[test]
fn whole_output_tree_deleted_is_restored_and_the_next_run_says_nothing_to_do() {
    let ws = ran_once();
    std::fs::remove_dir_all(ws.root.join("runs")).unwrap();
    std::fs::remove_dir_all(ws.root.join("data")).unwrap();
    let run = ws.ok(&["run"]);
    assert!(run.stderr.contains("0 ran, 4 restored"), "{}", run.both());
    assert_eq!(ws.ran().len(), 4);
    let again = ws.ok(&["run"]);
    assert!(
        again
            .stderr
            .contains("nothing to do: all 4 instances are up to date"),
        "{}",
        again.both()
    );
}

#[test]
fn modified_output_is_restored_to_the_recorded_content() {
    let ws = ran_once();
    let original = ws.read("runs/b.txt");
    ws.write("runs/b.txt", "tampered\n");
    let st = stale_status(&ws);
    assert_eq!(
        status_of(&st, "train@task=b").as_deref(),
        Some("restore  train@task=b: output `runs/b.txt` modified"),
        "{st}"
    );
    ws.ok(&["run"]);
    assert_eq!(ws.ran().len(), 4);
    assert_eq!(ws.read("runs/b.txt"), original);
    assert_clean(&ws);
}

#[test]
fn restored_outputs_are_writable_copies_that_do_not_alias_the_cache() {
    let ws = ran_once();
    std::fs::remove_file(ws.root.join("runs/a.txt")).unwrap();
    ws.ok(&["run"]);
    // Editing the restored file must not reach the stored object.
    ws.write("runs/a.txt", "edited\n");
    let v = ws.code(&["verify"], 1);
    assert!(
        v.stdout.contains("workspace output `runs/a.txt`"),
        "{}",
        v.both()
    );
    assert!(
        !v.stdout.contains("cache:"),
        "a workspace edit reached the cache:\n{}",
        v.both()
    );
    std::fs::remove_file(ws.root.join("runs/a.txt")).unwrap();
    ws.ok(&["run"]);
    assert!(ws.read("runs/a.txt").starts_with("alpha"));
}

#[test]
fn status_json_parses_and_carries_reasons() {
    let ws = ran_once();
    ws.edit_pipeline("lr: {a: 1.0,", "lr: {a: 1.5,");
    let out = ws.code(&["status", "--json", "--check"], 1);
    let doc: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    assert_eq!(doc["total"], 4);
    assert_eq!(doc["stale"], 1);
    assert_eq!(doc["profile"], "default");
    let rows = doc["instances"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["instance"] == "train@task=a")
        .unwrap();
    assert_eq!(row["state"], "run");
    assert_eq!(
        row["reasons"],
        serde_json::json!([{"reason": "param_changed", "name": "lr.a", "from": 1.0, "to": 1.5}])
    );
    let fresh = rows
        .iter()
        .find(|r| r["instance"] == "train@task=b")
        .unwrap();
    assert_eq!(fresh["state"], "fresh");
    assert_eq!(fresh["key"].as_str().map(str::len), Some(64));
}

#[test]
fn run_json_emits_one_event_per_line_with_reasons_and_a_summary() {
    let ws = ran_once();
    std::fs::remove_file(ws.root.join("runs/b.txt")).unwrap();
    ws.edit_pipeline("MODE: fast", "MODE: slower");
    let out = ws.ok(&["run", "--json"]);
    let events = json_lines(&out.stdout);
    assert_eq!(events.first().unwrap()["event"], "plan");
    let started: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["event"] == "started").collect();
    assert_eq!(started.len(), 2, "{}", out.stdout);
    assert!(
        started.iter().all(
            |e| e["reasons"][0]["reason"] == "env_changed" && e["reasons"][0]["name"] == "MODE"
        ),
        "{}",
        out.stdout
    );
    let summary = events.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert_eq!(
        (
            summary["ran"].as_u64(),
            summary["fresh"].as_u64(),
            summary["failed"].as_u64()
        ),
        (Some(2), Some(2), Some(0))
    );
    assert!(
        out.stderr.is_empty() || !out.stderr.contains("started"),
        "progress must not mix into --json: {}",
        out.stderr
    );
}

#[test]
fn dry_run_reports_and_changes_nothing() {
    let ws = ran_once();
    ws.write("inputs/b.txt", "BETA\n");
    let out = ws.ok(&["run", "--dry-run"]);
    assert!(
        out.stdout
            .contains("would run      prep@task=b: dep `inputs/b.txt` changed"),
        "{}",
        out.both()
    );
    assert!(
        out.stdout
            .contains("2 to run, 0 to restore, 2 up to date (4 selected)"),
        "{}",
        out.both()
    );
    assert_eq!(ws.ran().len(), 4);
    ws.code(&["status", "--check"], 1);
}

#[test]
fn force_reruns_the_target_and_identical_output_keeps_downstream_fresh() {
    let ws = ran_once();
    let out = ws.ok(&["run", "--force", "prep@task=a"]);
    assert!(
        out.stderr.contains("started   prep@task=a [cpu] (forced)"),
        "{}",
        out.both()
    );
    assert!(
        out.stderr.contains("1 ran, 0 restored, 0 fresh"),
        "only the target and its upstream are selected:\n{}",
        out.both()
    );
    assert_eq!(ws.ran()[4..], ["prep-a"]);
    assert_clean(&ws);
}

#[test]
fn build_command_runs_once_before_the_first_job_and_never_on_a_noop_or_restore() {
    let ws = Ws::new(&PIPELINE.replacen(
        "params:",
        "build: [sh, -c, \"echo build >> $COUNTER\"]\nparams:",
        1,
    ));
    ws.write("inputs/a.txt", "alpha\n");
    ws.write("inputs/b.txt", "beta\n");
    ws.write("src/model.sh", "cat\n");
    ws.ok(&["run", "-j", "2"]);
    assert_eq!(ws.ran().first().map(String::as_str), Some("build"));
    assert_eq!(ws.count("build"), 1);
    ws.ok(&["run"]);
    std::fs::remove_file(ws.root.join("runs/a.txt")).unwrap();
    ws.ok(&["run"]);
    assert_eq!(
        ws.count("build"),
        1,
        "no-op and restore-only runs do not build"
    );
    ws.write("src/model.sh", "cat\n# v2\n");
    ws.ok(&["run"]);
    assert_eq!(ws.count("build"), 2);
}

#[test]
fn no_build_skips_the_build_command_but_not_the_stages() {
    let ws = Ws::new(&PIPELINE.replacen(
        "params:",
        "build: [sh, -c, \"echo build >> $COUNTER; exit 3\"]\nparams:",
        1,
    ));
    ws.write("inputs/a.txt", "alpha\n");
    ws.write("inputs/b.txt", "beta\n");
    ws.write("src/model.sh", "cat\n");
    let failed = ws.code(&["run"], 1);
    assert!(
        failed.both().contains("build"),
        "a failing build stops the run:\n{}",
        failed.both()
    );
    assert_eq!(ws.ran(), ["build"], "no stage ran after the failed build");
    ws.ok(&["run", "--no-build"]);
    assert_eq!(ws.count("build"), 1, "--no-build never runs the build");
    assert!(ws.ran().len() > 1, "the stages ran: {:?}", ws.ran());
    ws.ok(&["status", "--check"]);
}
