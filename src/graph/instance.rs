//! A stage instance: one combination of a stage's matrix, with every template resolved.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::spec::{Dims, Resources};

/// One runnable unit of the pipeline.
#[derive(Debug, Clone)]
pub struct Instance {
    /// `stage@dim=value,...` with dimensions in name order; just `stage` without a matrix.
    pub id: String,
    /// Index of the stage template in `Pipeline::stages`.
    pub stage: usize,
    /// Stage name.
    pub stage_name: String,
    /// Dimension values.
    pub matrix: Dims,
    /// Resolved argv.
    pub argv: Vec<String>,
    /// Resolved extra environment (enters the key).
    pub env: BTreeMap<String, String>,
    /// Parameter path to value: declared parameters and those the templates read.
    pub params: BTreeMap<String, Value>,
    /// Normalised dependency paths or glob patterns, relative to the workspace root.
    pub deps: Vec<String>,
    /// Normalised output paths, relative to the workspace root.
    pub outs: Vec<String>,
    /// Code entries (package names or globs).
    pub code: Vec<String>,
    /// Resource request.
    pub resources: Resources,
    /// The longest it may run (not part of its key).
    pub timeout: Option<std::time::Duration>,
    /// Of the instances waiting for slots, higher starts first (not part of its key).
    pub priority: i64,
    /// Metrics to record, with resolved file paths (boxed, as `pack`: most instances have
    /// neither, and a wide pipeline holds tens of thousands of instances).
    pub metrics: Option<Box<Metrics>>,
    /// How it may share a process with others of its stage, if the stage declares `pack:`.
    pub pack: Option<Box<PackTemplate>>,
}

/// Stands for the manifest path in a resolved pack command until the pack forms (a NUL can
/// appear in no resolved argument, so it cannot be confused with one).
pub(crate) const MANIFEST_SENTINEL: &str = "\0pack.manifest\0";

/// An instance's resolved `pack:`: instances with the same `group` may run as one process.
#[derive(Debug, Clone, PartialEq)]
pub struct PackTemplate {
    /// The stage and the values of its dimensions outside `by` (`train@activation=relu,...`).
    pub group: String,
    /// The pack's argv, [`MANIFEST_SENTINEL`] where the manifest path goes.
    pub argv: Vec<String>,
    /// The most members in one pack.
    pub max: usize,
    /// What the pack holds while it runs.
    pub resources: Resources,
}

impl PackTemplate {
    /// The pack's argv with `manifest` as the manifest path.
    pub fn argv_for(&self, manifest: &str) -> Vec<String> {
        self.argv
            .iter()
            .map(|a| a.replace(MANIFEST_SENTINEL, manifest))
            .collect()
    }
}

/// Resolved `metrics:` of an instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// Workspace-relative JSON files, each inside one of the instance's outputs.
    pub files: Vec<String>,
    /// Dotted field paths.
    pub fields: Vec<String>,
    /// Accepted absolute difference.
    pub tolerance: f64,
}

/// The instance id for a stage and its dimension values.
pub fn instance_id(stage: &str, matrix: &Dims) -> String {
    if matrix.is_empty() {
        return stage.to_owned();
    }
    let dims: Vec<String> = matrix.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{stage}@{}", dims.join(","))
}

/// Whether a dependency string is a glob pattern rather than a path.
pub fn is_glob(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// Normalises a relative path: drops `.` segments, repeated and trailing slashes. Returns
/// `None` for absolute paths, `..` segments and empty paths.
pub fn normalise(path: &str) -> Option<String> {
    crate::spec::rules::normalise(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_dimensions_and_paths_normalise() {
        let m: Dims = [("task".into(), "a".into()), ("seed".into(), "1".into())]
            .into_iter()
            .collect();
        assert_eq!(instance_id("train", &m), "train@seed=1,task=a");
        assert_eq!(normalise("./runs//a/"), Some("runs/a".into()));
        assert_eq!(normalise("../x"), None);
        assert_eq!(normalise("/etc"), None);
    }
}
