//! The batch path refuses what would break it: site `sbatch` arguments that take over the
//! engine's own options, a retry count or a poll interval that would flood the batch system,
//! and a failing stage retried without a pause. Refusals happen before any Slurm command runs:
//! the tests put recording stand-ins for the Slurm commands first on `PATH` and check that
//! none was called.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::{Out, Ws};

const PIPELINE: &str = "version: 1\nstages:\n  a:\n    cmd: \"echo a >> \\\"$COUNTER\\\"; touch x\"\n    shell: true\n    outs: [x]\n";

/// Stand-ins for the Slurm commands that append their name to `<tmp>/slurm-calls` and fail;
/// returns the `PATH` that finds them first, and the record.
fn recording_slurm(ws: &Ws) -> (String, PathBuf) {
    let bin = ws.tmp().join("fake-slurm");
    fs::create_dir_all(&bin).unwrap();
    let calls = ws.tmp().join("slurm-calls");
    for name in ["sbatch", "squeue", "sacct", "scancel", "scontrol", "sinfo"] {
        let p = bin.join(name);
        fs::write(
            &p,
            format!("#!/bin/sh\necho {name} >> '{}'\nexit 1\n", calls.display()),
        )
        .unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    }
    (format!("{}:/usr/bin:/bin", bin.display()), calls)
}

fn refused(ws: &Ws, args: &[&str], env: &[(&str, &str)], needles: &[&str]) -> Out {
    let (path, calls) = recording_slurm(ws);
    let mut cmd = ws.command(args);
    cmd.env("PATH", path);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = crate::common::run_limited(cmd);
    assert_eq!(out.code, 2, "`repro {}`:\n{}", args.join(" "), out.both());
    for n in needles {
        assert!(out.stderr.contains(n), "missing {n:?}:\n{}", out.both());
    }
    assert!(
        !calls.exists(),
        "a Slurm command ran: {}",
        fs::read_to_string(&calls).unwrap_or_default()
    );
    assert_eq!(ws.count("a"), 0);
    out
}

#[test]
fn site_sbatch_args_that_set_the_engines_options_are_refused_before_any_submission() {
    let ws = Ws::new(PIPELINE);
    refused(
        &ws,
        &[
            "run",
            "--executor",
            "slurm",
            "--set-site",
            "slurm.sbatch_args=--job-name=x",
        ],
        &[],
        &[
            "--set-site slurm.sbatch_args",
            "`--job-name`",
            "`--job-name=x`",
        ],
    );
    ws.write(
        "repro.local.yaml",
        "executor: slurm\nslurm:\n  sbatch_args: [\"--constraint=a100\", \"-o\", \"/tmp/log\"]\n",
    );
    refused(
        &ws,
        &["run"],
        &[],
        &[
            "repro.local.yaml:3:",
            "`sbatch_args` must not set `--output`",
            "found `-o`",
        ],
    );
    ws.write("repro.local.yaml", "executor: slurm\n");
    for (args, option) in [
        ("--comment=mine", "--comment"),
        ("--chdir /tmp", "--chdir"),
        ("-D/tmp", "--chdir"),
        ("--error=e.log", "--error"),
        ("--wrap=true", "--wrap"),
        ("-a 0-3", "--array"),
        ("-d afterok:1", "--dependency"),
        ("--parsable", "--parsable"),
    ] {
        refused(
            &ws,
            &["run"],
            &[("REPRO_SLURM_SBATCH_ARGS", args)],
            &[
                "REPRO_SLURM_SBATCH_ARGS: must not set",
                &format!("`{option}`"),
            ],
        );
    }
}

