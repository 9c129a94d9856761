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
