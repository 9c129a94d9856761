//! Lengths, vocabulary use and `meta.json` consistency on the shared samples.

use std::collections::BTreeSet;

use common::Task;

use crate::support::{sample, SAMPLE_SIZE};

#[test]
fn sequences_have_the_specified_lengths() {
    for task in Task::ALL {
        let data = sample(task);
        for ex in data.examples() {
            let n = ex.tokens.len();
            match task {
                Task::Listops => assert!((501..=599).contains(&n), "listops length {n}"),
                _ => assert_eq!(n, 40, "{task}"),
            }
        }
    }
}

#[test]
fn every_token_but_pad_is_used_and_pad_never() {
    for task in Task::ALL {
        let data = sample(task);
        let used: BTreeSet<u32> = data
            .examples()
            .flat_map(|e| e.tokens.iter().copied())
            .collect();
        let expected: BTreeSet<u32> = (0..data.meta.pad_id).collect();
        assert_eq!(used, expected, "{task}: vocabulary {:?}", data.meta.vocab);
    }
}

#[test]
fn meta_matches_the_files() {
    for task in Task::ALL {
        let data = sample(task);
        let meta = &data.meta;
        assert_eq!(meta.task, task);
        assert_eq!(meta.vocab.last().map(String::as_str), Some("PAD"), "{task}");
        assert_eq!(meta.pad_id as usize, meta.vocab.len() - 1, "{task}");
        assert_eq!(meta.classes, task.classes(), "{task}");
        let max = data.examples().map(|e| e.tokens.len()).max().unwrap();
        assert_eq!(meta.max_len, max, "{task}");
        assert!(meta.max_len <= task.max_len(), "{task}");
        let names: Vec<&str> = meta.splits.keys().map(String::as_str).collect();
        let expected = if task == Task::Listops {
            vec!["heldout", "test", "train"]
        } else {
            vec!["heldout", "train"]
        };
        assert_eq!(names, expected, "{task}");
        assert!(meta.splits.values().all(|&n| n == SAMPLE_SIZE), "{task}");
        assert!(
            meta.generator["version"].is_u64(),
            "{task}: {}",
            meta.generator
        );
    }
}
