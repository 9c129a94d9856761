//! Target selection (`stage@dim=value` patterns, prefixes, unknown targets), `repro exec`,
//! `dag`, `show`, `logs` and `gc`.

use crate::common::{redact, Ws};

const PIPELINE: &str = r#"version: 1
params:
  lr: {x: 0.1, y: 0.2}
stages:
  gen:
    cmd: "echo gen-${task}-${seed} >> \"$COUNTER\"; echo ${task} ${seed} > data/${task}-${seed}.txt"
    shell: true
    matrix:
      task: [x, y]
      seed: [1, 2]
    outs: ["data/${task}-${seed}.txt"]
  train:
    cmd: "echo train-${task}-${seed} >> \"$COUNTER\"; echo training ${task}; cat data/${task}-${seed}.txt > runs/${task}/${seed}.txt; echo lr=${params.lr.${task}} >> runs/${task}/${seed}.txt"
    shell: true
    matrix:
      task: [x, y]
      seed: [1, 2]
    deps: ["data/${task}-${seed}.txt"]
    outs: ["runs/${task}/${seed}.txt"]
  stats:
    cmd: "echo stats-${task} >> \"$COUNTER\"; cat runs/${task}/*.txt > stats/${task}.txt"
    shell: true
    matrix:
      task: [x, y]
    deps: ["runs/${task}"]
    outs: ["stats/${task}.txt"]
  table:
    cmd: "echo table >> \"$COUNTER\"; cat stats/*.txt > table.txt"
    shell: true
    deps: [stats]
    outs: [table.txt]
"#;

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn pattern_selects_matching_instances_and_their_upstream_only() {
    let ws = Ws::new(PIPELINE);
    let out = ws.ok(&["run", "train@task=x"]);
    assert!(
        out.stderr.contains("4 instances selected"),
        "{}",
        out.both()
    );
    assert_eq!(
        sorted(ws.ran()),
        ["gen-x-1", "gen-x-2", "train-x-1", "train-x-2"]
    );
    ws.ok(&["run", "train@seed=2,task=y"]);
    assert_eq!(sorted(ws.ran()[4..].to_vec()), ["gen-y-2", "train-y-2"]);
}

#[test]
fn glob_patterns_and_several_targets_combine() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run", "g*@seed=1", "gen@task=y"]);
    assert_eq!(sorted(ws.ran()), ["gen-x-1", "gen-y-1", "gen-y-2"]);
}

#[test]
fn prefix_of_instance_ids_selects() {
    let ws = Ws::new(PIPELINE);
    let st = ws.ok(&["status", "stat"]);
    assert!(
        st.stdout.contains("10 of 10 instances stale"),
        "stats and its upstream:\n{}",
        st.both()
    );
    ws.ok(&["run", "train@seed=1,t"]);
    assert_eq!(
        sorted(ws.ran()),
        ["gen-x-1", "gen-y-1", "train-x-1", "train-y-1"]
    );
}

#[test]
fn unknown_target_is_a_user_error() {
    let ws = Ws::new(PIPELINE);
    for args in [
        &["run", "nope"][..],
        &["dag", "zzz"],
        &["verify", "nope"],
        &["exec", "nope"],
    ] {
        let out = ws.code(args, 2);
        let target = args[1];
        assert!(
            out.stderr.contains(&format!(
                "error: target `{target}` names no stage `{target}` (stages: `gen`, `stats`, `table`, `train`)"
            )),
            "{}",
            out.both()
        );
        assert!(
            out.stderr.contains("hint: list instances with `repro dag`"),
            "{}",
            out.both()
        );
    }
    assert!(ws.ran().is_empty());
}

