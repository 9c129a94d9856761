//! `repro verify`: re-hashes cached objects and workspace outputs against `repro.lock` and
//! names every corrupt, modified or missing artifact (exit 1); a clean run verifies (exit 0).

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::common::Ws;

const PIPELINE: &str = r#"version: 1
stages:
  one:
    cmd: "echo one >> \"$COUNTER\"; echo first file > one.txt"
    shell: true
    outs: [one.txt]
  tree:
    cmd: "echo tree >> \"$COUNTER\"; mkdir -p tree/sub; cp one.txt tree/a.txt; echo nested > tree/sub/b.txt"
    shell: true
    deps: [one.txt]
    outs: [tree]
"#;

fn ran() -> Ws {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    ws
}

/// The tagged digest `repro.lock` records for an output.
fn locked(ws: &Ws, out: &str) -> String {
    let lock = ws.read("repro.lock");
    let prefix = format!("out {out} ");
    lock.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{out} not in repro.lock:\n{lock}"))
        .to_owned()
}

fn object(ws: &Ws, digest: &str) -> PathBuf {
    ws.root
        .join("cache/objects")
        .join(&digest[..2])
        .join(&digest[2..])
}

/// Flips one bit of the stored object `digest` (objects are read-only; make it writable).
fn flip_byte(ws: &Ws, digest: &str) {
    let p = object(ws, digest);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[0] ^= 0x01;
    std::fs::write(&p, bytes).unwrap();
}

#[test]
fn clean_run_verifies() {
    let ws = ran();
    let out = ws.ok(&["verify"]);
    assert!(
        out.stdout.contains("verified 2 instances: 2 outputs"),
        "{}",
        out.both()
    );
    assert!(out.stdout.contains(" 0 problem(s)"), "{}", out.both());
}

#[test]
fn flipped_byte_in_a_cached_file_object_is_caught_and_named() {
    let ws = ran();
    let digest = locked(&ws, "one.txt")
        .strip_prefix("file:")
        .unwrap()
        .to_owned();
    flip_byte(&ws, &digest);
    let out = ws.code(&["verify"], 1);
    assert!(
        out.stdout
            .contains(&format!("MISMATCH cache: object `{digest}` is corrupt")),
        "{}",
        out.both()
    );
    assert!(out.stdout.contains(" 1 problem(s)"), "{}", out.both());
}

#[test]
fn flipped_byte_in_a_file_inside_a_cached_directory_is_caught() {
    let ws = ran();
    let manifest = locked(&ws, "tree").strip_prefix("dir:").unwrap().to_owned();
    let text = std::fs::read_to_string(object(&ws, &manifest)).unwrap();
    let nested = text
        .lines()
        .find(|l| l.ends_with("\tsub/b.txt"))
        .expect("manifest lists sub/b.txt");
    let digest = nested.split('\t').nth(1).unwrap().to_owned();
    flip_byte(&ws, &digest);
    let out = ws.code(&["verify"], 1);
    assert!(
        out.stdout
            .contains(&format!("object `{digest}` is corrupt")),
        "{}",
        out.both()
    );
}

#[test]
fn modified_workspace_output_is_caught() {
    let ws = ran();
    ws.write("tree/sub/b.txt", "changed\n");
    let out = ws.code(&["verify"], 1);
    assert!(
        out.stdout
            .contains("MISMATCH tree: workspace output `tree` is dir:"),
        "{}",
        out.both()
    );
    assert!(out.stdout.contains(" 1 problem(s)"), "{}", out.both());
}

#[test]
fn modified_output_with_the_same_size_and_mtime_is_caught() {
    // verify must ignore the stat cache: restore the mtime after an in-place edit.
    let ws = ran();
    let p = ws.root.join("one.txt");
    let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
    ws.write("one.txt", "FIRST file\n");
    std::fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let out = ws.code(&["verify", "one"], 1);
    assert!(
        out.stdout
            .contains("MISMATCH one: workspace output `one.txt` is file:"),
        "{}",
        out.both()
    );
}

#[test]
fn missing_workspace_output_is_caught() {
    let ws = ran();
    std::fs::remove_file(ws.root.join("one.txt")).unwrap();
    let out = ws.code(&["verify"], 1);
    assert!(
        out.stdout
            .contains("MISMATCH one: workspace output `one.txt` is missing"),
        "{}",
        out.both()
    );
}

