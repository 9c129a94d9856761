//! `train --pack MANIFEST`: many training runs in one process, trained as stacked models.
//!
//! Each member is exactly its single run with one worker (same initialisation, data order,
//! dropout stream, clipping, schedule, stopping and outputs), but members that share their
//! shapes are trained together as one model whose parameters have a leading member dimension
//! (`model`), so that one process does the work of many with large, few kernels. What is not
//! about the stack is the single run's own code, not a copy kept in step: a member is set up by
//! `setup::prepare_run` (`member`), stops by `stopping::stop_reason`, reports with `progress`
//! and writes its files with `record`. `manifest` reads the engine's manifest, `dropout`,
//! `mask` and `optim` keep every member's single-run semantics inside the stack, `train_loop`
//! runs the epochs and removes members as they stop, `run` is the command (`--pack` itself is
//! parsed with the single run's flags, in `cli::Command`).
//!
//! Limits: on CUDA dropout uses the native kernel over the whole stack, as a single run does
//! there, so dropped elements (and hence results) match a single run only on the CPU.

pub mod dropout;
pub mod manifest;
pub mod mask;
pub mod member;
pub mod model;
pub mod optim;
pub mod run;
pub mod train_loop;

pub use run::run_pack;
