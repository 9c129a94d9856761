//! The flags of a small single `train` run for tests (shared by the `cli` and `pack` test
//! crates): two blocks, two epochs on `data`, output in `out`, with `extra` pairs replacing or
//! adding flags.

use std::path::Path;

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
