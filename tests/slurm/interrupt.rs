//! Stopping the controller while its jobs run: Ctrl-C cancels them in Slurm and publishes
//! nothing for them; a SIGKILLed controller leaves them running, and the next run adopts them
//! instead of submitting them again.

use crate::common::{signal, wait_for, wait_limited, Ws, LIVE};

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn sigint_cancels_the_runs_jobs_and_publishes_nothing() {
    // Three jobs on two CPUs: two run (each writes its output, then sleeps), one waits.
    let ws = Ws::new(
        r#"version: 1
stages:
  gen:
    cmd: "echo x > g${n}.txt; touch ../started-${n}; sleep 60"
    shell: true
    matrix:
      n: [1, 2, 3]
    outs: ["g${n}.txt"]
"#,
    );
    let child = ws
        .command(&["run", "--executor", "slurm"])
        .spawn()
        .expect("spawn");
    let started = || {
        (1..=3)
            .filter(|n| ws.tmp().join(format!("started-{n}")).exists())
            .count()
    };
    wait_for(60, "two jobs to run", || started() >= 2);
    assert_eq!(ws.jobs_in(LIVE).len(), 3, "{:?}", ws.jobs());
    signal(child.id(), libc::SIGINT);
    let out = wait_limited(child);
    assert_ne!(out.code, 0, "{}", out.both());
    wait_for(20, "no job of the run left queued or running", || {
        ws.jobs_in(LIVE).is_empty()
    });
    assert!(ws.lock_keys().is_empty(), "{}", ws.read("repro.lock"));
    assert_eq!(ws.records(), 0, "a cancelled job published its record");
    let st = ws.repro(&["status", "--check"]);
    assert_ne!(
        st.code,
        0,
        "cancelled instances count as fresh:\n{}",
        st.both()
    );
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn sigkill_then_rerun_adopts_running_jobs_without_submitting_again() {
    let ws = killed_controller(4);
    let out = ws.ok(&["run", "--executor", "slurm"]);
    assert_eq!(ws.read("sum.txt"), "gen-1\ngen-2\ngen-3\ngen-4\n");
    // `gen` (one array) before the kill, `sum` after it: nothing twice.
    assert_eq!(ws.submissions().len(), 2, "{:?}\n{}", ws.jobs(), out.both());
    let mut ran = ws.ran();
    ran.sort();
    assert_eq!(ran, ["gen-1", "gen-2", "gen-3", "gen-4", "sum"]);
    assert_eq!(ws.lock_keys().len(), 5);
    ws.ok(&["status", "--check"]);
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_local_run_refuses_while_a_killed_controllers_jobs_are_live_and_names_them() {
    let ws = killed_controller(6);
    // A plain local run now would execute the same instances beside the jobs.
    let out = ws.code(&["run"], 2);
    assert!(
        out.stderr
            .contains("batch job(s) submitted from this workspace")
            && out.stderr.contains("repro run --executor slurm")
            && out.stderr.contains("scancel"),
        "{}",
        out.both()
    );
    for id in ws.registered_ids() {
        assert!(out.stderr.contains(&id), "{id} not named:\n{}", out.both());
    }
    // The Slurm run adopts them: every instance ran once.
    ws.ok(&["run", "--executor", "slurm"]);
    let mut ran = ws.ran();
    ran.sort();
    assert_eq!(ran, ["gen-1", "gen-2", "gen-3", "gen-4", "sum"]);
    ws.ok(&["status", "--check"]);
}

/// The fan-out pipeline (four `gen` jobs taking `seconds` each, then `sum`) after its Slurm
/// controller was SIGKILLed with the `gen` jobs registered and still queued or running.
fn killed_controller(seconds: u32) -> Ws {
    let sleep = format!("echo gen-${{n}} >> \\\"$COUNTER\\\"; sleep {seconds};");
    let ws = Ws::new(&crate::basics::FAN.replace("echo gen-${n} >> \\\"$COUNTER\\\";", &sleep));
    assert!(ws
        .read("pipeline.yaml")
        .contains(&format!("sleep {seconds}")));
    let child = ws
        .command(&["run", "--executor", "slurm"])
        .spawn()
        .expect("spawn");
    wait_for(60, "the four `gen` jobs to be registered", || {
        ws.registered_ids().len() == 4
    });
    signal(child.id(), libc::SIGKILL);
    let out = wait_limited(child);
    assert_eq!(out.code, -libc::SIGKILL, "{}", out.both());
    assert!(
        !ws.jobs_in(LIVE).is_empty(),
        "the jobs ended before the kill: the test proves nothing"
    );
    ws
}
