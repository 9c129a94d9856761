//! Why an instance is stale. `repro status` prints these; `--json` serialises them.

use std::fmt;

use serde_json::Value;

use std::collections::{BTreeMap, BTreeSet};

use crate::cache::KeyInputs;
use crate::graph::Metrics;

/// One reason an instance must run (or be restored).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Dirty {
    /// No record of any earlier run.
    NeverRun,
    /// `--force`.
    Forced,
    /// A parameter value differs from the last run's.
    ParamChanged {
        /// Parameter path.
        name: String,
        /// Old value (absent: not read before).
        from: Option<Value>,
        /// New value (absent: no longer read).
        to: Option<Value>,
    },
    /// A dependency's content differs.
    DepChanged {
        /// The dependency path.
        path: String,
    },
    /// The code of a package or glob differs.
    CodeChanged {
        /// The `code:` entry.
        entry: String,
    },
    /// The resolved command differs.
    CommandChanged,
    /// An environment value differs.
    EnvChanged {
        /// Variable name.
        name: String,
    },
    /// The set of outputs differs.
    OutsChanged,
    /// The metrics the stage declares (`metrics: files × fields`) differ from those recorded
    /// for the outputs: a declared one was never read, or a recorded one is no longer declared.
    MetricsChanged {
        /// Declared but not recorded (`file#field`).
        added: Vec<String>,
        /// Recorded but no longer declared.
        removed: Vec<String>,
    },
    /// The key encoding changed (a newer repro).
    KeyFormatChanged,
    /// The inputs changed but the earlier record is gone (after `gc`), so the change can't be
    /// named.
    InputsChanged,
    /// An upstream instance must run first, so this key is not known yet.
    UpstreamStale {
        /// The upstream instance.
        instance: String,
    },
    /// An output is absent from the workspace.
    OutputMissing {
        /// The output path.
        path: String,
    },
    /// An output in the workspace differs from the recorded one.
    OutputModified {
        /// The output path.
        path: String,
    },
    /// The workspace holds what the store's record names, but a stored copy is damaged (a
    /// power cut tore it before the group commit synced it): the run stores a sound one.
    StoredDamaged {
        /// The output path.
        path: String,
    },
    /// An output in the workspace is what other profiles recorded (a run of another profile
    /// wrote it), not this profile's and not an edit.
    OutputOfProfile {
        /// The output path.
        path: String,
        /// The profiles whose `repro.lock` entries record its content.
        profiles: Vec<String>,
    },
}

fn show(v: &Option<Value>) -> String {
    match v {
        None => "(unset)".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

impl fmt::Display for Dirty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dirty::NeverRun => write!(f, "never run"),
            Dirty::Forced => write!(f, "forced"),
            Dirty::ParamChanged { name, from, to } => write!(
                f,
                "param `{name}` changed from {} to {}",
                show(from),
                show(to)
            ),
            Dirty::DepChanged { path } => write!(f, "dep `{path}` changed"),
            Dirty::CodeChanged { entry } => write!(f, "code of `{entry}` changed"),
            Dirty::CommandChanged => write!(f, "command changed"),
            Dirty::EnvChanged { name } => write!(f, "env `{name}` changed"),
            Dirty::OutsChanged => write!(f, "declared outputs changed"),
            Dirty::MetricsChanged { added, removed } => {
                let list = |v: &[String]| {
                    v.iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let mut parts = Vec::new();
                if !added.is_empty() {
                    parts.push(format!("not recorded: {}", list(added)));
                }
                if !removed.is_empty() {
                    parts.push(format!("no longer declared: {}", list(removed)));
                }
                write!(f, "declared metrics changed ({})", parts.join("; "))
            }
            Dirty::KeyFormatChanged => write!(f, "cache key format changed"),
            Dirty::InputsChanged => write!(f, "inputs changed (earlier record no longer cached)"),
            Dirty::UpstreamStale { instance } => write!(f, "upstream `{instance}` is stale"),
            Dirty::OutputMissing { path } => write!(f, "output `{path}` missing"),
            Dirty::OutputModified { path } => write!(f, "output `{path}` modified"),
            Dirty::StoredDamaged { path } => {
                write!(f, "the stored copy of output `{path}` is damaged")
            }
            Dirty::OutputOfProfile { path, profiles } => write!(
                f,
                "output `{path}` holds the result of profile {}, not this profile's (a run of this profile restores its own from the cache)",
                profiles
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// The metric names (`file#field`) that `metrics` declares.
pub(super) fn declared_metrics(metrics: Option<&Metrics>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(m) = metrics {
        for f in &m.files {
            for field in &m.fields {
                out.insert(format!("{f}#{field}"));
            }
        }
    }
    out
}

/// [`Dirty::MetricsChanged`] when the names `recorded` for an instance's outputs are not
/// exactly those its stage declares now. The values are not compared: they belong to the
/// outputs, whose digests are checked elsewhere.
pub(super) fn metrics_changed(
    metrics: Option<&Metrics>,
    recorded: &BTreeMap<String, f64>,
) -> Option<Dirty> {
    let declared = declared_metrics(metrics);
    let added: Vec<String> = declared
        .iter()
        .filter(|m| !recorded.contains_key(*m))
        .cloned()
        .collect();
    let removed: Vec<String> = recorded
        .keys()
        .filter(|m| !declared.contains(*m))
        .cloned()
        .collect();
    (!added.is_empty() || !removed.is_empty()).then_some(Dirty::MetricsChanged { added, removed })
}

/// Every difference between an earlier run's inputs and the current ones, most telling first.
pub fn diff(old: &KeyInputs, new: &KeyInputs) -> Vec<Dirty> {
    let mut out = Vec::new();
    if old.version != new.version {
        out.push(Dirty::KeyFormatChanged);
    }
    let names: std::collections::BTreeSet<&String> =
        old.params.keys().chain(new.params.keys()).collect();
    for n in names {
        let (a, b) = (old.params.get(n), new.params.get(n));
        if a != b {
            out.push(Dirty::ParamChanged {
                name: n.clone(),
                from: a.cloned(),
                to: b.cloned(),
            });
        }
    }
    let deps: std::collections::BTreeSet<&String> =
        old.deps.keys().chain(new.deps.keys()).collect();
    for d in deps {
        if old.deps.get(d) != new.deps.get(d) {
            out.push(Dirty::DepChanged { path: d.clone() });
        }
    }
    let code: std::collections::BTreeSet<&String> =
        old.code.keys().chain(new.code.keys()).collect();
    for c in code {
        if old.code.get(c) != new.code.get(c) {
            out.push(Dirty::CodeChanged { entry: c.clone() });
        }
    }
    let env: std::collections::BTreeSet<&String> = old.env.keys().chain(new.env.keys()).collect();
    for e in env {
        if old.env.get(e) != new.env.get(e) {
            out.push(Dirty::EnvChanged { name: e.clone() });
        }
    }
    if old.outs != new.outs {
        out.push(Dirty::OutsChanged);
    }
    // A changed parameter changes argv too; report the command only when nothing else explains it.
    if out.is_empty() && old.argv != new.argv {
        out.push(Dirty::CommandChanged);
    }
    out
}
