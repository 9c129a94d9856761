//! Hostile or careless pipeline files: outputs on the repository or the engine's own files,
//! code globs that escape, values that a shell would run, values that cannot be a path or a
//! lock entry, inputs large enough to exhaust the loader, duplicate keys, and where the
//! pipeline file is found. Each must be refused at load with a located error and exit 2,
//! never a panic, an abort or a deleted `.git`.

use std::time::{Duration, Instant};

use crate::common::{command_in, run_limited, Out, Ws};

/// Runs `repro ARGS` on a pipeline that must be rejected; returns stderr.
fn rejected(pipeline: &str, args: &[&str]) -> String {
    let ws = Ws::new(pipeline);
    rejected_in(&ws, args)
}

fn rejected_in(ws: &Ws, args: &[&str]) -> String {
    let out = ws.repro(args);
    assert_eq!(out.code, 2, "`repro {}`:\n{}", args.join(" "), out.both());
    assert!(!out.stderr.contains("panicked"), "{}", out.both());
    assert!(
        out.stdout.is_empty(),
        "errors go to stderr:\n{}",
        out.both()
    );
    assert!(
        out.stderr.starts_with("error: `"),
        "the error names the file:\n{}",
        out.both()
    );
    out.stderr
}

/// A one-stage pipeline whose stage has the given `outs` line.
fn with_outs(outs: &str) -> String {
    format!("version: 1\nstages:\n  a:\n    cmd: [\"true\"]\n    outs: {outs}\n")
}

// ---- item 2: outputs on the repository or the engine's files --------------------------------

#[test]
fn outputs_may_not_be_or_lie_inside_git_cache_repro_lock_or_the_pipeline_file() {
    for (out, reserved) in [
        (".git", ".git"),
        (".git/hooks", ".git"),
        ("./.git/", ".git"),
        ("cache", "cache"),
        ("cache/objects", "cache"),
        (".repro", ".repro"),
        (".repro/lock", ".repro"),
        ("repro.lock", "repro.lock"),
        ("pipeline.yaml", "pipeline.yaml"),
    ] {
        let err = rejected(&with_outs(&format!("[\"{out}\"]")), &["status"]);
        assert!(
            err.starts_with("error: `pipeline.yaml` at 5:12, field `stages.a.outs[0]`: output"),
            "{out}: {err}"
        );
        assert!(err.contains(&format!("`{reserved}`")), "{out}: {err}");
    }
}

#[test]
fn an_output_named_like_the_pipeline_file_given_with_f_is_refused() {
    let ws = Ws::new("version: 1\nstages: {}\n");
    ws.write("other.yaml", &with_outs("[other.yaml]"));
    let err = rejected_in(&ws, &["-f", "other.yaml", "status"]);
    assert!(err.contains("`other.yaml`"), "{err}");
    assert!(err.contains("the pipeline file"), "{err}");
}

#[test]
fn an_output_reaching_cache_through_a_parameter_is_refused() {
    let err = rejected(
        "version: 1\nparams:\n  dir: cache\nstages:\n  a:\n    cmd: [\"true\"]\n    outs: [\"${params.dir}/objects\"]\n",
        &["status"],
    );
    assert!(err.contains("field `stages.a.outs[0]`"), "{err}");
    assert!(err.contains("`cache/objects`"), "{err}");
}

#[test]
fn a_failing_stage_declaring_git_as_output_cannot_delete_it() {
    let ws = Ws::new("version: 1\nstages:\n  a:\n    cmd: [\"false\"]\n    outs: [.git]\n");
    ws.write(".git/HEAD", "ref: refs/heads/main\n");
    let err = rejected_in(&ws, &["run"]);
    assert!(err.contains("`.git`"), "{err}");
    assert_eq!(ws.read(".git/HEAD"), "ref: refs/heads/main\n");
}

// ---- item 5: code globs, nested outputs -------------------------------------------------------

#[test]
fn code_globs_may_not_be_absolute_or_climb_out_of_the_workspace() {
    for code in ["/etc/pass*", "../../x/*", "src/../../x", "/"] {
        let err = rejected(
            &format!("version: 1\nstages:\n  a:\n    cmd: [\"true\"]\n    code: [\"{code}\"]\n    outs: [x]\n"),
            &["status"],
        );
        assert!(
            err.starts_with("error: `pipeline.yaml` at 5:12, field `stages.a.code[0]`: path"),
            "{code}: {err}"
        );
        assert!(err.contains(&format!("`{code}`")), "{code}: {err}");
    }
}

