//! Bad input around the Slurm executor: an unknown executor, a malformed site setting or
//! resource are user errors (exit 2) naming where; a partition Slurm refuses fails the run with
//! Slurm's own words and leaves no registered job behind.

use crate::common::{assert_has, Ws};

const ONE: &str = r#"version: 1
stages:
  one:
    cmd: "echo one >> \"$COUNTER\"; echo 1 > one.txt"
    shell: true
    outs: [one.txt]
    resources: {mem: 100M}
"#;

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn an_unknown_executor_is_a_user_error() {
    let ws = Ws::new(ONE);
    let out = ws.code(&["run", "--executor", "pbs"], 2);
    assert_has(&out, "--executor");
    assert_has(&out, "pbs");
    assert!(ws.ran().is_empty());
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_malformed_site_setting_names_its_line_and_field() {
    let ws = Ws::new(ONE);
    ws.write(
        "repro.local.yaml",
        "executor: slurm\nslurm:\n  poll_interval: soon\n",
    );
    let out = ws.code(&["run"], 2);
    assert_has(&out, "repro.local.yaml:3:");
    assert_has(&out, "poll_interval");
    assert!(ws.ran().is_empty());
    assert!(ws.slurm_files("batches").is_empty());
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_malformed_mem_names_its_field_and_line() {
    let ws = Ws::new(&ONE.replace("mem: 100M", "mem: lots"));
    let out = ws.code(&["run", "--executor", "slurm"], 2);
    assert_has(&out, "resources.mem");
    assert_has(&out, "`pipeline.yaml` at 7:");
    assert!(ws.slurm_files("batches").is_empty());
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_partition_slurm_refuses_fails_with_slurms_words() {
    let mut ws = Ws::new(ONE);
    ws.set_env("REPRO_SLURM_PARTITION", "nosuch");
    let out = ws.repro(&["run", "--executor", "slurm"]);
    assert_ne!(out.code, 0, "{}", out.both());
    assert!(
        out.stderr.to_lowercase().contains("invalid partition"),
        "Slurm's message is missing:\n{}",
        out.both()
    );
    assert!(
        ws.slurm_files("jobs").is_empty(),
        "a refused job stays registered"
    );
    assert!(ws.jobs().is_empty(), "{:?}", ws.jobs());
    assert!(ws.lock_keys().is_empty());
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_registry_that_cannot_be_written_stops_submission_before_sbatch() {
    let ws = Ws::new(ONE);
    // A file where the registry's directory should be: no entry can be written.
    ws.write(".repro/slurm/jobs", "not a directory\n");
    let out = ws.repro(&["run", "--executor", "slurm"]);
    assert_ne!(out.code, 0, "{}", out.both());
    assert_has(&out, "cannot record the submission");
    assert!(ws.submissions().is_empty(), "nothing was submitted");
    assert!(ws.ran().is_empty());
    assert!(ws.lock_keys().is_empty());
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_job_whose_id_cannot_be_recorded_is_cancelled_not_left_unknown() {
    let ws = Ws::new(ONE);
    // `sbatch` succeeds, then the registry's directory turns into a file: the write of the
    // job's id, the one a later run adopts it by, fails.
    ws.wrap(
        "sbatch",
        "\"$REAL\" \"$@\"; code=$?; rm -rf \"$T/ws/.repro/slurm/jobs\"; echo x > \"$T/ws/.repro/slurm/jobs\"; exit $code",
    );
    let out = ws.repro(&["run", "--executor", "slurm"]);
    assert_ne!(out.code, 0, "{}", out.both());
    assert_has(&out, "cannot record Slurm job");
    assert_has(&out, "cancelled");
    crate::common::wait_for(60, "the unrecorded job to be cancelled", || {
        ws.jobs_in(crate::common::LIVE).is_empty()
    });
    assert!(ws.lock_keys().is_empty(), "nothing was published");
}
