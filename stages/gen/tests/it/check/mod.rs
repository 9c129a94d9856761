//! An independent implementation of the eight task definitions (SPEC §1), used only to judge the
//! generator's output. It reads token strings (through `meta.json`'s vocabulary, never the
//! generator's ids), validates each sequence's structure, and recomputes the label:
//! - `arith`: a recursive-descent evaluator with the usual precedence, mod 5;
//! - `listops`: a recursive-descent ListOps evaluator that also checks depth and arity;
//! - `sequences`: counts, the missing-duplicate twin and a stack simulator;
//! - `laws`: the exact label distributions the definitions imply, by dynamic programming.

pub(crate) mod arith;
pub(crate) mod laws;
pub(crate) mod listops;
pub(crate) mod sequences;

use common::Task;

/// Checks the structure of `tokens` for `task` and returns the label the definition gives.
pub(crate) fn label(task: Task, tokens: &[&str]) -> Result<u32, String> {
    match task {
        Task::Listops => listops::value(tokens),
        Task::Parity => sequences::parity(tokens),
        Task::EvenPairs => sequences::even_pairs(tokens),
        Task::MissingDuplicate => sequences::missing_duplicate(tokens),
        Task::CycleNavigation => sequences::cycle_navigation(tokens),
        Task::StackManipulation => sequences::stack_manipulation(tokens),
        Task::ModularArithmeticBrackets => arith::brackets(tokens),
        Task::SolveEquation => arith::solve_equation(tokens),
    }
}
