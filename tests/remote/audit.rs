//! `repro audit`: a fresh checkout of a pushed workspace audits clean; one whose code differs
//! from the producer's is caught by its recomputed keys; a corrupt remote fails step 1; through
//! the real nginx remote, stages marked `audit: always` are re-run and a forged result (a
//! record and objects with consistent digests, altered metrics) passes the digest checks of
//! `pull` and is caught by `audit` when sampled, and only then.

use crate::common::{run_limited, Ws};
use crate::server::{fresh_copy, overwrite, produced, remote_object_with, Nginx};

fn remote_of(ws: &Ws) -> String {
    format!("file://{}", ws.tmp().join("remote").display())
}

#[test]
fn a_fresh_checkout_of_a_pushed_workspace_audits_clean() {
    let ws = produced();
    let url = remote_of(&ws);
    ws.ok(&["push", "-r", &url]);
    let copy = fresh_copy(&ws);
    let out = copy.ok(&["audit", "-r", &url]);
    assert!(
        out.stdout
            .contains("3 of 3 instances have the key `repro.lock` records")
            && out.stdout.contains("re-hashed 3 instances")
            && out.stdout.contains("## Verdict: clean")
            && out.stdout.contains("## 3. Stages marked `audit: always`"),
        "{}",
        out.both()
    );
    let json = copy.ok(&["audit", "-r", &url, "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["clean"], true, "{}", json.stdout);
    assert_eq!(doc["pull"]["present"], 3, "the second audit pulled nothing");
}

#[test]
fn a_checkout_whose_code_differs_fails_the_key_comparison() {
    let ws = produced();
    let url = remote_of(&ws);
    ws.ok(&["push", "-r", &url]);
    let copy = fresh_copy(&ws);
    // Same output, other code: the digests pass, the keys do not.
    copy.write("tools/sum.sh", "cat data/*/v.txt # reworded\n");
    let out = copy.code(&["audit", "-r", &url], 1);
    assert!(
        out.stdout.contains("MISMATCH gen@n=1")
            && out.stdout.contains("MISMATCH sum")
            && out.stdout.contains("## Verdict: PROBLEMS FOUND"),
        "{}",
        out.both()
    );
}

#[test]
fn a_corrupt_remote_fails_the_first_step_and_checks_no_key() {
    let ws = produced();
    let url = remote_of(&ws);
    ws.ok(&["push", "-r", &url]);
    let object = remote_object_with(&ws.tmp().join("remote"), b"1\n2\n");
    overwrite(&object, b"1\n2\n3\n");
    let copy = fresh_copy(&ws);
    let out = copy.code(&["audit", "-r", &url], 1);
    assert!(
        out.stdout.contains("- FAILED sum: record")
            && out.stdout.contains("not checked: the pull failed"),
        "{}",
        out.both()
    );
}

/// Data generation and a table marked `audit: always`, a metrics-recording stage marked
/// `audit: sample` whose result for `n` = `$FORGE_N` (from the producer's environment, which
/// enters no key) is forged to 0.9 instead of 0.5.
const AUDITED: &str = r#"version: 1
stages:
  gen:
    cmd: "echo gen-${n} >> \"$COUNTER\"; mkdir -p data/${n}; echo ${n} > data/${n}/v.txt"
    shell: true
    matrix:
      n: [1, 2, 3]
    outs: ["data/${n}"]
    audit: always
  train:
    cmd: 'echo train-${n} >> "$COUNTER"; a=0.5; if [ "$FORGE_N" = "${n}" ]; then a=0.9; fi; mkdir -p runs/${n}; echo "{\"acc\": $a}" > runs/${n}/metrics.json'
    shell: true
    matrix:
      n: [1, 2, 3]
    deps: ["data/${n}"]
    outs: ["runs/${n}"]
    metrics: {files: ["runs/${n}/metrics.json"], fields: [acc], tolerance: 0.02}
    audit: sample
  table:
    cmd: "echo table >> \"$COUNTER\"; cat runs/*/metrics.json > table.txt"
    shell: true
    deps: [runs]
    outs: [table.txt]
    audit: always
"#;

/// A workspace of [`AUDITED`] that ran with `train@n=2` forged, pushed to `url`, and a fresh
/// checkout of it.
fn forged_and_pushed(url: &str) -> (Ws, Ws) {
    let ws = Ws::new(AUDITED);
    let mut run = ws.command(&["run"]);
    run.env("FORGE_N", "2");
    let out = run_limited(run);
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(ws
        .read("repro.lock")
        .contains("runs/2/metrics.json#acc 0.9"));
    ws.ok(&["push", "-r", url]);
    let copy = Ws::new(AUDITED);
    copy.write("repro.lock", &ws.read("repro.lock"));
    (ws, copy)
}

#[test]
fn a_forged_result_passes_pull_and_is_caught_by_audit_when_sampled() {
    let Some(nginx) = Nginx::start(None) else {
        return;
    };
    let (_ws, copy) = forged_and_pushed(&nginx.url);
    // Every digest is consistent: `pull` and `verify` accept the forgery.
    copy.ok(&["pull", "-r", &nginx.url]);
    copy.ok(&["verify"]);
    let lock = copy.read("repro.lock");
    let out = copy.code(&["audit", "-r", &nginx.url, "--sample", "all"], 1);
    assert!(
        out.stdout.contains("- MISMATCH train@n=2")
            && out
                .stdout
                .contains("is 0.5 but the producer's record has 0.9 (tolerance 0.02)")
            && out.stdout.contains("- exact train@n=1")
            && out.stdout.contains("- exact table")
            && out.stdout.contains("## Verdict: PROBLEMS FOUND"),
        "{}",
        out.both()
    );
    // The re-executions stayed out of the lock, the store and the workspace.
    assert_eq!(copy.read("repro.lock"), lock);
    assert!(copy.read("runs/2/metrics.json").contains("0.9"));
    let json = copy.code(&["audit", "-r", &nginx.url, "--sample", "all", "--json"], 1);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["clean"], false);
    let bad: Vec<&serde_json::Value> = doc["rechecks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] != "exact")
        .collect();
    assert_eq!(bad.len(), 1, "{}", json.stdout);
    assert_eq!(bad[0]["instance"], "train@n=2");
    assert_eq!(bad[0]["verdict"], "mismatch");
}

#[test]
fn a_sample_of_one_catches_the_forgery_exactly_when_it_draws_it_and_the_seed_repeats_it() {
    let Some(nginx) = Nginx::start(None) else {
        return;
    };
    let (_ws, copy) = forged_and_pushed(&nginx.url);
    let (mut caught, mut missed) = (0, 0);
    for seed in 0..12u64 {
        let s = seed.to_string();
        let out = copy.repro(&[
            "audit", "-r", &nginx.url, "--sample", "1", "--seed", &s, "--json",
        ]);
        let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let drawn = doc["sample"]["drawn"].as_array().unwrap().clone();
        assert_eq!(drawn.len(), 1, "{}", out.stdout);
        assert_eq!(doc["seed"], seed);
        assert_eq!(doc["seed_given"], true);
        if drawn[0] == "train@n=2" {
            assert_eq!(out.code, 1, "{}", out.both());
            caught += 1;
        } else {
            assert_eq!(out.code, 0, "{}", out.both());
            missed += 1;
        }
        // The same seed draws the same sample.
        let again = copy.repro(&[
            "audit", "-r", &nginx.url, "--sample", "1", "--seed", &s, "--json",
        ]);
        let doc2: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
        assert_eq!(doc2["sample"]["drawn"], doc["sample"]["drawn"]);
        if caught > 0 && missed > 0 {
            return;
        }
    }
    panic!("12 seeds gave {caught} catches and {missed} misses of one forged result in three");
}

#[test]
fn a_clean_audit_reruns_the_cheap_stages_exits_0_and_states_what_its_sample_rules_out() {
    let Some(nginx) = Nginx::start(None) else {
        return;
    };
    let ws = Ws::new(AUDITED);
    ws.ok(&["run"]);
    ws.ok(&["push", "-r", &nginx.url]);
    let copy = Ws::new(AUDITED);
    copy.write("repro.lock", &ws.read("repro.lock"));
    let out = copy.ok(&["audit", "-r", &nginx.url, "--sample", "2"]);
    assert!(
        out.stdout.contains("- exact gen@n=1")
            && out.stdout.contains("- exact gen@n=3")
            && out.stdout.contains("- exact table")
            && out.stdout.contains("2 of 3 candidates drawn")
            && out
                .stdout
                .contains("drawn at random; `--seed` repeats this sample")
            && out
                .stdout
                .contains("all 2 draws would miss them with probability (1 - f)^2")
            && out.stdout.contains("77.6% or more of them are bad")
            && out.stdout.contains("## Verdict: clean"),
        "{}",
        out.both()
    );
    // The cheap stages and the sample ran (in scratch directories), nothing else.
    let ran = copy.ran();
    for s in ["gen-1", "gen-2", "gen-3", "table"] {
        assert_eq!(ran.iter().filter(|r| *r == s).count(), 1, "{ran:?}");
    }
    assert_eq!(
        ran.iter().filter(|r| r.starts_with("train-")).count(),
        2,
        "{ran:?}"
    );
    copy.ok(&["status", "--check"]);
}

#[test]
fn an_audit_with_a_bad_sample_size_is_a_usage_error() {
    let ws = produced();
    let out = ws.code(&["audit", "--sample", "three"], 2);
    assert!(out.stderr.contains("`all`"), "{}", out.both());
}

#[test]
fn the_audit_reports_how_the_producers_tool_versions_differ_from_the_auditors() {
    let Some(nginx) = Nginx::start(None) else {
        return;
    };
    let versions =
        "report:\n  out: page.html\n  versions: {tool: [sh, -c, \"echo tool-$TOOL_V\"]}\n";
    let pipeline = format!("{AUDITED}{versions}");
    let ws = Ws::new(&pipeline);
    let mut run = ws.command(&["run"]);
    run.env("TOOL_V", "1");
    let out = run_limited(run);
    assert_eq!(out.code, 0, "{}", out.both());
    ws.ok(&["push", "-r", &nginx.url]);
    let copy = Ws::new(&pipeline);
    copy.write("repro.lock", &ws.read("repro.lock"));
    let mut audit = copy.command(&["audit", "-r", &nginx.url, "--json"]);
    audit.env("TOOL_V", "2");
    let out = run_limited(audit);
    // A different toolchain is reported, not a failure: the numbers agree.
    assert_eq!(out.code, 0, "{}", out.both());
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let table = doc["rechecks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["instance"] == "table")
        .unwrap();
    assert_eq!(table["producer"]["versions"]["tool"], "tool-1");
    assert_eq!(table["auditor"]["versions"]["tool"], "tool-2");
    assert_eq!(
        table["platform_differences"][0], "tool `tool-1` vs `tool-2`",
        "{}",
        out.stdout
    );
    assert!(table["producer"]["device"]
        .as_str()
        .unwrap()
        .starts_with("cpu: "));
}

#[test]
fn an_audit_with_a_reference_lock_names_each_result_that_differs_from_it() {
    // The reference: an honest run of the same pipeline.
    let honest = Ws::new(AUDITED);
    honest.ok(&["run"]);
    let reference = honest.tmp().join("reference.lock");
    std::fs::write(&reference, honest.read("repro.lock")).unwrap();
    let reference = reference.display().to_string();
    // The audited lock agrees with itself ...
    let url = remote_of(&honest);
    honest.ok(&["push", "-r", &url]);
    let copy = Ws::new(AUDITED);
    copy.write("repro.lock", &honest.read("repro.lock"));
    let out = copy.ok(&["audit", "-r", &url, "--reference", &reference]);
    assert!(
        out.stdout.contains("## Against the reference lock")
            && out.stdout.contains("- 7 exact, 0 within tolerance")
            && out.stdout.contains("## Verdict: clean"),
        "{}",
        out.both()
    );
    // ... and a forged one does not: the forged metric and the table built from it (whose
    // inputs then differ from the reference's) are named.
    let forged_remote = copy.tmp().join("forged-remote");
    let forged_url = format!("file://{}", forged_remote.display());
    let (_producer, forged) = forged_and_pushed(&forged_url);
    let out = forged.code(&["audit", "-r", &forged_url, "--reference", &reference], 1);
    assert!(
        out.stdout.contains("- 5 exact")
            && out.stdout.contains("2 mismatched")
            && out.stdout.contains(
                "- MISMATCH train@n=2: `runs/2/metrics.json#acc` is 0.9 but the reference has 0.5 (tolerance 0.02)"
            )
            && out.stdout.contains("- MISMATCH table: key ")
            && out.stdout.contains("## Verdict: PROBLEMS FOUND"),
        "{}",
        out.both()
    );
    let json = forged.code(
        &[
            "audit",
            "-r",
            &forged_url,
            "--reference",
            &reference,
            "--json",
        ],
        1,
    );
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        doc["reference"]["compared"]["mismatched"], 2,
        "{}",
        json.stdout
    );
    assert_eq!(doc["clean"], false);
}

#[test]
fn an_audit_against_a_reference_that_does_not_exist_is_refused_before_any_transfer() {
    let ws = produced();
    let url = remote_of(&ws);
    ws.ok(&["push", "-r", &url]);
    let copy = fresh_copy(&ws);
    let out = copy.code(&["audit", "-r", &url, "--reference", "nowhere.lock"], 2);
    assert!(
        out.stderr
            .contains("the reference lock `nowhere.lock` does not exist"),
        "{}",
        out.both()
    );
    // Nothing was pulled or restored.
    assert!(copy.objects().is_empty(), "{:?}", copy.objects());
    assert!(!copy.root.join("sum.txt").exists());
}
