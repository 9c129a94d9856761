//! A small single `train` run for tests, shared by the `cli` and `pack` test crates: an
//! even_pairs data set written directly (length 40, label: first and last token differ) and
//! the flags of a two-block, two-epoch run on it.

use std::path::Path;

use common::{data, DataMeta, Example, Task};
use rand::{Rng, SeedableRng};

/// Writes an even_pairs data set (`meta.json`, `train.csv`, `heldout.csv`) drawn from `seed`.
pub(crate) fn write_data(dir: &Path, seed: u64, train: usize, heldout: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut draw = |n: usize| -> Vec<Example> {
        (0..n)
            .map(|_| {
                let tokens: Vec<u32> = (0..40).map(|_| rng.gen_range(0..2)).collect();
                let label = u32::from(tokens[0] != tokens[39]);
                Example { tokens, label }
            })
            .collect()
    };
    data::write_split(&dir.join("train.csv"), &draw(train)).unwrap();
    data::write_split(&dir.join("heldout.csv"), &draw(heldout)).unwrap();
    let meta = DataMeta {
        format: data::DATA_FORMAT_VERSION,
        task: Task::EvenPairs,
        seed,
        vocab: vec!["0".into(), "1".into(), "PAD".into()],
        pad_id: 2,
        classes: 2,
        max_len: 40,
        splits: [("train".to_owned(), train), ("heldout".to_owned(), heldout)]
            .into_iter()
            .collect(),
        generator: serde_json::json!({}),
    };
    meta.write(dir).unwrap();
}

/// `(flag, value)` pairs: the defaults with `variant`, then `extra` (`["--seed", "4", ...]`).
pub(crate) fn run_flags(data: &Path, out: &Path, variant: &str, extra: &[&str]) -> Vec<String> {
    let mut flags: Vec<(String, String)> = [
        ("--data", data.to_str().unwrap()),
        ("--task", "even_pairs"),
        ("--variant", variant),
        ("--activation", "relu"),
        ("--seed", "3"),
        ("--epochs", "2"),
        ("--lr", "0.1"),
        ("--gamma", "0.9"),
        ("--blocks", "2"),
        ("--out", out.to_str().unwrap()),
    ]
    .iter()
    .map(|(f, v)| (f.to_string(), v.to_string()))
    .collect();
    for pair in extra.chunks(2) {
        match flags.iter_mut().find(|(f, _)| f == pair[0]) {
            Some(slot) => slot.1 = pair[1].to_owned(),
            None => flags.push((pair[0].to_owned(), pair[1].to_owned())),
        }
    }
    flags.into_iter().flat_map(|(f, v)| [f, v]).collect()
}
