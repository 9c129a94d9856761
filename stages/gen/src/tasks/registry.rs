//! Dispatch from [`Task`] to the task modules, and the parameters common to every task's
//! record in `meta.json`.

use common::{Example, Task};
use serde_json::{json, Value};

use super::{
    cycle_navigation, even_pairs, listops, missing_duplicate, modular_arithmetic_brackets, parity,
    solve_equation, stack_manipulation,
};
use crate::draw::Rng;

/// Version of the generators' algorithms, recorded in `meta.json`. Bump it whenever the output
/// for a given (task, seed, split, size) changes; the golden digests in the tests then change too.
const GENERATOR_VERSION: u32 = 1;

/// The task's vocabulary: token strings, a token's id is its index, `PAD` last.
pub(crate) fn vocab(task: Task) -> &'static [&'static str] {
    match task {
        Task::Listops => listops::VOCAB,
        Task::Parity => parity::VOCAB,
        Task::EvenPairs => even_pairs::VOCAB,
        Task::MissingDuplicate => missing_duplicate::VOCAB,
        Task::CycleNavigation => cycle_navigation::VOCAB,
        Task::StackManipulation => stack_manipulation::VOCAB,
        Task::ModularArithmeticBrackets => modular_arithmetic_brackets::VOCAB,
        Task::SolveEquation => solve_equation::VOCAB,
    }
}

/// Draws one example of `task` from `rng`.
pub(crate) fn sample(task: Task, rng: &mut Rng) -> Example {
    match task {
        Task::Listops => listops::sample(rng),
        Task::Parity => parity::sample(rng),
        Task::EvenPairs => even_pairs::sample(rng),
        Task::MissingDuplicate => missing_duplicate::sample(rng),
        Task::CycleNavigation => cycle_navigation::sample(rng),
        Task::StackManipulation => stack_manipulation::sample(rng),
        Task::ModularArithmeticBrackets => modular_arithmetic_brackets::sample(rng),
        Task::SolveEquation => solve_equation::sample(rng),
    }
}

/// Whether the task's splits are de-duplicated (within and across splits): ListOps only, as in
/// Long Range Arena. The NNCH tasks draw i.i.d. sequences from spaces of 2^40 or more.
pub(crate) fn deduplicates(task: Task) -> bool {
    task == Task::Listops
}

/// The `generator` object of `meta.json`: the task's parameters plus what every task shares.
pub(crate) fn params(task: Task) -> Value {
    let specific = match task {
        Task::Listops => listops::params(),
        Task::Parity => parity::params(),
        Task::EvenPairs => even_pairs::params(),
        Task::MissingDuplicate => missing_duplicate::params(),
        Task::CycleNavigation => cycle_navigation::params(),
        Task::StackManipulation => stack_manipulation::params(),
        Task::ModularArithmeticBrackets => modular_arithmetic_brackets::params(),
        Task::SolveEquation => solve_equation::params(),
    };
    let mut record = json!({
        "version": GENERATOR_VERSION,
        "rng": "ChaCha8, seeded per split with common::seed::derive(seed, split)",
        "deduplicated": deduplicates(task),
    });
    if let (Some(all), Value::Object(extra)) = (record.as_object_mut(), specific) {
        all.extend(extra);
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draw;

    #[test]
    fn every_vocabulary_ends_with_pad_and_has_no_duplicates() {
        for task in Task::ALL {
            let v = vocab(task);
            assert_eq!(v.last(), Some(&crate::vocab::PAD), "{task}");
            let distinct: std::collections::HashSet<_> = v.iter().collect();
            assert_eq!(distinct.len(), v.len(), "{task}");
        }
    }

    #[test]
    fn samples_use_the_vocabulary_without_pad_and_labels_fit_the_classes() {
        for task in Task::ALL {
            let mut rng = draw::split_stream(5, "test");
            let pad = (vocab(task).len() - 1) as u32;
            for _ in 0..50 {
                let ex = sample(task, &mut rng);
                assert!(
                    ex.tokens.iter().all(|&t| t < pad),
                    "{task}: {:?}",
                    ex.tokens
                );
                assert!((ex.label as usize) < task.classes(), "{task}");
                assert!(ex.tokens.len() <= task.max_len(), "{task}");
            }
        }
    }

    #[test]
    fn params_carry_the_version_and_task_fields() {
        let p = params(Task::Listops);
        assert_eq!(p["version"], GENERATOR_VERSION);
        assert_eq!(p["max_depth"], 10);
        assert_eq!(params(Task::Parity)["length"], 40);
    }
}
