//! Every label of every split of every task, recomputed by the independent checker.

use common::Task;

use crate::check;
use crate::support::sample;

fn labels_match_the_definition(task: Task) {
    let data = sample(task);
    for (split, examples) in &data.splits {
        assert!(!examples.is_empty(), "{task} {split} empty");
        for (i, ex) in examples.iter().enumerate() {
            let strings = data.strings(ex);
            match check::label(task, &strings) {
                Ok(label) => assert_eq!(
                    label,
                    ex.label,
                    "{task} {split} example {i}: {}",
                    strings.join(" ")
                ),
                Err(why) => panic!(
                    "{task} {split} example {i} malformed ({why}): {}",
                    strings.join(" ")
                ),
            }
        }
    }
}

#[test]
fn listops_labels_match_the_definition() {
    labels_match_the_definition(Task::Listops);
}

#[test]
fn parity_labels_match_the_definition() {
    labels_match_the_definition(Task::Parity);
}

#[test]
fn even_pairs_labels_match_the_definition() {
    labels_match_the_definition(Task::EvenPairs);
}

#[test]
fn missing_duplicate_labels_match_the_definition() {
    labels_match_the_definition(Task::MissingDuplicate);
}

#[test]
fn cycle_navigation_labels_match_the_definition() {
    labels_match_the_definition(Task::CycleNavigation);
}

#[test]
fn stack_manipulation_labels_match_the_definition() {
    labels_match_the_definition(Task::StackManipulation);
}

#[test]
fn modular_arithmetic_brackets_labels_match_the_definition() {
    labels_match_the_definition(Task::ModularArithmeticBrackets);
}

#[test]
fn solve_equation_labels_match_the_definition() {
    labels_match_the_definition(Task::SolveEquation);
}
