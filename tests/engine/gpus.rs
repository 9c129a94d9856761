//! GPU and CPU slots with fake device lists (`--gpus 0,1`): fractional requests pack onto one
//! device without over-committing it, whole requests get distinct devices, `--gpus none` runs
//! GPU stages on the CPU with a note, and children get `OMP_NUM_THREADS` for their CPU share.
//!
//! Stages log `start`/`end` lines with their `CUDA_VISIBLE_DEVICES`, share and a nanosecond
//! timestamp; each logged interval lies inside the time the engine held the grant, so replaying
//! them can only under-count overlaps, never invent one.

use crate::common::Ws;

fn stage(name: &str, gpus: &str, n: usize, sleep: &str) -> String {
    let values: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    format!(
        r#"  {name}:
    cmd: "echo \"start $CUDA_VISIBLE_DEVICES {gpus} $(date +%s%N)\" >> ../events; sleep {sleep}; echo \"$CUDA_VISIBLE_DEVICES\" > {name}/${{n}}.txt; echo \"end $CUDA_VISIBLE_DEVICES {gpus} $(date +%s%N)\" >> ../events"
    shell: true
    matrix:
      n: [{}]
    resources: {{gpus: {gpus}}}
    outs: ["{name}/${{n}}.txt"]
"#,
        values.join(", ")
    )
}

/// Replays the event log; returns the largest load seen per device and the largest number
/// of jobs seen at once on one device.
fn replay(ws: &Ws) -> std::collections::BTreeMap<String, (f64, usize)> {
    let text = std::fs::read_to_string(ws.tmp().join("events")).unwrap();
    let mut events: Vec<(u128, bool, String, f64)> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 4, "bad event line {l:?}");
            (
                f[3].parse().unwrap(),
                f[0] == "start",
                f[1].to_owned(),
                f[2].parse().unwrap(),
            )
        })
        .collect();
    // Ends before starts at the same instant.
    events.sort_by_key(|e| (e.0, e.1));
    let mut load: std::collections::BTreeMap<String, (f64, usize)> = Default::default();
    let mut peak: std::collections::BTreeMap<String, (f64, usize)> = Default::default();
    for (_, start, devices, share) in events {
        for d in devices.split(',') {
            let per = if share >= 1.0 { 1.0 } else { share };
            let l = load.entry(d.to_owned()).or_default();
            if start {
                l.0 += per;
                l.1 += 1;
            } else {
                l.0 -= per;
                l.1 -= 1;
            }
            let p = peak.entry(d.to_owned()).or_default();
            p.0 = p.0.max(l.0);
            p.1 = p.1.max(l.1);
        }
    }
    peak
}

#[test]
fn fractions_pack_onto_one_device_at_most_two_halves_at_once() {
    let ws = Ws::new(&format!(
        "version: 1\nstages:\n{}",
        stage("half", "0.5", 3, "1")
    ));
    let out = ws.ok_on_gpus("0,1,2,3", &["run", "--gpus", "0", "-j", "4"]);
    for n in 1..=3 {
        assert_eq!(ws.read(&format!("half/{n}.txt")), "0\n");
    }
    let peak = replay(&ws);
    assert_eq!(peak.keys().collect::<Vec<_>>(), ["0"]);
    assert_eq!(
        peak["0"].1,
        2,
        "two 0.5-jobs share device 0, a third waits: {peak:?}\n{}",
        out.both()
    );
    assert!(out.stderr.contains("[cuda:0]"), "{}", out.both());
}

