//! Drives the real `stats` binary over synthetic run directories in a temporary folder.

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Activation, Task, Variant};
use stats::fixture::SyntheticRun;
use stats::StatsFile;

const TOPK5: Variant = Variant::Topk { k: 5 };
const BAND5: Variant = Variant::Band { k: 5, globals: 0 };

struct Outcome {
    code: i32,
    stderr: String,
    json: PathBuf,
    csv: PathBuf,
}

fn run_stats(task: &str, runs: &Path, out: &Path) -> Outcome {
    let (json, csv) = (out.join("stats.json"), out.join("stats.csv"));
    let output = Command::new(env!("CARGO_BIN_EXE_stats"))
        .args(["--task", task, "--runs"])
        .arg(runs)
        .arg("--out-json")
        .arg(&json)
        .arg("--out-csv")
        .arg(&csv)
        .env("REPRO_KEY", "stats-key")
        .output()
        .expect("stats runs");
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        json,
        csv,
    }
}

/// Three seeds each of full, band5 and topk5 under relu, one full seed not converged.
fn write_grid(runs: &Path) {
    let relu = Activation::Relu;
    for (seed, full, band, topk) in [
        (11, Some(40), Some(38), Some(9)),
        (12, None, Some(45), Some(12)),
        (13, Some(44), Some(50), Some(10)),
    ] {
        SyntheticRun::new(Variant::Full, relu, seed, 50, full, 0.80)
            .write(runs, Task::EvenPairs)
            .unwrap();
        SyntheticRun::new(BAND5, relu, seed, 50, band, 0.78)
            .write(runs, Task::EvenPairs)
            .unwrap();
        SyntheticRun::new(TOPK5, relu, seed, 50, topk, 0.85)
            .write(runs, Task::EvenPairs)
            .unwrap();
    }
}

#[test]
fn summarises_a_synthetic_grid() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    write_grid(&runs);
    let out = run_stats("even_pairs", &runs, tmp.path());
    assert_eq!(out.code, 0, "{}", out.stderr);

    let text = std::fs::read_to_string(&out.json).unwrap();
    let stats: StatsFile = serde_json::from_str(&text).unwrap();
    assert_eq!(stats.task, Task::EvenPairs);
    // Guards early cutoff in the engine: no key (its own `REPRO_KEY` or a run's) in either
    // output, so a re-run with a new key but the same numbers writes the same bytes.
    for (name, text) in [
        ("json", text.clone()),
        ("csv", std::fs::read_to_string(&out.csv).unwrap()),
    ] {
        assert!(
            !text.contains("cache_key") && !text.contains("stats-key"),
            "stats.{name} holds a key: {text}"
        );
    }
    let names: Vec<String> = stats.groups.iter().map(|g| g.variant.to_string()).collect();
    assert_eq!(names, ["full", "band5", "topk5"]);

    let full = &stats.groups[0];
    assert_eq!(
        (full.seeds_run, full.seeds_converged, full.diverged),
        (3, 2, 0)
    );
    assert_eq!(full.convergence.mean, Some(42.0));
    assert_eq!(
        full.convergence_censored.mean,
        Some((40.0 + 51.0 + 44.0) / 3.0)
    );
    assert_eq!(full.seeds, vec![11, 12, 13]);
    assert_eq!(full.curves.epochs.len(), 50);
    assert_eq!(full.curves.train_acc.n[0], 3);

    let topk = &stats.groups[2];
    let speedup = topk.speedup_vs_full.as_ref().unwrap();
    assert!(
        (speedup.estimate - 135.0 / 31.0).abs() < 1e-12,
        "{speedup:?}"
    );
    assert!(speedup.paired && speedup.n_pairs == 3);
    assert!((topk.best_heldout_acc.mean.unwrap() - 0.85).abs() < 1e-9);

    let csv = std::fs::read_to_string(&out.csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(
        lines[0].starts_with("task,variant,activation,epochs,seeds_run,seeds_converged,diverged,")
    );
    assert!(
        lines[3].starts_with("even_pairs,topk5,relu,50,3,3,0,"),
        "{}",
        lines[3]
    );
    assert!(lines[3].ends_with(",11 12 13"), "{}", lines[3]);
}

