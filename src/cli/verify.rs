//! `repro verify`: re-hash every cached object and every workspace output that the selected
//! instances' `repro.lock` entries refer to, ignoring the stat cache, and report each
//! mismatch or missing artifact. Exit 1 on any problem.

use std::collections::BTreeSet;

use rayon::prelude::*;

use crate::cache::{digest_path, StatCache};

use super::args::VerifyArgs;
use super::reference::compare_reference;
use super::workspace::Workspace;
use super::{Cli, CliError};

pub(crate) fn verify(cli: &Cli, a: &VerifyArgs) -> Result<(), CliError> {
    let ws = Workspace::load(cli)?;
    let selected = ws.targets(&a.targets)?;
    let checker = ws.checker()?;
    let mut problems: Vec<String> = Vec::new();
    let mut objects: BTreeSet<String> = BTreeSet::new();
    let mut outputs: Vec<(String, String, String)> = Vec::new();
    for &i in &selected {
        let inst = &ws.graph.instances[i];
        let Some(entry) = checker
            .lock
            .entries
            .get(&(checker.profile.clone(), inst.id.clone()))
        else {
            problems.push(format!(
                "{}: not recorded in `repro.lock` (profile `{}`)",
                inst.id, checker.profile
            ));
            continue;
        };
        for o in &inst.outs {
            let Some(tagged) = entry.outs.get(o) else {
                problems.push(format!(
                    "{}: output `{o}` not recorded in `repro.lock`",
                    inst.id
                ));
                continue;
            };
            let (kind, digest) = tagged.split_once(':').unwrap_or(("file", tagged));
            objects.insert(digest.to_owned());
            if kind == "dir" {
                match checker.store.read_manifest(digest) {
                    Ok(entries) => objects.extend(entries.into_iter().map(|e| e.digest)),
                    Err(e) => problems.push(format!("{}: output `{o}`: {e}", inst.id)),
                }
            }
            outputs.push((inst.id.clone(), o.clone(), tagged.clone()));
        }
    }
    let object_problems: Vec<String> = objects
        .par_iter()
        .filter_map(|d| {
            checker
                .store
                .verify_object(d)
                .err()
                .map(|e| format!("cache: {e}"))
        })
        .collect();
    let fresh = StatCache::default();
    let output_problems: Vec<String> = outputs
        .par_iter()
        .filter_map(
            |(id, o, tagged)| match digest_path(&checker.root, o, &fresh) {
                Ok(Some(d)) if d.tagged() == *tagged => None,
                Ok(Some(d)) => Some(format!(
                    "{id}: workspace output `{o}` is {} but `repro.lock` records {tagged}",
                    d.tagged()
                )),
                Ok(None) => Some(format!("{id}: workspace output `{o}` is missing")),
                Err(e) => Some(format!("{id}: cannot read `{o}`: {e}")),
            },
        )
        .collect();
    problems.extend(object_problems);
    problems.extend(output_problems);
    if let Some(path) = &a.reference {
        problems.extend(compare_reference(&ws, &checker, &selected, path)?);
    }
    #[allow(clippy::print_stdout)]
    {
        for p in &problems {
            println!("MISMATCH {p}");
        }
        println!(
            "verified {} instances: {} outputs, {} cached objects, {} problem(s)",
            selected.len(),
            outputs.len(),
            objects.len(),
            problems.len()
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "{} artifact(s) failed verification",
            problems.len()
        )))
    }
}
