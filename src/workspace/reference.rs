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

use crate::graph::{Graph, Instance};

use super::lockfile::{LockEntry, LockError, LockFile};
use super::open::Workspace;

/// How one instance's entry compares with another's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Outputs equal bit for bit.
    Exact,
    /// Declared metrics agree within the stage's tolerance.
    Tolerant,
    /// Same structure; only inputs accepted within tolerance differ.
    Derived,
    /// They disagree.
    Mismatch,
}

/// The comparison of one instance's entry with another's (see the module doc).
#[derive(Debug)]
pub struct EntryComparison {
    /// The outcome.
    pub verdict: Verdict,
    /// The largest metric difference seen (0 when none was compared).
    pub worst: f64,
    /// Why they disagree, without the instance id.
    pub problem: Option<String>,
}

/// Compares `cur` with `refe`, both entries of `inst`, as `repro verify --reference` does:
/// keys, then outputs bit for bit, then declared metrics within the stage's tolerance.
/// `upstream_inexact` says an upstream instance was accepted only within tolerance; `other`
/// names `refe` in messages (`the reference`).
pub fn compare_entry(
    inst: &Instance,
    cur: &LockEntry,
    refe: &LockEntry,
    upstream_inexact: bool,
    other: &str,
) -> EntryComparison {
    let mut worst = 0.0f64;
    let (verdict, problem) =
        if cur.key != refe.key && upstream_inexact && !cur.skey.is_empty() && cur.skey == refe.skey
        {
            // Same command, params, code and dep paths; only the bytes of inputs that were
            // themselves accepted within tolerance differ.
            (Verdict::Derived, None)
        } else if cur.key != refe.key {
            (
                Verdict::Mismatch,
                Some(format!(
                "key {} differs from {other}'s {} (its inputs changed since {other} was recorded)",
                short(&cur.key),
                short(&refe.key)
            )),
            )
        } else if cur.outs == refe.outs {
            (Verdict::Exact, None)
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
                                "`{n}` is {a} but {other} has {b} (tolerance {})",
                                m.tolerance
                            ));
                        }
                    }
                    _ => bad.push(format!("metric `{n}` recorded in only one of the two runs")),
                }
            }
            if bad.is_empty() {
                (Verdict::Tolerant, None)
            } else {
                (Verdict::Mismatch, Some(bad.join("; ")))
            }
        } else if upstream_inexact {
            (Verdict::Derived, None)
        } else {
            let which: Vec<String> = cur
                .outs
                .iter()
                .filter(|(p, d)| refe.outs.get(*p) != Some(*d))
                .map(|(p, _)| format!("`{p}`"))
                .collect();
            (
                Verdict::Mismatch,
                Some(format!(
                    "output(s) {} differ from {other} bit for bit",
                    which.join(", ")
                )),
            )
        };
    EntryComparison {
        verdict,
        worst,
        problem,
    }
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
            let c = compare_entry(inst, &cur, &refe, upstream_inexact, "the reference");
            worst = worst.max(c.worst);
            problems.extend(c.problem.map(|p| format!("{}: {p}", inst.id)));
            let v = c.verdict;
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
