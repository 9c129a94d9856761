//! Early cutoff: an upstream instance that re-runs but produces byte-identical outputs leaves
//! its downstream fresh, because deps enter keys by content, not by the upstream's key.

use crate::common::{json_lines, Ws};

const PIPELINE: &str = r#"version: 1
params:
  salt: 1
  scale: 1
stages:
  gen:
    cmd: "echo gen >> \"$COUNTER\"; echo salt=${params.salt} > /dev/null; echo ${params.scale} > gen.txt"
    shell: true
    outs: [gen.txt]
  use:
    cmd: "echo use >> \"$COUNTER\"; cp gen.txt use.txt"
    shell: true
    deps: [gen.txt]
    outs: [use.txt]
  last:
    cmd: "echo last >> \"$COUNTER\"; cat use.txt use.txt > last.txt"
    shell: true
    deps: [use.txt]
    outs: [last.txt]
"#;

#[test]
fn upstream_rerun_with_identical_output_does_not_rerun_downstream() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    assert_eq!(ws.ran(), ["gen", "use", "last"]);
    ws.edit_pipeline("salt: 1", "salt: 2");
    let st = ws.code(&["status"], 0);
    assert!(
        st.stdout
            .contains("run      gen: param `salt` changed from 1 to 2"),
        "{}",
        st.both()
    );
    assert!(
        st.stdout.contains("run      use: upstream `gen` is stale"),
        "{}",
        st.both()
    );
    let run = ws.ok(&["run"]);
    assert_eq!(
        ws.ran(),
        ["gen", "use", "last"]
            .iter()
            .chain(&["gen"])
            .copied()
            .collect::<Vec<_>>()
    );
    assert!(
        run.stderr.contains("1 ran, 0 restored, 2 fresh"),
        "{}",
        run.both()
    );
    ws.code(&["status", "--check"], 0);
}

#[test]
fn upstream_rerun_with_different_output_reruns_the_whole_chain() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    ws.edit_pipeline("scale: 1", "scale: 3");
    let run = ws.ok(&["run"]);
    assert_eq!(ws.ran()[3..], ["gen", "use", "last"]);
    assert!(
        run.stderr
            .contains("started   use [cpu] (dep `gen.txt` changed)"),
        "{}",
        run.both()
    );
    assert_eq!(ws.read("last.txt"), "3\n3\n");
}

/// A "trainer" whose code is a glob-tracked script, and two layers below it.
const TRAINER: &str = r#"version: 1
stages:
  train:
    cmd: "echo train >> \"$COUNTER\"; sh src/train.sh > metrics.txt"
    shell: true
    code: ["src/*.sh"]
    outs: [metrics.txt]
  stats:
    cmd: "echo stats >> \"$COUNTER\"; cp metrics.txt stats.txt"
    shell: true
    deps: [metrics.txt]
    outs: [stats.txt]
  table:
    cmd: "echo table >> \"$COUNTER\"; cat stats.txt > table.txt"
    shell: true
    deps: [stats.txt]
    outs: [table.txt]
"#;

#[test]
fn code_comment_reruns_the_trainer_and_the_summary_counts_what_the_cutoff_kept() {
    let ws = Ws::new(TRAINER);
    ws.write("src/train.sh", "echo acc=0.97\n");
    let first = ws.ok(&["run"]);
    assert_eq!(ws.ran(), ["train", "stats", "table"]);
    assert!(
        !first.stderr.contains("early cutoff"),
        "a first run has nothing to compare with: {}",
        first.both()
    );
    ws.write(
        "src/train.sh",
        "# a comment changes the key, not the output\necho acc=0.97\n",
    );
    let run = ws.ok(&["run"]);
    assert_eq!(ws.ran()[3..], ["train"], "only the trainer executes");
    assert!(
        run.stderr.contains(
            "early cutoff: 1 ran with outputs identical to their last run, 2 dependents kept without running"
        ),
        "{}",
        run.both()
    );

    ws.write("src/train.sh", "# another comment\necho acc=0.97\n");
    let json = ws.ok(&["run", "--json"]);
    assert_eq!(ws.ran()[4..], ["train"]);
    let summary = json_lines(&json.stdout).pop().expect("a summary line");
    assert_eq!(summary["event"], "summary", "{}", json.stdout);
    assert_eq!(
        (
            summary["ran"].as_u64(),
            summary["unchanged"].as_u64(),
            summary["kept"].as_u64(),
            summary["fresh"].as_u64()
        ),
        (Some(1), Some(1), Some(2), Some(2)),
        "{}",
        json.stdout
    );
}

#[test]
fn a_trainer_whose_output_changes_counts_nothing_as_cut_off() {
    let ws = Ws::new(TRAINER);
    ws.write("src/train.sh", "echo acc=0.97\n");
    ws.ok(&["run"]);
    ws.write("src/train.sh", "echo acc=0.98\n");
    let json = ws.ok(&["run", "--json"]);
    assert_eq!(ws.ran()[3..], ["train", "stats", "table"]);
    let summary = json_lines(&json.stdout).pop().expect("a summary line");
    assert_eq!(
        (summary["unchanged"].as_u64(), summary["kept"].as_u64()),
        (Some(0), Some(0)),
        "{}",
        json.stdout
    );
}
