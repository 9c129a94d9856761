//! `repro run --pull`: an instance whose key the remote holds is pulled (checked by digest)
//! and restored instead of executed; one it lacks runs.

use crate::common::Ws;
use crate::server::{produced, Nginx};

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
