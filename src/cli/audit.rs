//! `repro audit`: check, from a fresh checkout, that a produced `repro.lock` holds: (1) pull
//! everything it names from the remote, checked by digest as `pull` does, restore it, and
//! re-hash every object and output as `verify` does; (2) recompute every key from this
//! checkout (code, params, data) and compare it with the lock's. Prints a report (Markdown, or
//! `--json`); exit 1 unless both steps are clean.
//!
//! Limits: the steps 3 to 6 (re-running cheap stages, re-executing a random sample of
//! expensive ones, comparing the producer's recorded devices and toolchains) are not done: a
//! clean audit says the artifacts are those the lock names and that this checkout computes
//! the same keys, not that the numbers in them are right. The report says so.

use std::collections::BTreeMap;

use crate::workspace::State;

use super::args::AuditArgs;
use super::load::Loaded;
use super::page::{outln, Page};
use super::pull::fetch_and_restore;
use super::{Cli, CliError};

/// One instance whose key, recomputed here, is not the lock's.
#[derive(serde::Serialize)]
struct KeyMismatch {
    instance: String,
    lock_key: Option<String>,
    key: Option<String>,
    reasons: Vec<String>,
}

const NOT_DONE: &str = "steps 3-6 (re-running stages marked cheap, re-executing a random sample, comparing the producer's recorded devices and toolchains) are not implemented: a clean audit says the artifacts are the ones `repro.lock` names and that this checkout computes the same keys, not that the numbers are right";

pub(crate) fn audit(cli: &Cli, a: &AuditArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let mut ws = loaded.workspace_exclusive()?;
    let mut transfer = Page::default();
    let pulled = fetch_and_restore(&loaded, &mut ws, &a.remote, &mut transfer)?;
    super::remote::note(transfer.text().trim_end());
    let r = &pulled.report;
    let pulled_clean = r.problems.is_empty();
    // Step 2 needs the outputs in place: only after a clean pull.
    let selected = loaded.graph.closure(&loaded.targets(&a.remote.targets)?);
    let mut mismatches = Vec::new();
    let mut verify = None;
    if pulled_clean {
        let lock: BTreeMap<&str, &str> = pulled
            .keys
            .iter()
            .map(|(i, k)| (i.as_str(), k.as_str()))
            .collect();
        let forced = vec![false; loaded.graph.instances.len()];
        for (i, s) in ws.plan(&loaded.graph, &selected, &forced)? {
            let id = &loaded.graph.instances[i].id;
            let lock_key = lock.get(id.as_str()).map(|k| (*k).to_owned());
            let (key, reasons) = match &s {
                State::Fresh { entry } => (Some(entry.key.clone()), vec![]),
                State::Restore { key, reasons, .. } => (Some(key.clone()), reasons.clone()),
                State::Run { inputs, reasons } => {
                    (inputs.as_ref().map(|i| i.key()), reasons.clone())
                }
            };
            // After a clean pull every instance must be fresh under the lock's key.
            if !matches!(s, State::Fresh { .. }) || key != lock_key {
                mismatches.push(KeyMismatch {
                    instance: id.clone(),
                    lock_key,
                    key,
                    reasons: reasons.iter().map(ToString::to_string).collect(),
                });
            }
        }
        verify = Some(ws.verify(&loaded.graph, &selected));
    }
    let digest_problems = verify.as_ref().map_or(0, |v| v.problems.len());
    let clean = pulled_clean && mismatches.is_empty() && digest_problems == 0;
    if clean {
        ws.save()?;
    }
    let mut page = Page::default();
    if a.json {
        let doc = serde_json::json!({
            "profile": ws.profile(),
            "remote": pulled.remote,
            "pull": {
                "records": r.records,
                "present": r.present,
                "pulled": r.pulled,
                "objects": r.objects,
                "bytes": r.bytes,
                "requests": r.requests,
                "restored": pulled.restored,
                "problems": r.problems,
            },
            "verify": verify.as_ref().map(|v| serde_json::json!({
                "instances": v.instances,
                "outputs": v.outputs,
                "objects": v.objects,
                "problems": v.problems,
            })),
            "keys": {
                "checked": if pulled_clean { selected.len() } else { 0 },
                "mismatches": mismatches,
            },
            "not_done": NOT_DONE,
            "clean": clean,
        });
        outln!(
            page,
            "{}",
            serde_json::to_string_pretty(&doc).expect("json")
        );
    } else {
        outln!(
            page,
            "# repro audit: profile `{}`, remote {}\n",
            ws.profile(),
            pulled.remote
        );
        outln!(page, "## 1. Pull, then re-hash by digest\n");
        outln!(
            page,
            "- {} of {} records pulled ({} already here), {} objects ({} bytes), {} requests; {} instances restored",
            r.pulled,
            r.records,
            r.present,
            r.objects,
            r.bytes,
            r.requests,
            pulled.restored
        );
        for p in &r.problems {
            outln!(page, "- FAILED {p}");
        }
        match &verify {
            Some(v) => {
                outln!(
                    page,
                    "- re-hashed {} instances: {} outputs, {} objects, {} problem(s)",
                    v.instances,
                    v.outputs,
                    v.objects,
                    v.problems.len()
                );
                for p in &v.problems {
                    outln!(page, "- MISMATCH {p}");
                }
            }
            None => outln!(page, "- not re-hashed: the pull failed"),
        }
        outln!(page, "\n## 2. Keys recomputed from this checkout\n");
        if pulled_clean {
            outln!(
                page,
                "- {} of {} instances have the key `repro.lock` records",
                selected.len() - mismatches.len(),
                selected.len()
            );
            for m in &mismatches {
                outln!(
                    page,
                    "- MISMATCH {}: lock `{}`, recomputed `{}`{}",
                    m.instance,
                    m.lock_key.as_deref().unwrap_or("none"),
                    m.key.as_deref().unwrap_or("unknown"),
                    if m.reasons.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", m.reasons.join("; "))
                    }
                );
            }
        } else {
            outln!(page, "- not checked: the pull failed");
        }
        outln!(page, "\n## Not checked\n\n- {NOT_DONE}\n");
        outln!(
            page,
            "## Verdict: {}",
            if clean { "clean" } else { "PROBLEMS FOUND" }
        );
    }
    page.print()?;
    if clean {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "audit found {} problem(s)",
            r.problems.len() + mismatches.len() + digest_problems
        )))
    }
}
