//! Killing and interrupting `repro run`: a SIGKILLed run resumes without re-running completed
//! instances and without trusting a half-written output; SIGTERM and SIGINT make the engine
//! terminate its children, exit 130 and publish nothing for the interrupted instance,
//! while instances that completed before the signal stay published.

use std::time::{Duration, Instant};

use crate::common::{alive, signal, wait_for, wait_limited, Ws};

/// `fast@n=1,2` complete first (`slow` depends on their directory); `slow` writes half of its
/// output, records its pid in `../slow.pid`, and blocks until `../release` exists.
const PIPELINE: &str = r#"version: 1
stages:
  fast:
    cmd: "echo fast-${n} >> \"$COUNTER\"; echo ${n} > fast/${n}.txt"
    shell: true
    matrix:
      n: [1, 2]
    outs: ["fast/${n}.txt"]
  slow:
    cmd: "echo slow >> \"$COUNTER\"; echo first-half > slow.txt; echo $$$$ > ../slow.pid; while [ ! -e ../release ]; do sleep 0.05; done; echo second-half >> slow.txt"
    shell: true
    deps: [fast]
    outs: [slow.txt]
  after:
    cmd: "echo after >> \"$COUNTER\"; cp slow.txt after.txt"
    shell: true
    deps: [slow.txt]
    outs: [after.txt]
"#;

/// The pid a stage wrote to `<tmp>/<name>` (one line), waiting for it to appear.
fn pid_in(ws: &Ws, name: &str) -> i32 {
    let path = ws.tmp().join(name);
    wait_for(60, name, || {
        std::fs::read_to_string(&path).is_ok_and(|s| s.ends_with('\n'))
    });
    std::fs::read_to_string(&path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn slow_pid(ws: &Ws) -> i32 {
    pid_in(ws, "slow.pid")
}

#[test]
fn sigkill_mid_run_resumes_without_rerunning_completed_or_trusting_partial_output() {
    let ws = Ws::new(PIPELINE);
    let child = ws.command(&["run", "-j", "2"]).spawn().unwrap();
    let pid = slow_pid(&ws);
    assert_eq!(ws.read("slow.txt"), "first-half\n");
    signal(child.id(), libc::SIGKILL);
    let out = wait_limited(child);
    assert_eq!(out.code, -libc::SIGKILL);
    // The orphaned stage is still blocked; end it the way a reboot would.
    // SAFETY: the stage leads its own process group (the engine starts it so).
    unsafe { libc::kill(-pid, libc::SIGKILL) };

    let st = ws.code(&["status"], 0);
    assert!(
        st.stdout.contains("run      slow: never run"),
        "a half-written output was trusted:\n{}",
        st.both()
    );
    assert!(
        !st.stdout.contains("fast@"),
        "completed instances must be fresh:\n{}",
        st.both()
    );

    std::fs::write(ws.tmp().join("release"), "").unwrap();
    let run = ws.ok(&["run"]);
    assert!(
        run.stderr.contains("2 ran, 0 restored, 2 fresh"),
        "{}",
        run.both()
    );
    assert_eq!(ws.count("fast-1"), 1);
    assert_eq!(ws.count("fast-2"), 1);
    assert_eq!(ws.count("slow"), 2, "the killed instance re-runs");
    assert_eq!(ws.count("after"), 1);
    assert_eq!(ws.read("slow.txt"), "first-half\nsecond-half\n");
    ws.ok(&["verify"]);
}

/// Sends `sig` to a running `repro run` while `slow` blocks; checks the child is gone, the exit
/// is 130 (what a shell reports after Ctrl-C; it was 1, the code of a failed stage), and
/// nothing of `slow` was published.
fn interrupt_with(sig: i32) {
    let ws = Ws::new(PIPELINE);
    let child = ws.command(&["run", "-j", "2"]).spawn().unwrap();
    let pid = slow_pid(&ws);
    assert!(alive(pid));
    let start = Instant::now();
    signal(child.id(), sig);
    let out = wait_limited(child);
    assert_eq!(out.code, 130, "{}", out.both());
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "a stage that honours SIGTERM is stopped at once"
    );
    assert!(out.stderr.contains("interrupted"), "{}", out.both());
    assert!(
        !alive(pid),
        "the stage (pid {pid}) outlived an interrupted run"
    );
    assert!(ws.ran().contains(&"slow".to_owned()));

    let lock = ws.read("repro.lock");
    assert!(
        lock.contains("] fast@n=1\n") && lock.contains("] fast@n=2\n"),
        "completed instances are published:\n{lock}"
    );
    assert!(
        !lock.contains("slow"),
        "the interrupted instance was published:\n{lock}"
    );
    let st = ws.code(&["status"], 0);
    assert!(
        st.stdout.contains("run      slow: never run"),
        "{}",
        st.both()
    );

    std::fs::write(ws.tmp().join("release"), "").unwrap();
    ws.ok(&["run"]);
    assert_eq!(
        (ws.count("fast-1"), ws.count("slow"), ws.count("after")),
        (1, 2, 1)
    );
}

#[test]
fn sigterm_terminates_children_exits_130_and_publishes_nothing_partial() {
    interrupt_with(libc::SIGTERM);
}

#[test]
fn sigint_terminates_children_exits_130_and_publishes_nothing_partial() {
    interrupt_with(libc::SIGINT);
}

#[test]
fn a_stage_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let ws = Ws::new(
        r#"version: 1
stages:
  stubborn:
    cmd: "trap '' TERM; echo $$$$ > ../slow.pid; exec sleep 60"
    shell: true
    outs: [never.txt]
"#,
    );
    let child = ws.command(&["run"]).spawn().unwrap();
    let pid = slow_pid(&ws);
    let start = Instant::now();
    signal(child.id(), libc::SIGTERM);
    let out = wait_limited(child);
    assert_eq!(out.code, 130, "{}", out.both());
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "took {:?}",
        start.elapsed()
    );
    assert!(!alive(pid), "the stubborn stage survived");
}

