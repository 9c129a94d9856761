//! Packs under Slurm: ready instances of a stage with `pack:` run as one batch job each pack,
//! the job publishes every member on its own, and the controller takes members in by their
//! records. These tests pin the job count, equality with the local executor (packed and not),
//! adoption after a killed controller, a pack job cancelled from outside, a failing member,
//! `--detach`, and the refusals that must leave nothing registered.
//!
//! The stage runs `one.py` (one instance); its pack command runs `pack.py`, which reads the
//! manifest, writes each member's output, touches its `done` file and appends `member N` to the
//! counter, after `pack N` once. `FAIL_SEED` makes both programs fail that seed (the pack exits
//! 1 after the others); `MEMBER_SLEEP` makes the pack wait before each member.

use crate::common::{signal, wait_for, wait_limited, Ws, LIVE};

const ONE: &str = r#"import os, sys
seed, out = sys.argv[1], sys.argv[2]
with open(os.environ["COUNTER"], "a") as c:
    c.write(f"one {seed}\n")
if seed == os.environ.get("FAIL_SEED"):
    sys.exit(f"seed {seed} fails")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    f.write(f"{seed} {open('data.txt').read().strip()}\n")
"#;

const PACK: &str = r#"import json, os, sys, time
members = json.load(open(sys.argv[1]))["members"]
with open(os.environ["COUNTER"], "a") as c:
    c.write(f"pack {len(members)}\n")
failed = False
for m in members:
    seed = m["matrix"]["seed"]
    time.sleep(float(os.environ.get("MEMBER_SLEEP", "0")))
    if seed == os.environ.get("FAIL_SEED"):
        print(f"{m['instance']}: seed {seed} fails", flush=True)
        failed = True
        continue
    out = m["outs"][0]
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(f"{seed} {open('data.txt').read().strip()}\n")
    open(m["done"], "w").close()
    with open(os.environ["COUNTER"], "a") as c:
        c.write(f"member {seed}\n")
    print(f"{m['instance']}: finished", flush=True)
sys.exit(1 if failed else 0)
"#;

/// One `data` instance and `n` instances of `make` (seeds 1..=n), packed by up to `max`.
/// The pack asks for no GPU unless `gpus` says otherwise.
fn pipeline(n: u32, max: u32, gpus: &str) -> String {
    let seeds: Vec<String> = (1..=n).map(|s| s.to_string()).collect();
    format!(
        r#"version: 1
params:
  seeds: [{}]
stages:
  data:
    cmd: "echo d > data.txt"
    shell: true
    outs: [data.txt]
  make:
    cmd: [python3, one.py, "${{seed}}", "out/${{seed}}.txt"]
    matrix:
      seed: ${{params.seeds}}
    deps: [data.txt]
    code: [one.py]
    outs: ["out/${{seed}}.txt"]
    pack:
      by: [seed]
      max: {max}
      cmd: [python3, pack.py, "${{pack.manifest}}"]
      resources: {{cpus: 1, gpus: {gpus}}}
"#,
        seeds.join(", ")
    )
}

fn workspace(n: u32, max: u32) -> Ws {
    let ws = Ws::new(&pipeline(n, max, "0"));
    ws.write("one.py", ONE);
    ws.write("pack.py", PACK);
    ws
}

/// The counter's lines that start with `prefix`, the rest of each line, sorted numerically.
fn lines(ws: &Ws, prefix: &str) -> Vec<u32> {
    let mut v: Vec<u32> = ws
        .ran()
        .iter()
        .filter_map(|l| l.strip_prefix(prefix)?.trim().parse().ok())
        .collect();
    v.sort_unstable();
    v
}

/// The distinct Slurm jobs (array tasks) that the registry recorded for `make` instances.
fn make_jobs(ws: &Ws) -> std::collections::BTreeSet<String> {
    ["jobs", "done"]
        .iter()
        .flat_map(|f| ws.slurm_files(f))
        .filter(|p| crate::common::is_entry(p))
        .filter_map(|p| std::fs::read(p).ok())
        .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .filter(|v| {
            v["instance"]
                .as_str()
                .is_some_and(|i| i.starts_with("make@"))
        })
        .filter_map(|v| v["job"].as_str().map(str::to_owned))
        .collect()
}