#[test]
fn missing_cached_object_is_caught() {
    let ws = ran();
    let digest = locked(&ws, "one.txt")
        .strip_prefix("file:")
        .unwrap()
        .to_owned();
    std::fs::remove_file(object(&ws, &digest)).unwrap();
    let out = ws.code(&["verify"], 1);
    assert!(
        out.stdout.contains(&format!(
            "MISMATCH cache: object `{digest}` is missing from the cache"
        )),
        "{}",
        out.both()
    );
}

#[test]
fn instance_missing_from_the_lock_is_caught() {
    let ws = ran();
    ws.edit_pipeline("stages:\n", "stages:\n  extra:\n    cmd: \"echo x > extra.txt\"\n    shell: true\n    outs: [extra.txt]\n");
    let out = ws.code(&["verify"], 1);
    assert!(
        out.stdout
            .contains("MISMATCH extra: not recorded in `repro.lock`"),
        "{}",
        out.both()
    );
}

#[test]
fn restore_from_a_corrupt_object_reruns_instead_of_publishing_corrupt_data() {
    let ws = ran();
    let good = ws.read("one.txt");
    let digest = locked(&ws, "one.txt")
        .strip_prefix("file:")
        .unwrap()
        .to_owned();
    flip_byte(&ws, &digest);
    std::fs::remove_file(ws.root.join("one.txt")).unwrap();
    let run = ws.ok(&["run"]);
    assert!(
        run.stderr.contains(&format!(
            "cannot restore `one` from the cache (object `{digest}` is corrupt"
        )),
        "{}",
        run.both()
    );
    assert_eq!(
        ws.read("one.txt"),
        good,
        "corrupt bytes reached the workspace"
    );
    assert_eq!(
        ws.count("one"),
        2,
        "the instance re-runs when its cached output is corrupt"
    );
    assert_eq!(
        ws.count("tree"),
        1,
        "identical output: downstream stays fresh"
    );
    let v = ws.ok(&["verify"]);
    assert!(
        v.stdout.contains(" 0 problem(s)"),
        "the re-run heals the store:\n{}",
        v.both()
    );
    assert!(ws.ok(&["run"]).stderr.contains("nothing to do"));
}

#[test]
fn restore_of_a_directory_with_a_corrupt_file_reruns_it() {
    let ws = ran();
    let manifest = locked(&ws, "tree").strip_prefix("dir:").unwrap().to_owned();
    let text = std::fs::read_to_string(object(&ws, &manifest)).unwrap();
    let digest = text
        .lines()
        .find(|l| l.ends_with("\tsub/b.txt"))
        .unwrap()
        .split('\t')
        .nth(1)
        .unwrap()
        .to_owned();
    flip_byte(&ws, &digest);
    std::fs::remove_dir_all(ws.root.join("tree")).unwrap();
    let run = ws.ok(&["run"]);
    assert!(
        run.stderr.contains("cannot restore `tree` from the cache"),
        "{}",
        run.both()
    );
    assert_eq!(ws.read("tree/sub/b.txt"), "nested\n");
    assert_eq!(ws.count("tree"), 2);
    ws.ok(&["verify"]);
}

#[test]
fn a_forced_run_that_reproduces_a_damaged_manifest_replaces_it_and_says_so() {
    let ws = ran();
    let manifest = locked(&ws, "tree").strip_prefix("dir:").unwrap().to_owned();
    flip_byte(&ws, &manifest);
    let v = ws.code(&["verify"], 1);
    assert!(
        v.stdout
            .contains(&format!("object `{manifest}` is corrupt")),
        "{}",
        v.both()
    );
    let run = ws.ok(&["run", "--force", "tree"]);
    assert_eq!(ws.count("tree"), 2, "{}", run.both());
    assert!(
        run.stderr.contains(&format!(
            "the stored object `{manifest}` was damaged (it hashed to `"
        )) && run
            .stderr
            .contains("replaced it with the copy `tree` just produced for `tree`"),
        "{}",
        run.both()
    );
    assert_eq!(locked(&ws, "tree"), format!("dir:{manifest}"));
    let v = ws.ok(&["verify"]);
    assert!(v.stdout.contains(" 0 problem(s)"), "{}", v.both());
    // A sound object is left alone, and nothing is said.
    let again = ws.ok(&["run", "--force", "tree"]);
    assert!(!again.stderr.contains("damaged"), "{}", again.both());
}
