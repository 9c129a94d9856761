//! Drives the real `probe` binary on runs trained (through the `train` library) on a tiny
//! even_pairs data set.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{data, DataMeta, Example, Task};
use rand::{Rng, SeedableRng};

fn write_data(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let mut draw = |n: usize| -> Vec<Example> {
        (0..n)
            .map(|_| {
                let tokens: Vec<u32> = (0..40).map(|_| rng.gen_range(0..2)).collect();
                Example {
                    label: u32::from(tokens[0] != tokens[39]),
                    tokens,
                }
            })
            .collect()
    };
    data::write_split(&dir.join("train.csv"), &draw(150)).unwrap();
    data::write_split(&dir.join("heldout.csv"), &draw(50)).unwrap();
    DataMeta {
        format: data::DATA_FORMAT_VERSION,
        task: Task::EvenPairs,
        seed: 9,
        vocab: vec!["0".into(), "1".into(), "PAD".into()],
        pad_id: 2,
        classes: 2,
        max_len: 40,
        splits: [("train".to_owned(), 150), ("heldout".to_owned(), 50)]
            .into_iter()
            .collect(),
        generator: serde_json::json!({}),
    }
    .write(dir)
    .unwrap();
}

fn train_run(data: &Path, out: &Path, variant: &str) {
    let args = train::cli::Args {
        data: data.to_owned(),
        task: "even_pairs".into(),
        variant: variant.into(),
        activation: "relu".into(),
        seed: 11,
        epochs: 1,
        stop_after: "off".into(),
        lr: 0.1,
        gamma: 0.9995,
        blocks: 2,
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
        out: out.to_owned(),
    };
    train::run::run(&args).unwrap();
}

fn probe(run: &Path, data: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_probe"))
        .args([
            "--run",
            run.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--batches",
            "3",
            "--batch-size",
            "40",
        ])
        .env("OMP_NUM_THREADS", "1")
        .env("REPRO_DEVICE", "cpu")
        .env("REPRO_KEY", "probe-key")
        .output()
        .unwrap()
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write_data(&data);
    (dir, data)
}

#[test]
fn topk_and_full_runs_give_their_percentiles() {
    let (dir, data) = setup();
    for variant in ["topk5", "full", "bloc5+G3"] {
        let run = dir.path().join(variant);
        train_run(&data, &run, variant);
        let out = dir.path().join("probes").join(format!("{variant}.json"));
        let o = probe(&run, &data, &out);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(report["variant"], variant);
        // Guards early cutoff in the engine: no key (its `REPRO_KEY`, the run's) in the report.
        assert!(
            report.get("cache_key").is_none() && report.get("run_cache_key").is_none(),
            "{report}"
        );
        assert_eq!(report["examples"], 120);
        assert_eq!(report["layers"], 2);
        let delta = &report["dispersion_delta"];
        let (p75, p100) = (
            delta["p75"].as_f64().unwrap(),
            delta["p100"].as_f64().unwrap(),
        );
        assert!(0.0 <= p75 && p75 <= p100, "{report}");
        if variant == "topk5" {
            let sep = &report["separation_delta"];
            assert!(
                sep["p0"].as_f64().unwrap() >= 0.0
                    && sep["p0"].as_f64().unwrap() <= sep["p25"].as_f64().unwrap(),
                "{report}"
            );
            let beta = &report["selection_beta"];
            assert!(
                beta["p100"].as_f64().unwrap() <= 40.0 && beta["p75"].as_f64().unwrap() >= 0.0,
                "{report}"
            );
            assert_eq!(report["queries"], 120 * 2 * 40);
        } else {
            assert!(report["separation_delta"].is_null() && report["selection_beta"].is_null());
        }
    }
}

#[test]
fn a_missing_run_is_a_one_line_error_with_status_2() {
    let (dir, data) = setup();
    let o = probe(
        &dir.path().join("absent"),
        &data,
        &dir.path().join("p.json"),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("config.json") && err.trim_end().lines().count() == 1,
        "{err}"
    );
}
