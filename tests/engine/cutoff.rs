//! Early cutoff: an upstream instance that re-runs but produces byte-identical outputs leaves
//! its downstream fresh, because deps enter keys by content, not by the upstream's key.

use crate::common::Ws;

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
