//! Engine benchmark on a paper-sized grid (not a timed test; run it by hand):
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/tgt-enginetest cargo bench -p repro --bench engine_grid
//! CARGO_TARGET_DIR=/tmp/tgt-enginetest cargo bench -p repro --bench engine_grid -- --first-reps 1 --reps 5 --jobs 2
//! ```
//!
//! It writes a pipeline with the paper's shape into a temporary workspace: 80 `data`
//! instances (8 tasks x 10 seeds), 3,600 `train` instances (8 tasks x 15 variants x 3
//! activations x 10 seeds, each reading its data instance), 8 `stats` instances (each reading
//! its task's runs directory) and one `table`: 3,689 instances whose commands are one `sh -c`
//! file write each. It then measures, with the release binary (`CARGO_BIN_EXE_repro`):
//!
//! 1. a baseline: the same 3,689 resolved commands run directly (`sh -c`, two worker threads,
//!    stage by stage), so that `(repro wall - baseline wall) / 3,689` is the engine's cost per
//!    executed instance (keying, slots, logs, storing outputs, records, fsyncs);
//! 2. the first `repro run -j 2` (also broken down with the engine's own child timings);
//! 3. no-op `repro status` and no-op `repro run` (median of several repetitions);
//! 4. the run after changing one task's learning rate, asserting from the `--json` events that
//!    exactly that task's 450 `train` instances, its `stats` and the `table` ran;
//! 5. a restore of every `train` output after `rm -rf runs`, and `repro verify`.
//!
//! With `--slurm` it measures something else: the grid's first run through the local executor
//! and then through Slurm (`--executor slurm`; `SLURM_CONF` must reach a running Slurm, e.g.
//! `scripts/slurm-local.sh start`), side by side: wall time, instances per second, the
//! controller's CPU time, and the Slurm commands it made (`REPRO_SLURM_POLL`, default 2 s here).
//! There the `train` stage declares a `pack:` (up to 64 runs of a task per pack, run by a small
//! Python program that runs each member's command): the local run and the first Slurm run use
//! `--no-pack` (one job per instance), the second Slurm run packs (one job per pack).
//!
//! Targets (from the engine's issue): no-op under 0.3 s, overhead under 10 ms per executed
//! instance. The program exits 1 when an assertion about what ran fails; missed timing targets
//! are reported, not fatal.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const TASKS: [&str; 8] = [
    "listops",
    "parity",
    "even_pairs",
    "missing_duplicate",
    "cycle_navigation",
    "stack_manipulation",
    "modular_arithmetic_brackets",
    "solve_equation",
];
const VARIANTS: [&str; 15] = [
    "full", "band5", "band9", "bloc5", "bloc9", "band5G1", "band5G3", "band9G1", "band9G3",
    "bloc5G1", "bloc5G3", "bloc9G1", "bloc9G3", "topk5", "topk9",
];
const ACTIVATIONS: [&str; 3] = ["relu", "gelu", "mish"];
const SEEDS: usize = 10;

fn lr(task: &str) -> &'static str {
    if task == "listops" {
        "1.0"
    } else {
        "0.1"
    }
}

/// The pack program of `--slurm`: runs each member's own command, then marks it done.
const PACK_PY: &str = r#"import json, subprocess, sys
for m in json.load(open(sys.argv[1]))["members"]:
    subprocess.run(m["cmd"], check=True)
    open(m["done"], "w").close()
"#;

/// The `pack:` section `--slurm` adds to the `train` stage.
const TRAIN_PACK: &str = r#"    pack:
      by: [variant, activation, seed]
      max: 64
      cmd: [python3, pack.py, "${pack.manifest}"]
      resources: {cpus: 1, gpus: 0}
"#;