#[test]
fn mixed_requests_never_overcommit_a_device_and_whole_gpus_are_distinct() {
    let yaml = format!(
        "version: 1\nstages:\n{}{}{}",
        stage("half", "0.5", 4, "0.5"),
        stage("whole", "1", 3, "0.5"),
        stage("pair", "2", 1, "0.3")
    );
    let ws = Ws::new(&yaml);
    let out = ws.ok_on_gpus("0,1,2,3", &["run", "--gpus", "0,1", "-j", "4"]);
    for n in 1..=4 {
        let d = ws.read(&format!("half/{n}.txt"));
        assert!(
            d == "0\n" || d == "1\n",
            "a fraction gets exactly one device, got {d:?}"
        );
    }
    for n in 1..=3 {
        let d = ws.read(&format!("whole/{n}.txt"));
        assert!(
            d == "0\n" || d == "1\n",
            "a whole GPU is one device, got {d:?}"
        );
    }
    assert_eq!(ws.read("pair/1.txt"), "0,1\n", "gpus: 2 takes both devices");
    let peak = replay(&ws);
    for (d, (load, _)) in &peak {
        assert!(
            *load <= 1.0 + 1e-9,
            "device {d} over-committed: {peak:?}\n{}",
            out.both()
        );
    }
}

#[test]
fn gpu_stage_runs_on_cpu_with_a_note_when_there_are_no_gpus() {
    let ws = Ws::new(&format!(
        "version: 1\nstages:\n{}",
        stage("half", "0.5", 2, "0")
    ));
    let out = ws.ok(&["run", "--gpus", "none"]);
    assert!(
        out.stderr
            .contains("repro: note: no GPU found: stages that ask for GPUs run on the CPU"),
        "{}",
        out.both()
    );
    assert_eq!(
        out.stderr.matches("note: no GPU found").count(),
        1,
        "the note is printed once"
    );
    assert!(
        out.stderr.contains("started   half@n=1 [cpu]"),
        "{}",
        out.both()
    );
    assert_eq!(
        ws.read("half/1.txt"),
        "\n",
        "CUDA_VISIBLE_DEVICES is empty on the CPU"
    );
}

#[test]
fn gpu_assignment_does_not_enter_the_key() {
    let ws = Ws::new(&format!(
        "version: 1\nstages:\n{}",
        stage("half", "0.5", 2, "0")
    ));
    ws.ok_on_gpus("0,1,2,3", &["run", "--gpus", "3"]);
    let st = ws.code(&["status", "--check"], 0);
    assert!(
        st.stdout.contains("all 2 instances up to date"),
        "{}",
        st.both()
    );
    assert!(ws
        .ok(&["run", "--gpus", "none"])
        .stderr
        .contains("nothing to do"));
}

#[test]
fn children_get_thread_counts_for_their_cpu_share() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ws = Ws::new(
        r#"version: 1
stages:
  one:
    cmd: "echo $OMP_NUM_THREADS $MKL_NUM_THREADS $OPENBLAS_NUM_THREADS $RAYON_NUM_THREADS > one.txt"
    shell: true
    outs: [one.txt]
  two:
    cmd: "echo $OMP_NUM_THREADS > two.txt"
    shell: true
    resources: {cpus: 2}
    outs: [two.txt]
"#,
    );
    ws.ok(&["run", "-j", "1"]);
    assert_eq!(
        ws.read("one.txt"),
        format!("{cores} {cores} {cores} {cores}\n"),
        "one slot of -j 1 gets every core"
    );
    assert_eq!(
        ws.read("two.txt"),
        format!("{cores}\n"),
        "a request above -j is clamped to the pool"
    );
    std::fs::remove_file(ws.root.join("one.txt")).unwrap();
    ws.ok(&["run", "--force", "one", "-j", &(cores * 4).to_string()]);
    assert_eq!(
        ws.read("one.txt"),
        "1 1 1 1\n",
        "more slots than cores: one thread each"
    );
}

#[test]
fn gpus_come_from_cuda_visible_devices_when_no_flag_is_given() {
    let ws = Ws::new(&format!(
        "version: 1\nstages:\n{}",
        stage("whole", "1", 1, "0")
    ));
    let mut cmd = ws.command(&["run"]);
    cmd.env("CUDA_VISIBLE_DEVICES", "7");
    let out = crate::common::run_limited(cmd);
    assert_eq!(out.code, 0, "{}", out.both());
    assert_eq!(ws.read("whole/1.txt"), "7\n");
}

