//! Constructed inputs for the unit tests of the claim rules: groups built from a few seeds'
//! convergence epochs and accuracies, with the summaries computed as `stats` computes them, and
//! rank-test outcomes with chosen p-values. Test-only.

use std::path::PathBuf;

use common::{Activation, Task, Variant};
use stats::describe::describe;
use stats::ranktest::{Alternative, RankTest, TestKind};
use stats::schema::{Band, BootstrapSettings, Curves, GroupStats, SeedRecord, STATS_FORMAT};
use stats::StatsFile;

use crate::input::Inputs;

/// The paper's primary topk variant.
pub(crate) const TOPK5: Variant = Variant::Topk { k: 5 };

/// A seed that converged at `epoch` (of 100) with best and last held-out accuracy `acc`.
pub(crate) fn seed(seed: u64, epoch: usize, acc: f64) -> SeedRecord {
    SeedRecord {
        seed,
        epochs: 100,
        convergence_epoch: Some(epoch),
        censored_convergence_epoch: epoch,
        diverged: false,
        diverged_epoch: None,
        best_heldout_acc: Some(acc),
        best_epoch: Some(epoch),
        last_heldout_acc: Some(acc),
        last_train_acc: Some(1.0),
    }
}

/// `count` seeds from `first` that never converged in 100 epochs (censored at 101), each with
/// best and last held-out accuracy `acc` and training accuracy 0.5.
pub(crate) fn never_converged(first: u64, count: u64, acc: f64) -> Vec<SeedRecord> {
    (first..first + count)
        .map(|s| SeedRecord {
            convergence_epoch: None,
            censored_convergence_epoch: 101,
            best_epoch: Some(1),
            last_train_acc: Some(0.5),
            ..seed(s, 1, acc)
        })
        .collect()
}

/// Seeds `first`, `first + 1`, ... converging at `epochs`, each with accuracy 0.9.
pub(crate) fn by_epochs(first: u64, epochs: &[usize]) -> Vec<SeedRecord> {
    (first..)
        .zip(epochs)
        .map(|(s, e)| seed(s, *e, 0.9))
        .collect()
}

/// Seeds `first`, `first + 1`, ... with accuracies `accs`, each converging at epoch 10.
pub(crate) fn by_accuracy(first: u64, accs: &[f64]) -> Vec<SeedRecord> {
    (first..).zip(accs).map(|(s, a)| seed(s, 10, *a)).collect()
}

fn empty_band() -> Band {
    Band {
        median: vec![],
        q25: vec![],
        q75: vec![],
        n: vec![],
    }
}

/// The group of (`variant`, `activation`) over `seeds`, summarised at 95%; no speedup.
pub(crate) fn group(variant: Variant, activation: Activation, seeds: &[SeedRecord]) -> GroupStats {
    let values = |f: fn(&SeedRecord) -> Option<f64>| {
        describe(&seeds.iter().filter_map(f).collect::<Vec<_>>(), 0.95)
    };
    let mut epochs: Vec<usize> = seeds.iter().map(|s| s.epochs).collect();
    epochs.dedup();
    GroupStats {
        variant,
        activation,
        epochs,
        seeds_run: seeds.len(),
        seeds_converged: seeds
            .iter()
            .filter(|s| s.convergence_epoch.is_some())
            .count(),
        diverged: 0,
        seeds: seeds.iter().map(|s| s.seed).collect(),
        convergence: values(|s| s.convergence_epoch.map(|e| e as f64)),
        convergence_censored: values(|s| Some(s.censored_convergence_epoch as f64)),
        speedup_vs_full: None,
        best_heldout_acc: values(|s| s.best_heldout_acc),
        last_heldout_acc: values(|s| s.last_heldout_acc),
        per_seed: seeds.to_vec(),
        curves: Curves {
            epochs: vec![],
            train_loss: empty_band(),
            train_acc: empty_band(),
            heldout_loss: empty_band(),
            heldout_acc: empty_band(),
        },
    }
}

/// Inputs holding the given groups of each task, and no probes.
pub(crate) fn inputs(tasks: Vec<(Task, Vec<GroupStats>)>) -> Inputs {
    let mut inputs = Inputs::default();
    for (task, groups) in tasks {
        let file = StatsFile {
            format: STATS_FORMAT,
            task,
            confidence: 0.95,
            censoring: String::new(),
            bootstrap: BootstrapSettings {
                resamples: 0,
                method: String::new(),
            },
            groups,
        };
        inputs
            .stats
            .insert(task, (PathBuf::from(format!("{task}.json")), file));
    }
    inputs
}

/// A one-sided signed-rank outcome with the given p and smallest attainable p.
pub(crate) fn rank_test(p_value: f64, min_p_value: f64) -> RankTest {
    RankTest {
        test: TestKind::WilcoxonSignedRank,
        alternative: Alternative::Less,
        n: 5,
        n_other: 0,
        statistic: 0.0,
        p_value,
        min_p_value,
    }
}
