//! Overviews for big pipelines and machine-readable output: the per-stage counts of `status`
//! and `run -n` (instance lines up to 20, all with `--instances`), `dag --stages` in text, DOT
//! and JSON, `--json` on `dag`, `show`, `verify` and `gc -n`, the `plan` object of
//! `run -n --json`, and the metrics `show` prints.

use crate::common::{json_lines, redact, Ws};

/// `prep` for two tasks, `train` per task, `report` over both; `train` writes a metric.
const SMALL: &str = r#"version: 1
params:
  lr: {a: 1.0, b: 2.0}
stages:
  prep:
    cmd: "echo prep-${task} >> \"$COUNTER\"; echo ${task} > data/${task}.txt"
    shell: true
    matrix:
      task: [a, b]
    outs: ["data/${task}.txt"]
  train:
    cmd: "echo train-${task} >> \"$COUNTER\"; mkdir -p runs/${task}; printf '{\"acc\": ${params.lr.${task}}}' > runs/${task}/m.json"
    shell: true
    matrix:
      task: [a, b]
    deps: ["data/${task}.txt"]
    outs: ["runs/${task}"]
    metrics: {files: ["runs/${task}/m.json"], fields: [acc], tolerance: 0.01}
  report:
    cmd: "cat runs/a/m.json runs/b/m.json > report.txt"
    shell: true
    deps: [runs/a, runs/b]
    outs: [report.txt]
"#;

/// One stage of 25 instances and one reading them all.
fn wide() -> String {
    let values: Vec<String> = (0..25).map(|k| k.to_string()).collect();
    format!(
        r#"version: 1
stages:
  cell:
    cmd: "echo ${{k}} > cells/${{k}}.txt"
    shell: true
    matrix:
      k: [{}]
    outs: ["cells/${{k}}.txt"]
  sum:
    cmd: "cat cells/*.txt > sum.txt"
    shell: true
    deps: ["cells/*.txt"]
    outs: [sum.txt]
"#,
        values.join(", ")
    )
}

