//! Regression tests of the hardening pass: damaged or hostile workspace state is refused or
//! repaired with a clear message, never trusted and never a panic.

use crate::common::Ws;

const PIPELINE: &str = r#"version: 1
stages:
  a:
    cmd: "echo a >> \"$COUNTER\"; echo A > a.txt"
    shell: true
    outs: [a.txt]
  b:
    cmd: "echo b >> \"$COUNTER\"; cat a.txt > b.txt"
    shell: true
    deps: [a.txt]
    outs: [b.txt]
"#;

#[test]
fn conflict_markers_in_the_lock_file_are_named_with_a_way_out() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    let lock = ws.read("repro.lock");
    ws.write(
        "repro.lock",
        &format!("{lock}<<<<<<< HEAD\n[default] c\nkey 00\n=======\n>>>>>>> other\n"),
    );
    for cmd in [&["status"][..], &["run"], &["verify"]] {
        let out = ws.code(cmd, 2);
        assert!(
            out.stderr.contains("unresolved merge conflict markers")
                && out
                    .stderr
                    .contains("hint: the lock is regenerated from the cache"),
            "{}",
            out.both()
        );
    }
}

#[test]
fn a_truncated_action_record_is_reported_and_its_instance_runs_again() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    let actions = ws.root.join("cache/actions");
    for entry in std::fs::read_dir(&actions).unwrap() {
        let p = entry.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    }
    std::fs::remove_file(ws.root.join("repro.lock")).unwrap();
    std::fs::remove_file(ws.root.join("a.txt")).unwrap();
    let out = ws.ok(&["run"]);
    assert!(
        out.stderr.contains("ignoring the unreadable action record"),
        "{}",
        out.both()
    );
    assert_eq!(ws.count("a"), 2, "a ran again: {:?}", ws.ran());
    ws.ok(&["status", "--check"]);
    ws.ok(&["verify"]);
}

/// `repro ARGS` with stdout (or stderr) going to `/dev/full`, where every write fails with
/// "no space left on device".
fn to_full(ws: &Ws, args: &[&str], stream: &str) -> crate::common::Out {
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let mut cmd = ws.command(args);
    if stream == "stdout" {
        cmd.stdout(full());
    } else {
        cmd.stderr(full());
    }
    crate::common::run_limited(cmd)
}

#[test]
fn a_full_stdout_is_an_error_with_a_message_never_a_panic_or_a_silent_success() {
    let ws = Ws::new(PIPELINE);
    let dry = to_full(&ws, &["run", "--dry-run"], "stdout");
    assert_eq!(dry.code, 3, "{}", dry.both());
    let json = to_full(&ws, &["run", "--json"], "stdout");
    assert_eq!(json.code, 3, "events lost must not exit 0: {}", json.both());
    assert!(
        json.stderr
            .contains("cannot write the run's events to stdout"),
        "{}",
        json.both()
    );
    for args in [
        &["status"][..],
        &["dag"],
        &["verify"],
        &["show", "a"],
        &["gc", "-n"],
    ] {
        let out = to_full(&ws, args, "stdout");
        assert_eq!(out.code, 3, "{args:?}: {}", out.both());
        assert!(
            out.stderr.contains("cannot write to stdout"),
            "{}",
            out.both()
        );
    }
}

#[test]
fn a_full_stderr_loses_progress_only() {
    let ws = Ws::new(PIPELINE);
    let out = to_full(&ws, &["run"], "stderr");
    assert_eq!(out.code, 0, "{}", out.both());
    ws.ok(&["status", "--check"]);
}

#[test]
fn a_stat_cache_that_cannot_be_saved_neither_hides_the_real_error_nor_stops_the_lock() {
    let ws = Ws::new(&PIPELINE.replace("cat a.txt > b.txt", "exit 4"));
    std::fs::create_dir_all(ws.root.join(".repro/stat-cache/blocker")).unwrap();
    let out = ws.code(&["run", "--keep-going"], 1);
    assert!(out.stderr.contains("exit status 4"), "{}", out.both());
    assert!(
        out.stderr.contains("cannot save the stat cache"),
        "{}",
        out.both()
    );
    assert!(
        ws.read("repro.lock").contains("[default] a\n"),
        "the completed instance is recorded"
    );
}

#[test]
fn the_build_commands_output_never_mixes_into_json_events() {
    let ws = Ws::new(&PIPELINE.replacen(
        "stages:",
        "build: [sh, -c, \"echo compiling; echo warnings >&2\"]\nstages:",
        1,
    ));
    let out = ws.ok(&["run", "--json"]);
    for line in out.stdout.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not JSON: {line:?}\n{}",
            out.both()
        );
    }
    assert!(out.stderr.contains("compiling"), "{}", out.both());
}