#[test]
fn set_resources_repacks_a_stage_for_one_run_without_touching_keys() {
    let ws = Ws::new(&format!(
        "version: 1\nstages:\n{}",
        stage("half", "0.5", 4, "1")
    ));
    let out = ws.ok_on_gpus(
        "0,1,2,3",
        &[
            "run",
            "--gpus",
            "0",
            "-j",
            "4",
            "--set-resources",
            "half.gpus=0.25",
        ],
    );
    let peak = replay(&ws);
    assert_eq!(
        peak["0"].1,
        4,
        "at 0.25 each, four jobs share device 0: {peak:?}\n{}",
        out.both()
    );
    ws.ok(&["status", "--check"]);
    let events = ws.read("../events");
    for (arg, needle) in [
        ("nope.gpus=0.5", "no stage `nope`"),
        ("half.gpus=1.5", "fraction in (0, 1]"),
        ("half.gpus=lots", "not a number"),
        ("half.memory=3", "unknown resource `memory`"),
        ("half.cpus=0", "at least 1"),
        ("half", "expected STAGE.FIELD=VALUE"),
    ] {
        let out = ws.code(&["run", "--force", "--set-resources", arg], 2);
        assert!(
            out.stderr.contains(needle) && out.stderr.contains(&format!("--set-resources `{arg}`")),
            "{arg}: {}",
            out.both()
        );
    }
    assert_eq!(
        ws.read("../events"),
        events,
        "a refused override runs nothing"
    );
}

/// `--gpus foo` once ran instances on `[cuda:foo]`, `--gpus 7` on a machine without GPU 7 ran
/// them on `[cuda:7]`, and `-j 0` was accepted: each is refused with its reason, exit 2, before
/// anything runs.
#[test]
fn bad_gpu_ids_and_zero_jobs_are_refused_before_anything_runs() {
    let ws = Ws::new(&format!(
        "version: 1\nstages:\n{}",
        stage("half", "0.5", 1, "0")
    ));
    let refused = |devices: Option<&str>, args: &[&str]| {
        let mut cmd = ws.command(args);
        if let Some(d) = devices {
            cmd.env("CUDA_VISIBLE_DEVICES", d);
        }
        let out = crate::common::run_limited(cmd);
        assert_eq!(out.code, 2, "{}", out.both());
        out.stderr
    };
    insta::assert_snapshot!(refused(Some("0,1"), &["run", "--gpus", "foo"]), @r"
    error: --gpus: `foo` is not a GPU id (ids are whole numbers such as `0,1`, or `GPU-`/`MIG-` UUIDs; `none` for no GPU)
    hint: write `--gpus 0,1` (detected ids, comma-separated) or `--gpus none`
    ");
    insta::assert_snapshot!(refused(Some("0,1"), &["run", "--gpus", "1,7"]), @r"
    error: --gpus: GPU `7` is not on this machine (`CUDA_VISIBLE_DEVICES` names 0, 1)
    hint: list detected GPUs only, or `--gpus none`; a device that cannot be detected can be named in `CUDA_VISIBLE_DEVICES`
    ");
    insta::assert_snapshot!(refused(Some(""), &["run", "--gpus", "0"]), @r"
    error: --gpus: GPU `0` is not on this machine (`CUDA_VISIBLE_DEVICES` is set and empty)
    hint: list detected GPUs only, or `--gpus none`; a device that cannot be detected can be named in `CUDA_VISIBLE_DEVICES`
    ");
    insta::assert_snapshot!(refused(None, &["run", "-j", "0"]), @r"
    error: -j 0: a run needs at least one job slot
    hint: leave `-j` out to use one slot per core, or give a positive number
    ");
    assert!(!ws.root.join("half/1.txt").exists());
}
