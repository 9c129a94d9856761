//! The `ablation-table` binary on synthetic ablation runs (numbers made up), summarised by the
//! `stats` library as the `ablation_stats` stage does.

use std::path::Path;
use std::process::Command;

use common::{Activation, Task, Variant, PAPER_SEEDS};
use stats::fixture::SyntheticRun;

fn setting(root: &Path, name: &str, arms: &[(Variant, &[Option<usize>])]) {
    let runs = root.join("ablations").join(name).join("listops");
    for (variant, convergence) in arms {
        for (i, conv) in convergence.iter().enumerate() {
            SyntheticRun::new(*variant, Activation::Relu, PAPER_SEEDS[i], 20, *conv, 0.6)
                .write(&runs, Task::Listops)
                .unwrap();
        }
    }
    let loaded = stats::load::load_runs(&runs, Task::Listops).unwrap();
    let summary = stats::summary::summarise(Task::Listops, &loaded);
    let dir = root.join("ablation_stats");
    std::fs::create_dir_all(&dir).unwrap();
    stats::output::write_outputs(
        &summary,
        &dir.join(format!("{name}.json")),
        &dir.join(format!("{name}.csv")),
    )
    .unwrap();
}

fn ablation_table(root: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ablation-table"))
        .args(["--stats", root.join("ablation_stats").to_str().unwrap()])
        .args(["--runs", root.join("ablations").to_str().unwrap()])
        .args(["--out", root.join("out").to_str().unwrap()])
        .args(["--profile", "smoke"])
        .env("REPRO_KEY", "ablation-key")
        .output()
        .unwrap()
}

#[test]
fn each_setting_shows_full_and_topk5_with_the_trained_values_and_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let full: &[Option<usize>] = &[Some(9), Some(10), Some(11)];
    let topk: &[Option<usize>] = &[Some(3), Some(4), Some(5)];
    setting(
        root,
        "heads-2",
        &[(Variant::Full, full), (Variant::Topk { k: 5 }, topk)],
    );
    setting(root, "adam-1e-3", &[(Variant::Topk { k: 5 }, topk)]);
    // The trainer's config.json of one heads-2 run: the table reads the values from it.
    let run = root.join(format!(
        "ablations/heads-2/listops/full/relu/{}",
        PAPER_SEEDS[0]
    ));
    std::fs::write(
        run.join("config.json"),
        r#"{"model": {"blocks": 10, "heads": 2}, "train": {"optimizer": "sgd", "lr": 1.0, "gamma": 0.99}}"#,
    )
    .unwrap();

    let out = ablation_table(root);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(root.join("out/ablations.md")).unwrap();
    assert!(
        md.contains(
            "| `heads-2` | 10 | 2 | sgd | 1 | 0.99 | full | 3 | 10.0 ± 1.0 (3/3) | 1 (ref.) |"
        ),
        "{md}"
    );
    assert!(md.contains("| topk5 | 3 | 4.0 ± 1.0 (3/3) | 2.50×"), "{md}");
    // No config for adam-1e-3 and no full runs: said so, not invented.
    assert!(
        md.contains("| `adam-1e-3` | ? | ? | ? | ? | ? | full | – | not run |"),
        "{md}"
    );
    // Settings in name order.
    assert!(md.find("adam-1e-3").unwrap() < md.find("heads-2").unwrap());

    let csv = std::fs::read_to_string(root.join("out/ablations.csv")).unwrap();
    let line = csv
        .lines()
        .find(|l| l.starts_with("heads-2,10,2,sgd,1,0.99,topk5,"))
        .unwrap_or_else(|| panic!("{csv}"));
    let mut seeds = PAPER_SEEDS[..3].to_vec();
    seeds.sort_unstable();
    let seeds: Vec<String> = seeds.iter().map(u64::to_string).collect();
    assert!(
        line.ends_with(&format!(",{},smoke,ablation-key", seeds.join(" "))),
        "the seeds behind the row, then the profile and the instance's key: {line}"
    );
    assert!(
        md.contains("\n_Profile `smoke`. Written by `ablation-table` as the instance whose cache key is `ablation-key`;"),
        "{md}"
    );
}

#[test]
fn a_malformed_summary_is_named_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("ablation_stats")).unwrap();
    std::fs::create_dir_all(root.join("ablations")).unwrap();
    std::fs::write(root.join("ablation_stats/lr-1_5.json"), "{\"task\": 3}").unwrap();
    let out = ablation_table(root);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lr-1_5.json"), "{err}");
    assert!(!root.join("out/ablations.md").exists());
}
