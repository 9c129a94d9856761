//! Drives the real `train` binary on a tiny even_pairs data set in temporary directories:
//! output files, seeded repeatability, divergence handling and user errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "support/single.rs"]
mod single;
use single::{run_flags, write_data};

fn train(data: &Path, out: &Path, extra: &[&str]) -> Output {
    train_keyed(data, out, extra, "key-123")
}

/// A run with this `REPRO_KEY`, as the engine would set it.
fn train_keyed(data: &Path, out: &Path, extra: &[&str], key: &str) -> Output {
    let args = run_flags(data, out, "topk5", extra);
    Command::new(env!("CARGO_BIN_EXE_train"))
        .args(args)
        .env("OMP_NUM_THREADS", "1")
        .env("REPRO_DEVICE", "cpu")
        .env("REPRO_KEY", key)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn history_lines(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    text.lines().map(str::to_owned).collect()
}

/// Every file of a run directory, by name, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn tmp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write_data(&data, 5, 120, 60);
    (dir, data)
}

#[test]
fn a_short_run_writes_the_four_files() {
    let (dir, data) = tmp();
    let out = dir.path().join("nested/run");
    let o = train(&data, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let history = std::fs::read_to_string(out.join("history.csv")).unwrap();
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(
        lines[0],
        "epoch,lr,train_loss,train_acc,heldout_loss,heldout_acc"
    );
    assert_eq!(lines.len(), 3);
    assert!(
        lines[2].starts_with("2,0.09000000000000001,"),
        "{}",
        lines[2]
    );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    for key in [
        "format",
        "task",
        "variant",
        "activation",
        "seed",
        "epochs",
        "convergence_epoch",
        "best_heldout_acc",
        "best_epoch",
        "last_heldout_acc",
        "last_train_acc",
        "diverged",
        "diverged_epoch",
        "device",
        "torch_version",
        "config",
    ] {
        assert!(metrics.get(key).is_some(), "metrics.json lacks `{key}`");
    }
    assert_eq!(metrics.as_object().unwrap().len(), 16, "{metrics}");
    assert_eq!(metrics["format"], 3);
    assert_eq!(metrics["diverged"], false);
    assert_eq!(metrics["variant"], "topk5");
    let cfg: train::RunConfig =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg.model.seq_len(), 40);
    let weights = tch::Tensor::read_safetensors(out.join("model.safetensors")).unwrap();
    assert!(
        weights.iter().any(|(n, _)| n == "blocks.1.attn.W_q.weight"),
        "{:?}",
        weights.iter().map(|w| &w.0).collect::<Vec<_>>()
    );
    assert!(stderr(&o).contains("epoch 2/2"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("train: 2 epochs in "),
        "the wall time goes to the log: {}",
        stderr(&o)
    );
    assert!(!std::fs::read_dir(&out).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".tmp")));
}

/// Guards early cutoff in the engine: the run directory holds no wall time and no cache key,
/// so a re-run that reproduces the weights reproduces every byte of every output file, even
/// when its key changed (a comment in the trainer's code).
#[test]
fn same_seed_gives_byte_identical_run_directories_whatever_the_key() {
    let (dir, data) = tmp();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for (out, key) in [(&a, "key-before-a-comment"), (&b, "key-after-a-comment")] {
        let o = train_keyed(&data, out, &["--variant", "band5+G1"], key);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let (files_a, files_b) = (files(&a), files(&b));
    assert_eq!(
        files_a.keys().collect::<Vec<_>>(),
        [
            "config.json",
            "history.csv",
            "metrics.json",
            "model.safetensors"
        ]
    );
    for (name, bytes) in &files_a {
        assert!(bytes == &files_b[name], "`{name}` differs between re-runs");
    }
    let c = dir.path().join("c");
    assert!(train(&data, &c, &["--variant", "band5+G1", "--seed", "4"])
        .status
        .success());
    assert_ne!(history_lines(&a), history_lines(&c));
}

#[test]
fn nan_loss_stops_the_run_and_is_recorded() {
    let (dir, data) = tmp();
    let out = dir.path().join("run");
    let o = train(
        &data,
        &out,
        &["--lr", "1e38", "--epochs", "5", "--clip", "1e30"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["diverged"], true, "{metrics}");
    let epoch = metrics["diverged_epoch"].as_u64().unwrap();
    assert!(epoch < 5);
    assert_eq!(history_lines(&out).len() as u64, epoch + 1);
}

fn user_error(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_input_is_a_one_line_error_with_status_2() {
    let (dir, data) = tmp();
    let out = dir.path().join("run");
    user_error(
        &train(&data, &out, &["--variant", "topk5+G1"]),
        &["`topk5+G1`"],
    );
    user_error(&train(&data, &out, &["--activation", "tanh"]), &["`tanh`"]);
    user_error(&train(&dir.path().join("nope"), &out, &[]), &["nope"]);
    user_error(
        &train(&data, &out, &["--task", "parity"]),
        &["meta.json", "`task`", "even_pairs", "parity"],
    );
    user_error(&train(&data, &out, &["--blocks", "0"]), &["`--blocks`"]);
    std::fs::write(data.join("heldout.csv"), "label,tokens\n1,0 1 7\n").unwrap();
    user_error(
        &train(&data, &out, &[]),
        &["heldout.csv", "line 2", "token id 7"],
    );
    assert!(!out.join("metrics.json").exists());
}
