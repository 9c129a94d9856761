//! `pipeline.yaml`: schema types (serde only), positions, interpolation, and validation into a
//! [`Pipeline`] with one profile applied.

mod error;
pub mod interp;
mod load;
mod position;
pub mod rules;
pub mod schema;
mod words;

pub use error::{SpecError, SpecErrorKind};
pub use load::{check_gpus, load, parse, parse_mem, parse_timeout, Pipeline, Resources, Stage};
pub use position::{DuplicateKey, Pos, PositionIndex};
