//! Faults injected in front of Slurm's real commands (wrappers first on `PATH`, their state in
//! files of the test's temporary directory): `squeue` that answers nothing, hangs, or reports
//! `UNKNOWN`, or a running job as `COMPLETED` (an end seen before its record, as on a lagging
//! filesystem); `sbatch` that fails transiently or loses its answer. The truth stays in the
//! store: nothing counts as done without its record, and nothing is submitted twice.

use crate::basics::FAN;
use crate::common::{assert_has, Ws, SITE};

/// Counts the wrapper's calls in `$T/<name>-calls`; `$n` is this call's number.
fn counted(name: &str) -> String {
    format!("n=$(cat \"$T/{name}-calls\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$T/{name}-calls\"")
}

fn calls(ws: &Ws, name: &str) -> u32 {
    std::fs::read_to_string(ws.tmp().join(format!("{name}-calls")))
        .map(|s| s.trim().parse().unwrap_or(0))
        .unwrap_or(0)
}

/// Two quick instances and a reader of both: [`FAN`] with two `gen` instances.
fn pair() -> String {
    let four = "n: [1, 2, 3, 4]";
    assert!(FAN.contains(four), "FAN no longer has four `gen` instances");
    FAN.replace(four, "n: [1, 2]")
}

/// One instance that fails.
const FAILING: &str = r#"version: 1
stages:
  bad:
    cmd: "echo bad >> \"$COUNTER\"; echo half > bad.txt; exit 1"
    shell: true
    outs: [bad.txt]
"#;

