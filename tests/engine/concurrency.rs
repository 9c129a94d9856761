//! Two `repro run` processes in one workspace: the workspace lock serialises them, the second
//! says it is waiting, every stage runs exactly once overall, and the cache and lock file are
//! consistent afterwards.

use crate::common::{wait_limited, Ws};

const PIPELINE: &str = r#"version: 1
stages:
  gen:
    cmd: "echo gen-${n} >> \"$COUNTER\"; sleep 0.3; echo ${n} > gen/${n}.txt"
    shell: true
    matrix:
      n: [1, 2, 3, 4]
    outs: ["gen/${n}.txt"]
  sum:
    cmd: "echo sum >> \"$COUNTER\"; cat gen/*.txt > sum.txt"
    shell: true
    deps: [gen]
    outs: [sum.txt]
"#;

#[test]
fn two_runs_at_once_run_every_stage_once_and_the_second_waits() {
    let ws = Ws::new(PIPELINE);
    let a = ws.command(&["run", "-j", "2"]).spawn().unwrap();
    let b = ws.command(&["run", "-j", "2"]).spawn().unwrap();
    let (a, b) = (wait_limited(a), wait_limited(b));
    assert_eq!((a.code, b.code), (0, 0), "{}\n{}", a.both(), b.both());
    let waited: Vec<&crate::common::Out> = [&a, &b]
        .into_iter()
        .filter(|o| o.stderr.contains("waiting for another repro process (pid "))
        .collect();
    assert_eq!(
        waited.len(),
        1,
        "exactly one run waits:\n{}\n{}",
        a.both(),
        b.both()
    );
    assert!(
        waited[0].stderr.contains("nothing to do"),
        "the waiting run finds everything done:\n{}",
        waited[0].both()
    );
    let mut ran = ws.ran();
    ran.sort();
    assert_eq!(ran, ["gen-1", "gen-2", "gen-3", "gen-4", "sum"]);
    ws.ok(&["verify"]);
    ws.code(&["status", "--check"], 0);
    assert_eq!(ws.read("sum.txt"), "1\n2\n3\n4\n");
}

#[test]
fn runs_of_disjoint_targets_at_once_both_publish_to_the_lock_file() {
    // Regression guard for lost lock-file updates: each run must read `repro.lock` after it
    // holds the workspace lock, or the later writer drops the earlier one's entries.
    let ws = Ws::new(PIPELINE);
    let a = ws.command(&["run", "gen@n=1"]).spawn().unwrap();
    let b = ws.command(&["run", "gen@n=2"]).spawn().unwrap();
    let (a, b) = (wait_limited(a), wait_limited(b));
    assert_eq!((a.code, b.code), (0, 0), "{}\n{}", a.both(), b.both());
    let lock = ws.read("repro.lock");
    assert!(
        lock.contains("] gen@n=1\n") && lock.contains("] gen@n=2\n"),
        "{lock}"
    );
    let st = ws.code(&["status", "gen@n=1", "gen@n=2", "--check"], 0);
    assert!(
        st.stdout.contains("all 2 instances up to date"),
        "{}",
        st.both()
    );
    ws.ok(&["run"]);
    assert_eq!(ws.ran().len(), 5);
}