fn outputs(ws: &Ws, n: u32) -> Vec<String> {
    (1..=n).map(|s| ws.read(&format!("out/{s}.txt"))).collect()
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn twelve_packed_instances_run_as_three_jobs_equal_to_local_packed_and_unpacked() {
    let ws = workspace(12, 4);
    let out = ws.ok(&["run", "--executor", "slurm", "--retries", "0"]);
    let jobs = make_jobs(&ws);
    assert_eq!(jobs.len(), 3, "{jobs:?}\n{}", out.both());
    assert_eq!(lines(&ws, "pack "), [4, 4, 4], "{:?}", ws.ran());
    assert!(lines(&ws, "one ").is_empty(), "{:?}", ws.ran());
    assert_eq!(lines(&ws, "member "), (1..=12).collect::<Vec<_>>());
    ws.ok(&["status", "--check"]);
    // Each member's log holds its own line of the pack's output.
    let log = ws.ok(&["logs", "make@seed=7"]).stdout;
    assert!(
        log.contains("make@seed=7: finished") && !log.contains("make@seed=8:"),
        "{log}"
    );
    let keys = ws.lock_keys();
    assert_eq!(keys.len(), 13, "{keys:?}");
    for args in [vec!["run"], vec!["run", "--no-pack"]] {
        let local = workspace(12, 4);
        local.ok(&args);
        assert_eq!(local.lock_keys(), keys, "`repro {}`", args.join(" "));
        assert_eq!(
            outputs(&local, 12),
            outputs(&ws, 12),
            "`repro {}`",
            args.join(" ")
        );
    }
    let again = ws.ok(&["run", "--executor", "slurm"]);
    assert!(again.stderr.contains("nothing to do"), "{}", again.both());
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn sigkill_mid_pack_then_run_adopts_the_pack_job_without_submitting_again() {
    let mut ws = workspace(4, 4);
    ws.set_env("MEMBER_SLEEP", "3");
    let child = ws
        .command(&["run", "--executor", "slurm"])
        .spawn()
        .expect("spawn");
    wait_for(90, "the pack to start", || lines(&ws, "pack ") == [4]);
    signal(child.id(), libc::SIGKILL);
    let out = wait_limited(child);
    assert_eq!(out.code, -libc::SIGKILL, "{}", out.both());
    assert!(
        !ws.jobs_in(LIVE).is_empty(),
        "the pack ended before the kill: the test proves nothing"
    );
    let submissions = ws.submissions();
    let out = ws.ok(&["run", "--executor", "slurm"]);
    assert_eq!(
        ws.submissions(),
        submissions,
        "submitted again:\n{}",
        out.both()
    );
    assert_eq!(lines(&ws, "pack "), [4], "{:?}", ws.ran());
    assert!(lines(&ws, "one ").is_empty(), "{:?}", ws.ran());
    assert_eq!(ws.lock_keys().len(), 5);
    ws.ok(&["status", "--check"]);
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_pack_job_cancelled_outside_keeps_finished_members_and_runs_the_rest_alone() {
    let mut ws = workspace(4, 4);
    ws.set_env("MEMBER_SLEEP", "3");
    let child = ws
        .command(&["run", "--executor", "slurm", "--retries", "0"])
        .spawn()
        .expect("spawn");
    wait_for(90, "two members to finish in the pack", || {
        lines(&ws, "member ").len() >= 2
    });
    let live: Vec<String> = ws.jobs_in(LIVE).into_iter().map(|j| j.id).collect();
    assert_eq!(live.len(), 1, "{:?}", ws.jobs());
    let status = std::process::Command::new(crate::common::which("scancel"))
        .args(&live)
        .status()
        .expect("scancel");
    assert!(status.success());
    let out = wait_limited(child);
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(out.stderr.contains("CANCELLED"), "{}", out.both());
    // Every member ran once to the end: in the pack, or alone after it was cancelled.
    let in_pack = lines(&ws, "member ");
    let alone = lines(&ws, "one ");
    assert!(!alone.is_empty(), "{:?}", ws.ran());
    let mut all: Vec<u32> = in_pack.iter().chain(&alone).copied().collect();
    all.sort_unstable();
    assert_eq!(all, [1, 2, 3, 4], "{:?}\n{}", ws.ran(), out.both());
    assert_eq!(ws.lock_keys().len(), 5);
    ws.ok(&["status", "--check"]);
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn one_failing_member_fails_alone_and_the_others_are_kept() {
    let mut ws = workspace(4, 4);
    ws.set_env("FAIL_SEED", "3");
    let out = ws.code(&["run", "--executor", "slurm", "--retries", "0"], 1);
    assert_eq!(lines(&ws, "pack "), [4], "{:?}", ws.ran());
    assert_eq!(lines(&ws, "member "), [1, 2, 4]);
    // Tried once alone after its pack ended without it, as a job of its own.
    assert_eq!(lines(&ws, "one "), [3], "{:?}", ws.ran());
    assert!(out.stderr.contains("make@seed=3"), "{}", out.both());
    for seed in [1, 2, 4] {
        assert!(
            !out.stderr.contains(&format!("failed    make@seed={seed}")),
            "{}",
            out.both()
        );
    }
    let keys = ws.lock_keys();
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(!keys.contains_key("make@seed=3"));
    let log = ws.ok(&["logs", "make@seed=3"]).stdout;
    assert!(log.contains("seed 3 fails"), "{log}");
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn detached_packs_finish_and_a_later_run_has_nothing_to_do() {
    let ws = workspace(8, 4);
    let out = ws.ok(&["run", "--executor", "slurm", "--detach"]);
    assert!(
        out.stderr
            .contains("detached: 3 job(s) submitted in 2 sbatch call(s) (2 of them packs, 9 instances in all)"),
        "{}",
        out.both()
    );
    wait_for(120, "`status --check` to pass", || {
        ws.repro(&["status", "--check"]).code == 0
    });
    assert_eq!(lines(&ws, "pack "), [4, 4], "{:?}", ws.ran());
    let batches = ws.slurm_files("batches");
    let again = ws.ok(&["run", "--executor", "slurm"]);
    assert!(again.stderr.contains("nothing to do"), "{}", again.both());
    assert_eq!(ws.slurm_files("batches"), batches, "a later run submitted");
    assert_eq!(lines(&ws, "pack "), [4, 4]);
    assert!(lines(&ws, "one ").is_empty(), "{:?}", ws.ran());
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_pack_max_over_the_sites_limit_is_refused_before_anything_is_submitted() {
    let mut ws = workspace(4, 4);
    ws.set_env("REPRO_SLURM_PACK_MAX", "2");
    let out = ws.code(&["run", "--executor", "slurm"], 2);
    assert!(
        out.stderr.contains("pipeline.yaml:")
            && out.stderr.contains("`stages.make.pack.max` is 4")
            && out.stderr.contains("`slurm.pack_max` = 2"),
        "{}",
        out.both()
    );
    assert!(ws.jobs().is_empty(), "{:?}", ws.jobs());
    assert!(ws.slurm_files("jobs").is_empty());
    assert!(ws.ran().is_empty());
    // `--no-pack` runs one job per instance, within the limit.
    ws.ok(&["run", "--executor", "slurm", "--no-pack"]);
    assert_eq!(lines(&ws, "one "), [1, 2, 3, 4]);
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn a_pack_request_the_cluster_refuses_fails_its_members_with_slurms_words() {
    // The local cluster has no GPUs: a pack asking for a whole one is refused.
    let ws = Ws::new(&pipeline(4, 4, "1"));
    ws.write("one.py", ONE);
    ws.write("pack.py", PACK);
    let out = ws.code(&["run", "--executor", "slurm"], 1);
    assert!(
        out.stderr.contains("sbatch refused the job") && out.stderr.contains("gres"),
        "{}",
        out.both()
    );
    // Refused, not run: no member ran alone either, and nothing is left registered.
    assert!(lines(&ws, "pack ").is_empty() && lines(&ws, "one ").is_empty());
    assert!(
        ws.slurm_files("jobs").is_empty(),
        "{:?}",
        ws.slurm_files("jobs")
    );
    assert_eq!(ws.lock_keys().len(), 1);
}
