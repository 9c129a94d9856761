//! User errors: every pipeline error names the file, line, column and field, exits 2 and never
//! panics; a failing stage exits 1, prints its log tail and skips its downstream.

use crate::common::{lines_with, run_limited, Ws};

/// Runs `repro ARGS` on a pipeline that must be rejected; returns stderr.
fn rejected(pipeline: &str, args: &[&str]) -> String {
    let ws = Ws::new(pipeline);
    let out = ws.code(args, 2);
    assert!(!out.stderr.contains("panicked"), "{}", out.both());
    assert!(
        out.stdout.is_empty(),
        "errors go to stderr:\n{}",
        out.both()
    );
    out.stderr
}

#[test]
fn unknown_key_is_located_and_lists_the_expected_keys() {
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: \"true\"\n    outz: [x]\n",
        &["status"],
    );
    assert!(err.starts_with("error: `pipeline.yaml` at 5:5: stages.a: unknown field `outz`, expected one of `description`, `cmd`"), "{err}");
    assert!(err.contains("`outs`"), "{err}");
}

#[test]
fn undefined_variable_in_cmd_is_located_with_a_hint() {
    let err = rejected("version: 1\nstages:\n  a:\n    cmd: [echo, \"${nope}\"]\n    matrix:\n      t: [x]\n    outs: [\"o${t}\"]\n", &["run"]);
    insta::assert_snapshot!(err, @r"
    error: `pipeline.yaml` at 4:17, field `stages.a.cmd[1]`: undefined variable `nope` (defined here: t)
    hint: add the dimension to the stage's `matrix`, or the parameter to `params`
    ");
}

#[test]
fn undefined_parameter_in_a_nested_reference_is_located() {
    let err = rejected(
        "version: 1\nparams:\n  lr: {a: 1}\nstages:\n  a:\n    cmd: [echo, \"${params.lr.${t}}\"]\n    matrix:\n      t: [a, b]\n    outs: [\"o${t}\"]\n",
        &["status"],
    );
    insta::assert_snapshot!(err, @r"
    error: `pipeline.yaml` at 6:17, field `stages.a.cmd[1]`: parameter `lr` has no key `b` (its keys: `a`)
    hint: fix the name, or define it in `params` (a profile can then change it)
    ");
}

/// A reference into a mapping parameter names the keys it has, with the closest one.
#[test]
fn missing_key_of_a_mapping_parameter_lists_its_keys() {
    let err = rejected(
        "version: 1\nparams:\n  lr: {listops: 1, parity: 2}\nstages:\n  a:\n    cmd: [echo, \"${params.lr.listop}\"]\n    outs: [o]\n",
        &["status"],
    );
    insta::assert_snapshot!(err, @r"
    error: `pipeline.yaml` at 6:17, field `stages.a.cmd[1]`: parameter `lr` has no key `listop` (its keys: `listops`, `parity`)
    hint: did you mean `lr.listops`?
    ");
}

/// `undefined parameter` names the defined ones, in a matrix, a template and `params:`.
#[test]
fn undefined_parameter_lists_the_defined_names_with_the_closest() {
    let base = "version: 1\nparams:\n  seeds: [1, 2]\n  lr: 0.1\nstages:\n  a:\n";
    let err = rejected(
        &format!("{base}    cmd: [echo]\n    matrix: {{s: \"${{params.seedz}}\"}}\n    outs: [\"o${{s}}\"]\n"),
        &["status"],
    );
    insta::assert_snapshot!(err, @r"
    error: `pipeline.yaml` at 8:17, field `stages.a.matrix.s`: undefined parameter `seedz` (defined: `lr`, `seeds`)
    hint: did you mean `seeds`?
    ");
    let err = rejected(
        &format!("{base}    cmd: [echo]\n    params: [lrr]\n    outs: [o]\n"),
        &["status"],
    );
    insta::assert_snapshot!(err, @r"
    error: `pipeline.yaml` at 8:14, field `stages.a.params[0]`: undefined parameter `lrr` (defined: `lr`, `seeds`)
    hint: did you mean `lr`?
    ");
    // A parameter written without `params.` is suggested with it.
    let err = rejected(
        &format!("{base}    cmd: [echo, \"${{seeds}}\"]\n    outs: [o]\n"),
        &["status"],
    );
    insta::assert_snapshot!(err, @r"
    error: `pipeline.yaml` at 7:17, field `stages.a.cmd[1]`: undefined variable `seeds` (defined here: params.lr, params.seeds)
    hint: did you mean `params.seeds`? otherwise add the dimension to the stage's `matrix`, or the parameter to `params`
    ");
}

/// A profile's `params` entry that names no parameter was once ignored silently (`seedz` for
/// `seeds` ran every seed).
#[test]
fn profile_param_that_names_no_parameter_is_located_with_a_did_you_mean() {
    let tail = "stages:\n  a:\n    cmd: [echo]\n    matrix: {s: \"${params.seeds}\"}\n    outs: [\"o${s}\"]\n";
    let err = rejected(
        &format!("version: 1\nparams:\n  seeds: [1, 2]\n  lr: {{a: 1}}\nprofiles:\n  quick:\n    params:\n      seedz: [1]\n{tail}"),
        &["status"],
    );
    insta::assert_snapshot!(err, @r"
    error: `pipeline.yaml` at 8:7, field `profiles.quick.params.seedz`: profile `quick` sets parameter `seedz`, which `params` does not define (defined: `lr`, `seeds`)
    hint: did you mean `seeds`? a profile can only change parameters that `params` defines
    ");
    // Inside a mapping parameter, key by key; every profile is checked, applied or not.
    let err = rejected(
        &format!("version: 1\nparams:\n  seeds: [1, 2]\n  lr: {{listops: 1}}\nprofiles:\n  quick: {{default: true}}\n  paper:\n    params:\n      lr: {{listop: 2}}\n{tail}"),
        &["status"],
    );
    insta::assert_snapshot!(err, @r"
    error: `pipeline.yaml` at 9:12, field `profiles.paper.params.lr.listop`: profile `paper` sets parameter `lr.listop`, which parameter `lr` does not have (its keys: `listops`)
    hint: did you mean `lr.listops`? a profile can only change parameters that `params` defines
    ");
}

#[test]
fn unknown_field_gets_a_did_you_mean_hint() {
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: \"true\"\n    outz: [x]\n",
        &["status"],
    );
    assert!(
        err.ends_with("\nhint: did you mean `outs`? docs/pipeline.md lists every field\n"),
        "{err}"
    );
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: \"true\"\n    outs: [x]\n    zzzzzz: 1\n",
        &["status"],
    );
    assert!(
        err.ends_with(
            "\nhint: remove the field or fix its name; docs/pipeline.md lists every field\n"
        ),
        "{err}"
    );
}

#[test]
fn unquoted_interpolation_in_a_flow_list_names_the_likely_cause() {
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: [echo, --lr=${params.lr}, b]\n    outs: [x]\n",
        &["status"],
    );
    insta::assert_snapshot!(err, @r#"
    error: `pipeline.yaml` at 4:23: did not find expected ',' or ']' (likely cause: `--lr=${params.lr}` is not quoted, and inside `[...]` YAML reads `{` as the start of a mapping)
    hint: quote it: `"--lr=${params.lr}"`
    "#);
    // Quoted, or outside a flow list, `${` is not blamed for an unrelated syntax error.
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: [echo, \"${x}\" b]\n    outs: [x]\n",
        &["status"],
    );
    assert!(!err.contains("likely cause"), "{err}");
}

#[test]
fn output_declared_twice_names_both_instances() {
    let err = rejected("version: 1\nstages:\n  a:\n    cmd: [touch, x]\n    outs: [x]\n  b:\n    cmd: [touch, x]\n    outs: [x]\n", &["status"]);
    insta::assert_snapshot!(err, @"error: `pipeline.yaml` at 8:12, field `stages.b.outs[0]`: output `x` of `b` is also declared by `a`");
}

#[test]
fn output_declared_twice_by_one_matrix_stage_is_rejected() {
    let err = rejected("version: 1\nstages:\n  a:\n    cmd: [touch, x]\n    outs: [x]\n    matrix:\n      t: [p, q]\n", &["status"]);
    assert!(
        err.contains(
            "at 5:12, field `stages.a.outs[0]`: output `x` of `a@t=q` is also declared by `a@t=p`"
        ),
        "{err}"
    );
}

/// Instances of one matrix stage that write the same path most likely miss a `${dim}` in it.
#[test]
fn duplicate_output_within_a_matrix_hints_at_the_missing_dimension() {
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: [touch, x]\n    outs: [\"out/${t}.txt\"]\n    matrix:\n      t: [p, q]\n      seed: [1, 2]\n",
        &["status"],
    );
    insta::assert_snapshot!(err, @r"
    error: `pipeline.yaml` at 5:12, field `stages.a.outs[0]`: output `out/p.txt` of `a@seed=2,t=p` is also declared by `a@seed=1,t=p`
    hint: the path does not use `${seed}`; add it to the path so that each instance writes its own output
    ");
}

#[test]
fn output_nested_inside_another_output_is_rejected() {
    let err = rejected("version: 1\nstages:\n  a:\n    cmd: [touch, x]\n    outs: [d]\n  b:\n    cmd: [touch, x]\n    outs: [d/x]\n", &["status"]);
    assert!(
        err.contains(
            "at 8:12, field `stages.b.outs[0]`: output `d/x` of `b` lies inside output `d` of `a`"
        ),
        "{err}"
    );
}

#[test]
fn dependency_neither_present_nor_produced_is_located_with_a_hint() {
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: [touch, x]\n    deps: [nothere]\n    outs: [x]\n",
        &["run"],
    );
    insta::assert_snapshot!(err, @r"
    error: `pipeline.yaml` at 5:12, field `stages.a.deps[0]`: dependency `nothere` of `a` neither exists nor is produced by any stage
    hint: create the file, fix the path, or add a stage whose `outs` produce it
    ");
}

#[test]
fn cycle_is_printed_as_a_path() {
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: [touch, x]\n    deps: [y]\n    outs: [x]\n  b:\n    cmd: [touch, y]\n    deps: [x]\n    outs: [y]\n",
        &["status"],
    );
    assert!(err.starts_with("error: `pipeline.yaml` at "), "{err}");
    assert!(err.contains(", field `stages."), "{err}");
    assert!(
        err.contains("dependency cycle: `a` -> `b` -> `a`")
            || err.contains("dependency cycle: `b` -> `a` -> `b`"),
        "{err}"
    );
}

#[test]
fn three_stage_cycle_and_self_loop_are_printed_in_full() {
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: [touch, a]\n    deps: [c]\n    outs: [a]\n  b:\n    cmd: [touch, b]\n    deps: [a]\n    outs: [b]\n  c:\n    cmd: [touch, c]\n    deps: [b]\n    outs: [c]\n",
        &["status"],
    );
    let cycle = err
        .split("dependency cycle: ")
        .nth(1)
        .unwrap_or_else(|| panic!("{err}"))
        .trim();
    let names: Vec<&str> = cycle.split(" -> ").collect();
    assert_eq!(names.len(), 4, "{err}");
    assert_eq!(names.first(), names.last(), "{err}");
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: [touch, x]\n    deps: [x]\n    outs: [x]\n",
        &["status"],
    );
    insta::assert_snapshot!(err, @r"
    error: `pipeline.yaml` at 5:12, field `stages.a.deps[0]`: output `x` of `a` is also its own dependency
    hint: a stage cannot read what it writes: remove the dependency, or depend on what an upstream stage produces
    ");
}

/// An output inside the directory the stage depends on was once reported as the cycle
/// `report -> report`.
#[test]
fn output_inside_the_stages_own_dependency_directory_is_explained() {
    let err = rejected(
        "version: 1\nstages:\n  train:\n    cmd: [touch, results/train.txt]\n    outs: [results/train.txt]\n  report:\n    cmd: [touch, results/report.txt]\n    deps: [results]\n    outs: [results/report.txt]\n",
        &["status"],
    );
    insta::assert_snapshot!(err, @r"
    error: `pipeline.yaml` at 8:12, field `stages.report.deps[0]`: output `results/report.txt` of `report` lies inside its own dependency `results`, so the stage would read what it writes
    hint: a stage cannot read what it writes: depend on the upstream outputs inside `results` that it reads, or write `results/report.txt` outside `results`
    ");
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: [touch, d]\n    deps: [d/x]\n    outs: [d]\n",
        &["status"],
    );
    assert!(
        err.contains(
            "field `stages.a.deps[0]`: dependency `d/x` of `a` lies inside its own output `d`"
        ),
        "{err}"
    );
}

#[test]
fn unknown_profile_lists_the_defined_ones() {
    let err = rejected("version: 1\nprofiles:\n  quick: {default: true}\n  paper: {}\nstages:\n  a:\n    cmd: [touch, x]\n    outs: [x]\n", &["-p", "nope", "status"]);
    // The profile comes from the command line, so the position only points into `profiles`.
    assert!(err.starts_with("error: `pipeline.yaml` at "), "{err}");
    assert!(err.contains(", field `profiles`: unknown profile `nope` (defined: paper, quick)\nhint: pass one of the defined names to `--profile`\n"), "{err}");
}

#[test]
fn two_default_profiles_are_rejected_at_the_second() {
    let err = rejected("version: 1\nprofiles:\n  p1: {default: true}\n  p2: {default: true}\nstages:\n  a:\n    cmd: [touch, x]\n    outs: [x]\n", &["status"]);
    insta::assert_snapshot!(err, @"error: `pipeline.yaml` at 4:17, field `profiles.p2.default`: profiles `p1` and `p2` are both marked `default: true`");
}

#[test]
fn unsupported_version_bad_paths_and_bad_resources_are_located() {
    let cases: [(&str, &str); 5] = [
        ("version: 2\nstages: {}\n", "at 1:10, field `version`: unsupported version 2"),
        ("version: 1\nstages:\n  a:\n    cmd: [touch, x]\n    outs: [\"../x\"]\n", "at 5:12, field `stages.a.outs[0]`: path `../x` must be relative"),
        ("version: 1\nstages:\n  a:\n    cmd: [touch, x]\n    outs: [\"/tmp/x\"]\n", "at 5:12, field `stages.a.outs[0]`: path `/tmp/x` must be relative"),
        ("version: 1\nstages:\n  a:\n    cmd: [touch, x]\n    outs: [\"o/*\"]\n", "at 5:12, field `stages.a.outs[0]`: output `o/*` is a glob"),
        ("version: 1\nstages:\n  a:\n    cmd: [touch, x]\n    outs: [x]\n    resources: {gpus: 1.5}\n", "at 6:23, field `stages.a.resources.gpus`: `gpus` must be"),
    ];
    for (yaml, want) in cases {
        let err = rejected(yaml, &["status"]);
        assert!(err.contains(want), "want {want:?} in:\n{err}");
    }
}

#[test]
fn malformed_yaml_is_a_located_user_error_not_a_panic() {
    let cases = [
        "version: 1\nstages: [\n",
        "{{{",
        ":",
        "version: 1\nstages:\n  a:\n    cmd: \"x\"\n\touts: [y]\n",
        "- a\n- b\n",
        "version: 1\nstages:\n  a: &x\n    cmd: *y\n    outs: [o]\n",
        "version: !!binary AAAA\n",
        "",
        "\u{feff}\u{0}\u{1}",
        "version: 1\nstages:\n  a:\n    cmd: \"unterminated\n",
        "version: 1\nstages:\n  a:\n    cmd: 'echo \"x'\n    outs: [o]\n",
        "version: 1\nstages:\n  a:\n    cmd: [touch, o]\n    outs: [o]\n    matrix:\n      t: []\n",
        "version: 1\nstages:\n  a:\n    cmd: [touch, o]\n    outs: [o]\n    matrix: {t: \"${params.nope}\"}\n",
        "version: 1\nparams: {l: 3}\nstages:\n  a:\n    cmd: [touch, o]\n    outs: [o]\n    matrix: {t: \"${params.l}\"}\n",
        "version: 1\nstages:\n  a:\n    cmd: [touch, \"${unterminated\"]\n    outs: [o]\n",
        &"[".repeat(10_000),
        &format!("version: 1\nstages:\n{}", "  - a:\n".repeat(2_000)),
    ];
    for yaml in cases {
        let err = rejected(yaml, &["status"]);
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: `pipeline.yaml` at "),
            "{yaml:?} gave:\n{err}"
        );
        let at = first.trim_start_matches("error: `pipeline.yaml` at ");
        let (line, rest) = at.split_once(':').unwrap();
        let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
        assert!(
            line.parse::<usize>().unwrap() >= 1 && col.parse::<usize>().unwrap() >= 1,
            "{yaml:?}: {first}"
        );
    }
}

#[test]
fn missing_pipeline_file_is_a_user_error() {
    let ws = Ws::new("version: 1\nstages: {}\n");
    let out = ws.code(&["-f", "nope.yaml", "status"], 2);
    assert!(
        out.stderr.contains("`nope.yaml`") && out.stderr.contains("cannot read the file"),
        "{}",
        out.both()
    );
}

const FAILING: &str = r#"version: 1
stages:
  bad:
    cmd: "echo bad >> \"$COUNTER\"; echo progress line; echo boom >&2; exit 3"
    shell: true
    outs: [bad.txt]
  after:
    cmd: "echo after >> \"$COUNTER\"; cp bad.txt after.txt"
    shell: true
    deps: [bad.txt]
    outs: [after.txt]
  ind:
    cmd: "echo ind-${n} >> \"$COUNTER\"; echo ${n} > ind/${n}.txt"
    shell: true
    matrix:
      n: [1, 2, 3, 4]
    outs: ["ind/${n}.txt"]
"#;

#[test]
fn failing_stage_exits_1_prints_its_log_tail_and_skips_downstream() {
    let ws = Ws::new(FAILING);
    let out = ws.code(&["run", "-j", "1"], 1);
    assert!(
        out.stderr.contains("FAILED    bad: exit status 3"),
        "{}",
        out.both()
    );
    assert!(
        out.stderr.contains("  | progress line\n  | boom\n"),
        "log tail:\n{}",
        out.both()
    );
    assert!(
        out.stderr
            .contains("skipped after: an upstream instance failed"),
        "{}",
        out.both()
    );
    assert!(
        out.stderr.contains("error: 1 instance(s) failed"),
        "{}",
        out.both()
    );
    assert_eq!(ws.count("after"), 0);
    // Without --keep-going nothing new starts after the failure.
    let after_failure = out.stderr.split("FAILED").nth(1).unwrap();
    assert!(
        lines_with(after_failure, "started").is_empty(),
        "{}",
        out.both()
    );
    assert!(
        !ws.read("repro.lock").contains("] bad\n"),
        "a failed instance is never recorded"
    );
    // The failure stays visible to `logs` and `status` (which counts it as failed).
    let logs = ws.ok(&["logs", "bad"]);
    assert_eq!(logs.stdout, "progress line\nboom\n");
    let st = ws.code(&["status", "--check"], 1);
    assert!(
        st.stdout.contains("failed   bad: never run")
            && st
                .stdout
                .contains("bad            1      0    0        0        0       1"),
        "{}",
        st.both()
    );
}

#[test]
fn keep_going_runs_every_independent_instance() {
    let ws = Ws::new(FAILING);
    let out = ws.code(&["run", "-j", "1", "--keep-going"], 1);
    for n in 1..=4 {
        assert_eq!(ws.count(&format!("ind-{n}")), 1, "{}", out.both());
    }
    assert_eq!(ws.count("after"), 0);
    assert!(
        out.stderr
            .contains("4 ran, 0 restored, 0 fresh, 1 failed, 1 skipped"),
        "{}",
        out.both()
    );
    // The next run retries only the failure.
    let again = ws.code(&["run", "--keep-going"], 1);
    assert!(
        again
            .stderr
            .contains("0 ran, 0 restored, 4 fresh, 1 failed, 1 skipped"),
        "{}",
        again.both()
    );
}

#[test]
fn declared_output_not_produced_is_a_stage_failure() {
    let ws = Ws::new("version: 1\nstages:\n  a:\n    cmd: [\"true\"]\n    outs: [never.txt]\n");
    let out = ws.code(&["run"], 1);
    assert!(
        out.stderr
            .contains("FAILED    a: declared output `never.txt` was not produced"),
        "{}",
        out.both()
    );
}

#[test]
fn missing_program_is_a_stage_failure_not_an_engine_error() {
    let ws = Ws::new("version: 1\nstages:\n  a:\n    cmd: [./no-such-program]\n    outs: [x]\n");
    let out = ws.code(&["run"], 1);
    assert!(
        out.stderr
            .contains("FAILED    a: cannot start `./no-such-program`"),
        "{}",
        out.both()
    );
}

#[test]
fn malformed_batch_resources_are_located() {
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: \"true\"\n    resources: {cpus: 1, mem: lots}\n    outs: [x]\n",
        &["status"],
    );
    assert!(err.contains("at 5:"), "{err}");
    assert!(err.contains("stages.a.resources.mem"), "{err}");
    assert!(err.contains("`mem` must be a positive size"), "{err}");
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: \"true\"\n    resources:\n      time: 3 weeks\n    outs: [x]\n",
        &["status"],
    );
    assert!(err.contains("at 6:"), "{err}");
    assert!(err.contains("stages.a.resources.time"), "{err}");
    assert!(err.contains("`time` must be a positive duration"), "{err}");
}

#[test]
fn an_unknown_executor_is_refused_before_anything_runs() {
    let ws = Ws::new("version: 1\nstages:\n  a:\n    cmd: \"echo a >> \\\"$COUNTER\\\"; touch x\"\n    shell: true\n    outs: [x]\n");
    let out = ws.code(&["run", "--executor", "pbs"], 2);
    assert!(
        out.stderr.contains("--executor: unknown executor `pbs`"),
        "{}",
        out.both()
    );
    assert_eq!(ws.count("a"), 0);
    ws.write(
        "repro.local.yaml",
        "executor: slurm\nslurm:\n  poll_interval: soon\n",
    );
    let out = ws.code(&["run"], 2);
    assert!(out.stderr.contains("repro.local.yaml:3:"), "{}", out.both());
    assert!(
        out.stderr.contains("`poll_interval` must be"),
        "{}",
        out.both()
    );
    let out = ws.code(&["run", "--detach"], 2);
    assert!(out.stderr.contains("repro.local.yaml:3:"), "{}", out.both());
    ws.write("repro.local.yaml", "executor: local\n");
    let out = ws.code(&["run", "--detach"], 2);
    assert!(
        out.stderr.contains("`--detach` needs a batch executor"),
        "{}",
        out.both()
    );
    assert_eq!(ws.count("a"), 0);
}

/// Every site setting is read from the environment and from `--set-site`, and a bad value is
/// refused naming the variable or flag before anything runs (`REPRO_SLURM_MAX_ARRAY_SIZE` and
/// `--set-site` were once not read at all).
#[test]
fn a_bad_site_setting_from_the_environment_or_a_flag_names_it() {
    let ws = Ws::new("version: 1\nstages:\n  a:\n    cmd: \"echo a >> \\\"$COUNTER\\\"; touch x\"\n    shell: true\n    outs: [x]\n");
    let mut cmd = ws.command(&["run"]);
    cmd.env("REPRO_SLURM_MAX_ARRAY_SIZE", "0");
    let out = run_limited(cmd);
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains(
            "REPRO_SLURM_MAX_ARRAY_SIZE: must be a whole number of at least 1, found `0`"
        ),
        "{}",
        out.both()
    );
    let out = ws.code(&["run", "--set-site", "slurm.command_timeout=soon"], 2);
    assert!(
        out.stderr
            .contains("--set-site slurm.command_timeout: must be a positive duration"),
        "{}",
        out.both()
    );
    let out = ws.code(&["run", "--set-site", "slurm.queue=gpu"], 2);
    assert!(
        out.stderr.contains("unknown setting `slurm.queue`"),
        "{}",
        out.both()
    );
    assert_eq!(ws.count("a"), 0);
    ws.ok(&[
        "run",
        "--set-site",
        "slurm.command_timeout=5s",
        "--set-site",
        "executor=local",
    ]);
    assert_eq!(ws.count("a"), 1);
}
