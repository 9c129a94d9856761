//! The order in which instances start: stages by name, then matrix values as listed, as far as
//! the dependencies allow, whichever upstream finishes first.

use crate::common::Ws;

const PIPELINE: &str = r#"version: 1
stages:
  gen:
    cmd: "echo gen-${seed} >> \"$COUNTER\"; echo ${seed} > gen/${seed}.txt"
    shell: true
    matrix:
      seed: [30, 10, 20]
    outs: ["gen/${seed}.txt"]
  train:
    cmd: "echo train-${seed} >> \"$COUNTER\"; cat gen/${seed}.txt > train/${seed}.txt"
    shell: true
    matrix:
      seed: [30, 10, 20]
    deps: ["gen/${seed}.txt"]
    outs: ["train/${seed}.txt"]
"#;

#[test]
fn ready_instances_start_in_the_order_listed() {
    let ws = Ws::new(PIPELINE);
    let listed = ws.ok(&["status"]).stdout;
    let position = |id: &str| listed.find(id).unwrap_or_else(|| panic!("{id}: {listed}"));
    assert!(
        position("gen@seed=30") < position("gen@seed=10"),
        "{listed}"
    );
    assert!(
        position("gen@seed=10") < position("gen@seed=20"),
        "{listed}"
    );
    ws.ok(&["run", "-j", "1"]);
    assert_eq!(
        ws.ran(),
        ["gen-30", "gen-10", "gen-20", "train-30", "train-10", "train-20"]
    );
}

/// `train@seed=10` becomes ready first (its `gen` is instant) but finds no room (`cpus: 2`, one
/// slot free); `train@seed=30` becomes ready once its slow `gen` ends and two slots are free.
/// Of the two waiting, the one listed first (seed 30) starts first.
const WAITING: &str = r#"version: 1
stages:
  slow:
    cmd: "sleep 2; echo slow > slow.txt"
    shell: true
    outs: [slow.txt]
  gen:
    cmd: "if [ ${seed} = 30 ]; then sleep 0.5; fi; echo ${seed} > gen/${seed}.txt"
    shell: true
    matrix:
      seed: [30, 10]
    outs: ["gen/${seed}.txt"]
  train:
    cmd: "echo train-${seed} >> \"$COUNTER\"; cat gen/${seed}.txt > train/${seed}.txt"
    shell: true
    matrix:
      seed: [30, 10]
    deps: ["gen/${seed}.txt"]
    outs: ["train/${seed}.txt"]
    resources: {cpus: 2}
"#;

#[test]
fn of_the_instances_waiting_for_slots_the_one_listed_first_starts_first() {
    let ws = Ws::new(WAITING);
    ws.ok(&["run", "-j", "3"]);
    assert_eq!(ws.ran(), ["train-30", "train-10"]);
}

const PRIORITY: &str = r#"version: 1
params:
  first: {"1": 0, "2": 0, "3": 5}
stages:
  gen:
    cmd: "echo ${seed} > gen/${seed}.txt"
    shell: true
    matrix:
      seed: [1, 2, 3]
    outs: ["gen/${seed}.txt"]
  train:
    cmd: "echo train-${seed} >> \"$COUNTER\"; cat gen/${seed}.txt > train/${seed}.txt"
    shell: true
    matrix:
      seed: [1, 2, 3]
    deps: ["gen/${seed}.txt"]
    outs: ["train/${seed}.txt"]
    priority: "${params.first.${seed}}"
"#;

#[test]
fn a_higher_priority_starts_first_and_changes_no_key() {
    let ws = Ws::new(PRIORITY);
    ws.ok(&["run", "-j", "1"]);
    assert_eq!(ws.ran(), ["train-3", "train-1", "train-2"]);
    let lock = ws.read("repro.lock");
    ws.edit_pipeline(
        r#"first: {"1": 0, "2": 0, "3": 5}"#,
        r#"first: {"1": 9, "2": 0, "3": 5}"#,
    );
    let st = ws.ok(&["status", "--check"]);
    assert!(
        st.stdout.contains("all 6 instances up to date"),
        "{}",
        st.both()
    );
    assert_eq!(ws.read("repro.lock"), lock);
}

#[test]
fn a_priority_that_is_not_a_whole_number_is_a_located_error() {
    for (to, words) in [
        (r#"priority: "high""#, "whole number"),
        (
            r#"priority: "${params.first.${seed}}0000000""#,
            "between -1000000 and 1000000",
        ),
        (
            r#"priority: "${params.last.${seed}}""#,
            "undefined parameter `last.",
        ),
        ("priority: [1]", "whole number"),
    ] {
        let ws = Ws::new(PRIORITY);
        ws.edit_pipeline(r#"priority: "${params.first.${seed}}""#, to);
        let out = ws.code(&["run"], 2);
        assert!(
            out.stderr.contains("`pipeline.yaml` at ")
                && out.stderr.contains("stages.train.priority"),
            "{to}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(words), "{to}: {}", out.stderr);
        assert!(ws.ran().is_empty());
    }
}

#[test]
fn the_audit_field_changes_no_key() {
    let ws = Ws::new(PRIORITY);
    ws.ok(&["run", "-j", "1"]);
    let lock = ws.read("repro.lock");
    for policy in ["always", "sample", "never"] {
        let text = ws.read("pipeline.yaml").replace(
            "    priority: ",
            &format!("    audit: {policy}\n    priority: "),
        );
        ws.write("pipeline.yaml", &text);
        let st = ws.ok(&["status", "--check"]);
        assert!(
            st.stdout.contains("all 6 instances up to date"),
            "{policy}: {}",
            st.both()
        );
        ws.write(
            "pipeline.yaml",
            &text.replace(&format!("    audit: {policy}\n"), ""),
        );
    }
    assert_eq!(ws.read("repro.lock"), lock);
}

#[test]
fn an_audit_value_that_is_not_known_is_a_located_error() {
    let ws = Ws::new(PRIORITY);
    ws.edit_pipeline("    priority: ", "    audit: sometimes\n    priority: ");
    let out = ws.code(&["run"], 2);
    assert!(
        out.stderr.contains("`pipeline.yaml` at ")
            && out.stderr.contains("stages.train.audit")
            && out.stderr.contains("`always`, `sample`, `never`"),
        "{}",
        out.stderr
    );
    assert!(ws.ran().is_empty());
}