fn pipeline() -> String {
    let seeds: Vec<String> = (1..=SEEDS).map(|s| s.to_string()).collect();
    let lrs: Vec<String> = TASKS.iter().map(|t| format!("{t}: {}", lr(t))).collect();
    format!(
        r#"version: 1
params:
  tasks: [{tasks}]
  variants: [{variants}]
  activations: [{activations}]
  seeds: [{seeds}]
  lr: {{{lrs}}}
stages:
  data:
    cmd: "echo ${{task}} ${{seed}} > data/${{task}}/${{seed}}.txt"
    shell: true
    matrix:
      task: ${{params.tasks}}
      seed: ${{params.seeds}}
    outs: ["data/${{task}}/${{seed}}.txt"]
  train:
    cmd: "echo ${{variant}} ${{activation}} ${{params.lr.${{task}}}} > runs/${{task}}/${{variant}}/${{activation}}/${{seed}}.txt"
    shell: true
    matrix:
      task: ${{params.tasks}}
      variant: ${{params.variants}}
      activation: ${{params.activations}}
      seed: ${{params.seeds}}
    deps: ["data/${{task}}/${{seed}}.txt"]
    outs: ["runs/${{task}}/${{variant}}/${{activation}}/${{seed}}.txt"]
  stats:
    cmd: "cat runs/${{task}}/*/*/*.txt > stats/${{task}}.txt"
    shell: true
    matrix:
      task: ${{params.tasks}}
    deps: ["runs/${{task}}"]
    outs: ["stats/${{task}}.txt"]
  table:
    cmd: "cat stats/*.txt > table.txt"
    shell: true
    deps: [stats]
    outs: [table.txt]
"#,
        tasks = TASKS.join(", "),
        variants = VARIANTS.join(", "),
        activations = ACTIVATIONS.join(", "),
        seeds = seeds.join(", "),
        lrs = lrs.join(", "),
    )
}

/// The resolved commands, stage by stage (each phase depends only on earlier ones), with the
/// output whose parent directory the engine would create.
fn phases() -> Vec<Vec<(String, String)>> {
    let mut data = Vec::new();
    let mut train = Vec::new();
    let mut stats = Vec::new();
    for t in TASKS {
        for s in 1..=SEEDS {
            data.push((
                format!("echo {t} {s} > data/{t}/{s}.txt"),
                format!("data/{t}/{s}.txt"),
            ));
            for v in VARIANTS {
                for a in ACTIVATIONS {
                    let out = format!("runs/{t}/{v}/{a}/{s}.txt");
                    train.push((format!("echo {v} {a} {} > {out}", lr(t)), out));
                }
            }
        }
        stats.push((
            format!("cat runs/{t}/*/*/*.txt > stats/{t}.txt"),
            format!("stats/{t}.txt"),
        ));
    }
    let table = vec![(
        "cat stats/*.txt > table.txt".to_owned(),
        "table.txt".to_owned(),
    )];
    vec![data, train, stats, table]
}

/// Runs every phase's commands directly with `jobs` worker threads; returns the wall time.
fn baseline(dir: &Path, jobs: usize) -> Duration {
    let start = Instant::now();
    for phase in phases() {
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..jobs {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((cmd, out)) = phase.get(i) else {
                        break;
                    };
                    fs::create_dir_all(dir.join(out).parent().expect("parent")).expect("mkdir");
                    let st = Command::new("sh")
                        .arg("-c")
                        .arg(cmd)
                        .current_dir(dir)
                        .stdin(Stdio::null())
                        .status()
                        .expect("sh");
                    assert!(st.success(), "{cmd}");
                });
            }
        });
    }
    start.elapsed()
}

struct Timed {
    wall: Duration,
    stdout: String,
    stderr: String,
}

fn repro(dir: &Path, args: &[&str]) -> Timed {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_repro"))
        .args(args)
        .current_dir(dir)
        .env_remove("CUDA_VISIBLE_DEVICES")
        .stdin(Stdio::null())
        .output()
        .expect("run repro");
    let wall = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        eprintln!(
            "`repro {}` failed ({}):\n{stderr}",
            args.join(" "),
            out.status
        );
        std::process::exit(1);
    }
    Timed {
        wall,
        stdout,
        stderr,
    }
}

