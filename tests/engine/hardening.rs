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

/// A one-stage pipeline whose command is `script` (run by `sh -c`) with output `outs`.
fn one_stage(script: &str, outs: &str) -> Ws {
    let yaml = format!(
        "version: 1\nstages:\n  s:\n    cmd: [sh, -c, {}]\n    outs: [{outs}]\n  t:\n    cmd: [sh, -c, \"echo t >> \\\"$COUNTER\\\"; echo t > t.txt\"]\n    outs: [t.txt]\n",
        serde_json::to_string(script).unwrap()
    );
    Ws::new(&yaml)
}

#[test]
fn a_file_name_cannot_forge_a_manifest_line_or_write_outside_on_restore() {
    let escaped = std::env::temp_dir().join(format!("repro-escaped-{}", std::process::id()));
    let _ = std::fs::remove_file(&escaped);
    let name = format!("z\n-\t{}\t{}", "0".repeat(64), escaped.to_str().unwrap());
    let ws = one_stage(
        &format!(
            "p=\"out/d/{name}\"; mkdir -p \"$(dirname \"$p\")\" && printf x > out/d/ok && printf y > \"$p\""
        ),
        "out/d",
    );
    let out = ws.code(&["run", "--keep-going"], 1);
    assert!(out.stderr.contains("control character"), "{}", out.both());
    assert_eq!(ws.count("t"), 1, "the other stage still ran");
    std::fs::remove_dir_all(ws.root.join("out")).unwrap();
    ws.code(&["run", "--keep-going"], 1);
    assert!(
        !escaped.exists(),
        "nothing was written outside the workspace"
    );
}

#[test]
fn outputs_under_a_symlinked_parent_are_never_deleted_or_written() {
    let ws = one_stage("echo new > link/victim", "link/victim");
    let elsewhere = ws.tmp().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("victim"), "precious\n").unwrap();
    std::os::unix::fs::symlink(&elsewhere, ws.root.join("link")).unwrap();
    let out = ws.code(&["run", "--keep-going"], 1);
    assert!(
        out.stderr.contains("lies under the symbolic link `link`"),
        "{}",
        out.both()
    );
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("victim")).unwrap(),
        "precious\n"
    );
}

#[test]
fn links_in_outputs_are_refused_and_nothing_outside_is_copied_into_the_store() {
    let ws = one_stage(
        "mkdir -p out/d && ln -s /etc/passwd out/d/pw && ln -s /dev/zero out/zero",
        "out/d, out/zero",
    );
    let out = ws.code(&["run", "--keep-going"], 1);
    assert!(out.stderr.contains("is a symbolic link"), "{}", out.both());
    let passwd = std::fs::read("/etc/passwd").unwrap();
    for obj in ws.objects() {
        assert_ne!(std::fs::read(&obj).unwrap(), passwd, "{}", obj.display());
    }
}

#[test]
fn a_fifo_among_outputs_fails_the_stage_instead_of_hanging() {
    let ws = one_stage("mkdir -p out/d && mkfifo out/d/pipe", "out/d");
    let out = ws.code(&["run", "--keep-going"], 1);
    assert!(
        out.stderr
            .contains("neither a regular file nor a directory"),
        "{}",
        out.both()
    );
    let status = ws.code(&["status", "--check"], 1);
    assert!(status.stdout.contains("never run"), "{}", status.both());
}

#[test]
fn hidden_files_and_empty_directories_in_outputs_survive_a_restore() {
    let ws = one_stage(
        "mkdir -p out/d/empty/deeper out/d/full && printf a > out/d/.x.tmp-y && printf b > out/d/full/f",
        "out/d",
    );
    ws.ok(&["run"]);
    std::fs::remove_dir_all(ws.root.join("out")).unwrap();
    let out = ws.ok(&["run"]);
    assert!(out.stderr.contains("restored"), "{}", out.both());
    assert_eq!(ws.read("out/d/.x.tmp-y"), "a");
    assert!(ws.root.join("out/d/empty/deeper").is_dir());
    ws.ok(&["status", "--check"]);
    ws.ok(&["verify"]);
}

#[test]
fn a_non_utf8_name_in_an_output_fails_that_stage_only() {
    let ws = one_stage(
        "mkdir -p out/d && printf x > \"out/d/$(printf 'a\\377b')\"",
        "out/d",
    );
    let out = ws.code(&["run", "--keep-going"], 1);
    assert!(out.stderr.contains("not UTF-8"), "{}", out.both());
    assert_eq!(ws.count("t"), 1, "the other stage ran: {}", out.both());
}

