//! `repro audit`: check, from a fresh checkout, that a produced `repro.lock` holds:
//! 1. pull everything it names from the remote, checked by digest as `pull` does, restore it,
//!    and re-hash every object and output as `verify` does;
//! 2. recompute every key from this checkout (code, params, data) and compare it with the
//!    lock's;
//! 3. re-run every instance of the stages marked `audit: always` from the pulled upstream;
//! 4. re-execute a random sample (`--sample K`, `--seed S`, stratified by `sample.rs`) of the
//!    instances of stages marked `audit: sample`;
//!
//! Steps 3 and 4 run each instance in a scratch directory (`workspace::rerun`), so nothing
//! they produce enters the store, the lock or the workspace, and compare its outputs and
//! metrics with the lock's entry exactly as `verify --reference` compares two entries
//! (`workspace::compare_entry`). They run only after clean steps 1 and 2: otherwise the
//! inputs are not the ones the lock names. The report (`report.rs`, Markdown or `--json`)
//! says what was checked, how, the seed and the sample, each comparison, and what a clean
//! sample rules out. Exit 1 unless every step is clean.
//!
//! With `--reference LOCK`, every audited entry is also compared with that lock's, as
//! `verify --reference` compares (after a clean pull: the entries are then the pulled ones).
//!
//! Step 5: each re-run's row also carries the device and tool versions the producer's action
//! record names (`workspace::platform`) and this machine's, and how they differ: reported,
//! not a problem by itself, since such differences are what the tolerance allows for.

mod report;
mod sample;

use std::collections::BTreeMap;
use std::io::Write as _;

use crate::spec::AuditPolicy;
use crate::workspace::{compare_entry, State, Verdict, Workspace};

use super::args::AuditArgs;
use super::load::Loaded;
use super::page::Page;
use super::pull::fetch_and_restore;
use super::verify::compare_reference;
use super::{Cli, CliError};

pub(crate) use sample::SampleSize;

use report::{AuditReport, KeyMismatch, Recheck, ReferenceCheck, Sampling};

/// The probability for which the report states the fraction of bad results that escapes.
const ESCAPE_PROBABILITY: f64 = 0.05;

pub(crate) fn audit(cli: &Cli, a: &AuditArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let mut ws = loaded.workspace_exclusive()?;
    if let Some(path) = &a.reference {
        // Refused before any transfer: a reference that cannot be read is a usage error.
        compare_reference(&ws, &loaded, &[], path)?;
    }
    let mut transfer = Page::default();
    let pulled = fetch_and_restore(&loaded, &mut ws, &a.remote, &mut transfer)?;
    super::remote::note(transfer.text().trim_end());
    let pulled_clean = pulled.report.problems.is_empty();
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
                State::Fresh { entry, .. } => (Some(entry.key.clone()), vec![]),
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
    let digests_clean = verify.as_ref().is_some_and(|v| v.problems.is_empty());
    let inputs_clean = pulled_clean && mismatches.is_empty() && digests_clean;
    if inputs_clean {
        ws.save()?;
    }
    let seed = a.seed.unwrap_or_else(rand::random);
    let size = a.sample.unwrap_or(SampleSize::Count(0));
    if inputs_clean && !a.no_build {
        // Re-runs execute binaries: build them from this checkout first, as `repro run` does.
        super::detach::build(loaded.pipeline.build.as_deref(), ws.layout().root())?;
    }
    let (rechecks, sampling) = if inputs_clean {
        let (r, s) = recheck(&loaded, &ws, &selected, size, seed);
        (Some(r), s)
    } else {
        (None, None)
    };
    // Step 7 (`--reference`): what the lock records against another lock, once its entries
    // are known to be the pulled ones.
    let reference = match &a.reference {
        Some(path) if pulled_clean => {
            let r = compare_reference(&ws, &loaded, &selected, path)?;
            Some(ReferenceCheck::new(r))
        }
        _ => None,
    };
    let mut report = AuditReport::new(
        ws.profile(),
        &pulled,
        verify.as_ref(),
        if pulled_clean { selected.len() } else { 0 },
        mismatches,
        rechecks,
        sampling,
        seed,
        a.seed.is_some(),
        ESCAPE_PROBABILITY,
    );
    if let Some(path) = &a.reference {
        report.reference(path, reference);
    }
    let mut page = Page::default();
    if a.json {
        report.json(&mut page);
    } else {
        report.markdown(&mut page);
    }
    page.print()?;
    match report.problems() {
        0 => Ok(()),
        n => Err(CliError::Failed(format!("audit found {n} problem(s)"))),
    }
}