#[test]
fn too_many_retries_or_a_poll_below_a_second_are_refused_before_any_submission() {
    let ws = Ws::new(PIPELINE);
    refused(
        &ws,
        &["run", "--executor", "slurm", "--retries", "100000"],
        &[],
        &["--retries: must be a whole number from 0 to 10, found `100000`"],
    );
    refused(
        &ws,
        &["run", "--executor", "slurm"],
        &[("REPRO_RETRIES", "100000")],
        &["REPRO_RETRIES: must be a whole number from 0 to 10"],
    );
    refused(
        &ws,
        &["run", "--executor", "slurm"],
        &[("REPRO_SLURM_POLL", "0.001s")],
        &[
            "REPRO_SLURM_POLL: must be a duration of at least 1s",
            "`0.001s`",
        ],
    );
    ws.write(
        "repro.local.yaml",
        "executor: slurm\nslurm:\n  poll_interval: 0.5\n",
    );
    refused(
        &ws,
        &["run"],
        &[],
        &[
            "repro.local.yaml:3:",
            "`poll_interval` must be a duration of at least 1s",
        ],
    );
}

#[test]
fn a_failing_stage_is_retried_after_a_doubling_back_off() {
    let ws = Ws::new(
        "version: 1\nstages:\n  a:\n    cmd: \"echo a >> \\\"$COUNTER\\\"; exit 3\"\n    shell: true\n    outs: [x]\n",
    );
    let start = Instant::now();
    let out = ws.code(&["run", "--retries", "2"], 1);
    let took = start.elapsed();
    assert_eq!(ws.count("a"), 3, "{}", out.both());
    assert!(
        out.stderr.contains("attempt 2 of 3, in 1s")
            && out.stderr.contains("attempt 3 of 3, in 2s"),
        "{}",
        out.both()
    );
    // The back-offs are waits of at least 1s and 2s: a lower bound, whatever the machine.
    assert!(took >= Duration::from_secs(3), "took {took:?}");
}

/// Writes a Slurm registry entry for `instance` by hand, in `jobs/` or `done/`, naming `out`.
fn registry_entry(ws: &Ws, folder: &str, instance: &str, out: &str) {
    let hash = blake3::hash(instance.as_bytes()).to_hex();
    let entry = serde_json::json!({
        "instance": instance,
        "key": null,
        "job": "41",
        "batch": "b1",
        "index": 0,
        "out": out,
        "submitted": 1,
    });
    ws.write(
        &format!(".repro/slurm/{folder}/{}.json", &hash[..24]),
        &entry.to_string(),
    );
}

#[test]
fn logs_never_print_a_file_outside_the_slurm_output_folder_that_a_registry_entry_names() {
    let ws = Ws::new(PIPELINE);
    registry_entry(&ws, "jobs", "a", "/etc/passwd");
    let out = ws.code(&["logs", "a"], 2);
    assert!(
        out.stderr.contains("entry of `a`")
            && out.stderr.contains("`/etc/passwd`")
            && out.stderr.contains(".repro/slurm/out"),
        "{}",
        out.both()
    );
    assert!(out.stdout.is_empty(), "{}", out.both());

    // With a log of its own, the instance's log is shown and the entry is a note.
    fs::remove_dir_all(ws.root.join(".repro/slurm/jobs")).unwrap();
    ws.ok(&["run"]);
    fs::write(ws.tmp().join("secret"), "SECRET\n").unwrap();
    registry_entry(&ws, "done", "a", ".repro/slurm/out/../../../secret");
    let out = ws.ok(&["logs", "a"]);
    assert!(!out.stdout.contains("SECRET"), "{}", out.both());
    assert!(
        out.stderr.contains("note:") && out.stderr.contains("../../../secret"),
        "{}",
        out.both()
    );
}

/// A named pipe at `path` (nothing ever writes to it).
fn fifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

#[test]
fn a_batch_manifest_that_is_a_device_or_a_named_pipe_is_refused_at_once() {
    // The test's time limit (`common::LIMIT`) turns a hang into a failure.
    let ws = Ws::new(PIPELINE);
    let out = ws.code(&["exec", "--batch", "/dev/zero"], 2);
    assert!(
        out.stderr
            .contains("failed to read manifest `/dev/zero`: it is a device, not a regular file"),
        "{}",
        out.both()
    );
    let pipe = ws.tmp().join("manifest.fifo");
    fifo(&pipe);
    let out = ws.code(&["exec", "--batch", pipe.to_str().unwrap()], 2);
    assert!(
        out.stderr
            .contains("it is a named pipe, not a regular file"),
        "{}",
        out.both()
    );
    let big = ws.tmp().join("big.json");
    fs::write(&big, " ".repeat(2 << 20)).unwrap();
    let out = ws.code(&["exec", "--batch", big.to_str().unwrap()], 2);
    assert!(
        out.stderr.contains("larger than 1048576 bytes"),
        "{}",
        out.both()
    );
    assert_eq!(ws.count("a"), 0);
}