#[test]
fn output_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    write_grid(&runs);
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let (oa, ob) = (
        run_stats("even_pairs", &runs, &a),
        run_stats("even_pairs", &runs, &b),
    );
    assert_eq!((oa.code, ob.code), (0, 0));
    assert_eq!(
        std::fs::read(&oa.json).unwrap(),
        std::fs::read(&ob.json).unwrap()
    );
    assert_eq!(
        std::fs::read(&oa.csv).unwrap(),
        std::fs::read(&ob.csv).unwrap()
    );
}

#[test]
fn diverged_runs_are_counted_and_their_nan_losses_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    write_grid(&runs);
    let mut bad = SyntheticRun::new(TOPK5, Activation::Relu, 14, 50, None, 0.5);
    bad.diverged_at = Some(5);
    bad.write(&runs, Task::EvenPairs).unwrap();
    let out = run_stats("even_pairs", &runs, tmp.path());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let stats: StatsFile =
        serde_json::from_str(&std::fs::read_to_string(&out.json).unwrap()).unwrap();
    let topk = &stats.groups[2];
    assert_eq!(
        (topk.seeds_run, topk.seeds_converged, topk.diverged),
        (4, 3, 1)
    );
    assert_eq!(topk.per_seed[3].censored_convergence_epoch, 51);
    assert_eq!(topk.curves.train_loss.n[4], 3);
    assert_eq!(topk.curves.train_loss.n[3], 4);
}

fn assert_input_error(out: &Outcome, needles: &[&str]) {
    assert_eq!(out.code, 2, "{}", out.stderr);
    for needle in needles {
        assert!(
            out.stderr.contains(needle),
            "`{needle}` not in: {}",
            out.stderr
        );
    }
    assert!(
        !out.json.exists() && !out.csv.exists(),
        "partial output left behind"
    );
    let leftovers: Vec<_> = std::fs::read_dir(out.json.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn malformed_metrics_names_file_line_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    write_grid(&runs);
    let path = runs.join("band5/relu/12/metrics.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"diverged\": false", "\"diverged\": \"no\"");
    std::fs::write(&path, text).unwrap();
    let out = run_stats("even_pairs", &runs, tmp.path());
    assert_input_error(
        &out,
        &["band5/relu/12/metrics.json", "line 13", "`diverged`"],
    );
}

#[test]
fn truncated_json_is_reported_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    write_grid(&runs);
    std::fs::write(
        runs.join("full/relu/11/metrics.json"),
        "{\n  \"format\": 1,\n",
    )
    .unwrap();
    let out = run_stats("even_pairs", &runs, tmp.path());
    assert_input_error(&out, &["full/relu/11/metrics.json", "line 3"]);
}

#[test]
fn missing_history_names_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    write_grid(&runs);
    std::fs::remove_file(runs.join("topk5/relu/13/history.csv")).unwrap();
    let out = run_stats("even_pairs", &runs, tmp.path());
    assert_input_error(
        &out,
        &["failed to find", "topk5/relu/13/history.csv", "hint:"],
    );
}

#[test]
fn malformed_history_names_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    write_grid(&runs);
    let path = runs.join("full/relu/13/history.csv");
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines[4] = "4,0.1,0.5,high,0.6,0.6".to_owned();
    std::fs::write(&path, lines.join("\n")).unwrap();
    let out = run_stats("even_pairs", &runs, tmp.path());
    assert_input_error(
        &out,
        &[
            "full/relu/13/history.csv",
            "line 5",
            "`train_acc`",
            "`high`",
        ],
    );
}

#[test]
fn run_of_another_task_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    write_grid(&runs);
    let out = run_stats("parity", &runs, tmp.path());
    assert_input_error(
        &out,
        &["metrics.json", "`task`", "`even_pairs`", "`parity`"],
    );
}

#[test]
fn bad_directory_names_and_empty_dirs_are_input_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    write_grid(&runs);
    std::fs::create_dir_all(runs.join("topk5/tanh/11")).unwrap();
    let out = run_stats("even_pairs", &runs, tmp.path());
    assert_input_error(&out, &["topk5/tanh", "not an activation"]);

    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = run_stats("even_pairs", &empty, tmp.path());
    assert_input_error(&out, &["failed to find any run"]);

    let out = run_stats("even_pairs", &tmp.path().join("absent"), tmp.path());
    assert_input_error(&out, &["absent"]);
}

#[test]
fn unknown_task_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_stats("listop", tmp.path(), tmp.path());
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("listop"), "{}", out.stderr);
}
