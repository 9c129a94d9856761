//! Stage instances, matrix expansion, the dependency DAG and target selection.

mod dag;
mod expand;
mod instance;
mod select;

pub use dag::Graph;
pub use expand::expand;
pub use instance::{instance_id, is_glob, normalise, Instance, Metrics, PackTemplate};
pub use select::{matches, select, NoMatch};

use crate::spec::{Pipeline, SpecError};

/// Expands `pipeline` and builds its validated graph.
pub fn build(pipeline: &Pipeline) -> Result<Graph, SpecError> {
    Graph::build(pipeline, expand(pipeline)?)
}
