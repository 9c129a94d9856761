//! One module per task, each with the same three items: `VOCAB` (token strings, `PAD` last),
//! `sample` (draws one example from a random stream) and `params` (the generator's parameters
//! for `meta.json`). `registry` dispatches on [`common::Task`].

mod cycle_navigation;
mod even_pairs;
mod listops;
mod missing_duplicate;
mod modular_arithmetic_brackets;
mod parity;
mod registry;
mod solve_equation;
mod stack_manipulation;

pub(crate) use registry::{deduplicates, params, sample, vocab};

/// Sequence length of every NNCH task (SPEC §1).
pub(crate) const NNCH_LEN: usize = 40;