/// Every instance the run reported finished has its lock entry and its record.
fn finished_are_published(ws: &Ws, stderr: &str) -> usize {
    let keys = ws.lock_keys();
    let finished: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.split("finished  ").nth(1))
        .filter_map(|rest| rest.split(" in ").next())
        .collect();
    for id in &finished {
        let key = keys
            .get(*id)
            .unwrap_or_else(|| panic!("`{id}` reported finished without a lock entry"));
        assert!(
            ws.root.join(format!("cache/actions/{key}.json")).is_file(),
            "`{id}` reported finished without its record"
        );
    }
    finished.len()
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn an_empty_squeue_still_finishes_jobs_through_their_records() {
    let ws = Ws::new(&pair());
    // A long grace: a job still queued behind other work must not be given up early.
    ws.write(
        "repro.local.yaml",
        &SITE.replace("publish_grace: 5s", "publish_grace: 30s"),
    );
    ws.wrap("squeue", &format!("{}\nexit 0", counted("squeue")));
    let out = ws.repro(&["run", "--executor", "slurm", "--retries", "0"]);
    assert!(calls(&ws, "squeue") > 0, "the wrapper was not used");
    let finished = finished_are_published(&ws, &out.stderr);
    assert_eq!(out.code, 0, "{}", out.both());
    assert_eq!(finished, 3, "{}", out.both());
    assert_eq!(ws.read("sum.txt"), "gen-1\ngen-2\n");
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn an_empty_squeue_never_makes_a_failed_job_done() {
    let ws = Ws::new(FAILING);
    ws.wrap("squeue", &format!("{}\nexit 0", counted("squeue")));
    let out = ws.code(&["run", "--executor", "slurm", "--retries", "0"], 1);
    assert!(calls(&ws, "squeue") > 0, "the wrapper was not used");
    assert_has(&out, "missing from `squeue`");
    assert_eq!(ws.ran(), ["bad"], "the job did not run in Slurm");
    assert!(ws.lock_keys().is_empty(), "{}", ws.read("repro.lock"));
    assert_eq!(ws.records(), 0);
    assert_eq!(finished_are_published(&ws, &out.stderr), 0);
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_hanging_squeue_is_timed_out_and_the_run_completes() {
    let ws = Ws::new(&pair());
    ws.wrap(
        "squeue",
        &format!(
            "{}\nif [ $n -le 3 ]; then exec sleep 60; fi\nexec \"$REAL\" \"$@\"",
            counted("squeue")
        ),
    );
    let t = std::time::Instant::now();
    let out = ws.ok(&["run", "--executor", "slurm"]);
    assert!(calls(&ws, "squeue") > 3, "squeue never hung");
    assert!(
        t.elapsed() < std::time::Duration::from_secs(60),
        "a hanging squeue was waited out: {:?}",
        t.elapsed()
    );
    assert_eq!(ws.read("sum.txt"), "gen-1\ngen-2\n");
    assert_eq!(ws.submissions().len(), 2, "{:?}\n{}", ws.jobs(), out.both());
    assert_eq!(ws.ran().len(), 3, "{:?}", ws.ran());
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn an_unknown_state_is_never_taken_as_done() {
    let ws = Ws::new(FAILING);
    // The first 8 answers say `UNKNOWN` for every job (the state is the second field).
    ws.wrap(
        "squeue",
        &format!(
            "{}\nif [ $n -le 8 ]; then \"$REAL\" \"$@\" | sed 's/^\\([^|]*\\)|[A-Z_]*|/\\1|UNKNOWN|/'; exit 0; fi\nexec \"$REAL\" \"$@\"",
            counted("squeue")
        ),
    );
    let out = ws.code(&["run", "--executor", "slurm", "--retries", "0"], 1);
    assert!(calls(&ws, "squeue") > 0, "the wrapper was not used");
    assert_eq!(ws.ran(), ["bad"]);
    assert!(ws.lock_keys().is_empty(), "{}", ws.read("repro.lock"));
    assert_eq!(ws.records(), 0);
    assert_eq!(finished_are_published(&ws, &out.stderr), 0);
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_transient_sbatch_failure_is_retried() {
    let ws = Ws::new(&pair());
    ws.wrap(
        "sbatch",
        &format!(
            "{}\nif [ $n -eq 1 ]; then echo 'sbatch: error: Socket timed out on send/recv operation' >&2; exit 1; fi\nexec \"$REAL\" \"$@\"",
            counted("sbatch")
        ),
    );
    let out = ws.ok(&["run", "--executor", "slurm"]);
    assert_eq!(calls(&ws, "sbatch"), 3, "{}", out.both());
    assert_eq!(ws.read("sum.txt"), "gen-1\ngen-2\n");
    assert_eq!(ws.submissions().len(), 2, "{:?}", ws.jobs());
    assert_eq!(ws.jobs().len(), 3, "{:?}", ws.jobs());
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn an_sbatch_whose_answer_is_lost_does_not_submit_twice() {
    let ws = Ws::new(FAN);
    // The first call submits, then reports a timeout as if the answer never came.
    ws.wrap(
        "sbatch",
        &format!(
            "{}\nif [ $n -eq 1 ]; then \"$REAL\" \"$@\" >/dev/null; echo 'sbatch: error: Socket timed out on send/recv operation' >&2; exit 1; fi\nexec \"$REAL\" \"$@\"",
            counted("sbatch")
        ),
    );
    let out = ws.ok(&["run", "--executor", "slurm"]);
    assert_eq!(ws.read("sum.txt"), "gen-1\ngen-2\ngen-3\ngen-4\n");
    assert_eq!(ws.submissions().len(), 2, "{:?}\n{}", ws.jobs(), out.both());
    assert_eq!(ws.jobs().len(), 5, "{:?}", ws.jobs());
    let mut ran = ws.ran();
    ran.sort();
    assert_eq!(ran, ["gen-1", "gen-2", "gen-3", "gen-4", "sum"]);
}

/// One instance that takes a few seconds, then writes its output or fails.
fn slow(then: &str) -> String {
    format!(
        r#"version: 1
stages:
  slow:
    cmd: "echo slow >> \"$COUNTER\"; sleep 4; {then}"
    shell: true
    outs: [slow.txt]
"#
    )
}

/// `squeue` reports a running job as `COMPLETED`: the controller learns of the end before the
/// record can exist, as it would from a filesystem that shows the record late.
fn completed_early(ws: &Ws) {
    ws.wrap(
        "squeue",
        &format!(
            "{}\n\"$REAL\" \"$@\" | sed 's/|RUNNING|/|COMPLETED|/'",
            counted("squeue")
        ),
    );
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_completion_seen_before_its_record_waits_for_the_record() {
    let ws = Ws::new(&slow("echo done > slow.txt"));
    ws.write(
        "repro.local.yaml",
        &SITE.replace("publish_grace: 5s", "publish_grace: 30s"),
    );
    completed_early(&ws);
    let out = ws.ok(&["run", "--executor", "slurm", "--retries", "0"]);
    assert!(calls(&ws, "squeue") > 0, "the wrapper was not used");
    assert_eq!(ws.read("slow.txt"), "done\n");
    assert_eq!(
        ws.ran(),
        ["slow"],
        "run once, neither failed early nor retried"
    );
    assert_eq!(ws.records(), 1);
    assert_eq!(finished_are_published(&ws, &out.stderr), 1);
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_completion_seen_early_is_not_a_success_when_the_job_fails() {
    let ws = Ws::new(&slow("exit 1"));
    ws.write(
        "repro.local.yaml",
        &SITE.replace("publish_grace: 5s", "publish_grace: 30s"),
    );
    completed_early(&ws);
    let out = ws.code(&["run", "--executor", "slurm", "--retries", "0"], 1);
    assert_has(&out, "FAILED");
    assert_eq!(ws.ran(), ["slow"]);
    assert!(ws.lock_keys().is_empty(), "{}", ws.read("repro.lock"));
    assert_eq!(ws.records(), 0);
    assert_eq!(finished_are_published(&ws, &out.stderr), 0);
}
