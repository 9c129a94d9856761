//! Stage instances, matrix expansion, the dependency DAG and target selection.

mod dag;
mod expand;
mod instance;
mod nomatch;
mod select;

pub use dag::Graph;
pub use expand::expand;
pub use instance::{instance_id, is_glob, normalise, Instance, Metrics, PackTemplate};
pub use nomatch::NoMatch;
pub use select::{matches, select};

use crate::spec::{Pipeline, SpecError};

/// Expands `pipeline` and builds its validated graph.
pub fn build(pipeline: &Pipeline) -> Result<Graph, SpecError> {
    Graph::build(pipeline, expand(pipeline)?)
}