#[test]
fn gc_after_a_killed_run_keeps_what_that_run_published_and_drops_dead_temporaries() {
    let ws = Ws::new(PIPELINE);
    let child = ws.command(&["run", "-j", "2"]).spawn().unwrap();
    let pid = slow_pid(&ws);
    signal(child.id(), libc::SIGKILL);
    let _ = wait_limited(child);
    // SAFETY: the stage leads its own process group (the engine starts it so).
    unsafe { libc::kill(-pid, libc::SIGKILL) };
    assert!(
        !ws.root.join("repro.lock").exists(),
        "the killed run wrote no lock"
    );
    let journal = ws.read(".repro/published");
    let keys: std::collections::BTreeSet<&str> = journal.lines().collect();
    assert_eq!(
        keys.len(),
        journal.lines().count(),
        "each key journaled once:\n{journal}"
    );
    assert_eq!(keys.len(), 2, "the two completed instances:\n{journal}");
    // A temporary of a writer that died (pid 2^22 + 1 is above Linux's pid limit).
    let stale = ws.root.join("cache/actions/.x.json.tmp-4194305-0");
    std::fs::write(&stale, "half").unwrap();
    let gc = ws.ok(&["gc"]);
    assert!(gc.stdout.contains("1 stale temporaries"), "{}", gc.both());
    assert!(!stale.exists());
    std::fs::write(ws.tmp().join("release"), "").unwrap();
    ws.ok(&["run"]);
    assert_eq!(ws.count("fast-1"), 1, "gc kept the killed run's work");
    assert_eq!(ws.count("fast-2"), 1);
    ws.ok(&["gc"]);
    assert!(
        !ws.root.join(".repro/published").exists(),
        "a written lock empties the journal"
    );
    ws.ok(&["status", "--check"]);
}

/// A stage that writes its output in two halves, two seconds apart, and leaves its pid (and
/// that of a `setsid` grandchild) beside the workspace.
const ORPHAN: &str = r#"version: 1
stages:
  s:
    cmd: "echo $$$$ > ../stage.pid; setsid sh -c 'echo $$$$ > ../escaped.pid; sleep 30' & printf A > out.txt; sleep 2; printf B >> out.txt"
    shell: true
    outs: [out.txt]
"#;

