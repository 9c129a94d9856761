//! Integration tests of the `gen` binary, one test executable (faster to link than one per
//! file). Every test drives the real binary (`CARGO_BIN_EXE_gen`) and reads its files back with
//! `common::data`, then judges them with `check`, an implementation of the task definitions
//! written separately from the generators (SPEC §1): a recursive-descent evaluator for
//! bracketed expressions and for ListOps, a stack simulator, and plain counts.

mod balance;
mod check;
mod cli;
mod determinism;
mod labels;
mod shape;
mod support;
