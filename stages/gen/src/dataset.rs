//! Assembles a data set: each split drawn from its own random stream, ListOps de-duplicated, and
//! the `meta.json` record.
//!
//! Splits are drawn in the order given (train, heldout, test). Split `name` uses the stream
//! `common::seed::derive(seed, name)`, so no two splits share a draw and an NNCH split depends
//! only on (task, seed, split name, size): its first `n` examples are the same for every size
//! at least `n`. For ListOps a set of every sequence kept so far rejects repeats within a split
//! and across splits, so a held-out or test tree never appears in train; a later split can
//! therefore depend on the earlier ones, though a repeated 500-token tree is vanishingly rare.

use std::collections::{BTreeMap, HashSet};

use common::data::DATA_FORMAT_VERSION;
use common::{DataMeta, Example, Task};

use crate::{draw, tasks};

/// One generated split.
#[derive(Debug)]
pub(crate) struct Split {
    /// `train`, `heldout` or `test`.
    pub(crate) name: &'static str,
    /// Its examples, in draw order.
    pub(crate) examples: Vec<Example>,
}

/// A generated data set: the splits and their `meta.json`.
#[derive(Debug)]
pub(crate) struct Dataset {
    /// The record written as `meta.json`.
    pub(crate) meta: DataMeta,
    /// The splits, in draw order.
    pub(crate) splits: Vec<Split>,
    /// Draws rejected as repeats (ListOps only).
    pub(crate) duplicates_rejected: usize,
}

/// Generates `sizes` (split name, number of examples) for `task` with `seed`.
pub(crate) fn generate(task: Task, seed: u64, sizes: &[(&'static str, usize)]) -> Dataset {
    let mut seen: HashSet<Vec<u32>> = HashSet::new();
    let mut duplicates_rejected = 0;
    let mut splits = Vec::with_capacity(sizes.len());
    for &(name, size) in sizes {
        let mut rng = draw::split_stream(seed, name);
        let mut examples = Vec::with_capacity(size);
        while examples.len() < size {
            let example = tasks::sample(task, &mut rng);
            if tasks::deduplicates(task) && !seen.insert(example.tokens.clone()) {
                duplicates_rejected += 1;
                continue;
            }
            examples.push(example);
        }
        splits.push(Split { name, examples });
    }
    let vocab: Vec<String> = tasks::vocab(task).iter().map(|t| (*t).to_owned()).collect();
    let meta = DataMeta {
        format: DATA_FORMAT_VERSION,
        task,
        seed,
        pad_id: (vocab.len() - 1) as u32,
        vocab,
        classes: task.classes(),
        max_len: splits
            .iter()
            .flat_map(|s| &s.examples)
            .map(|e| e.tokens.len())
            .max()
            .unwrap_or(0),
        splits: splits
            .iter()
            .map(|s| (s.name.to_owned(), s.examples.len()))
            .collect::<BTreeMap<_, _>>(),
        generator: tasks::params(task),
    };
    Dataset {
        meta,
        splits,
        duplicates_rejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_describes_the_splits() {
        let d = generate(Task::StackManipulation, 3, &[("train", 7), ("heldout", 5)]);
        assert_eq!(d.meta.splits["train"], 7);
        assert_eq!(d.meta.splits["heldout"], 5);
        assert_eq!(d.meta.max_len, 40);
        assert_eq!(d.meta.vocab[d.meta.pad_id as usize], "PAD");
        assert_eq!(d.meta.classes, 3);
    }

    #[test]
    fn an_nnch_split_does_not_depend_on_the_other_sizes() {
        let small = generate(Task::Parity, 9, &[("train", 3), ("heldout", 4)]);
        let large = generate(Task::Parity, 9, &[("train", 10), ("heldout", 4)]);
        assert_eq!(small.splits[1].examples, large.splits[1].examples);
        assert_eq!(small.splits[0].examples[..], large.splits[0].examples[..3]);
        assert_ne!(small.splits[0].examples[0], small.splits[1].examples[0]);
    }
}