#[test]
fn stage_processes_never_outlive_a_killed_engine_or_write_into_the_resumed_run() {
    let ws = Ws::new(ORPHAN);
    let child = ws.command(&["run"]).spawn().unwrap();
    let (stage, escaped) = (pid_in(&ws, "stage.pid"), pid_in(&ws, "escaped.pid"));
    signal(child.id(), libc::SIGKILL);
    let _ = wait_limited(child);
    wait_for(20, "the killed run's processes to end", || {
        !alive(stage) && !alive(escaped)
    });
    ws.ok(&["run"]);
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        ws.read("out.txt"),
        "AB",
        "no orphan appended to the resumed run's output"
    );
    ws.ok(&["status", "--check"]);
    ws.ok(&["verify"]);
}

#[test]
fn a_stage_past_its_timeout_is_ended_with_its_setsid_children_and_fails_as_timed_out() {
    let ws = Ws::new(
        r#"version: 1
stages:
  slow:
    cmd: "setsid sh -c 'echo $$$$ > ../escaped.pid; sleep 60' & sleep 60; echo done > out.txt"
    shell: true
    timeout: 1s
    outs: [out.txt]
  quick:
    cmd: "echo q > q.txt"
    shell: true
    timeout: 5m
    outs: [q.txt]
"#,
    );
    let t = Instant::now();
    let out = ws.code(&["run", "--keep-going"], 1);
    assert!(out.stderr.contains("timed out after 1s"), "{}", out.both());
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "not a speed target: the stage sleeps 60 s"
    );
    let escaped = pid_in(&ws, "escaped.pid");
    wait_for(10, "the setsid child to end", || !alive(escaped));
    assert_eq!(ws.read("q.txt"), "q\n");
    let bad =
        Ws::new("version: 1\nstages:\n  s:\n    cmd: [true]\n    timeout: soon\n    outs: [x]\n");
    let out = bad.code(&["status"], 2);
    assert!(out.stderr.contains("stages.s.timeout"), "{}", out.both());
}

/// After an interrupted attempt and a restore from the cache, `repro logs` once printed the
/// killed attempt's log while `repro show` said fresh: it prints the recorded run's log and
/// says on stderr which attempt it is, with a note naming the later attempt's log.
#[test]
fn logs_after_an_interrupted_attempt_and_a_restore_show_the_recorded_run() {
    let ws = Ws::new(
        r#"version: 1
stages:
  a:
    cmd: "echo attempt $$MARK; if [ -e ../block ]; then echo $$$$ > ../slow.pid; while [ -e ../block ]; do sleep 0.05; done; fi; echo out > o.txt"
    shell: true
    outs: [o.txt]
"#,
    );
    let mut first = ws.command(&["run"]);
    first.env("MARK", "first");
    assert_eq!(wait_limited(first.spawn().unwrap()).code, 0);
    std::fs::write(ws.tmp().join("block"), "").unwrap();
    let mut forced = ws.command(&["run", "--force"]);
    forced.env("MARK", "killed");
    let child = forced.spawn().unwrap();
    let pid = slow_pid(&ws);
    signal(child.id(), libc::SIGINT);
    assert_eq!(wait_limited(child).code, 130);
    assert!(!alive(pid));
    std::fs::remove_file(ws.tmp().join("block")).unwrap();
    let run = ws.ok(&["run"]);
    assert!(run.stderr.contains("restored  a"), "{}", run.both());
    assert!(ws.ok(&["show", "a"]).stdout.contains("state     fresh\n"));

    let logs = ws.ok(&["logs", "a"]);
    assert_eq!(logs.stdout, "attempt first\n", "{}", logs.both());
    assert!(
        logs.stderr
            .contains("repro: log of the recorded run that `repro show` names (key "),
        "{}",
        logs.both()
    );
    assert!(
        logs.stderr.contains(
            "repro: note: a later attempt that was not recorded (it failed, was interrupted or is still running) wrote `.repro/logs/a.log`"
        ),
        "{}",
        logs.both()
    );
    // A failed attempt of a new key has no record: its own log, said to be unrecorded.
    ws.edit_pipeline("echo out > o.txt", "exit 4");
    ws.code(&["run"], 1);
    let logs = ws.ok(&["logs", "a"]);
    assert_eq!(logs.stdout, "attempt\n", "{}", logs.both());
    assert!(
        logs.stderr
            .contains("repro: log of the latest attempt, which nothing recorded"),
        "{}",
        logs.both()
    );
}
