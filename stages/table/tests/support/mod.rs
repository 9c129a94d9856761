//! Synthetic studies for the `table` integration tests: training runs written with
//! `stats::fixture`, summarised through the `stats` library exactly as the `stats` binary does,
//! plus probe JSON files in the agreed shape. The numbers are made up.

#![allow(dead_code)] // each test binary uses a different part of the support module

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Activation, Task, Variant, PAPER_SEEDS};
use stats::fixture::SyntheticRun;

pub(crate) const FULL: Variant = Variant::Full;
pub(crate) const TOPK5: Variant = Variant::Topk { k: 5 };
pub(crate) const BAND5: Variant = Variant::Band { k: 5, globals: 0 };
pub(crate) const BLOC5: Variant = Variant::Bloc { k: 5, globals: 0 };
pub(crate) const BAND5G1: Variant = Variant::Band { k: 5, globals: 1 };
pub(crate) const BLOC5G1: Variant = Variant::Bloc { k: 5, globals: 1 };

/// Per variant: convergence epoch per seed index (None = never) and final held-out accuracy;
/// the seeds are the paper's, from index `first_seed` on.
pub(crate) struct Arm {
    pub(crate) variant: Variant,
    pub(crate) convergence: Vec<Option<usize>>,
    pub(crate) heldout: f64,
    pub(crate) first_seed: usize,
}

/// An arm on the paper's first seeds.
pub(crate) fn arm(variant: Variant, convergence: &[Option<usize>], heldout: f64) -> Arm {
    arm_from(0, variant, convergence, heldout)
}

/// An arm on the paper's seeds from index `first_seed` on (arms with disjoint seeds share none).
pub(crate) fn arm_from(
    first_seed: usize,
    variant: Variant,
    convergence: &[Option<usize>],
    heldout: f64,
) -> Arm {
    Arm {
        variant,
        convergence: convergence.to_vec(),
        heldout,
        first_seed,
    }
}

/// A temporary study: `runs/TASK/...`, `stats/TASK.json`, `probes/*.json`, `out/`.
pub(crate) struct Study {
    pub(crate) tmp: tempfile::TempDir,
}

impl Study {
    pub(crate) fn new() -> Study {
        let study = Study {
            tmp: tempfile::tempdir().unwrap(),
        };
        for d in ["stats", "probes", "out"] {
            std::fs::create_dir_all(study.tmp.path().join(d)).unwrap();
        }
        study
    }

    pub(crate) fn stats_dir(&self) -> PathBuf {
        self.tmp.path().join("stats")
    }

    pub(crate) fn probes_dir(&self) -> PathBuf {
        self.tmp.path().join("probes")
    }

    pub(crate) fn out_dir(&self) -> PathBuf {
        self.tmp.path().join("out")
    }

    /// Writes the runs of `task` (one run per arm and seed; the seeds are the paper's, from the
    /// arm's `first_seed` on) and summarises them into `stats/TASK.json`.
    pub(crate) fn task(
        &self,
        task: Task,
        activation: Activation,
        epochs: usize,
        arms: &[Arm],
    ) -> &Study {
        let runs = self.tmp.path().join("runs").join(task.name());
        for a in arms {
            for (i, conv) in a.convergence.iter().enumerate() {
                // Small per-seed jitter on the held-out accuracy, deterministic.
                let heldout = (a.heldout + 0.002 * (i as f64 - 2.0)).clamp(0.0, 1.0);
                SyntheticRun::new(
                    a.variant,
                    activation,
                    PAPER_SEEDS[a.first_seed + i],
                    epochs,
                    *conv,
                    heldout,
                )
                .write(&runs, task)
                .unwrap();
            }
        }
        let loaded = stats::load::load_runs(&runs, task).unwrap();
        let summary = stats::summary::summarise(task, &loaded);
        let json = self.stats_dir().join(format!("{task}.json"));
        let csv = self.stats_dir().join(format!("{task}.csv"));
        stats::output::write_outputs(&summary, &json, &csv).unwrap();
        self
    }

