//! Command-line errors: one line on stderr naming the field, exit status 2, nothing written.

use std::process::Output;

use crate::support::run_gen;

fn assert_user_error(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr}"
    );
    for needle in needles {
        assert!(stderr.contains(needle), "`{needle}` not in: {stderr}");
    }
    assert!(out.stdout.is_empty());
}

fn with(args: &[&str], dir: &std::path::Path) -> Output {
    let mut all = vec!["--seed", "1", "--out", dir.to_str().unwrap()];
    all.extend_from_slice(args);
    run_gen(&all)
}

#[test]
fn unknown_task_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = with(
        &["--task", "listop", "--train", "5", "--heldout", "5"],
        dir.path(),
    );
    assert_user_error(&out, &["`--task`", "`listop`", "even_pairs"]);
}

#[test]
fn zero_sizes_name_their_flag_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("never");
    for (args, flag) in [
        (
            vec!["--task", "parity", "--train", "0", "--heldout", "5"],
            "`--train`",
        ),
        (
            vec!["--task", "parity", "--train", "5", "--heldout", "0"],
            "`--heldout`",
        ),
        (
            vec![
                "--task",
                "listops",
                "--train",
                "5",
                "--heldout",
                "5",
                "--test",
                "0",
            ],
            "`--test`",
        ),
    ] {
        assert_user_error(&with(&args, &out_dir), &[flag, "at least 1"]);
        assert!(!out_dir.exists(), "output directory created despite {flag}");
    }
}

#[test]
fn a_test_split_is_refused_outside_listops() {
    let dir = tempfile::tempdir().unwrap();
    let out = with(
        &[
            "--task",
            "parity",
            "--train",
            "5",
            "--heldout",
            "5",
            "--test",
            "5",
        ],
        dir.path(),
    );
    assert_user_error(&out, &["`--test`", "parity"]);
}

#[test]
fn malformed_and_missing_arguments_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    assert_user_error(
        &with(
            &["--task", "parity", "--train", "many", "--heldout", "5"],
            dir.path(),
        ),
        &["--train", "many"],
    );
    assert_user_error(
        &with(
            &["--task", "parity", "--train", "5", "--heldout", "-3"],
            dir.path(),
        ),
        &["--heldout"],
    );
    assert_user_error(
        &run_gen(&[
            "--task",
            "parity",
            "--seed",
            "1",
            "--train",
            "5",
            "--heldout",
            "5",
        ]),
        &["--out"],
    );
}

#[test]
fn an_output_path_below_a_file_is_a_user_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let out = with(
        &["--task", "parity", "--train", "5", "--heldout", "5"],
        &file.join("data"),
    );
    assert_user_error(&out, &["`--out`", "file"]);
}

#[test]
fn missing_output_directories_are_created() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/c");
    let out = with(
        &["--task", "even_pairs", "--train", "2", "--heldout", "2"],
        &nested,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in ["train.csv", "heldout.csv", "meta.json"] {
        assert!(nested.join(file).is_file(), "{file}");
    }
    assert!(!nested.join("test.csv").exists());
}

#[test]
fn help_exits_zero() {
    let out = run_gen(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--heldout"));
}