#[test]
fn a_record_naming_a_path_instead_of_a_digest_never_deletes_that_path() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    let victim = ws.tmp().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let actions = ws.root.join("cache/actions");
    for entry in std::fs::read_dir(&actions).unwrap() {
        let p = entry.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        for v in doc["outputs"].as_object_mut().unwrap().values_mut() {
            *v = serde_json::Value::String("file:../../../victim".into());
        }
        let _ = std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o644));
        std::fs::write(&p, doc.to_string()).unwrap();
    }
    std::fs::remove_file(ws.root.join("repro.lock")).unwrap();
    std::fs::remove_file(ws.root.join("a.txt")).unwrap();
    let out = ws.ok(&["run"]);
    assert!(out.stderr.contains("is not a digest"), "{}", out.both());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    ws.ok(&["status", "--check"]);
}

#[test]
fn a_lock_naming_a_path_instead_of_a_digest_is_refused_before_anything_is_read() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    let lock = ws.read("repro.lock");
    let bad: String = lock
        .lines()
        .map(|l| {
            if l.starts_with("out a.txt ") {
                "out a.txt dir:../../../dev/zero".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    ws.write("repro.lock", &bad);
    let out = ws.code(&["verify"], 2);
    assert!(out.stderr.contains("is not a digest"), "{}", out.both());
}

#[test]
fn gc_never_follows_a_link_planted_in_the_store() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    let outside = ws.tmp().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let name = "f".repeat(62);
    std::fs::write(outside.join(&name), "precious\n").unwrap();
    std::os::unix::fs::symlink(&outside, ws.root.join("cache/objects/ff")).unwrap();
    std::os::unix::fs::symlink(
        outside.join(&name),
        ws.root.join("cache/objects/ab").join("c".repeat(62)),
    )
    .unwrap_or_else(|_| {
        std::fs::create_dir_all(ws.root.join("cache/objects/ab")).unwrap();
        std::os::unix::fs::symlink(
            outside.join(&name),
            ws.root.join("cache/objects/ab").join("c".repeat(62)),
        )
        .unwrap();
    });
    ws.ok(&["gc"]);
    assert_eq!(
        std::fs::read_to_string(outside.join(&name)).unwrap(),
        "precious\n"
    );
    ws.ok(&["verify"]);
}

#[test]
fn a_code_glob_over_everything_leaves_out_the_cache_and_outputs_and_settles() {
    let ws =
        Ws::new(&PIPELINE.replace("    outs: [a.txt]", "    code: [\"**\"]\n    outs: [a.txt]"));
    ws.write("src/tool.sh", "echo v1\n");
    ws.ok(&["run"]);
    ws.ok(&["status", "--check"]);
    let again = ws.ok(&["run"]);
    assert!(again.stderr.contains("nothing to do"), "{}", again.both());
    ws.write("src/tool.sh", "echo v2\n");
    let st = ws.code(&["status", "--check"], 1);
    assert!(st.stdout.contains("code of `**` changed"), "{}", st.both());
}

/// A workspace that ran one stage whose directory output `out/d` holds `a` and `b`, and the
/// stored object of `out/d/b`.
fn ran_with_two_files() -> (Ws, std::path::PathBuf) {
    let ws = one_stage(
        "mkdir -p out/d && printf 'a' > out/d/a && printf 'b' > out/d/b",
        "out/d",
    );
    ws.ok(&["run"]);
    let b = ws
        .objects()
        .into_iter()
        .find(|p| std::fs::read(p).is_ok_and(|c| c == b"b"))
        .expect("the object of out/d/b");
    (ws, b)
}

#[test]
fn a_record_whose_object_is_torn_is_not_taken_as_fresh_and_the_run_heals_it() {
    let (ws, b) = ran_with_two_files();
    // A power cut tore an object that the group commit had not synced yet (an empty file
    // under its name), and the lock that would have named the record was never written: the
    // workspace still holds what the record names.
    let mut perms = std::fs::metadata(&b).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&b, perms).unwrap();
    std::fs::write(&b, b"").unwrap();
    std::fs::remove_file(ws.root.join("repro.lock")).unwrap();
    let status = ws.ok(&["status"]).both();
    assert!(
        status.contains("the stored copy of output `out/d` is damaged"),
        "{status}"
    );
    ws.ok(&["run"]);
    assert_eq!(
        std::fs::read(&b).unwrap(),
        b"b",
        "the run stored a sound copy"
    );
    ws.ok(&["verify"]);
}

#[test]
fn a_record_whose_objects_are_partly_gone_is_not_trusted_as_fresh() {
    let (ws, b) = ran_with_two_files();
    // A killed gc (or a lost disk block) took one file object of the directory output, and
    // the lock that named the record was never written: only the record points at the output.
    std::fs::remove_file(&b).unwrap();
    std::fs::remove_file(ws.root.join("repro.lock")).unwrap();
    ws.ok(&["run"]);
    ws.ok(&["verify"]);
}
