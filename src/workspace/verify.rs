//! Verification: re-hash every cached object and every workspace output that the selected
//! instances' `repro.lock` entries refer to, ignoring the stat cache, and list each mismatch or
//! missing artifact, and every orphaned output (`orphans.rs`) that a selected instance reads.
//! An entry whose recorded metric names differ from those the stage declares is a problem too.

use std::collections::BTreeSet;

use rayon::prelude::*;

use crate::cache::{digest_path, Policy, StatCache, Tagged};
use crate::graph::Graph;

use super::dirty::metrics_changed;
use super::open::Workspace;

/// What `verify` found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    /// Instances checked.
    pub instances: usize,
    /// Workspace outputs re-hashed.
    pub outputs: usize,
    /// Cached objects re-hashed.
    pub objects: usize,
    /// One line per problem, prefixed by the instance id (or `cache:`).
    pub problems: Vec<String>,
}

impl Workspace<'_> {
    /// Verifies the `selected` instances of `graph` (without their upstream).
    pub fn verify(&self, graph: &Graph, selected: &[usize]) -> VerifyReport {
        let mut problems: Vec<String> = Vec::new();
        let mut objects: BTreeSet<String> = BTreeSet::new();
        let mut outputs: Vec<(String, String, String)> = Vec::new();
        for &i in selected {
            let inst = &graph.instances[i];
            let Some(entry) = self.lock_entry(&inst.id) else {
                problems.push(format!(
                    "{}: not recorded in `repro.lock` (profile `{}`)",
                    inst.id, self.profile
                ));
                continue;
            };
            if let Some(d) = metrics_changed(inst.metrics.as_deref(), &entry.metrics) {
                problems.push(format!(
                    "{}: {d} between the pipeline and `repro.lock`",
                    inst.id
                ));
            }
            for o in &inst.outs {
                let Some(tagged) = entry.outs.get(o) else {
                    problems.push(format!(
                        "{}: output `{o}` not recorded in `repro.lock`",
                        inst.id
                    ));
                    continue;
                };
                match self.store.objects_of(tagged) {
                    Ok(digests) => objects.extend(digests),
                    Err(e) => {
                        // The manifest itself is re-hashed too, so a corrupt one is named twice:
                        // as an unreadable output and as a bad object.
                        objects.insert(Tagged::parse(tagged).digest.to_owned());
                        problems.push(format!("{}: output `{o}`: {e}", inst.id));
                    }
                }
                outputs.push((inst.id.clone(), o.clone(), tagged.clone()));
            }
        }
        let object_problems: Vec<String> = objects
            .par_iter()
            .filter_map(|d| {
                self.store
                    .verify_object(d)
                    .err()
                    .map(|e| format!("cache: {e}"))
            })
            .collect();
        let fresh = StatCache::default();
        let root = self.layout.root();
        let output_problems: Vec<String> = outputs
            .par_iter()
            .filter_map(
                |(id, o, tagged)| match digest_path(root, o, &fresh, Policy::Strict) {
                    Ok(Some(d)) if d.tagged() == *tagged => None,
                    Ok(Some(d)) => {
                        let profiles =
                            self.lock
                                .profiles_with_output(o, &d.tagged(), &self.profile);
                        Some(if profiles.is_empty() {
                            format!(
                                "{id}: workspace output `{o}` is {} but `repro.lock` records {tagged}",
                                d.tagged()
                            )
                        } else {
                            format!(
                                "{id}: workspace output `{o}` holds the result of profile {}, not of profile `{}` (`repro run -p {}` restores this profile's from the cache)",
                                profiles.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "),
                                self.profile,
                                self.profile
                            )
                        })
                    }
                    Ok(None) => Some(format!("{id}: workspace output `{o}` is missing")),
                    Err(e) => Some(format!("{id}: cannot read `{o}`: {e}")),
                },
            )
            .collect();
        problems.extend(object_problems);
        problems.extend(output_problems);
        // An orphaned output that a selected instance reads has entered (or would enter) its
        // key: what is cached for it is not what a clean checkout produces.
        let chosen: BTreeSet<&str> = selected
            .iter()
            .map(|&i| graph.instances[i].id.as_str())
            .collect();
        match self.orphans(graph) {
            Ok(orphans) => {
                for o in orphans {
                    if let Some(r) = o.read_by.iter().find(|r| chosen.contains(r.as_str())) {
                        problems.push(format!(
                            "{r}: reads `{}`, an output of an instance no longer in the pipeline (`repro run` removes it and runs `{r}` again)",
                            o.path
                        ));
                    }
                }
            }
            Err(e) => problems.push(format!("workspace: cannot look for orphaned outputs: {e}")),
        }
        VerifyReport {
            instances: selected.len(),
            outputs: outputs.len(),
            objects: objects.len(),
            problems,
        }
    }
}
