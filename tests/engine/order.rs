//! The order in which ready instances start: the order the pipeline declares them (stages,
//! then matrix values as listed), as far as the dependencies allow.

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
fn ready_instances_start_in_declaration_order() {
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
