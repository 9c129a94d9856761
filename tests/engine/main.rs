//! Integration tests of the `repro` engine: each drives the real binary in a temporary
//! workspace whose stages are small `sh -c` commands, except `loader_props`, which feeds
//! generated text to the library's YAML loader. One test crate with modules, so the suite
//! links once.

mod batch_guards;
mod codekeys;
mod common;
mod concurrency;
mod cutoff;
mod depinfo;
mod deps;
mod errors;
mod gpus;
mod hardening;
mod interrupt;
mod invalidation;
mod keys;
mod loader_limits;
mod loader_props;
mod lockdiff;
mod order;
mod orphans;
mod overview;
mod pack;
#[path = "../support/process.rs"]
mod process;
mod profiles;
mod progress;
mod reference;
mod relocate;
mod report;
mod starter;
mod targets;
mod verify;
mod writers;
