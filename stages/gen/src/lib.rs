//! The `gen` stage: generators for the paper's eight sequence-classification data sets
//! (SPEC §1), in pure Rust so that the data never depends on libtorch or Python.
//!
//! How it fits together:
//! - [`cli`] validates the command line into a request, creates the output directory, asks
//!   `dataset` for the splits and writes them with `common::data`.
//! - `dataset` draws each split from its own random stream (`common::seed::derive(seed,
//!   split)`), de-duplicates ListOps, and assembles `meta.json`.
//! - `tasks` holds one module per task (vocabulary, one-example sampler, parameters for the
//!   record); `expr` is the bracketed-expression generator `gen(L)` shared by
//!   modular_arithmetic_brackets and solve_equation.
//! - `draw` is the only place that turns random bits into numbers, with fixed algorithms, so
//!   output is bit-identical on every machine and across `rand` releases.
//!
//! Known limits: splits are materialised in memory (a few MB for the paper's sizes); NNCH splits
//! are not de-duplicated (the input spaces have 2^40 or more sequences, as in the authors' code).

pub mod cli;
mod dataset;
mod draw;
mod error;
mod expr;
mod tasks;
mod vocab;

pub use cli::{run, Args};
pub use error::GenError;
