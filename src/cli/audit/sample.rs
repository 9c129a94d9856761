//! The random sample `repro audit --sample K` re-executes, and what a clean sample rules out.
//!
//! Drawing: the candidates (instances of `audit: sample` stages) are shuffled by a ChaCha8
//! generator seeded with the audit's seed, then K are taken one at a time, each time the first
//! candidate (in shuffled order) that is least represented so far: first by how many picks its
//! stage already has, then by how many picks already share each of its matrix values (its task,
//! its variant, ...). So the sample spreads over stages and over every dimension's values before
//! any repeats, and the same seed and candidates always give the same sample.
//!
//! Escape: if a fraction f of the candidates' results were bad, K independent draws would all
//! miss them with probability (1 - f)^K (drawing without replacement misses them less often);
//! [`escaping_fraction`] solves (1 - f)^K = p for f.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::graph::Instance;

/// How many sampled instances to re-execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleSize {
    /// At most this many.
    Count(usize),
    /// Every candidate.
    All,
}

impl std::str::FromStr for SampleSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "all" {
            return Ok(SampleSize::All);
        }
        s.parse::<usize>()
            .map(SampleSize::Count)
            .map_err(|_| format!("expected a whole number or `all`, found `{s}`"))
    }
}

/// Draws the sample from `candidates` (instance indices into `instances`), returned in
/// drawing order.
pub(crate) fn draw(
    instances: &[Instance],
    candidates: &[usize],
    size: SampleSize,
    seed: u64,
) -> Vec<usize> {
    let k = match size {
        SampleSize::All => candidates.len(),
        SampleSize::Count(k) => k.min(candidates.len()),
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut pool: Vec<usize> = candidates.to_vec();
    pool.shuffle(&mut rng);
    let mut per_stage: BTreeMap<&str, usize> = BTreeMap::new();
    let mut per_value: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
    let mut picked = Vec::with_capacity(k);
    for _ in 0..k {
        let score = |i: usize| {
            let inst = &instances[i];
            let stage = per_stage
                .get(inst.stage_name.as_str())
                .copied()
                .unwrap_or(0);
            let values: usize = inst
                .matrix
                .iter()
                .map(|(d, v)| {
                    per_value
                        .get(&(inst.stage_name.as_str(), d, v))
                        .copied()
                        .unwrap_or(0)
                })
                .sum();
            (stage, values)
        };
        // `min_by_key` keeps the first of equals: the shuffled order breaks ties.
        let Some(pos) = (0..pool.len()).min_by_key(|&p| score(pool[p])) else {
            break;
        };
        let i = pool.remove(pos);
        let inst = &instances[i];
        *per_stage.entry(inst.stage_name.as_str()).or_default() += 1;
        for (d, v) in &inst.matrix {
            *per_value
                .entry((inst.stage_name.as_str(), d, v))
                .or_default() += 1;
        }
        picked.push(i);
    }
    picked
}

/// The fraction f of bad results that a clean sample of `k` misses with probability `p`:
/// (1 - f)^k = p. With no sample nothing is ruled out (f = 1).
pub(crate) fn escaping_fraction(k: usize, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    1.0 - p.powf(1.0 / k as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(stage: &str, task: &str, seed: &str) -> Instance {
        Instance {
            id: format!("{stage}@seed={seed},task={task}"),
            stage: 0,
            stage_name: stage.to_owned(),
            matrix: crate::spec::Dims::from(BTreeMap::from([
                ("seed".to_owned(), seed.to_owned()),
                ("task".to_owned(), task.to_owned()),
            ])),
            argv: vec!["true".to_owned()],
            env: BTreeMap::new(),
            params: BTreeMap::new(),
            deps: vec![],
            outs: vec![],
            code: vec![],
            resources: Default::default(),
            timeout: None,
            priority: 0,
            metrics: None,
            pack: None,
        }
    }

    fn grid() -> Vec<Instance> {
        let mut v = Vec::new();
        for task in ["a", "b", "c"] {
            for seed in ["1", "2", "3", "4"] {
                v.push(inst("train", task, seed));
            }
        }
        v.push(inst("probe", "a", "1"));
        v
    }

    #[test]
    fn the_sample_covers_every_stage_and_task_before_repeating_one() {
        let g = grid();
        let all: Vec<usize> = (0..g.len()).collect();
        for seed in 0..50 {
            let s = draw(&g, &all, SampleSize::Count(4), seed);
            let stages: std::collections::BTreeSet<&str> =
                s.iter().map(|&i| g[i].stage_name.as_str()).collect();
            let tasks: std::collections::BTreeSet<&str> = s
                .iter()
                .filter(|&&i| g[i].stage_name == "train")
                .filter_map(|&i| g[i].matrix.get("task"))
                .collect();
            assert_eq!(stages.len(), 2, "seed {seed}: {s:?}");
            assert_eq!(tasks.len(), 3, "seed {seed}: {s:?}");
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_sample_and_others_differ() {
        let g = grid();
        let all: Vec<usize> = (0..g.len()).collect();
        let a = draw(&g, &all, SampleSize::Count(3), 7);
        assert_eq!(a, draw(&g, &all, SampleSize::Count(3), 7));
        let differs = (8..40).any(|s| draw(&g, &all, SampleSize::Count(3), s) != a);
        assert!(differs);
        assert_eq!(draw(&g, &all, SampleSize::All, 1).len(), g.len());
        assert_eq!(draw(&g, &all, SampleSize::Count(99), 1).len(), g.len());
    }

    #[test]
    fn the_escaping_fraction_solves_the_escape_probability() {
        let f = escaping_fraction(3, 0.05);
        assert!(((1.0 - f).powi(3) - 0.05).abs() < 1e-12);
        assert!((f - 0.6316).abs() < 1e-4, "{f}");
        assert_eq!(escaping_fraction(0, 0.05), 1.0);
    }

    #[test]
    fn sample_sizes_parse() {
        assert_eq!("all".parse::<SampleSize>(), Ok(SampleSize::All));
        assert_eq!("3".parse::<SampleSize>(), Ok(SampleSize::Count(3)));
        assert!("three".parse::<SampleSize>().is_err());
    }
}