#[test]
fn code_globs_may_not_point_into_engine_directories_or_outputs() {
    for (code, named) in [
        ("cache/**", "cache"),
        (".repro/*", ".repro"),
        (".git/**/*", ".git"),
        ("out/*.txt", "out"),
        ("./out/sub/*", "out"),
    ] {
        let err = rejected(
            &format!("version: 1\nstages:\n  a:\n    cmd: [\"true\"]\n    code: [\"{code}\"]\n    outs: [out]\n"),
            &["status"],
        );
        assert!(
            err.starts_with("error: `pipeline.yaml` at 5:12, field `stages.a.code[0]`:"),
            "{code}: {err}"
        );
        assert!(err.contains(&format!("`{named}`")), "{code}: {err}");
    }
}

#[test]
fn code_globs_that_only_may_match_engine_files_still_load() {
    // `**` and `*` are fine to write; the code digest skips what they must not read.
    let ws = Ws::new(
        "version: 1\nstages:\n  a:\n    cmd: [\"true\"]\n    code: [\"**\", \"src/*\", \"outer/*\"]\n    outs: [out]\n",
    );
    let out = ws.repro(&["dag"]);
    assert_eq!(out.code, 0, "{}", out.both());
}

#[test]
fn nested_outputs_are_found_whatever_sorts_between_them() {
    // `a-b` sorts between `a` and `a/c` (`-` < `/`), which hid `a/c` from a neighbour check.
    let err = rejected(&with_outs("[a, a-b, a/c]"), &["status"]);
    assert!(
        err.contains("output `a/c` of `a` lies inside output `a` of `a`"),
        "{err}"
    );
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: [\"true\"]\n    outs: [a, a.b, a-c/d, a/x/y]\n  b:\n    cmd: [\"true\"]\n    outs: [a/x]\n",
        &["status"],
    );
    assert!(err.contains("lies inside output"), "{err}");
}

// ---- item 6: shell metacharacters in substituted values -----------------------------------------

#[test]
fn shell_commands_refuse_matrix_values_with_shell_metacharacters() {
    for (cmd, value, bad) in [
        // Matrix values may not hold spaces; `${IFS}` is the shell's way around that.
        ("echo '${v}' > o/${v}", "a'$(touch${IFS}PWN)'b", '\''),
        ("echo ${v} > o", "b&&touch${IFS}PWN", '&'),
        ("echo \"${v}\" > o", "$(touch${IFS}PWN)", '$'),
        ("echo ${v} > o", "`touch${IFS}PWN`", '`'),
        ("echo ${v} > o", "x;touch${IFS}PWN", ';'),
        ("echo ${v} > o", "x|touch${IFS}PWN", '|'),
        ("echo ${v} > o", "x\\nb", '\\'),
    ] {
        let yaml = format!(
            "version: 1\nstages:\n  a:\n    cmd: {cmd:?}\n    shell: true\n    matrix:\n      v: [{value:?}]\n    outs: [o]\n"
        );
        let ws = Ws::new(&yaml);
        let err = rejected_in(&ws, &["run"]);
        assert!(
            err.starts_with("error: `pipeline.yaml` at 4:10, field `stages.a.cmd`:"),
            "{value}: {err}"
        );
        assert!(err.contains(&format!("`{value}`")), "{value}: {err}");
        assert!(err.contains(&format!("`{bad}`")), "{value}: {err}");
        assert!(err.contains("hint: ") && err.contains("argv"), "{err}");
        assert!(!ws.root.join("PWN").exists(), "{value} ran `touch`");
    }
}

#[test]
fn shell_commands_never_run_the_issue_s_values_through_include_or_params() {
    // The values of the report, with spaces: refused by one check or another, never run.
    for (matrix, params) in [
        (
            "      v: [x]\n      include:\n        - {v: \"a'$(touch PWN)'b\"}\n",
            "",
        ),
        (
            "      v: [x]\n      include:\n        - {v: \"b&&touch PWN\"}\n",
            "",
        ),
        (
            "      v: ${params.vs}\n",
            "params:\n  vs: [\"b&&touch PWN\"]\n",
        ),
    ] {
        let ws = Ws::new(&format!(
            "version: 1\n{params}stages:\n  a:\n    cmd: \"echo '${{v}}' ${{v}} > o\"\n    shell: true\n    matrix:\n{matrix}    outs: [o]\n"
        ));
        rejected_in(&ws, &["run"]);
        assert!(!ws.root.join("PWN").exists(), "{matrix}");
    }
}

