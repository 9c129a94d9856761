//! `repro verify --reference`: a fresh run compared with a recorded lock file: data bit for bit,
//! declared metrics within the stage's tolerance, dependents of tolerant outputs by their
//! structural keys.

use crate::common::{run_limited, Ws};

const PIPELINE: &str = r#"version: 1
stages:
  gen:
    cmd: "echo data > d.txt"
    shell: true
    outs: [d.txt]
  train:
    cmd: "mkdir -p m; printf '{\"acc\": %s}' \"$NOISE\" > m/metrics.json; date +%N > m/stamp"
    shell: true
    deps: [d.txt]
    outs: [m]
    metrics: {files: [m/metrics.json], fields: [acc], tolerance: 0.01}
  stats:
    cmd: "cat m/metrics.json m/stamp > s.txt"
    shell: true
    deps: [m]
    outs: [s.txt]
"#;

/// Runs the pipeline with `NOISE` set, asserting success.
fn run_with(ws: &Ws, noise: &str) {
    let mut cmd = ws.command(&["run"]);
    cmd.env("NOISE", noise);
    let out = run_limited(cmd);
    assert_eq!(out.code, 0, "{}", out.both());
}

/// Forgets every cached result and output, as a fresh clone with only `repro.lock` would.
fn fresh_clone(ws: &Ws) {
    for p in ["cache/objects", "cache/actions", "m", "s.txt", "d.txt"] {
        let _ = std::fs::remove_dir_all(ws.root.join(p));
        let _ = std::fs::remove_file(ws.root.join(p));
    }
}

fn recorded(ws: &Ws, noise: &str) -> std::path::PathBuf {
    run_with(ws, noise);
    let reference = ws.tmp().join("reference.lock");
    std::fs::copy(ws.root.join("repro.lock"), &reference).unwrap();
    fresh_clone(ws);
    reference
}

#[test]
fn rerun_within_tolerance_is_accepted_with_exact_data_and_derived_dependents() {
    let ws = Ws::new(PIPELINE);
    let reference = recorded(&ws, "0.500");
    run_with(&ws, "0.505");
    let out = ws.ok(&["verify", "--reference", reference.to_str().unwrap()]);
    assert!(
        out.stdout.contains("1 exact, 1 within tolerance")
            && out
                .stdout
                .contains("1 derived from tolerant upstream, 0 mismatched"),
        "{}",
        out.both()
    );
}

#[test]
fn metric_outside_tolerance_is_a_mismatch_naming_the_field() {
    let ws = Ws::new(PIPELINE);
    let reference = recorded(&ws, "0.500");
    run_with(&ws, "0.600");
    let out = ws.code(&["verify", "--reference", reference.to_str().unwrap()], 1);
    assert!(
        out.stdout.contains("m/metrics.json#acc") && out.stdout.contains("tolerance 0.01"),
        "{}",
        out.both()
    );
}

#[test]
fn verify_json_carries_the_reference_counts_and_each_mismatch() {
    let ws = Ws::new(PIPELINE);
    let reference = recorded(&ws, "0.500");
    run_with(&ws, "0.600");
    let out = ws.code(
        &[
            "verify",
            "--json",
            "--reference",
            reference.to_str().unwrap(),
        ],
        1,
    );
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let r = &doc["reference"];
    assert_eq!(
        (r["exact"].as_u64(), r["mismatched"].as_u64()),
        (Some(1), Some(2)),
        "gen is exact; train is out of tolerance and stats reads it: {doc}"
    );
    assert!((r["worst"].as_f64().unwrap() - 0.1).abs() < 1e-9, "{doc}");
    let problems = doc["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains("m/metrics.json#acc")),
        "{doc}"
    );
}

#[test]
fn changed_dependent_of_a_tolerant_output_is_not_excused() {
    let ws = Ws::new(PIPELINE);
    let reference = recorded(&ws, "0.500");
    ws.edit_pipeline(
        "cat m/metrics.json m/stamp > s.txt",
        "cat m/stamp m/metrics.json > s.txt",
    );
    run_with(&ws, "0.500");
    let out = ws.code(&["verify", "--reference", reference.to_str().unwrap()], 1);
    assert!(out.stdout.contains("MISMATCH stats: key"), "{}", out.both());
}

#[test]
fn a_declared_metric_that_is_not_a_number_fails_the_stage_instead_of_passing_verify() {
    let ws = Ws::new(PIPELINE);
    let mut cmd = ws.command(&["run"]);
    cmd.env("NOISE", "\"nan\"");
    let out = run_limited(cmd);
    assert_eq!(out.code, 1, "{}", out.both());
    assert!(
        out.stderr
            .contains("declared metric `acc` in `m/metrics.json` is not a number"),
        "{}",
        out.both()
    );
    assert!(
        !ws.read("repro.lock").contains("[default] train"),
        "nothing is published for it"
    );
}

#[test]
fn a_typo_in_declared_metric_fields_fails_the_stage() {
    let ws = Ws::new(&PIPELINE.replace("fields: [acc]", "fields: [acc, acurracy]"));
    let mut cmd = ws.command(&["run"]);
    cmd.env("NOISE", "0.5");
    let out = run_limited(cmd);
    assert_eq!(out.code, 1, "{}", out.both());
    assert!(
        out.stderr
            .contains("declared metric `acurracy` is missing from `m/metrics.json`"),
        "{}",
        out.both()
    );
}

