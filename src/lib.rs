//! `repro`: a declarative pipeline engine with a content-addressed cache.
//!
//! `pipeline.yaml` declares stages with a matrix of parameters; the engine expands them into
//! instances, infers the DAG from their inputs and outputs, keys each instance by the content of
//! everything it reads, re-runs only what changed, runs instances in parallel on CPU and GPU
//! slots, and verifies cached artifacts. It knows nothing about what the stages compute.
//!
//! The rooms, from input to output: `spec` (the file) → `graph` (instances and the DAG) →
//! `workspace` (what is stale; publishing; the lock file) over the passive `cache` → `settings`
//! (how this run runs) → `sched` (the dispatcher) → `exec` (executors) → `report` (progress);
//! `runreport` writes the run's HTML page afterwards; `cli` only parses, resolves and prints. See `docs/architecture.md`.

pub mod cache;
pub mod cli;
mod encode;
pub mod exec;
pub mod graph;
pub mod remote;
pub mod report;
pub mod runreport;
pub mod sched;
pub mod settings;
pub mod spec;
pub mod workspace;
