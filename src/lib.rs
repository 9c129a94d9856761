//! `repro`: a declarative pipeline engine with a content-addressed cache.
//!
//! `pipeline.yaml` declares stages with a matrix of parameters; the engine expands them into
//! instances, infers the DAG from their inputs and outputs, keys each instance by the content of
//! everything it reads, re-runs only what changed, runs instances in parallel on CPU and GPU
//! slots, and verifies cached artifacts. It knows nothing about what the stages compute.

pub mod cache;
pub mod cli;
pub mod exec;
pub mod graph;
pub mod report;
pub mod sched;
pub mod spec;
