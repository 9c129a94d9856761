//! Drives the real `landscape` binary on a run trained (through the `train` library) on a tiny
//! even_pairs data set made by the `gen` library.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    datagen::cli::run(&datagen::cli::Args {
        task: "even_pairs".into(),
        seed: 5,
        train: 60,
        heldout: 20,
        test: None,
        out: data.clone(),
    })
    .unwrap();
    let run = dir.path().join("run");
    train::run::run(&train::cli::Args {
        data: data.clone(),
        task: "even_pairs".into(),
        variant: "topk5".into(),
        activation: "relu".into(),
        seed: 3,
        epochs: 1,
        stop_after: "off".into(),
        lr: 0.1,
        gamma: 0.9995,
        blocks: 1,
        heads: 1,
        d_model: 64,
        d_mlp: 64,
        dropout: 0.01,
        batch: 25,
        clip: 0.5,
        optimizer: train::config::OptimizerKind::Sgd,
        train_limit: None,
        eval_attn_dropout: false,
        first_ln_eps_zero: false,
        eval_batch: None,
        out: run.clone(),
    })
    .unwrap();
    (dir, data, run)
}

fn landscape(run: &Path, data: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_landscape"))
        .args(["--run", run.to_str().unwrap()])
        .args(["--data", data.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .args(extra)
        .env("OMP_NUM_THREADS", "1")
        .env("REPRO_DEVICE", "cpu")
        .env("REPRO_KEY", "landscape-key")
        .output()
        .unwrap()
}

fn read(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_grid_gives_ordered_slope_percentiles_and_repeats_exactly() {
    let (dir, data, run) = setup();
    let out = dir.path().join("out/topk5.json");
    let o = landscape(&run, &data, &out, &["--grid", "5", "--examples", "30"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = read(&out);
    assert_eq!(v["grid"], 5);
    assert_eq!(v["examples"], 30);
    assert_eq!(v["spacing"], 0.5);
    assert_eq!(v["pairs"], 40);
    assert_eq!(v["nonfinite_pairs"], 0);
    assert_eq!(v["format"], 3);
    assert!(
        v.get("seconds").is_none(),
        "no wall time in the report: {v}"
    );
    assert!(
        v.get("cache_key").is_none() && v.get("run_cache_key").is_none(),
        "no key in the report (early cutoff): {v}"
    );
    let p: Vec<f64> = ["p50", "p75", "p90", "p95", "p100"]
        .iter()
        .map(|k| v["lipschitz"][k].as_f64().unwrap())
        .collect();
    assert!(p.windows(2).all(|w| w[0] <= w[1]), "{p:?}");
    assert!(
        p[4] > 0.0,
        "moving the weights by their own norm changes the loss: {p:?}"
    );
    let (lo, hi, at) = (
        v["loss_min"].as_f64().unwrap(),
        v["loss_max"].as_f64().unwrap(),
        v["loss_at_weights"].as_f64().unwrap(),
    );
    assert!(lo <= at && at <= hi, "{lo} {at} {hi}");

    // Same seed, same machine: the same numbers (directions do not depend on hash order).
    let again = dir.path().join("again.json");
    let o = landscape(&run, &data, &again, &["--grid", "5", "--examples", "30"]);
    assert!(o.status.success());
    assert_eq!(read(&again)["lipschitz"], v["lipschitz"]);
    // And the same bytes, so that the engine's early cutoff holds downstream.
    assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&out).unwrap());
}

#[test]
fn bad_arguments_and_missing_runs_are_one_line_errors_with_status_2() {
    let (dir, data, run) = setup();
    let out = dir.path().join("x.json");
    let o = landscape(&run, &data, &out, &["--grid", "1"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--grid"), "{err}");

    let o = landscape(&dir.path().join("nope"), &data, &out, &["--grid", "3"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("nope") && err.contains("config.json"), "{err}");
    assert!(!out.exists(), "no output on failure");
}
