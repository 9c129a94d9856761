//! Jobs that Slurm ends: one cancelled from outside is retried and the run completes; one
//! past its `time` is reported timed out in Slurm's own words.

use std::process::Command;

use crate::common::{assert_has, wait_for, wait_limited, which, Ws};

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_job_cancelled_outside_the_run_is_retried() {
    // The first attempt leaves `../first` (outside the workspace) and sleeps; the second is
    // quick.
    let ws = Ws::new(
        r#"version: 1
stages:
  slow:
    cmd: "echo try >> \"$COUNTER\"; if [ ! -e ../first ]; then touch ../first; sleep 20; fi; echo done > slow.txt"
    shell: true
    outs: [slow.txt]
"#,
    );
    let child = ws
        .command(&["run", "--executor", "slurm", "--retries", "1"])
        .spawn()
        .expect("spawn");
    wait_for(60, "the first attempt to run", || {
        ws.tmp().join("first").exists()
    });
    let ids = ws.registered_ids();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let st = Command::new(which("scancel"))
        .arg(&ids[0])
        .status()
        .expect("scancel");
    assert!(st.success());
    let out = wait_limited(child);
    assert_eq!(out.code, 0, "{}", out.both());
    assert_has(&out, "retrying, attempt 2 of 2");
    assert_has(&out, "cancelled outside this run");
    assert_eq!(ws.read("slow.txt"), "done\n");
    assert_eq!(ws.ran(), ["try", "try"]);
    let states: Vec<String> = ws.jobs().into_iter().map(|j| j.state).collect();
    assert!(
        states.contains(&"CANCELLED".to_owned()) && states.contains(&"COMPLETED".to_owned()),
        "{states:?}"
    );
    assert!(ws.lock_keys().contains_key("slow"));
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_job_past_its_time_is_reported_timed_out() {
    let ws = Ws::new(
        r#"version: 1
stages:
  long:
    cmd: "echo long >> \"$COUNTER\"; echo partial > long.txt; sleep 300"
    shell: true
    outs: [long.txt]
    resources: {time: 1m}
"#,
    );
    let out = ws.code(&["run", "--executor", "slurm", "--retries", "0"], 1);
    assert_has(&out, "timed out");
    assert_has(&out, "TIMEOUT");
    assert_eq!(ws.ran(), ["long"], "run once, not retried");
    assert!(ws.lock_keys().is_empty(), "{:?}", ws.lock_keys());
    assert_eq!(ws.records(), 0, "a timed-out job published a record");
    let jobs = ws.jobs();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].state, "TIMEOUT");
}