#[test]
fn a_reference_lock_that_does_not_exist_is_a_usage_error_not_a_list_of_missing_entries() {
    let ws = Ws::new(PIPELINE);
    run_with(&ws, "0.500");
    let out = ws.code(&["verify", "--reference", "typo.lock"], 2);
    assert!(
        out.stderr
            .contains("the reference lock `typo.lock` does not exist")
            && !out.stdout.contains("MISMATCH"),
        "{}",
        out.both()
    );
}

#[test]
fn verify_reference_with_no_recorded_metric_to_compare_is_a_mismatch_not_a_pass() {
    let ws = Ws::new(PIPELINE);
    let reference = recorded(&ws, "0.500");
    run_with(&ws, "0.505");
    // Locks written before metrics were required may lack them: nothing can be compared.
    let strip = |p: &std::path::Path| {
        let text = std::fs::read_to_string(p).unwrap();
        let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("metric ")).collect();
        std::fs::write(p, kept.join("\n") + "\n").unwrap();
    };
    strip(&reference);
    strip(&ws.root.join("repro.lock"));
    let out = ws.code(&["verify", "--reference", reference.to_str().unwrap()], 1);
    assert!(
        out.stdout
            .contains("declared metric `m/metrics.json#acc` is recorded in neither run"),
        "{}",
        out.both()
    );
}

/// A lock whose entry has the current key but other outputs (a committed lock from another
/// machine, or the lock a batch job reads before its controller saved what it adopted) does
/// not make a rerun stale when the workspace holds exactly what the store recorded for that
/// key: the store's record is the local truth, and nothing is restored or run again.
#[test]
fn a_repeated_run_that_the_store_recorded_is_fresh_despite_an_older_lock_entry() {
    let ws = Ws::new(PIPELINE);
    let reference = recorded(&ws, "0.500");
    run_with(&ws, "0.500");
    // The same keys, other bytes (the stamp differs); put the older lock back.
    std::fs::copy(&reference, ws.root.join("repro.lock")).unwrap();
    let out = ws.code(&["status", "--check"], 0);
    assert!(
        out.stdout.contains("all 3 instances up to date"),
        "{}",
        out.stdout
    );
    let before = ws.read("m/stamp");
    let out = ws.ok(&["run"]);
    assert!(out.stderr.contains("nothing to do"), "{}", out.stderr);
    assert_eq!(ws.read("m/stamp"), before, "nothing was restored over it");
}

/// Changing a stage's declared `metrics` fields once left `status`, `run` and `verify` clean
/// (only `--force` revealed a missing metric): the recorded names are checked against the
/// declared ones, so the instance is stale and its run records them or fails.
#[test]
fn changing_declared_metric_fields_makes_the_instance_stale_without_force() {
    let ws = Ws::new(PIPELINE);
    run_with(&ws, "0.5");
    ws.edit_pipeline("fields: [acc]", "fields: [acc, loss]");
    let st = ws.code(&["status", "--check"], 1);
    insta::assert_snapshot!(st.stdout, @r"
    run      train: declared metrics changed (not recorded: `m/metrics.json#loss`)
    run      stats: upstream `train` is stale
    stage  instances  fresh  run  restore  running  failed
    gen            1      1    0        0        0       0
    train          1      0    1        0        0       0
    stats          1      0    1        0        0       0
    2 of 3 instances stale (profile `default`)
    ");
    let verify = ws.code(&["verify"], 1);
    assert!(
        verify.stdout.contains(
            "train: declared metrics changed (not recorded: `m/metrics.json#loss`) between the pipeline and `repro.lock`"
        ),
        "{}",
        verify.both()
    );
    let mut cmd = ws.command(&["run"]);
    cmd.env("NOISE", "0.5");
    let out = run_limited(cmd);
    assert_eq!(out.code, 1, "{}", out.both());
    assert!(
        out.stderr
            .contains("declared metric `loss` is missing from `m/metrics.json`"),
        "{}",
        out.both()
    );
    // Back to what was recorded: the failed attempt's output is replaced from the cache.
    ws.edit_pipeline("fields: [acc, loss]", "fields: [acc]");
    let st = ws.code(&["status", "--check"], 1);
    assert!(
        st.stdout.contains("restore  train: output `m` modified"),
        "{}",
        st.both()
    );
    run_with(&ws, "0.5");
    ws.code(&["status", "--check"], 0);
    // A stage that writes the new field records it; a dropped field is named too.
    ws.edit_pipeline(
        r#"'{\"acc\": %s}' \"$NOISE\""#,
        r#"'{\"acc\": %s, \"loss\": 1}' \"$NOISE\""#,
    );
    ws.edit_pipeline("fields: [acc]", "fields: [acc, loss]");
    run_with(&ws, "0.5");
    ws.code(&["status", "--check"], 0);
    ws.ok(&["verify"]);
    ws.edit_pipeline("fields: [acc, loss]", "fields: [loss]");
    let st = ws.code(&["status", "--check"], 1);
    assert!(
        st.stdout.contains(
            "run      train: declared metrics changed (no longer declared: `m/metrics.json#acc`)"
        ),
        "{}",
        st.both()
    );
}