/// Targets that select nothing say which part is wrong (they once all said "matches no
/// instance"): the stage, a dimension, a value this profile lacks, a stage the profile skips.
#[test]
fn a_target_that_selects_nothing_names_the_wrong_part() {
    let ws = Ws::new(&format!(
        "{}profiles:\n  quick:\n    matrix: {{task: [x]}}\n    skip: [table]\n",
        PIPELINE
    ));
    let err = |args: &[&str]| {
        let out = ws.code(args, 2);
        assert!(out.stdout.is_empty(), "{}", out.both());
        out.stderr
    };
    insta::assert_snapshot!(err(&["status", "trian"]), @r"
    error: target `trian` names no stage `trian` (stages: `gen`, `stats`, `table`, `train`)
    hint: did you mean `train`?
    ");
    insta::assert_snapshot!(err(&["status", "train@sede=1"]), @r"
    error: target `train@sede=1`: stage `train` has no dimension `sede` (dimensions: `seed`, `task`)
    hint: did you mean `seed`?
    ");
    insta::assert_snapshot!(err(&["status", "train@task=z"]), @r"
    error: target `train@task=z`: no instance of `train` has `task=z` in this pipeline (values: `x`, `y`)
    hint: pick one of the values, or a profile whose matrix has it (`-p NAME`)
    ");
    insta::assert_snapshot!(err(&["-p", "quick", "status", "train@task=y"]), @r"
    error: target `train@task=y`: no instance of `train` has `task=y` in profile `quick` (values: `x`)
    hint: pick one of the values, or a profile whose matrix has it (`-p NAME`)
    ");
    insta::assert_snapshot!(err(&["-p", "quick", "run", "table"]), @r"
    error: target `table` names stage `table`, which profile `quick` skips
    hint: choose a profile that runs it (`-p NAME`), or remove it from `skip` of profile `quick`
    ");
    insta::assert_snapshot!(err(&["status", "train@task"]), @r"
    error: target `train@task`: `task` is not of the form `dim=value`
    hint: write targets as `STAGE@dim=value,dim=value` (values may be globs)
    ");
    // Several stages: the dimensions of all of them.
    insta::assert_snapshot!(err(&["status", "*@tsk=x"]), @r"
    error: target `*@tsk=x`: stages `gen`, `stats`, `table`, `train` have no dimension `tsk` (dimensions: `seed`, `task`)
    hint: did you mean `task`?
    ");
    assert!(ws.ran().is_empty());
}

#[test]
fn exec_refuses_when_upstream_is_stale_then_runs_exactly_one_instance() {
    let ws = Ws::new(PIPELINE);
    let out = ws.code(&["exec", "train@seed=1,task=x"], 2);
    assert!(
        out.stderr.contains(
            "error: upstream `gen@seed=1,task=x` of `train@seed=1,task=x` is not up to date (run)"
        ),
        "{}",
        out.both()
    );
    assert!(
        out.stderr
            .contains("hint: run `repro run gen@seed=1,task=x` first"),
        "{}",
        out.both()
    );
    assert!(ws.ran().is_empty());

    ws.ok(&["exec", "gen@seed=1,task=x"]);
    ws.ok(&["exec", "train@seed=1,task=x"]);
    assert_eq!(ws.ran(), ["gen-x-1", "train-x-1"]);
    // Published like a run: fresh for status, not run again by exec or run.
    ws.ok(&["exec", "train@seed=1,task=x"]);
    ws.code(&["status", "--check", "train@seed=1,task=x"], 0);
    assert_eq!(ws.ran().len(), 2);
}

#[test]
fn exec_needs_exactly_one_instance() {
    let ws = Ws::new(PIPELINE);
    let out = ws.code(&["exec", "gen@task=x"], 2);
    assert!(
        out.stderr
            .contains("`gen@task=x` matches 2 instances, expected one"),
        "{}",
        out.both()
    );
}

#[test]
fn exec_of_a_failing_instance_exits_1() {
    let ws = Ws::new("version: 1\nstages:\n  a:\n    cmd: [\"false\"]\n    outs: [x]\n");
    ws.code(&["exec", "a"], 1);
}

#[test]
fn dag_prints_edges_as_text_and_dot() {
    let ws = Ws::new(PIPELINE);
    let text = ws.ok(&["dag", "stats@task=x"]).stdout;
    assert!(
        text.contains("stats@task=x <- train@seed=1,task=x, train@seed=2,task=x\n"),
        "{text}"
    );
    assert!(
        text.contains("train@seed=2,task=x <- gen@seed=2,task=x\n"),
        "{text}"
    );
    assert!(text.ends_with("5 instances, 3 stages\n"), "{text}");
    let dot = ws.ok(&["dag", "--dot"]).stdout;
    assert!(dot.starts_with("digraph repro {\n"), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");
    assert!(
        dot.contains("  \"gen@seed=1,task=x\" -> \"train@seed=1,task=x\";\n"),
        "{dot}"
    );
    assert!(dot.contains("  \"stats@task=y\" -> \"table\";\n"), "{dot}");
    assert_eq!(dot.matches(" -> ").count(), 4 + 4 + 2, "{dot}");
    assert_eq!(
        dot.lines()
            .filter(|l| l.starts_with("  \"") && !l.contains("->"))
            .count(),
        11,
        "{dot}"
    );
}

#[test]
fn show_prints_state_key_inputs_and_record() {
    let ws = Ws::new(PIPELINE);
    let before = redact(&ws.ok(&["show", "train@seed=1,task=y"]).stdout);
    assert!(before.starts_with("instance  train@seed=1,task=y\nstate     run\n  why     upstream `gen@seed=1,task=y` is stale\n"), "{before}");
    ws.ok(&["run"]);
    let after = redact(&ws.ok(&["show", "train@seed=1,task=y"]).stdout);
    // The slot depends on which instance started first: checked apart from the snapshot.
    assert!(
        after.lines().any(|l| l.starts_with("  slot    cpu ")),
        "{after}"
    );
    let host_free: Vec<&str> = after
        .lines()
        .filter(|l| !l.starts_with("record ") && !l.starts_with("  slot "))
        .collect();
    insta::assert_snapshot!(host_free.join("\n"), @r#"
    instance  train@seed=1,task=y
    state     fresh
    argv      sh -c echo train-y-1 >> "$COUNTER"; echo training y; cat data/y-1.txt > runs/y/1.txt; echo lr=0.2 >> runs/y/1.txt
    key       [hash]
      param   lr.y = 0.2
      dep     data/y-1.txt file:[hash]
      commit  not recorded
      out     runs/y/1.txt file:[hash]
    lock      [hash]
    upstream  gen@seed=1,task=y
    "#);
    assert!(after.contains("record    ran in [time] on "), "{after}");
}

#[test]
fn logs_prints_the_last_run_even_after_the_attempt_log_is_gone() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run", "train@task=x"]);
    assert_eq!(
        ws.ok(&["logs", "train@seed=2,task=x"]).stdout,
        "training x\n"
    );
    std::fs::remove_dir_all(ws.root.join(".repro/logs")).unwrap();
    assert_eq!(
        ws.ok(&["logs", "train@seed=2,task=x"]).stdout,
        "training x\n",
        "the log is kept in the cache"
    );
    let out = ws.code(&["logs", "train@seed=1,task=y"], 2);
    assert!(
        out.stderr.contains("no log for `train@seed=1,task=y`"),
        "{}",
        out.both()
    );
}

#[test]
fn ids_that_differ_only_in_replaced_characters_keep_their_own_logs() {
    let ws = Ws::new(
        r#"version: 1
stages:
  s:
    cmd: [sh, -c, 'echo "I am $REPRO_INSTANCE"; exit 1']
    matrix:
      v: ["a;b", "a:b"]
    outs: ["o/${v}"]
"#,
    );
    ws.code(&["run", "--keep-going"], 1);
    for id in ["s@v=a;b", "s@v=a:b"] {
        assert_eq!(ws.ok(&["logs", id]).stdout, format!("I am {id}\n"));
    }
}

#[test]
fn gc_deletes_unreferenced_objects_and_keeps_referenced_ones() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    let lock = ws.read("repro.lock");
    let old_digest = lock
        .lines()
        .find_map(|l| l.strip_prefix("out runs/x/1.txt file:"))
        .unwrap()
        .to_owned();
    ws.edit_pipeline("lr: {x: 0.1,", "lr: {x: 0.3,");
    ws.ok(&["run"]);
    assert_eq!(ws.ran().len(), 4 + 4 + 2 + 1 + 2 + 1 + 1);
    let objects_before = ws.objects();
    let old_object = ws
        .root
        .join("cache/objects")
        .join(&old_digest[..2])
        .join(&old_digest[2..]);
    assert!(old_object.exists());

    let dry = ws.ok(&["gc", "--dry-run"]);
    assert!(
        dry.stdout.starts_with("would delete 4 records, "),
        "{}",
        dry.both()
    );
    assert_eq!(ws.objects(), objects_before, "--dry-run deletes nothing");

    let out = ws.ok(&["gc"]);
    assert!(
        out.stdout.starts_with("deleted 4 records, "),
        "{}",
        out.both()
    );
    assert!(!old_object.exists(), "an unreferenced output survived gc");
    assert!(ws.objects().len() < objects_before.len());
    let v = ws.ok(&["verify"]);
    assert!(v.stdout.contains(" 0 problem(s)"), "{}", v.both());
    // Everything referenced is still restorable.
    std::fs::remove_dir_all(ws.root.join("runs")).unwrap();
    let run = ws.ok(&["run"]);
    assert!(run.stderr.contains("0 ran, 4 restored"), "{}", run.both());
    let again = ws.ok(&["gc"]);
    assert!(
        again.stdout.starts_with("deleted 0 records, 0 objects"),
        "{}",
        again.both()
    );
    // Going back to the collected parameter value must run again, with a reason.
    ws.edit_pipeline("lr: {x: 0.3,", "lr: {x: 0.1,");
    let st = ws.code(&["status"], 0).stdout;
    assert!(
        st.contains(
            "run      train@seed=1,task=x: inputs changed (earlier record no longer cached)"
        ) || st.contains("param `lr.x` changed"),
        "{st}"
    );
}

#[test]
fn closed_stdout_pipe_ends_quietly_instead_of_panicking() {
    let mut text = String::from(
        "version: 1\nstages:\n  s:\n    cmd: [touch, \"o/${i}\"]\n    matrix:\n      i: [",
    );
    text.push_str(
        &(0..3000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    );
    text.push_str("]\n    outs: [\"o/${i}\"]\n");
    let ws = Ws::new(&text);
    let mut child = ws
        .command(&["dag"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close our end of stdout at once: every write of `repro dag` now hits a closed pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