#[test]
fn shell_commands_refuse_parameters_with_shell_metacharacters() {
    let ws = Ws::new(
        "version: 1\nparams:\n  msg: \"hi; touch PWN\"\nstages:\n  a:\n    cmd: \"echo ${params.msg} > o\"\n    shell: true\n    outs: [o]\n",
    );
    let err = rejected_in(&ws, &["run"]);
    assert!(err.contains("field `stages.a.cmd`"), "{err}");
    assert!(err.contains("`hi; touch PWN`"), "{err}");
    assert!(!ws.root.join("PWN").exists());
}

#[test]
fn shell_commands_accept_the_safe_set_and_argv_commands_accept_anything() {
    let ws = Ws::new(
        "version: 1\nparams:\n  lr: \"1e-05\"\n  path: a.b,c:d=e@f+g/h-i_j\n  odd: \"a'$(touch PWN)'b\"\nstages:\n  s:\n    cmd: \"echo ${v} ${params.lr} ${params.path} > s-${v}\"\n    shell: true\n    matrix:\n      v: [band5+G1, x.y, \"-1\"]\n    outs: [\"s-${v}\"]\n  argv:\n    cmd: [sh, -c, 'printf %s \"$0\" > argv.txt', \"${params.odd}\"]\n    outs: [argv.txt]\n",
    );
    let out = ws.repro(&["run"]);
    assert_eq!(out.code, 0, "{}", out.both());
    assert_eq!(
        ws.read("s-band5+G1"),
        "band5+G1 1e-05 a.b,c:d=e@f+g/h-i_j\n"
    );
    assert_eq!(ws.read("argv.txt"), "a'$(touch PWN)'b");
    assert!(!ws.root.join("PWN").exists());
}

// ---- item 7: include values, control characters, the lock format --------------------------------

#[test]
fn include_values_are_checked_like_matrix_values() {
    // YAML double-quoted scalars.
    for value in [
        r#""a/b""#,
        r#""a b""#,
        r#""a,b""#,
        r#""a=b""#,
        r#""a@b""#,
        r#""a\nb""#,
        r#""a\x07b""#,
        r#""""#,
    ] {
        let yaml = format!(
            "version: 1\nstages:\n  a:\n    cmd: [echo, \"${{t}}\"]\n    matrix:\n      t: [x]\n      include:\n        - {{t: {value}}}\n    outs: [\"o-${{t}}\"]\n"
        );
        let err = rejected(&yaml, &["status"]);
        assert!(
            err.contains("field `stages.a.matrix.include[0].t`: matrix value"),
            "{value:?}: {err}"
        );
    }
}

#[test]
fn matrix_values_with_control_characters_are_rejected() {
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: [echo, \"${t}\"]\n    matrix:\n      t: [\"a\\u0007b\", \"c\\u007fd\"]\n    outs: [\"o-${t}\"]\n",
        &["status"],
    );
    assert!(
        err.contains("field `stages.a.matrix.t`: matrix value `a\\u{7}b`"),
        "{err}"
    );
}

#[test]
fn parameters_with_control_characters_may_not_reach_paths() {
    for (field, line) in [
        ("outs", "    outs: [\"o/${params.p}\"]\n"),
        ("deps", "    deps: [\"d/${params.p}\"]\n    outs: [o]\n"),
    ] {
        for p in ["x\\ny", "x\\ty", "x\\ry", "x\\u001by"] {
            let yaml = format!(
                "version: 1\nparams:\n  p: \"{p}\"\nstages:\n  a:\n    cmd: [\"true\"]\n{line}"
            );
            let err = rejected(&yaml, &["status"]);
            assert!(
                err.contains(&format!("field `stages.a.{field}[0]`: path")),
                "{p}: {err}"
            );
            // The value is shown escaped: the message stays on one line.
            let first = err.lines().next().unwrap_or_default();
            assert!(first.contains("control character"), "{p}: {err}");
        }
    }
}

#[test]
fn profile_names_and_metric_fields_the_lock_file_cannot_hold_are_rejected() {
    let err = rejected(
        "version: 1\nprofiles:\n  \"a] b\": {default: true}\nstages:\n  a:\n    cmd: [\"true\"]\n    outs: [o]\n",
        &["status"],
    );
    assert!(err.contains("field `profiles.a] b`"), "{err}");
    let err = rejected(
        "version: 1\nstages:\n  a:\n    cmd: [\"true\"]\n    outs: [o]\n    metrics:\n      files: [o]\n      fields: [\"acc\\nout x y\"]\n      tolerance: 0\n",
        &["status"],
    );
    assert!(err.contains("field `stages.a.metrics.fields[0]`"), "{err}");
}

// ---- item 18: limits -------------------------------------------------------------------------------

