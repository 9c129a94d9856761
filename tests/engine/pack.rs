//! Packed instances (`pack:`): ready instances of a stage that differ only in the `by`
//! dimensions run as one process, and every member is still cached, published and reported
//! as an instance of its own.
//!
//! The stage runs `one.py` (one instance); its `pack.cmd` runs `pack.py`, which reads the
//! manifest, does each member's work, touches each member's `done` file, and appends
//! `pack N` to the counter. `FAIL_SEED` makes `pack.py` leave that member unfinished and
//! exit 1; `PACK_SLEEP` makes it wait first, `MEMBER_SLEEP` before each member.

use crate::common::{run_limited, signal, wait_for, wait_limited, Ws};

const ONE: &str = r#"import os, sys
seed, variant, out = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    f.write(f"{variant} {seed} {open('data/' + seed + '.txt').read().strip()}\n")
with open(os.environ["COUNTER"], "a") as c:
    c.write(f"one {variant} {seed}\n")
"#;

const PACK: &str = r#"import json, os, sys, time
members = json.load(open(sys.argv[1]))["members"]
assert sys.argv[2] == members[0]["matrix"]["variant"]
with open(os.environ["COUNTER"], "a") as c:
    c.write(f"pack {len(members)}\n")
with open(os.environ["COUNTER"] + ".devices", "a") as c:
    c.write(f"{os.environ.get('CUDA_VISIBLE_DEVICES', '')} {os.environ['REPRO_PACK']}\n")
time.sleep(float(os.environ.get("PACK_SLEEP", "0")))
failed = False
for m in members:
    seed, variant = m["matrix"]["seed"], m["matrix"]["variant"]
    assert m["cmd"][:2] == ["python3", "one.py"] and m["key"] and m["instance"].startswith("make@")
    time.sleep(float(os.environ.get("MEMBER_SLEEP", "0")))
    if seed == os.environ.get("FAIL_SEED"):
        failed = True
        continue
    out = m["outs"][0]
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(f"{variant} {seed} {open('data/' + seed + '.txt').read().strip()}\n")
    open(m["done"], "w").close()
    print("finished", m["instance"], flush=True)
sys.exit(1 if failed else 0)
"#;

fn pipeline(seeds: &str) -> String {
    format!(
        r#"version: 1
params:
  seeds: [{seeds}]
stages:
  data:
    cmd: "sleep 0.3; echo d${{seed}} > data/${{seed}}.txt"
    shell: true
    matrix:
      seed: ${{params.seeds}}
    outs: ["data/${{seed}}.txt"]
  make:
    cmd: [python3, one.py, "${{seed}}", "${{variant}}", "out/${{variant}}/${{seed}}.txt"]
    matrix:
      variant: [a, b]
      seed: ${{params.seeds}}
    deps: ["data/${{seed}}.txt"]
    code: ["one.py"]
    outs: ["out/${{variant}}/${{seed}}.txt"]
    pack:
      by: [seed]
      max: 4
      cmd: [python3, pack.py, "${{pack.manifest}}", "${{variant}}"]
"#
    )
}

fn workspace(seeds: &str) -> Ws {
    let ws = Ws::new(&pipeline(seeds));
    ws.write("one.py", ONE);
    ws.write("pack.py", PACK);
    ws
}

/// `(instance, key)` pairs of the lock.
fn keys(ws: &Ws) -> Vec<(String, String)> {
    let mut keys = Vec::new();
    let mut current = None;
    for line in ws.read("repro.lock").lines() {
        if let Some(rest) = line.strip_prefix("[default] ") {
            current = Some(rest.to_owned());
        } else if let (Some(id), Some(key)) = (&current, line.strip_prefix("key ")) {
            keys.push((id.clone(), key.to_owned()));
        }
    }
    keys
}

