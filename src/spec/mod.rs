//! `pipeline.yaml`: schema types (serde only), positions, interpolation, and validation into a
//! [`Pipeline`] with one profile applied.

pub mod audit;
mod dims;
mod error;
pub mod interp;
mod load;
pub mod pack;
mod position;
pub(crate) mod priority;
pub mod progress;
pub mod report;
mod resources;
pub mod rules;
pub mod schema;
pub(crate) mod suggest;
mod words;

pub use audit::AuditPolicy;
pub use dims::Dims;
pub use error::{SpecError, SpecErrorKind};
pub use load::{load, parse, Pipeline, Stage};
pub use position::{DuplicateKey, Pos, PositionIndex};
pub use report::ReportSpec;
pub use resources::{
    check_gpus, parse_duration, parse_mem, parse_timeout, Resources, DURATION_FORMS,
};