    /// Writes a probe file for (`task`, `variant`, `seed`); `scale` scales every percentile.
    pub(crate) fn probe(&self, task: Task, variant: Variant, seed: u64, scale: f64) -> &Study {
        let topk = matches!(variant, Variant::Topk { .. });
        let sep = if topk {
            format!(
                r#"{{"p25": {}, "p10": {}, "p5": {}, "p0": {}}}"#,
                0.02 * scale,
                0.007 * scale,
                0.003 * scale,
                2e-9 * scale
            )
        } else {
            "null".to_owned()
        };
        let beta = if topk {
            r#"{"p75": 4, "p90": 9, "p95": 14, "p100": 31}"#.to_owned()
        } else {
            "null".to_owned()
        };
        let text = format!(
            r#"{{"task": "{task}", "variant": "{variant}", "seed": {seed},
"delta": {{"p75": {}, "p90": {}, "p95": {}, "p100": {}}},
"sep": {sep}, "beta": {beta}}}
"#,
            3.0 * scale,
            6.5 * scale,
            9.25 * scale,
            27.0 * scale,
        );
        // The pipeline's layout: probes/TASK/VARIANT.json.
        let dir = self.probes_dir().join(task.name());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{variant}.json")), text).unwrap();
        self
    }

    /// Runs the real `table` binary.
    pub(crate) fn run_table(&self) -> Outcome {
        run_table(&self.stats_dir(), &self.probes_dir(), &self.out_dir())
    }

    pub(crate) fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.out_dir().join(relative))
            .unwrap_or_else(|e| panic!("{relative}: {e}"))
    }
}

pub(crate) struct Outcome {
    pub(crate) code: i32,
    pub(crate) stderr: String,
}

pub(crate) fn run_table(stats: &Path, probes: &Path, out: &Path) -> Outcome {
    let output = Command::new(env!("CARGO_BIN_EXE_table"))
        .arg("--stats")
        .arg(stats)
        .arg("--probes")
        .arg(probes)
        .arg("--out")
        .arg(out)
        .args(["--profile", "smoke"])
        .env("REPRO_KEY", "table-key")
        .output()
        .expect("table runs");
    let outcome = Outcome {
        code: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    // Debugging aid: TABLE_TEST_KEEP=DIR copies the outputs of the last run there.
    if let Ok(keep) = std::env::var("TABLE_TEST_KEEP") {
        let keep = PathBuf::from(keep);
        copy_dir(out, &keep);
    }
    outcome
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// The quick-profile-like study: even_pairs, missing_duplicate and parity under relu with five
/// seeds and six variants; topk5 converges several times faster, band/bloc do not; parity
/// does not generalize. Probes of even_pairs (full, topk5).
pub(crate) fn quick_study() -> Study {
    let s = Study::new();
    let relu = Activation::Relu;
    let c = |v: &[usize]| v.iter().map(|e| Some(*e)).collect::<Vec<_>>();
    s.task(
        Task::EvenPairs,
        relu,
        30,
        &[
            arm(FULL, &c(&[20, 22, 19, 25, 21]), 0.95),
            arm(BAND5, &c(&[22, 21, 24, 26, 20]), 0.93),
            arm(BLOC5, &c(&[18, 25, 23, 24, 22]), 0.92),
            arm(BAND5G1, &c(&[21, 23, 20, 27, 19]), 0.94),
            arm(BLOC5G1, &c(&[23, 22, 18, 26, 24]), 0.94),
            arm(TOPK5, &c(&[5, 6, 4, 7, 5]), 0.96),
        ],
    );
    s.task(
        Task::MissingDuplicate,
        relu,
        40,
        &[
            arm(FULL, &[Some(30), Some(35), None, Some(33), Some(31)], 0.90),
            arm(BAND5, &[Some(34), None, Some(36), Some(30), None], 0.85),
            arm(
                BLOC5,
                &[Some(31), Some(33), Some(38), Some(29), Some(35)],
                0.86,
            ),
            arm(
                BAND5G1,
                &[Some(28), Some(36), Some(32), Some(34), Some(30)],
                0.88,
            ),
            arm(
                BLOC5G1,
                &[Some(33), Some(30), Some(37), Some(31), Some(36)],
                0.88,
            ),
            arm(TOPK5, &c(&[8, 10, 9, 12, 7]), 0.91),
        ],
    );
    s.task(
        Task::Parity,
        relu,
        50,
        &[
            arm(FULL, &c(&[40, 45, 38, 42, 44]), 0.51),
            arm(BAND5, &[None, None, Some(48), None, None], 0.50),
            arm(BLOC5, &[None, Some(47), None, None, Some(49)], 0.50),
            arm(BAND5G1, &[Some(46), None, Some(44), None, Some(47)], 0.50),
            arm(BLOC5G1, &[None, None, None, Some(45), None], 0.50),
            arm(TOPK5, &c(&[12, 15, 11, 14, 13]), 0.50),
        ],
    );
    s.probe(Task::EvenPairs, FULL, PAPER_SEEDS[0], 2.0).probe(
        Task::EvenPairs,
        TOPK5,
        PAPER_SEEDS[0],
        1.0,
    );
    s
}