#[test]
fn members_wait_for_their_upstream_run_as_one_process_and_keep_the_keys_of_single_runs() {
    let packed = workspace("1, 2, 3");
    let out = packed.ok(&["run", "-j", "2"]);
    let mut ran = packed.ran();
    ran.sort();
    assert_eq!(ran, vec!["pack 3", "pack 3"], "{}", out.both());
    assert_eq!(packed.read("out/b/2.txt"), "b 2 d2\n");
    assert!(out.stderr.contains("run as one pack"), "{}", out.stderr);
    // Each member has its own log, holding the pack's output.
    let log = packed.read(".repro/logs/make@seed=2,variant=a.log");
    assert!(log.contains("finished make@seed=2,variant=a"), "{log}");
    assert!(
        !packed
            .root
            .join(".repro/packs")
            .read_dir()
            .unwrap()
            .any(|_| true),
        "pack directories are removed"
    );

    let alone = workspace("1, 2, 3");
    alone.ok(&["run", "-j", "2", "--no-pack"]);
    assert_eq!(alone.count("one a 1"), 1);
    assert!(alone.ran().iter().all(|l| l.starts_with("one ")));
    assert_eq!(keys(&packed), keys(&alone), "keys do not depend on packing");
    assert_eq!(keys(&packed).len(), 9);

    // Nothing to do afterwards, packed or not.
    let again = packed.ok(&["run"]);
    assert!(again.stderr.contains("nothing to do"), "{}", again.stderr);
    assert_eq!(packed.ran().len(), 2);
}

#[test]
fn a_member_cached_already_never_joins_a_pack() {
    let ws = workspace("1, 2");
    ws.ok(&["run"]);
    assert_eq!(ws.count("pack 2"), 2);
    ws.edit_pipeline("seeds: [1, 2]", "seeds: [1, 2, 3, 4]");
    ws.ok(&["run"]);
    // Only the new seeds ran, two per variant.
    assert_eq!(ws.count("pack 2"), 4, "{:?}", ws.ran());
    ws.edit_pipeline("seeds: [1, 2, 3, 4]", "seeds: [1, 2, 3, 4, 5]");
    ws.ok(&["run"]);
    // A group of one runs alone with the stage's own command.
    assert_eq!(ws.count("one a 5"), 1, "{:?}", ws.ran());
    assert_eq!(ws.count("one b 5"), 1, "{:?}", ws.ran());
}

