//! Types shared by the stage programs that reproduce "Transformers Learn Faster with Semantic
//! Focus" (Ram et al., 2025): the eight tasks and their training settings, attention variants,
//! activations, the on-disk data format, the files a training run leaves for the statistics
//! (`run_output`) and seed derivation. Device choice for the libtorch stages is in the sibling
//! crate `common-torch` (`stages/common/torch`).
//!
//! Everything the stages agree on lives here so that the generator, the trainer, the probe and
//! the statistics read one definition. The facts come from `shared/SPEC.md`.

pub mod activation;
pub mod data;
pub mod error;
pub mod run_output;
pub mod seed;
pub mod task;
pub mod variant;

pub use activation::Activation;
pub use data::{DataMeta, Example};
pub use error::CommonError;
pub use task::{Task, TaskSettings};
pub use variant::Variant;

/// The ten seeds of the paper's repetitions (SPEC §4), in the authors' order.
pub const PAPER_SEEDS: [u64; 10] = [
    153476998, 235510766, 205084180, 129959864, 149896109, 140439608, 145017219, 162518970,
    245293503, 152674004,
];
