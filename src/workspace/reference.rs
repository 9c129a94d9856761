//! `repro verify --reference LOCK`: does a fresh run agree with a recorded one?
//!
//! For each selected instance, the current `repro.lock` entry is compared with the reference
//! entry of the same profile and instance:
//! - the keys must be equal (otherwise the inputs changed since the reference was recorded);
//! - outputs equal bit for bit: **exact**;
//! - otherwise, for a stage that declares `metrics:`, every recorded metric must be present in
//!   both and differ by at most the stage's `tolerance`: **within tolerance**;
//! - when an upstream instance was accepted only within tolerance, its dependents' keys and
//!   bytes may differ; they are accepted as **derived** when their structural keys (key inputs
//!   with dependency digests blanked: same command, params, code, env and dep paths) match;
//! - anything else is a mismatch.

use std::path::Path;

use crate::graph::Graph;

use super::lockfile::{LockError, LockFile};
use super::open::Workspace;

#[derive(Clone, Copy, PartialEq)]
enum Verdict {
    Exact,
    Tolerant,
    Derived,
    Mismatch,
}

/// The outcome of a comparison with a reference lock file.
#[derive(Debug, Default)]
pub struct ReferenceReport {
    /// Instances whose outputs equal the reference's bit for bit.
    pub exact: usize,
    /// Instances whose declared metrics agree within the stage's tolerance.
    pub tolerant: usize,
    /// Instances accepted because their structure matches and their upstream was tolerant.
    pub derived: usize,
    /// Instances that disagree.
    pub mismatched: usize,
    /// The largest metric difference seen.
    pub worst: f64,
    /// One line per disagreement.
    pub problems: Vec<String>,
}

impl Workspace<'_> {
    /// Compares the selected instances' current lock entries with those of the lock file at
    /// `path` (same profile and instance).
    pub fn compare_reference(
        &self,
        graph: &Graph,
        selected: &[usize],
        path: &Path,
    ) -> Result<ReferenceReport, LockError> {
        let reference = LockFile::read(path)?;
        let mut verdict: Vec<Option<Verdict>> = vec![None; graph.instances.len()];
        let mut problems = Vec::new();
        let mut worst = 0.0f64;
        let order: Vec<usize> = graph
            .order
            .iter()
            .copied()
            .filter(|i| selected.contains(i))
            .collect();
        for i in order {
            let inst = &graph.instances[i];
            let (Some(cur), Some(refe)) = (
                self.lock.get(&self.profile, &inst.id),
                reference.get(&self.profile, &inst.id),
            ) else {
                problems.push(format!(
                    "{}: missing from `repro.lock` or from the reference `{}`",
                    inst.id,
                    path.display()
                ));
                verdict[i] = Some(Verdict::Mismatch);
                continue;
            };
            let upstream_inexact = graph.upstream[i]
                .iter()
                .any(|&u| matches!(verdict[u], Some(Verdict::Tolerant | Verdict::Derived)));
            let v = if cur.key != refe.key
                && upstream_inexact
                && !cur.skey.is_empty()
                && cur.skey == refe.skey
            {
                // Same command, params, code and dep paths; only the bytes of inputs that were
                // themselves accepted within tolerance differ.
                Verdict::Derived
            } else if cur.key != refe.key {
                problems.push(format!(
                "{}: key {} differs from the reference's {} (its inputs changed since the reference was recorded)",
                inst.id,
                short(&cur.key),
                short(&refe.key)
            ));
                Verdict::Mismatch
            } else if cur.outs == refe.outs {
                Verdict::Exact
            } else if let Some(m) = &inst.metrics {
                let mut bad = Vec::new();
                // Every declared metric must be recorded in both: comparing nothing is no pass.
                for f in &m.files {
                    for field in &m.fields {
                        let n = format!("{f}#{field}");
                        if !cur.metrics.contains_key(&n) && !refe.metrics.contains_key(&n) {
                            bad.push(format!("declared metric `{n}` is recorded in neither run"));
                        }
                    }
                }
                let names: std::collections::BTreeSet<&String> =
                    cur.metrics.keys().chain(refe.metrics.keys()).collect();
                for n in names {
                    match (cur.metrics.get(n), refe.metrics.get(n)) {
                        (Some(a), Some(b)) => {
                            let d = (a - b).abs();
                            worst = worst.max(d);
                            if d > m.tolerance || d.is_nan() {
                                bad.push(format!(
                                    "`{n}` is {a} but the reference has {b} (tolerance {})",
                                    m.tolerance
                                ));
                            }
                        }
                        _ => bad.push(format!("metric `{n}` recorded in only one of the two runs")),
                    }
                }
                if bad.is_empty() {
                    Verdict::Tolerant
                } else {
                    problems.push(format!("{}: {}", inst.id, bad.join("; ")));
                    Verdict::Mismatch
                }
            } else if graph.upstream[i]
                .iter()
                .any(|&u| matches!(verdict[u], Some(Verdict::Tolerant | Verdict::Derived)))
            {
                Verdict::Derived
            } else {
                let which: Vec<&String> = cur
                    .outs
                    .iter()
                    .filter(|(p, d)| refe.outs.get(*p) != Some(*d))
                    .map(|(p, _)| p)
                    .collect();
                problems.push(format!(
                    "{}: output(s) {} differ from the reference bit for bit",
                    inst.id,
                    which
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                Verdict::Mismatch
            };
            verdict[i] = Some(v);
        }
        let count = |v: Verdict| verdict.iter().filter(|x| **x == Some(v)).count();
        Ok(ReferenceReport {
            exact: count(Verdict::Exact),
            tolerant: count(Verdict::Tolerant),
            derived: count(Verdict::Derived),
            mismatched: count(Verdict::Mismatch),
            worst,
            problems,
        })
    }
}

fn short(key: &str) -> &str {
    &key[..key.len().min(12)]
}
