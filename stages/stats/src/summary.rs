//! Aggregation of runs into per-(variant, activation) statistics: convergence (converged-only
//! and censored views), speedup over full attention, held-out accuracy, and the curves.
//!
//! Choices, stated once here and recorded in the output:
//! - Convergence epoch mean ± std and t-interval are given twice: over converged seeds only (what
//!   the paper's tables show next to "converged/seeds"), and censored, where a run that never
//!   converged counts as epochs + 1. The censored view is a lower bound on the true mean for a
//!   group with non-converged runs.
//! - The speedup uses the censored view, so that a variant that fails to converge is not
//!   credited with the few seeds that did. Its interval is a seeded bootstrap (see
//!   [`crate::bootstrap`]), paired by seed over the seeds both groups ran when there are any.
//!   When full attention itself fails to converge on some seeds, the censored speedup
//!   understates the variant's advantage. The converged-only ratio is reported beside it.
//! - Accuracy summaries skip seeds whose value is null (a diverged run may have none).

use std::collections::BTreeMap;

use common::{Activation, Task, Variant};

use crate::bootstrap::{paired_ratio_of_means, unpaired_ratio_of_means, RESAMPLES};
use crate::curves::curves;
use crate::describe::{describe, mean};
use crate::load::Run;
use crate::schema::{
    activation_order, variant_order, BootstrapSettings, GroupStats, SeedRecord, Speedup, StatsFile,
    CENSORING_RULE, STATS_FORMAT,
};

/// Confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;

/// Base of the seeds of the bootstrap generators (each group derives its own from it).
const BOOTSTRAP_BASE: u64 = 0x5eed_0000_0001;

/// Summarises the runs of one task.
pub fn summarise(task: Task, runs: &[Run]) -> StatsFile {
    let mut by_group: BTreeMap<(usize, (usize, String)), Vec<&Run>> = BTreeMap::new();
    for run in runs {
        by_group
            .entry((
                activation_order(&run.activation),
                variant_order(&run.variant),
            ))
            .or_default()
            .push(run);
    }
    let mut groups: Vec<GroupStats> = by_group
        .into_values()
        .map(|mut runs| {
            runs.sort_by_key(|r| r.seed);
            group_stats(&runs)
        })
        .collect();
    // Speedups need the full-attention group of the same activation.
    let fulls: Vec<(Activation, Vec<SeedRecord>)> = groups
        .iter()
        .filter(|g| g.variant == Variant::Full)
        .map(|g| (g.activation, g.per_seed.clone()))
        .collect();
    for g in groups.iter_mut().filter(|g| g.variant != Variant::Full) {
        if let Some((_, full)) = fulls.iter().find(|(a, _)| *a == g.activation) {
            let seed = common::seed::derive(
                BOOTSTRAP_BASE,
                &format!("speedup/{task}/{}/{}", g.variant, g.activation),
            );
            g.speedup_vs_full = speedup(full, &g.per_seed, seed);
        }
    }
    StatsFile {
        format: STATS_FORMAT,
        task,
        confidence: CONFIDENCE,
        censoring: CENSORING_RULE.to_owned(),
        bootstrap: BootstrapSettings {
            resamples: RESAMPLES,
            method: "percentile interval of mean(full)/mean(variant) over censored convergence epochs; \
                     pairs of shared seeds resampled together when the groups share seeds, else each group on its own; \
                     ChaCha8 generator seeded per (task, variant, activation)"
                .to_owned(),
        },
        groups,
    }
}

fn group_stats(runs: &[&Run]) -> GroupStats {
    let per_seed: Vec<SeedRecord> = runs.iter().map(|r| seed_record(r)).collect();
    let converged: Vec<f64> = per_seed
        .iter()
        .filter_map(|s| s.convergence_epoch)
        .map(|e| e as f64)
        .collect();
    let censored: Vec<f64> = per_seed
        .iter()
        .map(|s| s.censored_convergence_epoch as f64)
        .collect();
    let best: Vec<f64> = per_seed.iter().filter_map(|s| s.best_heldout_acc).collect();
    let last: Vec<f64> = per_seed.iter().filter_map(|s| s.last_heldout_acc).collect();
    let mut epochs: Vec<usize> = per_seed.iter().map(|s| s.epochs).collect();
    epochs.sort_unstable();
    epochs.dedup();
    GroupStats {
        variant: runs[0].variant,
        activation: runs[0].activation,
        epochs,
        seeds_run: runs.len(),
        seeds_converged: converged.len(),
        diverged: per_seed.iter().filter(|s| s.diverged).count(),
        seeds: per_seed.iter().map(|s| s.seed).collect(),
        convergence: describe(&converged, CONFIDENCE),
        convergence_censored: describe(&censored, CONFIDENCE),
        speedup_vs_full: None,
        best_heldout_acc: describe(&best, CONFIDENCE),
        last_heldout_acc: describe(&last, CONFIDENCE),
        per_seed,
        curves: curves(runs),
    }
}