/// Asserts that `repro ARGS` exits 2 within a few seconds.
fn rejected_quickly(pipeline: &str, args: &[&str]) -> String {
    let start = Instant::now();
    let err = rejected(pipeline, args);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    err
}

#[test]
fn interpolation_nested_50000_deep_is_refused_without_overflowing_the_stack() {
    for n in [33, 20_000, 50_000] {
        let template = format!("{}t{}", "${".repeat(n), "}".repeat(n));
        let yaml = format!(
            "version: 1\nstages:\n  a:\n    cmd: [echo, \"{template}\"]\n    matrix:\n      t: [t]\n    outs: [o]\n"
        );
        let err = rejected_quickly(&yaml, &["status"]);
        assert!(err.contains("field `stages.a.cmd[1]`"), "{err}");
        assert!(err.contains("nested deeper than 32"), "{n}: {err}");
    }
}

#[test]
fn interpolation_nested_32_deep_still_resolves() {
    // 32 levels: `${t}` names `t`, whose value is `t`, and so on.
    let template = format!("{}t{}", "${".repeat(32), "}".repeat(32));
    let ws = Ws::new(&format!(
        "version: 1\nstages:\n  a:\n    cmd: [echo, \"{template}\"]\n    matrix:\n      t: [t]\n    outs: [o]\n"
    ));
    let out = ws.repro(&["dag"]);
    assert_eq!(out.code, 0, "{}", out.both());
}

