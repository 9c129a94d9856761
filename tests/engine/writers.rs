//! One writer per output: a batch job (`repro exec --batch`) never runs beside a local run that
//! holds the workspace, and the processes of a failed attempt (a `setsid` child included) are
//! gone before the next attempt of the same instance starts.

use crate::common::{wait_for, wait_limited, Ws};

/// A stage that writes its output in two halves with a pause between them, counting its runs.
const SLOW: &str = r#"version: 1
stages:
  s:
    cmd: "echo s >> \"$COUNTER\"; printf A > out.txt; sleep 3; printf B >> out.txt"
    shell: true
    outs: [out.txt]
"#;

#[test]
fn a_batch_job_refuses_to_run_beside_a_local_run_that_holds_the_workspace() {
    let ws = Ws::new(SLOW);
    ws.write(
        "manifest.json",
        r#"{"members": [{"instance": "s", "key": null}]}"#,
    );
    let run = ws.command(&["run"]).spawn().unwrap();
    wait_for(30, "the local run to start its stage", || {
        ws.count("s") == 1
    });
    // The local run is inside its stage now: a batch job for the same instance must not run it.
    let job = ws.repro(&["exec", "--batch", "manifest.json"]);
    let run = wait_limited(run);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_ne!(job.code, 0, "the batch job ran:\n{}", job.both());
    assert!(
        job.stderr.contains("local") && job.stderr.contains(".repro/writers.lock"),
        "the refusal names the lock and who holds it:\n{}",
        job.both()
    );
    assert_eq!(ws.count("s"), 1, "one writer ran the stage");
    assert_eq!(ws.read("out.txt"), "AB");
    ws.ok(&["verify"]);
}

#[test]
fn a_failed_attempts_setsid_child_is_ended_before_the_retry_starts() {
    // The first attempt starts a `setsid` child that appends to the output one second later,
    // and fails half a second after (the child has left the process group by then); the retry
    // writes `B` and takes three seconds. A child that outlived its
    // attempt would append `LATE` into the retry's output.
    let ws = Ws::new(
        r#"version: 1
stages:
  s:
    cmd: "if [ -e ../first ]; then printf B > out.txt; sleep 3; else touch ../first; printf A > out.txt; setsid sh -c 'sleep 1; printf LATE >> out.txt' & sleep 0.5; exit 1; fi"
    shell: true
    outs: [out.txt]
"#,
    );
    let out = ws.ok(&["run", "--retries", "1"]);
    assert!(out.stderr.contains("retrying"), "{}", out.both());
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(ws.read("out.txt"), "B", "{}", out.both());
    ws.ok(&["verify"]);
}