/// `started` events per stage and the sum of `finished` seconds, from `--json` output.
fn events(
    stdout: &str,
) -> (
    BTreeMap<String, usize>,
    BTreeMap<String, usize>,
    f64,
    serde_json::Value,
) {
    let mut started: BTreeMap<String, usize> = BTreeMap::new();
    let mut restored: BTreeMap<String, usize> = BTreeMap::new();
    let mut child = 0.0;
    let mut summary = serde_json::Value::Null;
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let e: serde_json::Value = serde_json::from_str(line).expect("--json emits JSON lines");
        let stage = |e: &serde_json::Value| {
            e["id"]
                .as_str()
                .unwrap_or("")
                .split('@')
                .next()
                .unwrap_or("")
                .to_owned()
        };
        match e["event"].as_str() {
            Some("started") => *started.entry(stage(&e)).or_default() += 1,
            Some("restored") => *restored.entry(stage(&e)).or_default() += 1,
            Some("finished") => child += e["seconds"].as_f64().unwrap_or(0.0),
            Some("summary") => summary = e,
            _ => {}
        }
    }
    (started, restored, child, summary)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn check(ok: bool, what: &str) {
    if !ok {
        eprintln!("ASSERTION FAILED: {what}");
        std::process::exit(1);
    }
}

struct Opts {
    jobs: usize,
    reps: usize,
    first_reps: usize,
    keep: Option<PathBuf>,
    /// Compare the local executor with Slurm instead.
    slurm: bool,
}

/// CPU seconds (user + system) of this process's waited-for descendants so far.
fn children_cpu() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// `--slurm`: the first run of the grid through the local executor, then through Slurm.
fn slurm_compare(tmp: &Path, jobs: usize, n_total: usize) {
    let poll = std::env::var("REPRO_SLURM_POLL").unwrap_or_else(|_| "2s".to_owned());
    let j = jobs.to_string();
    // The train stage packs; `--no-pack` runs it one job per instance.
    let text = pipeline().replace(
        "    outs: [\"runs/${task}/${variant}/${activation}/${seed}.txt\"]\n",
        &format!("    outs: [\"runs/${{task}}/${{variant}}/${{activation}}/${{seed}}.txt\"]\n{TRAIN_PACK}"),
    );
    check(
        text.contains("pack.py"),
        "the train stage declares its pack",
    );
    for (name, executor, pack) in [
        ("local", "local", false),
        ("slurm, one job per instance", "slurm", false),
        ("slurm, packed", "slurm", true),
    ] {
        let ws = tmp.join(format!("ws-{executor}-{pack}"));
        fs::create_dir_all(&ws).expect("mkdir");
        fs::write(ws.join("pipeline.yaml"), &text).expect("write pipeline");
        fs::write(ws.join("pack.py"), PACK_PY).expect("write pack.py");
        let mut args = vec!["run", "--json", "--executor", executor];
        if executor == "local" {
            args.extend(["-j", &j]);
        }
        if !pack {
            args.push("--no-pack");
        }
        let cpu0 = children_cpu();
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_repro"))
            .args(&args)
            .current_dir(&ws)
            .env("REPRO_SLURM_POLL", &poll)
            .env_remove("CUDA_VISIBLE_DEVICES")
            .stdin(Stdio::null())
            .output()
            .expect("run repro");
        let wall = start.elapsed().as_secs_f64();
        let cpu = children_cpu() - cpu0;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            let failed: Vec<String> = stdout
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|e| e["event"] == "failed")
                .take(3)
                .map(|e| format!("{}: {}", e["id"], e["error"]))
                .collect();
            eprintln!(
                "`repro {}` failed ({}):\n{}\nfirst failures:\n{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr),
                failed.join("\n")
            );
            std::process::exit(1);
        }
        let (_, _, _, summary) = events(&stdout);
        check(
            summary["ran"] == n_total,
            "the first run executes every instance once",
        );
        let commands = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|e| e["message"].as_str().map(str::to_owned))
            .find(|m| m.starts_with("Slurm commands:"))
            .unwrap_or_else(|| "no Slurm commands".to_owned());
        let packs = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|e| e["message"].as_str().map(str::to_owned))
            .filter(|m| m.contains("run as one pack"))
            .count();
        println!(
            "{name}: {n_total} instances in {wall:.1} s ({:.1} instances/s), {packs} packs; CPU of the controller and what it waited for: {cpu:.1} s; {commands}{}",
            n_total as f64 / wall,
            if executor == "slurm" {
                format!(" (poll interval {poll}: at most {:.0} polls in that time)", wall / parse_secs(&poll))
            } else {
                " (the local CPU time includes the stages themselves)".to_owned()
            }
        );
    }
}