#[test]
fn status_counts_each_stage_and_lists_the_few_stale_instances() {
    let ws = Ws::new(SMALL);
    let st = ws.code(&["status", "--check"], 1);
    insta::assert_snapshot!(st.stdout, @r"
    run      prep@task=a: never run
    run      prep@task=b: never run
    run      train@task=a: upstream `prep@task=a` is stale
    run      train@task=b: upstream `prep@task=b` is stale
    run      report: upstream `train@task=a` is stale
    stage   instances  fresh  run  restore  running  failed
    prep            2      0    2        0        0       0
    train           2      0    2        0        0       0
    report          1      0    1        0        0       0
    5 of 5 instances stale (profile `default`)
    ");
    ws.ok(&["run"]);
    let st = ws.code(&["status", "--check"], 0);
    insta::assert_snapshot!(st.stdout, @r"
    stage   instances  fresh  run  restore  running  failed
    prep            2      2    0        0        0       0
    train           2      2    0        0        0       0
    report          1      1    0        0        0       0
    all 5 instances up to date (profile `default`)
    ");
}

#[test]
fn status_counts_restorable_and_failed_instances() {
    let ws = Ws::new(SMALL);
    ws.ok(&["run"]);
    // A failure: `prep@task=b` now exits 1.
    ws.edit_pipeline(
        "echo ${task} > data/${task}.txt",
        "test ${task} = a || exit 1; echo ${task}-v2 > data/${task}.txt",
    );
    let failed = ws.code(&["run", "--keep-going"], 1);
    assert!(failed.stderr.contains("FAILED"), "{}", failed.both());
    let st = ws.code(&["status", "--check"], 1);
    insta::assert_snapshot!(st.stdout, @r"
    failed   prep@task=b: command changed
    run      train@task=b: upstream `prep@task=b` is stale
    run      report: upstream `train@task=b` is stale
    stage   instances  fresh  run  restore  running  failed
    prep            2      1    0        0        0       1
    train           2      1    1        0        0       0
    report          1      0    1        0        0       0
    3 of 5 instances stale (profile `default`)
    ");
    let json: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"]).stdout)
        .expect("status --json is one JSON document");
    let prep = &json["stages"][0];
    assert_eq!(
        (
            prep["stage"].as_str(),
            prep["fresh"].as_u64(),
            prep["failed"].as_u64()
        ),
        (Some("prep"), Some(1), Some(1)),
        "{json}"
    );
    let row = json["instances"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["instance"] == "prep@task=b"))
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(row["state"], "failed", "{json}");
}

#[test]
fn status_counts_an_instance_the_cache_can_restore() {
    let ws = Ws::new(SMALL);
    ws.ok(&["run"]);
    ws.edit_pipeline("lr: {a: 1.0,", "lr: {a: 1.5,");
    ws.ok(&["run"]);
    ws.edit_pipeline("lr: {a: 1.5,", "lr: {a: 1.0,");
    let st = ws.code(&["status", "--check"], 1);
    let table: Vec<&str> = st
        .stdout
        .lines()
        .filter(|l| l.starts_with("train ") || l.starts_with("report "))
        .collect();
    assert_eq!(
        table,
        [
            "train           2      1    0        1        0       0",
            "report          1      0    1        0        0       0",
        ],
        "{}",
        st.stdout
    );
    let dry = ws.ok(&["run", "-n"]);
    assert!(
        dry.stdout
            .contains("would restore  train@task=a: output `runs/a` modified"),
        "{}",
        dry.both()
    );
    assert!(
        dry.stdout
            .contains("1 to run, 1 to restore, 3 up to date (5 selected)"),
        "{}",
        dry.both()
    );
}

#[test]
fn status_and_dry_run_list_instances_above_twenty_only_with_the_flag() {
    let ws = Ws::new(&wide());
    let st = ws.code(&["status"], 0);
    insta::assert_snapshot!(st.stdout, @r"
    26 instances are not fresh; `repro status --instances` lists each with its reasons (or name a stage or instance as a target)
    stage  instances  fresh  run  restore  running  failed
    cell          25      0   25        0        0       0
    sum            1      0    1        0        0       0
    26 of 26 instances stale (profile `default`)
    ");
    let all = ws.ok(&["status", "--instances"]);
    assert_eq!(
        all.stdout.lines().filter(|l| l.starts_with("run ")).count(),
        26,
        "{}",
        all.stdout
    );
    assert!(
        all.stdout.contains("run      cell@k=7: never run"),
        "{}",
        all.stdout
    );
    // A target narrows the list below the limit: its lines come back without the flag.
    let one = ws.ok(&["status", "cell@k=7"]);
    assert!(
        one.stdout.contains("run      cell@k=7: never run"),
        "{}",
        one.stdout
    );
    let dry = ws.ok(&["run", "-n"]);
    assert!(
        !dry.stdout.lines().any(|l| l.starts_with("would ")),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains(
            "26 instances would run or be restored; `repro run -n --instances` lists each"
        ),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("cell          25      0   25"),
        "{}",
        dry.stdout
    );
    let dry = ws.ok(&["run", "-n", "-v"]);
    assert_eq!(
        dry.stdout
            .lines()
            .filter(|l| l.starts_with("would run "))
            .count(),
        26,
        "{}",
        dry.stdout
    );
    // JSON carries every instance whatever the count.
    let events = json_lines(&ws.ok(&["run", "-n", "--json"]).stdout);
    let would = events.iter().filter(|e| e["event"] == "would_run").count();
    assert_eq!(would, 26);
}

#[test]
fn dry_run_json_ends_with_a_plan_even_when_everything_is_up_to_date() {
    let ws = Ws::new(SMALL);
    let events = json_lines(&ws.ok(&["run", "-n", "--json"]).stdout);
    let plan = events.last().expect("a plan line");
    assert_eq!(plan["event"], "plan");
    assert_eq!(
        (plan["run"].as_u64(), plan["fresh"].as_u64()),
        (Some(5), Some(0))
    );
    ws.ok(&["run"]);
    let out = ws.ok(&["run", "-n", "--json"]);
    let events = json_lines(&out.stdout);
    assert_eq!(events.len(), 1, "{}", out.stdout);
    insta::assert_snapshot!(out.stdout, @r#"{"event":"plan","profile":"default","selected":5,"run":0,"restore":0,"fresh":5,"stages":[{"stage":"prep","instances":2,"fresh":2,"run":0,"restore":0,"running":0,"failed":0},{"stage":"train","instances":2,"fresh":2,"run":0,"restore":0,"running":0,"failed":0},{"stage":"report","instances":1,"fresh":1,"run":0,"restore":0,"running":0,"failed":0}]}"#);
}

#[test]
fn dag_stages_prints_one_node_per_stage_in_text_dot_and_json() {
    let ws = Ws::new(&wide());
    insta::assert_snapshot!(ws.ok(&["dag", "--stages"]).stdout, @r"
    cell (25 instances)
    sum (1 instance) <- cell
    26 instances, 2 stages
    ");
    insta::assert_snapshot!(ws.ok(&["dag", "--stages", "--dot"]).stdout, @r#"
    digraph repro {
      rankdir=LR;
      node [shape=box, fontsize=10];
      "cell" [label="cell\n25 instances"];
      "sum" [label="sum\n1 instance"];
      "cell" -> "sum";
    }
    "#);
    let doc: serde_json::Value =
        serde_json::from_str(&ws.ok(&["dag", "--stages", "--json"]).stdout).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({"stages": [
            {"stage": "cell", "instances": 25, "upstream": []},
            {"stage": "sum", "instances": 1, "upstream": ["cell"]},
        ]})
    );
    let ws = Ws::new(SMALL);
    let doc: serde_json::Value =
        serde_json::from_str(&ws.ok(&["dag", "--json", "report"]).stdout).unwrap();
    let report = doc["instances"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["id"] == "report"))
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(
        report,
        &serde_json::json!({"id": "report", "stage": "report", "upstream": ["train@task=a", "train@task=b"]})
    );
    assert_eq!(doc["stages"].as_array().map(Vec::len), Some(3), "{doc}");
    let err = ws.code(&["dag", "--dot", "--json"], 2);
    assert!(err.stderr.contains("cannot be used with"), "{}", err.both());
}

#[test]
fn show_prints_the_recorded_metrics_and_json() {
    let ws = Ws::new(SMALL);
    let before = ws.ok(&["show", "train@task=b"]);
    assert!(
        before
            .stdout
            .contains("metrics   none recorded yet (declared: acc of runs/b/m.json)"),
        "{}",
        before.stdout
    );
    ws.ok(&["run"]);
    let out = ws.ok(&["show", "train@task=b"]);
    assert!(
        out.stdout.contains("  metric  runs/b/m.json#acc = 2.0\n"),
        "{}",
        out.stdout
    );
    // A changed value: the record of the new key does not exist, the lock's metrics are shown
    // as those of an earlier key.
    ws.edit_pipeline("b: 2.0}", "b: 2.5}");
    let out = ws.ok(&["show", "train@task=b"]);
    let text = redact(&out.stdout);
    assert!(
        text.contains("lock      [hash] (an earlier key)\n  metric  runs/b/m.json#acc = 2.0\n"),
        "{text}"
    );
    ws.ok(&["run"]);
    let doc: serde_json::Value =
        serde_json::from_str(&ws.ok(&["show", "--json", "train@task=b"]).stdout).unwrap();
    assert_eq!(doc["state"], "fresh", "{doc}");
    assert_eq!(doc["record"]["metrics"]["runs/b/m.json#acc"], 2.5, "{doc}");
    assert_eq!(doc["lock"]["metrics"]["runs/b/m.json#acc"], 2.5, "{doc}");
    assert_eq!(doc["lock"]["key"], doc["key"], "{doc}");
    assert_eq!(doc["inputs"]["params"]["lr.b"], 2.5, "{doc}");
    assert_eq!(
        doc["declared_metrics"]["fields"],
        serde_json::json!(["acc"])
    );
    assert_eq!(doc["upstream"], serde_json::json!(["prep@task=b"]));
}

#[test]
fn verify_and_gc_dry_run_print_json() {
    let ws = Ws::new(SMALL);
    ws.ok(&["run"]);
    let doc: serde_json::Value =
        serde_json::from_str(&ws.ok(&["verify", "--json"]).stdout).unwrap();
    assert_eq!(
        (
            doc["instances"].as_u64(),
            doc["problems"].as_array().map(Vec::len)
        ),
        (Some(5), Some(0)),
        "{doc}"
    );
    std::fs::write(ws.root.join("report.txt"), "tampered\n").unwrap();
    let out = ws.code(&["verify", "--json"], 1);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let problems = doc["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{doc}");
    assert!(
        problems[0].as_str().unwrap().starts_with("report: "),
        "{doc}"
    );
    // A superseded result: gc -n would delete its record and object, and deletes nothing.
    ws.edit_pipeline("b: 2.0}", "b: 2.5}");
    ws.ok(&["run"]);
    let doc: serde_json::Value =
        serde_json::from_str(&ws.ok(&["gc", "-n", "--json"]).stdout).unwrap();
    assert_eq!(doc["dry_run"], true, "{doc}");
    assert!(doc["records_deleted"].as_u64() >= Some(2), "{doc}");
    let again: serde_json::Value =
        serde_json::from_str(&ws.ok(&["gc", "-n", "--json"]).stdout).unwrap();
    assert_eq!(doc, again, "a dry run deleted something");
    let done: serde_json::Value = serde_json::from_str(&ws.ok(&["gc", "--json"]).stdout).unwrap();
    assert_eq!(done["dry_run"], false);
    assert_eq!(done["records_deleted"], doc["records_deleted"]);
    let after: serde_json::Value =
        serde_json::from_str(&ws.ok(&["gc", "-n", "--json"]).stdout).unwrap();
    assert_eq!(after["records_deleted"], 0, "{after}");
}