fn seed_record(run: &Run) -> SeedRecord {
    let m = &run.metrics;
    SeedRecord {
        seed: run.seed,
        epochs: m.epochs,
        convergence_epoch: m.convergence_epoch,
        censored_convergence_epoch: m.convergence_epoch.unwrap_or(m.epochs + 1),
        diverged: m.diverged,
        diverged_epoch: m.diverged_epoch,
        best_heldout_acc: m.best_heldout_acc,
        best_epoch: m.best_epoch,
        last_heldout_acc: m.last_heldout_acc,
        last_train_acc: m.last_train_acc,
    }
}

/// Speedup of `variant` over `full` (censored epochs), paired by seed where seeds are shared.
fn speedup(full: &[SeedRecord], variant: &[SeedRecord], seed: u64) -> Option<Speedup> {
    let pairs: Vec<(f64, f64)> = full
        .iter()
        .filter_map(|f| {
            let v = variant.iter().find(|v| v.seed == f.seed)?;
            Some((
                f.censored_convergence_epoch as f64,
                v.censored_convergence_epoch as f64,
            ))
        })
        .collect();
    let censored = |rs: &[SeedRecord]| {
        rs.iter()
            .map(|r| r.censored_convergence_epoch as f64)
            .collect::<Vec<_>>()
    };
    let paired = !pairs.is_empty();
    let interval = if paired {
        paired_ratio_of_means(&pairs, RESAMPLES, seed, CONFIDENCE)?
    } else {
        unpaired_ratio_of_means(
            &censored(full),
            &censored(variant),
            RESAMPLES,
            seed,
            CONFIDENCE,
        )?
    };
    let converged = |rs: &[SeedRecord]| {
        mean(
            &rs.iter()
                .filter_map(|r| r.convergence_epoch.map(|e| e as f64))
                .collect::<Vec<_>>(),
        )
    };
    let converged_only_estimate = match (converged(full), converged(variant)) {
        (Some(f), Some(v)) if v > 0.0 => Some(f / v),
        _ => None,
    };
    Some(Speedup {
        view: "censored".to_owned(),
        estimate: interval.estimate,
        ci_low: interval.low,
        ci_high: interval.high,
        paired,
        n_pairs: pairs.len(),
        n_full: full.len(),
        n_variant: variant.len(),
        bootstrap_seed: seed,
        converged_only_estimate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::SyntheticRun;

    fn summarise_synthetic(runs: &[SyntheticRun]) -> StatsFile {
        let dir = tempfile::tempdir().unwrap();
        for r in runs {
            r.write(dir.path(), Task::Parity).unwrap();
        }
        summarise(
            Task::Parity,
            &crate::load::load_runs(dir.path(), Task::Parity).unwrap(),
        )
    }

    #[test]
    fn censoring_counts_non_converged_runs_as_epochs_plus_one() {
        let relu = Activation::Relu;
        let topk = Variant::Topk { k: 5 };
        let stats = summarise_synthetic(&[
            SyntheticRun::new(Variant::Full, relu, 1, 10, Some(8), 0.6),
            SyntheticRun::new(Variant::Full, relu, 2, 10, None, 0.6),
            SyntheticRun::new(Variant::Full, relu, 3, 10, Some(6), 0.6),
            SyntheticRun::new(topk, relu, 1, 10, Some(2), 0.6),
            SyntheticRun::new(topk, relu, 2, 10, Some(4), 0.6),
            SyntheticRun::new(topk, relu, 3, 10, Some(3), 0.6),
        ]);
        let full = &stats.groups[0];
        assert_eq!(
            (full.variant, full.seeds_run, full.seeds_converged),
            (Variant::Full, 3, 2)
        );
        // Converged only: 8 and 6; censored: 8, 11, 6.
        assert_eq!(full.convergence.mean, Some(7.0));
        assert_eq!(full.convergence_censored.mean, Some(25.0 / 3.0));
        assert_eq!(full.per_seed[1].censored_convergence_epoch, 11);
        assert!(full.speedup_vs_full.is_none());
        let s = stats.groups[1].speedup_vs_full.as_ref().unwrap();
        // Censored: 25 / 9; converged only: 7 / 3.
        assert!((s.estimate - 25.0 / 9.0).abs() < 1e-12);
        assert!((s.converged_only_estimate.unwrap() - 7.0 / 3.0).abs() < 1e-12);
        assert!(s.paired && s.n_pairs == 3 && s.ci_low <= s.estimate && s.estimate <= s.ci_high);
    }
}
