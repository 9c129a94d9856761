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

use crate::cache::{Checker, LockFile};

use super::workspace::Workspace;
use super::CliError;

#[derive(Clone, Copy, PartialEq)]
enum Verdict {
    Exact,
    Tolerant,
    Derived,
    Mismatch,
}

/// Compares and prints a summary; returns the problems found.
#[allow(clippy::print_stdout)]
pub(crate) fn compare_reference(
    ws: &Workspace,
    checker: &Checker<'_>,
    selected: &[usize],
    path: &Path,
) -> Result<Vec<String>, CliError> {
    let reference = LockFile::read(path).map_err(|e| CliError::user(e.to_string()))?;
    let mut verdict: Vec<Option<Verdict>> = vec![None; ws.graph.instances.len()];
    let mut problems = Vec::new();
    let mut worst = 0.0f64;
    let order: Vec<usize> = ws
        .graph
        .order
        .iter()
        .copied()
        .filter(|i| selected.contains(i))
        .collect();
    for i in order {
        let inst = &ws.graph.instances[i];
        let k = (checker.profile.clone(), inst.id.clone());
        let (Some(cur), Some(refe)) = (checker.lock.entries.get(&k), reference.entries.get(&k))
        else {
            problems.push(format!(
                "{}: missing from `repro.lock` or from the reference `{}`",
                inst.id,
                path.display()
            ));
            verdict[i] = Some(Verdict::Mismatch);
            continue;
        };
        let upstream_inexact = ws.graph.upstream[i]
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
        } else if ws.graph.upstream[i]
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
    println!(
        "reference `{}`: {} exact, {} within tolerance (largest difference {worst}), {} derived from tolerant upstream, {} mismatched",
        path.display(),
        count(Verdict::Exact),
        count(Verdict::Tolerant),
        count(Verdict::Derived),
        count(Verdict::Mismatch)
    );
    Ok(problems)
}

fn short(key: &str) -> &str {
    &key[..key.len().min(12)]
}
