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
