//! The eight sequence-classification tasks (SPEC §1) and their training settings (SPEC §4).

use std::fmt;
use std::str::FromStr;

use crate::CommonError;

/// One of the paper's eight tasks: ListOps and seven neural-networks-and-the-Chomsky-hierarchy
/// (NNCH) tasks.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Long Range Arena ListOps: nested MIN/MAX/MED/SM expressions of 501..599 tokens.
    Listops,
    /// Number of ones mod 2 over 40 bits.
    Parity,
    /// Number of adjacent unequal pairs mod 2 over 40 bits.
    EvenPairs,
    /// The hidden bit of `s‖s` with one position replaced by MISSING.
    MissingDuplicate,
    /// Sum of moves in {-1, 0, +1} mod 5.
    CycleNavigation,
    /// Top of a stack after random POP/PUSH actions.
    StackManipulation,
    /// Value mod 5 of a random bracketed expression of 40 characters.
    ModularArithmeticBrackets,
    /// The digit replaced by `x` in an equation mod 5.
    SolveEquation,
}

/// The per-task training settings of SPEC §4.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskSettings {
    /// Number of transformer blocks.
    pub blocks: usize,
    /// Initial SGD learning rate.
    pub lr: f64,
    /// Learning-rate multiplier applied after every epoch.
    pub gamma: f64,
    /// Number of training epochs.
    pub epochs: usize,
}

impl Task {
    /// All tasks, in the order of the paper's tables.
    pub const ALL: [Task; 8] = [
        Task::Listops,
        Task::Parity,
        Task::EvenPairs,
        Task::MissingDuplicate,
        Task::CycleNavigation,
        Task::StackManipulation,
        Task::ModularArithmeticBrackets,
        Task::SolveEquation,
    ];

    /// The snake_case name used on command lines, in paths and in `pipeline.yaml`.
    pub fn name(self) -> &'static str {
        match self {
            Task::Listops => "listops",
            Task::Parity => "parity",
            Task::EvenPairs => "even_pairs",
            Task::MissingDuplicate => "missing_duplicate",
            Task::CycleNavigation => "cycle_navigation",
            Task::StackManipulation => "stack_manipulation",
            Task::ModularArithmeticBrackets => "modular_arithmetic_brackets",
            Task::SolveEquation => "solve_equation",
        }
    }

    /// Number of output classes.
    pub fn classes(self) -> usize {
        match self {
            Task::Listops => 10,
            Task::Parity | Task::EvenPairs | Task::MissingDuplicate => 2,
            Task::StackManipulation => 3,
            Task::CycleNavigation | Task::ModularArithmeticBrackets | Task::SolveEquation => 5,
        }
    }

    /// Longest unpadded sequence the generator emits (ListOps: 599; the NNCH tasks: 40).
    pub fn max_len(self) -> usize {
        match self {
            Task::Listops => 599,
            _ => 40,
        }
    }

    /// The paper's training settings for this task (SPEC §4).
    pub fn settings(self) -> TaskSettings {
        let nnch = |epochs| TaskSettings {
            blocks: 5,
            lr: 0.1,
            gamma: 0.9995,
            epochs,
        };
        match self {
            Task::Listops => TaskSettings {
                blocks: 10,
                lr: 1.0,
                gamma: 0.99,
                epochs: 200,
            },
            Task::EvenPairs => nnch(100),
            Task::Parity => nnch(1000),
            Task::MissingDuplicate => nnch(250),
            Task::StackManipulation => nnch(200),
            Task::ModularArithmeticBrackets => nnch(600),
            Task::SolveEquation => nnch(600),
            Task::CycleNavigation => nnch(750),
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Task {
    type Err = CommonError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Task::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| CommonError::UnknownTask(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_rejected() {
        for t in Task::ALL {
            assert_eq!(t.name().parse::<Task>().unwrap(), t);
        }
        let err = "listop".parse::<Task>().unwrap_err().to_string();
        assert!(
            err.contains("`listop`") && err.contains("even_pairs"),
            "{err}"
        );
    }

    #[test]
    fn settings_follow_the_spec_table() {
        assert_eq!(Task::Listops.settings().blocks, 10);
        assert_eq!(Task::Parity.settings().epochs, 1000);
        assert_eq!(Task::CycleNavigation.settings().epochs, 750);
        assert!(Task::ALL.iter().skip(1).all(|t| t.settings().blocks == 5));
    }
}