fn parse_secs(text: &str) -> f64 {
    let t = text.trim();
    let (n, scale) = match t.strip_suffix('s') {
        Some(n) => (n, 1.0),
        None => match t.strip_suffix('m') {
            Some(n) => (n, 60.0),
            None => (t, 1.0),
        },
    };
    n.parse::<f64>().unwrap_or(1.0) * scale
}

fn opts() -> Opts {
    let mut o = Opts {
        jobs: 2,
        reps: 7,
        first_reps: 3,
        keep: None,
        slurm: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--jobs" => o.jobs = val().parse().expect("--jobs N"),
            "--reps" => o.reps = val().parse().expect("--reps N"),
            "--first-reps" => o.first_reps = val().parse().expect("--first-reps N"),
            "--keep" => o.keep = Some(PathBuf::from(val())),
            "--slurm" => o.slurm = true,
            _ => {} // `cargo bench` passes `--bench`.
        }
    }
    o
}

fn main() {
    let o = opts();
    let j = o.jobs.to_string();
    let tmp = tempfile::Builder::new()
        .prefix("repro-bench-")
        .tempdir()
        .expect("tempdir");
    let n_total = TASKS.len() * SEEDS * (1 + VARIANTS.len() * ACTIVATIONS.len()) + TASKS.len() + 1;
    println!(
        "engine_grid: {n_total} instances, -j {}, {} first-run repetition(s), {} no-op repetitions",
        o.jobs, o.first_reps, o.reps
    );
    println!(
        "machine: {} cores; workspace under {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        tmp.path().display()
    );
    if o.slurm {
        slurm_compare(tmp.path(), o.jobs, n_total);
        return;
    }

    // 1 + 2: baseline and first runs, alternated so that disk and CPU noise hit both alike.
    let mut base = Vec::new();
    let mut first = Vec::new();
    let mut child_sums = Vec::new();
    let mut ws = PathBuf::new();
    for r in 0..o.first_reps.max(1) {
        let b = tmp.path().join(format!("baseline-{r}"));
        fs::create_dir_all(&b).expect("mkdir");
        base.push(baseline(&b, o.jobs).as_secs_f64());
        fs::remove_dir_all(&b).expect("rm baseline");

        ws = tmp.path().join(format!("ws-{r}"));
        fs::create_dir_all(&ws).expect("mkdir");
        fs::write(ws.join("pipeline.yaml"), pipeline()).expect("write pipeline");
        let t = repro(&ws, &["run", "-j", &j, "--json"]);
        let (started, _, child, summary) = events(&t.stdout);
        check(
            started.values().sum::<usize>() == n_total && summary["ran"] == n_total,
            "the first run executes every instance once",
        );
        first.push(t.wall.as_secs_f64());
        child_sums.push(child);
        println!(
            "  rep {r}: baseline {:.2} s, repro run {:.2} s (children {:.2} s by the engine's clock)",
            base[r],
            first[r],
            child
        );
    }
    let (base_s, first_s, child_s) = (median(base), median(first), median(child_sums));
    let n = n_total as f64;
    let overhead_ms = (first_s - base_s) / n * 1000.0;
    let slot_ms = (first_s * o.jobs as f64 - child_s) / n * 1000.0;

    // 3: no-ops.
    let mut status = Vec::new();
    let mut noop = Vec::new();
    for _ in 0..o.reps {
        let s = repro(&ws, &["status"]);
        check(
            s.stdout
                .contains(&format!("all {n_total} instances up to date")),
            "no-op status finds everything fresh",
        );
        status.push(s.wall.as_secs_f64());
        let r = repro(&ws, &["run", "-j", &j]);
        check(r.stderr.contains("nothing to do"), "no-op run does nothing");
        noop.push(r.wall.as_secs_f64());
    }
    let (status_s, noop_s) = (median(status.clone()), median(noop.clone()));

    // 4: one task's learning rate.
    let text = fs::read_to_string(ws.join("pipeline.yaml")).expect("read pipeline");
    fs::write(
        ws.join("pipeline.yaml"),
        text.replacen("listops: 1.0", "listops: 0.5", 1),
    )
    .expect("write pipeline");
    let t = repro(&ws, &["run", "-j", &j, "--json"]);
    let (started, _, _, _) = events(&t.stdout);
    let train_ok = t
        .stdout
        .lines()
        .filter(|l| l.contains("\"event\":\"started\"") && l.contains("\"id\":\"train@"))
        .all(|l| l.contains("task=listops"));
    let want: BTreeMap<String, usize> = [
        ("stats".to_owned(), 1),
        ("table".to_owned(), 1),
        (
            "train".to_owned(),
            VARIANTS.len() * ACTIVATIONS.len() * SEEDS,
        ),
    ]
    .into();
    check(started == want && train_ok, &format!("an lr change re-runs exactly listops' 450 train runs + its stats + table; got {started:?}"));
    let lr_s = t.wall.as_secs_f64();
    let noop_after = repro(&ws, &["run", "-j", &j]);
    check(
        noop_after.stderr.contains("nothing to do"),
        "fresh after the lr run",
    );

    // 5: restore every train output, then verify.
    fs::remove_dir_all(ws.join("runs")).expect("rm runs");
    let t = repro(&ws, &["run", "-j", &j, "--json"]);
    let (started, restored, _, _) = events(&t.stdout);
    check(
        started.is_empty()
            && restored.get("train")
                == Some(&(TASKS.len() * VARIANTS.len() * ACTIVATIONS.len() * SEEDS)),
        "rm -rf runs restores every train output and runs nothing",
    );
    let restore_s = t.wall.as_secs_f64();
    let verify_s = repro(&ws, &["verify"]).wall.as_secs_f64();
    let dag_s = repro(&ws, &["dag"]).wall.as_secs_f64();

    let verdict = |ok: bool| if ok { "meets target" } else { "MISSES target" };
    println!();
    println!("| measurement | value |");
    println!("|---|---|");
    println!(
        "| baseline: same {n_total} commands run directly, 2 threads (median) | {base_s:.2} s |"
    );
    println!("| first `repro run -j {j}` (median) | {first_s:.2} s |");
    println!("| engine overhead per executed instance, (repro - baseline) / {n_total} | {overhead_ms:.2} ms ({}: < 10 ms) |", verdict(overhead_ms < 10.0));
    println!("| slot time outside children per instance, ({j} x wall - sum of child times) / {n_total} | {slot_ms:.2} ms |");
    println!(
        "| no-op `repro status` (median of {}) | {status_s:.3} s ({}: < 0.3 s) |",
        o.reps,
        verdict(status_s < 0.3)
    );
    println!(
        "| no-op `repro run` (median of {}) | {noop_s:.3} s ({}: < 0.3 s) |",
        o.reps,
        verdict(noop_s < 0.3)
    );
    println!("| `lr.listops` changed: 450 train + 1 stats + 1 table re-run | {lr_s:.2} s |");
    println!("| `rm -rf runs`, then `repro run`: 3,600 outputs restored | {restore_s:.2} s |");
    println!("| `repro verify` (re-hash every output and object) | {verify_s:.2} s |");
    println!("| `repro dag` (load + expand + graph only) | {dag_s:.3} s |");
    println!("no-op samples: status {status:.3?} run {noop:.3?}");

    if let Some(keep) = o.keep {
        let status = Command::new("cp")
            .arg("-R")
            .arg(&ws)
            .arg(&keep)
            .status()
            .expect("cp");
        assert!(status.success());
        println!("workspace copied to {}", keep.display());
    }
}
