//! The standing chaos suite (not part of `cargo test`: `make test-reliability`): SIGKILL
//! `repro run` and `repro gc` at random instants, over and over, in one workspace, and check
//! after each round that a resumed run completes with every output correct, `verify` and
//! `status --check` pass, and no stage process is left behind.
//!
//! `REPRO_CHAOS_KILLS` (default 200) sets how many runs and how many gcs must be killed: rounds go
//! on until both counts are reached (a process that finishes before its signal does not count). `REPRO_CHAOS_SEED` fixes the random instants. The counts are printed at the
//! end (`--nocapture`) for `docs/reliability.md`.

#[allow(dead_code)]
#[path = "../engine/common.rs"]
mod common;
#[path = "../support/process.rs"]
mod process;

use std::time::{Duration, Instant};

use common::{signal, wait_limited, Ws};
use rand::{Rng, SeedableRng};

const TASKS: usize = 8;

fn pipeline(salt: u32, marker: &str) -> String {
    let ns: Vec<String> = (1..=TASKS).map(|n| n.to_string()).collect();
    format!(
        r#"version: 1
params:
  salt: {salt}
stages:
  gen:
    cmd: "sleep 0.0$(( ${{n}} % 4 )); mkdir -p d/${{n}}; echo gen-${{n}}-${{params.salt}} > d/${{n}}/a; echo b-${{n}} > d/${{n}}/b"
    shell: true
    env: {{CHAOS: "{marker}"}}
    matrix:
      n: [{list}]
    outs: ["d/${{n}}"]
  sum:
    cmd: "cat d/${{n}}/a d/${{n}}/b > s/${{n}}.txt; sleep 0.05"
    shell: true
    env: {{CHAOS: "{marker}"}}
    matrix:
      n: [{list}]
    deps: ["d/${{n}}"]
    outs: ["s/${{n}}.txt"]
  all:
    cmd: "cat s/*.txt > all.txt"
    shell: true
    env: {{CHAOS: "{marker}"}}
    deps: [s]
    outs: [all.txt]
"#,
        list = ns.join(", ")
    )
}

/// What every output must hold after a completed run with `salt`.
fn expected(salt: u32) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut all = String::new();
    for n in 1..=TASKS {
        let s = format!("gen-{n}-{salt}\nb-{n}\n");
        out.push((format!("d/{n}/a"), format!("gen-{n}-{salt}\n")));
        out.push((format!("s/{n}.txt"), s.clone()));
        all.push_str(&s);
    }
    out.push(("all.txt".into(), all));
    out
}

/// Processes whose environment carries `CHAOS=<marker>`.
fn stage_processes(marker: &str) -> Vec<i32> {
    let needle = format!("CHAOS={marker}");
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == needle.as_bytes()))
        })
        .collect()
}

#[test]
#[ignore = "the chaos suite: make test-reliability"]
fn random_sigkills_of_run_and_gc_lose_nothing_corrupt_nothing_and_leave_no_orphan() {
    let want: u32 = std::env::var("REPRO_CHAOS_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("REPRO_CHAOS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261129);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let marker = format!("chaos-{}", std::process::id());
    let ws = Ws::new(&pipeline(0, &marker));
    ws.ok(&["run", "-j", "2"]);
    let full = {
        let t = Instant::now();
        ws.write("pipeline.yaml", &pipeline(u32::MAX, &marker));
        ws.ok(&["run", "-j", "2"]);
        t.elapsed()
    };
    let gc_time = {
        let t = Instant::now();
        ws.ok(&["gc"]);
        t.elapsed()
    };
    let (mut run_kills, mut gc_kills, mut orphans, mut bad) = (0u32, 0u32, 0usize, Vec::new());
    let (mut runs_done_first, mut gcs_done_first) = (0u32, 0u32);
    let mut longest_orphan = Duration::ZERO;
    let mut rounds = 0u32;
    while (run_kills < want || gc_kills < want) && rounds < 2 * want {
        rounds += 1;
        let round = rounds;
        ws.write("pipeline.yaml", &pipeline(round, &marker));
        let child = ws.command(&["run", "-j", "2"]).spawn().unwrap();
        let at = rng.gen_range(0..full.as_millis().max(1) as u64);
        std::thread::sleep(Duration::from_millis(at));
        signal(child.id(), libc::SIGKILL);
        if wait_limited(child).code == -libc::SIGKILL {
            run_kills += 1;
        } else {
            runs_done_first += 1;
        }
        // No stage may outlive the engine for long (the reaper ends them).
        let t = Instant::now();
        while !stage_processes(&marker).is_empty() && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        longest_orphan = longest_orphan.max(t.elapsed());
        let left = stage_processes(&marker);
        if !left.is_empty() {
            orphans += left.len();
            for p in left {
                // SAFETY: ending a leftover process of this test.
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
        }
        // Then a gc, killed at a random instant within the time a gc takes (it may finish first).
        let gc = ws.command(&["gc"]).spawn().unwrap();
        let at = rng.gen_range(0..gc_time.as_micros().max(1) as u64);
        std::thread::sleep(Duration::from_micros(at));
        // SAFETY: kill(2) of the gc this test started.
        let _ = unsafe { libc::kill(gc.id() as i32, libc::SIGKILL) };
        if wait_limited(gc).code == -libc::SIGKILL {
            gc_kills += 1;
        } else {
            gcs_done_first += 1;
        }
        let resumed = ws.repro(&["run", "-j", "2"]);
        if resumed.code != 0 {
            bad.push(format!(
                "round {round}: resumed run failed:\n{}",
                resumed.both()
            ));
            continue;
        }
        for (path, want) in expected(round) {
            let got = std::fs::read_to_string(ws.root.join(&path)).unwrap_or_default();
            if got != want {
                bad.push(format!(
                    "round {round}: `{path}` is {got:?}, expected {want:?}"
                ));
            }
        }
        for check in [&["status", "--check"][..], &["verify"]] {
            let out = ws.repro(check);
            if out.code != 0 {
                bad.push(format!("round {round}: {check:?} failed:\n{}", out.both()));
            }
        }
        if !bad.is_empty() && std::env::var_os("REPRO_CHAOS_KEEP").is_some() {
            // Keep the workspace for a post-mortem and stop at the first bad round.
            println!("chaos: kept the workspace {}", ws.root.display());
            let root = ws.root.clone();
            std::mem::forget(ws);
            panic!(
                "round {round} failed; workspace kept at {}:\n{}",
                root.display(),
                bad.join("\n")
            );
        }
    }
    let final_gc = ws.ok(&["gc"]);
    ws.ok(&["verify"]);
    println!(
        "chaos: {rounds} rounds (seed {seed}): {run_kills} runs and {gc_kills} gc killed by SIGKILL \
         at random instants ({runs_done_first} runs and {gcs_done_first} gc finished before \
         their signal); {} bad rounds; {orphans} orphan processes; longest wait for the killed run's processes \
         to end {:.2}s; last gc: {}",
        bad.len(),
        longest_orphan.as_secs_f64(),
        final_gc.stdout.trim()
    );
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
    assert_eq!(orphans, 0, "stage processes outlived the killed engine");
}
