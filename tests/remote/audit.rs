//! `repro audit` (steps 1-2): a fresh checkout of a pushed workspace audits clean; one whose
//! code differs from the producer's is caught by its recomputed keys; a corrupt remote fails
//! step 1.

use crate::common::Ws;
use crate::server::{fresh_copy, overwrite, produced, remote_object_with};

fn remote_of(ws: &Ws) -> String {
    format!("file://{}", ws.tmp().join("remote").display())
}

#[test]
fn a_fresh_checkout_of_a_pushed_workspace_audits_clean() {
    let ws = produced();
    let url = remote_of(&ws);
    ws.ok(&["push", "-r", &url]);
    let copy = fresh_copy(&ws);
    let out = copy.ok(&["audit", "-r", &url]);
    assert!(
        out.stdout
            .contains("3 of 3 instances have the key `repro.lock` records")
            && out.stdout.contains("re-hashed 3 instances")
            && out.stdout.contains("## Verdict: clean")
            && out.stdout.contains("steps 3-6"),
        "{}",
        out.both()
    );
    let json = copy.ok(&["audit", "-r", &url, "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["clean"], true, "{}", json.stdout);
    assert_eq!(doc["pull"]["present"], 3, "the second audit pulled nothing");
}

#[test]
fn a_checkout_whose_code_differs_fails_the_key_comparison() {
    let ws = produced();
    let url = remote_of(&ws);
    ws.ok(&["push", "-r", &url]);
    let copy = fresh_copy(&ws);
    // Same output, other code: the digests pass, the keys do not.
    copy.write("tools/sum.sh", "cat data/*/v.txt # reworded\n");
    let out = copy.code(&["audit", "-r", &url], 1);
    assert!(
        out.stdout.contains("MISMATCH gen@n=1")
            && out.stdout.contains("MISMATCH sum")
            && out.stdout.contains("## Verdict: PROBLEMS FOUND"),
        "{}",
        out.both()
    );
}

#[test]
fn a_corrupt_remote_fails_the_first_step_and_checks_no_key() {
    let ws = produced();
    let url = remote_of(&ws);
    ws.ok(&["push", "-r", &url]);
    let object = remote_object_with(&ws.tmp().join("remote"), b"1\n2\n");
    overwrite(&object, b"1\n2\n3\n");
    let copy = fresh_copy(&ws);
    let out = copy.code(&["audit", "-r", &url], 1);
    assert!(
        out.stdout.contains("- FAILED sum: record")
            && out.stdout.contains("not checked: the pull failed"),
        "{}",
        out.both()
    );
}
