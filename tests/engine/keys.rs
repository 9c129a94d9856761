//! Cache keys are a stable format: a workspace run by an earlier `repro` must be fresh for a
//! later one. This pins the keys of a small pipeline (params, deps, a code glob, env, a
//! directory output with metrics, a fan-in) to the values `repro` wrote before the engine was
//! restructured into workspace, settings and an event-loop dispatcher. A failure here means
//! every user's cache is invalidated: if that is intended, bump `KEY_VERSION` and update the
//! values in the same commit.

use crate::common::Ws;

const PIPELINE: &str = r#"version: 1
params:
  lr: {a: 1.0, b: 2.0}
stages:
  prep:
    cmd: "cat inputs/${task}.txt > data/${task}.txt"
    shell: true
    matrix:
      task: [a, b]
    deps: ["inputs/${task}.txt"]
    outs: ["data/${task}.txt"]
  train:
    cmd: "mkdir -p runs/${task}; sh src/model.sh ${params.lr.${task}} < data/${task}.txt > runs/${task}/out.txt; echo '{\"acc\": 0.5}' > runs/${task}/m.json"
    shell: true
    matrix:
      task: [a, b]
    deps: ["data/${task}.txt"]
    code: ["src/*.sh"]
    env: {MODE: fast}
    outs: ["runs/${task}"]
    metrics: {files: ["runs/${task}/m.json"], fields: [acc], tolerance: 0.01}
  table:
    cmd: "cat runs/*/out.txt > table.txt"
    shell: true
    deps: ["runs/a", "runs/b"]
    outs: [table.txt]
"#;

/// `(instance, key)` as written by `repro` at commit 075f01a.
const PINNED: [(&str, &str); 5] = [
    (
        "prep@task=a",
        "dbe641e09808ae51f5b9ed83009bedd5126349b9b1a7b596d9c5edbc9a6a51ae",
    ),
    (
        "prep@task=b",
        "85f1a6601b51ca9c8111af499b5403dc42923296ac0f5270d5ea0611e0b180a2",
    ),
    (
        "table",
        "93df1c76105436407261a75a10ab6aacbf32ed97ea473abb2a866f910d960f6a",
    ),
    (
        "train@task=a",
        "2efb1cecac5d31cd136a61e442811890bdcb0aa8193a1bc7aa91deb2aac21f4e",
    ),
    (
        "train@task=b",
        "a73c458d844784dad38f621a9bcfce861e2eec67d18d97f8a80f4781ffd49dd7",
    ),
];

#[test]
fn keys_of_a_fixed_pipeline_match_those_of_earlier_releases() {
    let ws = Ws::new(PIPELINE);
    ws.write("inputs/a.txt", "alpha\n");
    ws.write("inputs/b.txt", "beta\n");
    ws.write("src/model.sh", "cat\necho \"lr=$1 mode=$MODE\"\n");
    ws.ok(&["run", "-j", "2"]);
    let lock = ws.read("repro.lock");
    let mut keys = Vec::new();
    let mut current = None;
    for line in lock.lines() {
        if let Some(rest) = line.strip_prefix("[default] ") {
            current = Some(rest.to_owned());
        } else if let (Some(id), Some(key)) = (&current, line.strip_prefix("key ")) {
            keys.push((id.clone(), key.to_owned()));
        }
    }
    let pinned: Vec<(String, String)> = PINNED
        .iter()
        .map(|(i, k)| ((*i).to_owned(), (*k).to_owned()))
        .collect();
    assert_eq!(keys, pinned, "cache keys changed:\n{lock}");
}
