//! Running the binary and reading a data directory back, plus one shared sample per task
//! (generated once per test process, held in memory) for the tests that only read.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::data::read_split;
use common::{DataMeta, Example, Task};

/// Seed of the shared samples.
pub(crate) const SAMPLE_SEED: u64 = 20250617;
/// Examples per split in the shared samples.
pub(crate) const SAMPLE_SIZE: usize = 300;

/// Runs `gen` with `args` and returns its output.
pub(crate) fn run_gen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gen"))
        .args(args)
        .output()
        .expect("spawn gen")
}

/// Runs `gen` for `task` into `dir` and asserts success. `test` is passed for ListOps only.
pub(crate) fn generate(
    dir: &Path,
    task: Task,
    seed: u64,
    train: usize,
    heldout: usize,
    test: usize,
) {
    let (seed, train, heldout, test) = (
        seed.to_string(),
        train.to_string(),
        heldout.to_string(),
        test.to_string(),
    );
    let mut args = vec![
        "--task",
        task.name(),
        "--seed",
        &seed,
        "--train",
        &train,
        "--heldout",
        &heldout,
    ];
    if task == Task::Listops {
        args.extend(["--test", &test]);
    }
    args.extend(["--out", dir.to_str().expect("utf-8 temp path")]);
    let out = run_gen(&args);
    assert!(
        out.status.success(),
        "gen {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "gen wrote to stdout");
}

/// A data directory read back.
pub(crate) struct Data {
    /// `meta.json`.
    pub(crate) meta: DataMeta,
    /// Split name and examples, in `meta.splits` order (alphabetical).
    pub(crate) splits: Vec<(String, Vec<Example>)>,
}

impl Data {
    /// The token strings of `example`, via the vocabulary in `meta.json`.
    pub(crate) fn strings(&self, example: &Example) -> Vec<&str> {
        example
            .tokens
            .iter()
            .map(|&t| self.meta.vocab[t as usize].as_str())
            .collect()
    }

    /// Every example of every split.
    pub(crate) fn examples(&self) -> impl Iterator<Item = &Example> {
        self.splits.iter().flat_map(|(_, e)| e)
    }
}

/// Reads `dir`: `meta.json` and every split it lists.
pub(crate) fn read(dir: &Path) -> Data {
    let meta = DataMeta::read(dir).expect("meta.json");
    let splits = meta
        .splits
        .keys()
        .map(|name| {
            let examples = read_split(
                &dir.join(format!("{name}.csv")),
                meta.vocab.len(),
                meta.classes,
            )
            .expect("split");
            (name.clone(), examples)
        })
        .collect();
    Data { meta, splits }
}

/// The shared sample of `task`: [`SAMPLE_SIZE`] examples in every split, seed [`SAMPLE_SEED`].
pub(crate) fn sample(task: Task) -> &'static Data {
    static SAMPLES: [OnceLock<Data>; 8] = [const { OnceLock::new() }; 8];
    let slot = Task::ALL
        .iter()
        .position(|t| *t == task)
        .expect("known task");
    SAMPLES[slot].get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        generate(
            dir.path(),
            task,
            SAMPLE_SEED,
            SAMPLE_SIZE,
            SAMPLE_SIZE,
            SAMPLE_SIZE,
        );
        read(dir.path())
    })
}
