//! `repro run --pull`: an instance whose key the remote holds is pulled (checked by digest)
//! and restored instead of executed; one it lacks runs. `repro run --push`: each published
//! instance reaches the remote during the run, so a fresh checkout pulls it all; a remote that
//! cannot be reached fails the run after its instances were published.

use crate::common::Ws;
use crate::server::{fresh_copy, produced, Nginx, PIPELINE};

/// A fresh checkout without a lock: the pipeline and the tools only.
fn bare_copy(ws: &Ws) -> Ws {
    let copy = Ws::new(&ws.read("pipeline.yaml"));
    copy.write("tools/sum.sh", &ws.read("tools/sum.sh"));
    copy
}

#[test]
fn run_with_pull_restores_what_the_remote_holds_instead_of_running_it() {
    let Some(nginx) = Nginx::start(None) else {
        return;
    };
    let ws = produced();
    ws.ok(&["push", "-r", &nginx.url]);
    let copy = bare_copy(&ws);
    let out = copy.ok(&["run", "--pull", "-r", &nginx.url]);
    assert!(copy.ran().is_empty(), "{:?}\n{}", copy.ran(), out.both());
    assert!(
        out.stderr.contains("--pull: 2 of 2 record(s) pulled")
            && out.stderr.contains("--pull: 1 of 1 record(s) pulled"),
        "{}",
        out.both()
    );
    assert_eq!(copy.read("sum.txt"), ws.read("sum.txt"));
    assert_eq!(copy.read("repro.lock"), ws.read("repro.lock"));
    copy.ok(&["status", "--check"]);
}

#[test]
fn run_with_pull_runs_what_the_remote_lacks() {
    let Some(nginx) = Nginx::start(None) else {
        return;
    };
    let ws = produced();
    ws.ok(&["push", "-r", &nginx.url]);
    let copy = bare_copy(&ws);
    // Another command for `sum` only: its key is not on the remote; `gen`'s are.
    copy.edit_pipeline("sh tools/sum.sh > sum.txt", "sh tools/sum.sh >sum.txt");
    let out = copy.ok(&["run", "--pull", "-r", &nginx.url]);
    assert_eq!(copy.ran(), ["sum"], "{}", out.both());
    assert!(
        out.stderr.contains("--pull: 2 of 2 record(s) pulled")
            && out.stderr.contains("--pull: 0 of 1 record(s) pulled")
            && out.stderr.contains("1 not there"),
        "{}",
        out.both()
    );
    assert_eq!(copy.read("sum.txt"), ws.read("sum.txt"));
}

#[test]
fn run_with_push_sends_each_published_instance_and_a_fresh_checkout_pulls_them() {
    let Some(nginx) = Nginx::start(None) else {
        return;
    };
    let ws = Ws::new(PIPELINE);
    ws.write("tools/sum.sh", "cat data/*/v.txt\n");
    let out = ws.ok(&["run", "--push", "-r", &nginx.url]);
    assert!(
        out.stderr.contains("during the run: 3 of 3 records"),
        "{}",
        out.both()
    );
    // Nothing left for a push after the run.
    let again = ws.ok(&["push", "-r", &nginx.url]);
    assert!(
        again.stdout.contains(": 0 of 3 records"),
        "{}",
        again.both()
    );
    let copy = fresh_copy(&ws);
    copy.ok(&["pull", "-r", &nginx.url]);
    copy.ok(&["status", "--check"]);
    assert_eq!(copy.read("sum.txt"), ws.read("sum.txt"));
}

#[test]
fn run_with_push_to_an_unreachable_remote_fails_after_publishing() {
    let ws = Ws::new(PIPELINE);
    ws.write("tools/sum.sh", "cat data/*/v.txt\n");
    let out = ws.code(&["run", "--push", "-r", "http://127.0.0.1:9/cache/"], 1);
    assert!(out.stderr.contains("not pushed"), "{}", out.both());
    // The results are published here: a run has nothing to do.
    let again = ws.ok(&["run"]);
    assert!(again.stderr.contains("nothing to do"), "{}", again.both());
}

#[test]
fn remote_without_pull_or_push_is_refused() {
    let ws = Ws::new(PIPELINE);
    let out = ws.code(&["run", "-r", "http://127.0.0.1:9/cache/"], 2);
    assert!(
        out.stderr
            .contains("`--remote` names the remote of `--pull` or `--push`"),
        "{}",
        out.both()
    );
}