/// Steps 3 and 4: re-runs the `always` instances and the drawn sample of `sample` ones, each
/// compared with its lock entry.
fn recheck(
    loaded: &Loaded,
    ws: &Workspace<'_>,
    selected: &[usize],
    size: SampleSize,
    seed: u64,
) -> (Vec<Recheck>, Option<Sampling>) {
    let graph = &loaded.graph;
    let policy = |i: usize| loaded.pipeline.stages[graph.instances[i].stage].audit;
    let in_order: Vec<usize> = graph
        .order
        .iter()
        .copied()
        .filter(|i| selected.contains(i))
        .collect();
    let always: Vec<usize> = in_order
        .iter()
        .copied()
        .filter(|&i| policy(i) == AuditPolicy::Always)
        .collect();
    let candidates: Vec<usize> = in_order
        .iter()
        .copied()
        .filter(|&i| policy(i) == AuditPolicy::Sample)
        .collect();
    let drawn = sample::draw(&graph.instances, &candidates, size, seed);
    let never = in_order.len() - always.len() - candidates.len();
    let mut out = Vec::new();
    let work = always
        .iter()
        .map(|&i| (i, AuditPolicy::Always))
        .chain(drawn.iter().map(|&i| (i, AuditPolicy::Sample)));
    let total = always.len() + drawn.len();
    // Re-executions inherit this process's environment: its GPUs, if it names any.
    let auditor_device = std::env::var("CUDA_VISIBLE_DEVICES")
        .ok()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| "cpu".to_owned());
    for (n, (i, why)) in work.enumerate() {
        let inst = &graph.instances[i];
        eprint!("audit: [{}/{total}] re-running {} ... ", n + 1, inst.id);
        let _ = std::io::stderr().flush();
        let mut row = match ws.lock_entry(&inst.id) {
            None => Recheck::failed(inst, why, "not recorded in `repro.lock`".to_owned()),
            Some(recorded) => match ws.rerun_in_scratch(
                inst,
                &recorded,
                // As `repro run` with its default `-j` (one thread per CPU slot) sets them:
                // a float reduction over another thread count may change the numbers.
                &crate::sched::thread_env(inst.resources.cpus as usize),
            ) {
                Ok(rerun) => {
                    let c = compare_entry(
                        inst,
                        &rerun.entry,
                        &recorded,
                        false,
                        "the producer's record",
                    );
                    Recheck::compared(inst, why, c, rerun.seconds)
                }
                Err(e) => Recheck::failed(inst, why, format!("re-execution failed: {e}")),
            },
        };
        if let Some(recorded) = ws.lock_entry(&inst.id) {
            let producer = ws.record(&recorded.key).and_then(|r| r.platform);
            row.platforms(producer, ws.machine().platform(&auditor_device));
        }
        eprintln!(
            "{}",
            match row.verdict {
                Some(Verdict::Exact) => "exact",
                Some(Verdict::Tolerant) => "within tolerance",
                Some(Verdict::Derived) => "derived",
                Some(Verdict::Mismatch) => "MISMATCH",
                None => "FAILED",
            }
        );
        out.push(row);
    }
    let sampling = Sampling {
        candidates: candidates.len(),
        never,
        drawn: drawn
            .iter()
            .map(|&i| graph.instances[i].id.clone())
            .collect(),
        requested: match size {
            SampleSize::All => "all".to_owned(),
            SampleSize::Count(k) => k.to_string(),
        },
    };
    (out, Some(sampling))
}