#[test]
fn repro_config_must_name_an_existing_regular_file() {
    let ws = Ws::new(PIPELINE);
    let run = |config: &std::path::Path| {
        let mut cmd = ws.command(&["run"]);
        cmd.env("REPRO_CONFIG", config);
        crate::common::run_limited(cmd)
    };
    let missing = ws.tmp().join("no-such-site.yaml");
    let out = run(&missing);
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("no-such-site.yaml") && out.stderr.contains("named by REPRO_CONFIG"),
        "{}",
        out.both()
    );
    let pipe = ws.tmp().join("site.fifo");
    fifo(&pipe);
    let out = run(&pipe);
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr
            .contains("it is a named pipe, not a regular file"),
        "{}",
        out.both()
    );
    assert_eq!(ws.count("a"), 0);
    // The workspace's own site file may be absent.
    ws.ok(&["run"]);
    assert_eq!(ws.count("a"), 1);
}

#[test]
fn a_site_file_that_git_would_show_gets_a_note_with_the_line_to_ignore_it() {
    let ws = Ws::new(PIPELINE);
    ws.write("repro.local.yaml", "executor: local\n");
    let note = "add the line `/repro.local.yaml` to the `.gitignore`";
    // Outside a git work tree, nothing to say.
    let out = ws.ok(&["run"]);
    assert!(!out.stderr.contains(note), "{}", out.both());
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(&ws.root)
        .status()
        .expect("git");
    assert!(git.success());
    let out = ws.ok(&["run"]);
    assert!(
        out.stderr.contains(
            "`repro.local.yaml` holds this machine's settings, but git does not ignore it"
        ) && out.stderr.contains(note),
        "{}",
        out.both()
    );
    ws.write(".gitignore", "/repro.local.yaml\n");
    let out = ws.ok(&["run"]);
    assert!(!out.stderr.contains(note), "{}", out.both());
}

#[test]
fn a_batch_job_that_no_controller_recorded_is_refused_so_gc_cannot_lose_its_result() {
    let ws = Ws::new(PIPELINE);
    let manifest = ".repro/slurm/batches/b1.json";
    ws.write(manifest, r#"{"members": [{"instance": "a", "key": null}]}"#);
    let out = ws.code(&["exec", "--batch", manifest], 2);
    assert!(
        out.stderr
            .contains("no controller recorded a batch job for `a`")
            && out.stderr.contains("`repro gc` would delete it")
            && out.stderr.contains("repro exec a"),
        "{}",
        out.both()
    );
    assert_eq!(ws.count("a"), 0, "it ran:\n{}", out.both());
    // An entry of another batch, or of another index, is not this job's.
    registry_entry(&ws, "jobs", "a", ".repro/slurm/out/b2_0.out");
    let other = ".repro/slurm/batches/b2.json";
    ws.write(other, r#"{"members": [{"instance": "a", "key": null}]}"#);
    ws.code(&["exec", "--batch", other], 2);
    assert_eq!(ws.count("a"), 0);
    // The job its controller recorded runs, and gc keeps its result while it is recorded.
    registry_entry(&ws, "jobs", "a", ".repro/slurm/out/b1_0.out");
    ws.ok(&["exec", "--batch", manifest]);
    assert_eq!(ws.count("a"), 1);
    let before = ws.objects();
    assert!(!before.is_empty());
    let gc = ws.repro(&["gc"]);
    assert_ne!(gc.code, 0, "{}", gc.both());
    assert_eq!(ws.objects(), before);
}