#[test]
fn max_may_come_from_the_shared_dimensions_and_one_means_alone() {
    let ws = workspace("1, 2, 3");
    ws.edit_pipeline(
        "seeds: [1, 2, 3]",
        "seeds: [1, 2, 3]\n  pack_max: {a: 2, b: 1}",
    );
    ws.edit_pipeline("max: 4", r#"max: "${params.pack_max.${variant}}""#);
    ws.ok(&["run", "-j", "1"]);
    // Variant a: one pack of two, and the third member alone; b (max 1): all alone.
    assert_eq!(ws.count("pack 2"), 1, "{:?}", ws.ran());
    let alone = |v: &str| ws.ran().iter().filter(|l| l.starts_with(v)).count();
    assert_eq!(alone("one a "), 1, "{:?}", ws.ran());
    assert_eq!(
        ws.ran().iter().filter(|l| l.starts_with("one b")).count(),
        3
    );
    assert_eq!(keys(&ws).len(), 9);
}

#[test]
fn packs_hold_their_own_resources_and_events_name_the_members() {
    let ws = workspace("1, 2");
    ws.edit_pipeline("max: 4", "max: 4\n      resources: {gpus: 1}");
    let out = ws.ok_on_gpus("0,1,2,3", &["run", "--gpus", "0,1", "--json"]);
    // Two packs (one per variant), each on a whole device of its own.
    let devices = std::fs::read_to_string(ws.tmp().join("counter.devices")).unwrap();
    let mut used: Vec<&str> = devices
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    used.sort();
    assert_eq!(used, vec!["0", "1"], "{devices}");
    assert!(devices.contains(".repro/packs/"), "{devices}");
    // Events speak of instances: every member starts and finishes by its own id.
    for id in ["make@seed=1,variant=a", "make@seed=2,variant=b"] {
        for event in ["started", "finished"] {
            assert!(
                out.stdout.lines().any(
                    |l| l.contains(&format!("\"{event}\"")) && l.contains(&format!("\"{id}\""))
                ),
                "no {event} event for {id}:\n{}",
                out.stdout
            );
        }
    }
    let show = ws.ok(&["show", "make@seed=1,variant=a"]);
    assert!(
        show.stdout.contains("make@seed=1,variant=a"),
        "{}",
        show.stdout
    );

    // An override for one run: half a device each, so both packs share device 0.
    let ws = workspace("1, 2");
    ws.edit_pipeline("max: 4", "max: 4\n      resources: {gpus: 1}");
    ws.ok_on_gpus(
        "0,1,2,3",
        &[
            "run",
            "--gpus",
            "0",
            "--set-resources",
            "make.pack.gpus=0.5",
        ],
    );
    let devices = std::fs::read_to_string(ws.tmp().join("counter.devices")).unwrap();
    assert!(devices.lines().all(|l| l.starts_with("0 ")), "{devices}");
    assert_eq!(devices.lines().count(), 2, "{devices}");
}

#[test]
fn members_a_failed_pack_finished_are_published_and_the_rest_run_again_alone() {
    let ws = workspace("1, 2, 3");
    let mut cmd = ws.command(&["run", "-j", "1"]);
    cmd.env("FAIL_SEED", "2");
    let out = run_limited(cmd);
    assert_eq!(out.code, 0, "{}", out.both());
    assert_eq!(ws.count("pack 3"), 2);
    assert_eq!(ws.count("one a 2"), 1, "{:?}", ws.ran());
    assert_eq!(ws.count("one b 2"), 1, "{:?}", ws.ran());
    assert_eq!(ws.count("one a 1"), 0, "finished members are not run again");
    assert!(out.stderr.contains("running it alone"), "{}", out.stderr);
    assert_eq!(keys(&ws).len(), 9);
    let again = ws.ok(&["run"]);
    assert_eq!(ws.ran().len(), 4, "{}", again.both());
}

#[test]
fn an_interrupted_pack_publishes_nothing_unfinished_and_the_next_run_completes_it() {
    let ws = workspace("1, 2");
    let mut cmd = ws.command(&["run", "-j", "1"]);
    cmd.env("PACK_SLEEP", "30");
    let child = cmd.spawn().expect("spawn");
    wait_for(60, "a pack to start", || ws.count("pack 2") == 1);
    signal(child.id(), libc::SIGINT);
    let out = wait_limited(child);
    assert_eq!(out.code, 130, "{}", out.both());
    assert!(
        !ws.root.join("out/a/1.txt").exists(),
        "nothing unfinished stays"
    );
    let out = ws.ok(&["run"]);
    assert_eq!(ws.count("pack 2"), 3, "{}", out.both());
    assert_eq!(ws.read("out/a/1.txt"), "a 1 d1\n");
}

#[test]
fn a_killed_run_leaves_no_pack_directory_behind_once_the_next_run_ends() {
    let ws = workspace("1, 2");
    let mut cmd = ws.command(&["run", "-j", "1"]);
    cmd.env("PACK_SLEEP", "30");
    let child = cmd.spawn().expect("spawn");
    wait_for(60, "a pack to start", || ws.count("pack 2") == 1);
    signal(child.id(), libc::SIGKILL);
    let _ = wait_limited(child);
    let stale: Vec<_> = std::fs::read_dir(ws.root.join(".repro/packs"))
        .unwrap()
        .collect();
    assert_eq!(stale.len(), 1, "the killed run's pack directory");
    // The data is fresh now, so this run numbers its jobs differently.
    ws.ok(&["run", "-j", "1"]);
    let left: Vec<_> = std::fs::read_dir(ws.root.join(".repro/packs"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert_eq!(ws.read("out/b/2.txt"), "b 2 d2\n");
}

#[test]
fn a_pack_past_the_sum_of_its_members_timeouts_is_ended_and_they_run_alone() {
    let ws = workspace("1, 2");
    ws.edit_pipeline(r#"code: ["one.py"]"#, "code: [\"one.py\"]\n    timeout: 1s");
    let mut cmd = ws.command(&["run", "-j", "1"]);
    cmd.env("PACK_SLEEP", "60");
    let started = std::time::Instant::now();
    let out = run_limited(cmd);
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(started.elapsed().as_secs() < 30, "the packs were ended");
    assert!(
        out.stderr
            .contains("its pack of 2 ended before finishing it: it ran past 2s (the sum of its members' `timeout`s) and was ended; running it alone"),
        "{}",
        out.stderr
    );
    assert_eq!(ws.count("pack 2"), 2, "{:?}", ws.ran());
    assert_eq!(ws.ran().iter().filter(|l| l.starts_with("one ")).count(), 4);
    ws.ok(&["status", "--check"]);
}

#[test]
fn packing_never_fails_members_that_pass_alone_within_their_timeout() {
    // Four members of 0.8 s each, run one after another by the pack, with `timeout: 2s`: the
    // pack needs 3.2 s, more than any one member's timeout, and must not fail them.
    let ws = workspace("1, 2, 3, 4");
    ws.edit_pipeline(r#"code: ["one.py"]"#, "code: [\"one.py\"]\n    timeout: 2s");
    let mut cmd = ws.command(&["run", "-j", "1"]);
    cmd.env("MEMBER_SLEEP", "0.8");
    let out = run_limited(cmd);
    assert_eq!(out.code, 0, "{}", out.both());
    assert_eq!(ws.count("pack 4"), 2, "{:?}", ws.ran());
    assert!(
        ws.ran().iter().all(|l| !l.starts_with("one ")),
        "no member needed to run alone:\n{}",
        out.both()
    );
    assert_eq!(keys(&ws).len(), 12);
}

#[test]
fn bad_pack_declarations_are_located() {
    let cases = [
        (
            "by: [seed]",
            "by: [colour]",
            "stages.make.pack.by[0]",
            "colour",
        ),
        (
            "by: [seed]",
            "by: []",
            "stages.make.pack.by",
            "at least one",
        ),
        ("max: 4", "max: 0", "stages.make.pack.max", "between 1 and"),
        (
            "max: 4",
            "max: lots",
            "stages.make.pack.max",
            "whole number",
        ),
        (
            "max: 4",
            r#"max: "${params.nope.${variant}}""#,
            "stages.make.pack.max",
            "undefined parameter `nope.a` (defined: `seeds`)",
        ),
        (
            r#"cmd: [python3, pack.py, "${pack.manifest}", "${variant}"]"#,
            "cmd: [python3, pack.py]",
            "stages.make.pack.cmd",
            "${pack.manifest}",
        ),
        (
            r#"cmd: [python3, pack.py, "${pack.manifest}", "${variant}"]"#,
            r#"cmd: [python3, pack.py, "${pack.manifest}", "${seed}"]"#,
            "stages.make.pack.cmd[3]",
            "may not use `${seed}`",
        ),
        (
            "max: 4",
            "max: 4\n      gpus: 1",
            "stages.make.pack",
            "gpus",
        ),
        (
            r#"code: ["one.py"]"#,
            "code: [\"one.py\"]\n    env: {SEED: \"s${seed}\"}",
            "stages.make.env.SEED",
            "one environment",
        ),
    ];
    for (from, to, field, words) in cases {
        let ws = workspace("1, 2");
        ws.edit_pipeline(from, to);
        let out = ws.code(&["run"], 2);
        assert!(
            out.stderr.contains("`pipeline.yaml` at ") && out.stderr.contains(field),
            "{to}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(words), "{to}: {}", out.stderr);
        assert!(ws.ran().is_empty());
    }
    let ws = workspace("1, 2");
    let out = ws.code(&["run", "--set-resources", "data.pack.cpus=2"], 2);
    assert!(out.stderr.contains("declares no `pack:`"), "{}", out.stderr);
}