#[test]
fn deeply_nested_yaml_is_a_located_error_not_a_stack_overflow() {
    let yaml = format!(
        "version: 1\nstages:\n  a:\n    cmd: [\"true\"]\n    outs: [o]\n    deps:\n      {}x\n",
        "- ".repeat(50_000)
    );
    rejected_quickly(&yaml, &["status"]);
    let yaml = format!(
        "version: 1\nstages:\n  a:\n    cmd: [\"true\"]\n    outs: [o]\n    deps: {}x{}\n",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    rejected_quickly(&yaml, &["status"]);
}

#[test]
fn pipeline_file_over_4_mib_is_refused() {
    let mut yaml = String::from("version: 1\nstages:\n  a:\n    cmd: [\"true\"]\n    outs: [o]\n");
    while yaml.len() <= 4 * 1024 * 1024 {
        yaml.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    let err = rejected_quickly(&yaml, &["status"]);
    assert!(err.contains("at 1:1"), "{err}");
    assert!(err.contains("4 MiB"), "{err}");
}

#[test]
fn matrix_of_8_dimensions_of_8_values_is_refused_before_expanding() {
    // The 278-byte file that used to allocate 5.7 GB before aborting.
    let dims: String = (0..8)
        .map(|d| format!("      d{d}: [a, b, c, e, f, g, h, i]\n"))
        .collect();
    let yaml = format!(
        "version: 1\nstages:\n  a:\n    cmd: [echo]\n    matrix:\n{dims}    outs: [\"o/${{d0}}${{d1}}${{d2}}${{d3}}${{d4}}${{d5}}${{d6}}${{d7}}\"]\n"
    );
    let err = rejected_quickly(&yaml, &["status"]);
    assert!(
        err.starts_with("error: `pipeline.yaml` at 5:5, field `stages.a.matrix`:"),
        "{err}"
    );
    assert!(err.contains("16777216") && err.contains("100000"), "{err}");
}

#[test]
fn instances_of_all_stages_count_against_the_limit() {
    // Two stages of 60,000 instances each: each fits, together they do not.
    let stage = |name: &str| {
        format!(
            "  {name}:\n    cmd: [echo]\n    matrix:\n      x: ${{params.v}}\n      y: ${{params.v}}\n      z: [a, b, c, d, e, f]\n    outs: [\"{name}/${{x}}/${{y}}/${{z}}\"]\n"
        )
    };
    let values: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    let yaml = format!(
        "version: 1\nparams:\n  v: [{}]\nstages:\n{}{}",
        values.join(", "),
        stage("a"),
        stage("b")
    );
    let err = rejected_quickly(&yaml, &["status"]);
    assert!(err.contains("field `stages.b.matrix`"), "{err}");
    assert!(err.contains("120000"), "{err}");
}

#[test]
fn resolved_value_over_128_kib_is_refused() {
    let yaml = format!(
        "version: 1\nparams:\n  p: {}\nstages:\n  a:\n    cmd: [echo, \"{}\"]\n    outs: [o]\n",
        "x".repeat(1000),
        "${params.p}".repeat(200)
    );
    let err = rejected_quickly(&yaml, &["status"]);
    assert!(err.contains("field `stages.a.cmd[1]`"), "{err}");
    assert!(err.contains("128 KiB"), "{err}");
}

#[test]
fn output_component_over_255_bytes_is_a_load_error_not_an_engine_failure() {
    let long = "x".repeat(256);
    let err = rejected(&with_outs(&format!("[\"d/{long}\"]")), &["run"]);
    assert!(err.contains("field `stages.a.outs[0]`"), "{err}");
    assert!(err.contains("255 bytes"), "{err}");
    // 255 bytes is fine.
    let ws = Ws::new(&with_outs(&format!("[\"d/{}\"]", "x".repeat(255))));
    let out = ws.repro(&["dag"]);
    assert_eq!(out.code, 0, "{}", out.both());
}

// ---- item 19: duplicate keys --------------------------------------------------------------------

#[test]
fn duplicate_stage_names_are_rejected_with_both_locations() {
    let err = rejected(
        "version: 1\nstages:\n  s:\n    cmd: [touch, x]\n    outs: [x]\n  s:\n    cmd: [touch, y]\n    outs: [y]\n",
        &["status"],
    );
    insta::assert_snapshot!(err, @r"
    error: `pipeline.yaml` at 6:3, field `stages.s`: duplicate key `s` (first at 3:3)
    hint: rename or remove one of the two entries (YAML would silently keep only the last)
    ");
}

#[test]
fn duplicate_keys_at_any_level_are_rejected() {
    for (yaml, field) in [
        (
            "version: 1\nversion: 1\nstages:\n  a:\n    cmd: [\"true\"]\n    outs: [o]\n",
            "version",
        ),
        (
            "version: 1\nparams:\n  lr: {a: 1, a: 2}\nstages:\n  a:\n    cmd: [\"true\"]\n    outs: [o]\n",
            "params.lr.a",
        ),
        (
            "version: 1\nstages:\n  a:\n    cmd: [\"true\"]\n    matrix:\n      t: [x]\n      t: [y]\n    outs: [\"o${t}\"]\n",
            "stages.a.matrix.t",
        ),
        (
            "version: 1\nprofiles:\n  p: {}\n  p: {default: true}\nstages:\n  a:\n    cmd: [\"true\"]\n    outs: [o]\n",
            "profiles.p",
        ),
        (
            "version: 1\nstages:\n  a:\n    cmd: [\"true\"]\n    env: {X: \"1\", \"X\": \"2\"}\n    outs: [o]\n",
            "stages.a.env.X",
        ),
    ] {
        let err = rejected(yaml, &["status"]);
        assert!(
            err.contains(&format!("field `{field}`: duplicate key")),
            "{yaml}\n{err}"
        );
        assert!(err.contains("(first at "), "{err}");
    }
}

// ---- the pipeline file is searched upward ----------------------------------------------------------

const TOUCH: &str = "version: 1\nstages:\n  a:\n    cmd: [touch, made]\n    outs: [made]\n";

fn in_dir(ws: &Ws, dir: &std::path::Path, args: &[&str]) -> Out {
    run_limited(command_in(dir, &ws.counter, args))
}

#[test]
fn pipeline_file_is_found_in_a_parent_directory() {
    let ws = Ws::new(TOUCH);
    let sub = ws.root.join("deep/er");
    std::fs::create_dir_all(&sub).expect("mkdir");
    let out = in_dir(&ws, &sub, &["run"]);
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(ws.root.join("made").exists(), "runs in the workspace root");
    assert!(!sub.join("made").exists());
    let out = in_dir(&ws, &sub, &["status"]);
    assert_eq!(out.code, 0, "{}", out.both());
}

#[test]
fn explicit_file_is_taken_exactly_and_not_searched_upward() {
    let ws = Ws::new(TOUCH);
    let sub = ws.root.join("sub");
    std::fs::create_dir_all(&sub).expect("mkdir");
    let out = in_dir(&ws, &sub, &["-f", "pipeline.yaml", "status"]);
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("cannot read the file"),
        "{}",
        out.both()
    );
}

#[test]
fn missing_pipeline_file_says_where_it_looked() {
    let ws = Ws::new(TOUCH);
    // A directory outside the workspace, with no pipeline file above it (the temporary
    // directory's ancestors are assumed not to hold one).
    let lone = ws.tmp().join("lone/dir");
    std::fs::create_dir_all(&lone).expect("mkdir");
    let out = in_dir(&ws, &lone, &["status"]);
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("no `pipeline.yaml` in `")
            && out.stderr.contains("lone/dir")
            && out.stderr.contains("or any parent directory"),
        "{}",
        out.both()
    );
    assert!(out.stderr.contains("hint: "), "{}", out.both());
}
