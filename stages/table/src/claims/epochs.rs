//! C1 ([`topk_converges_faster`]) and C2 ([`local_attention_not_consistently_faster`]):
//! convergence in epochs, per task and pooled over tasks (rules in the parent module's doc).

use common::{Activation, Task, Variant};
use stats::ranktest::{mann_whitney_u, wilcoxon_signed_rank, Alternative, RankTest, TestKind};
use stats::schema::{activation_order, variant_order, GroupStats};

use super::model::{
    is_band_or_bloc, is_topk, not_run_row, variants_of, Claim, ClaimTable, Primary, Verdict, ALPHA,
};
use super::scope;
use crate::format::{p_value, NOT_RUN};
use crate::input::Inputs;
use crate::paper::{HEADLINE_TASKS, PAPER_MAX_SPEEDUP};
use crate::rows::find_group;
use crate::subset::list;

/// One-sided test that `other` converges in fewer (censored) epochs than `full`.
fn fewer_epochs(full: &GroupStats, other: &GroupStats) -> RankTest {
    let shared: Vec<f64> = other
        .per_seed
        .iter()
        .filter_map(|o| {
            let f = full.seed(o.seed)?;
            Some(o.censored_convergence_epoch as f64 - f.censored_convergence_epoch as f64)
        })
        .collect();
    if shared.is_empty() {
        let epochs = |g: &GroupStats| {
            g.per_seed
                .iter()
                .map(|s| s.censored_convergence_epoch as f64)
                .collect::<Vec<_>>()
        };
        mann_whitney_u(&epochs(other), &epochs(full), Alternative::Less)
    } else {
        wilcoxon_signed_rank(&shared, Alternative::Less)
    }
}

/// The pooled "fewer epochs" test over tasks and how many tasks contributed to it.
struct PooledTest {
    /// The signed-rank test on the per-(task, seed) log ratios.
    test: RankTest,
    /// Tasks with at least one shared seed.
    tasks: usize,
}

/// Pooled one-sided signed-rank test over every task run: per (task, shared seed) the log ratio
/// of censored convergence epochs, variant / full (scale-free, so tasks of different lengths
/// pool). `None` when no task has both groups with a shared seed.
fn pooled_fewer_epochs(
    inputs: &Inputs,
    activation: Activation,
    variant: Variant,
) -> Option<PooledTest> {
    let mut ratios = Vec::new();
    let mut tasks = 0;
    for task in Task::ALL {
        let (Some(full), Some(other)) = (
            find_group(inputs, task, Variant::Full, activation),
            find_group(inputs, task, variant, activation),
        ) else {
            continue;
        };
        let before = ratios.len();
        for o in &other.per_seed {
            if let Some(f) = full.seed(o.seed) {
                ratios.push(
                    (o.censored_convergence_epoch as f64 / f.censored_convergence_epoch as f64)
                        .ln(),
                );
            }
        }
        tasks += usize::from(ratios.len() > before);
    }
    (!ratios.is_empty()).then(|| PooledTest {
        test: wilcoxon_signed_rank(&ratios, Alternative::Less),
        tasks,
    })
}

fn pooled_text(pooled: Option<&PooledTest>) -> String {
    match pooled {
        None => "no task with both groups".to_owned(),
        Some(PooledTest { test: t, tasks }) => format!(
            "{} (task, seed) pairs over {tasks} tasks, {} tied, W+ = {}, p = {}, min. p = {}",
            t.n + t.n_other,
            t.n_other,
            t.statistic,
            p_value(t.p_value),
            p_value(t.min_p_value)
        ),
    }
}

fn test_name(t: &RankTest) -> String {
    match t.test {
        TestKind::WilcoxonSignedRank => format!(
            "signed-rank, {} pairs ({} tied)",
            t.n + t.n_other,
            t.n_other
        ),
        TestKind::MannWhitneyU => format!("Mann-Whitney, {} vs {}", t.n, t.n_other),
    }
}

fn statistic(t: &RankTest) -> String {
    match t.test {
        TestKind::WilcoxonSignedRank => format!("W+ = {}", t.statistic),
        TestKind::MannWhitneyU => format!("U = {}", t.statistic),
    }
}

/// Verdict of a one-sided "fewer epochs" test.
pub(crate) fn significance(t: &RankTest) -> Verdict {
    if t.p_value <= ALPHA {
        Verdict::Reproduced
    } else if t.min_p_value > ALPHA {
        Verdict::Inconclusive
    } else {
        Verdict::NotReproduced
    }
}

fn censored_means(full: &GroupStats, other: &GroupStats) -> String {
    let m = |g: &GroupStats| {
        g.convergence_censored
            .mean
            .map_or("–".to_owned(), |m| format!("{m:.1}"))
    };
    format!("{} → {}", m(full), m(other))
}

fn speedup_cell(g: &GroupStats) -> String {
    g.speedup_vs_full.as_ref().map_or("–".to_owned(), |s| {
        format!("{:.2}× [{:.2}, {:.2}]", s.estimate, s.ci_low, s.ci_high)
    })
}

/// C1: the primary topk variant converges in fewer epochs than full attention, per task and
/// overall.
pub(crate) fn topk_converges_faster(inputs: &Inputs, primary: &Primary) -> Claim {
    let header = vec![
        "task",
        "activation",
        "variant",
        "test",
        "statistic",
        "p",
        "min. p",
        "epochs full → variant",
        "speedup [95% CI]",
        "verdict",
    ];
    let mut rows = Vec::new();
    let mut task_verdicts: Vec<(Task, Verdict)> = Vec::new();
    for task in Task::ALL {
        let combos = variants_of(inputs, task, is_topk);
        if !inputs.stats.contains_key(&task) {
            rows.push(not_run_row(task, NOT_RUN, header.len()));
            task_verdicts.push((task, Verdict::Inconclusive));
            continue;
        }
        if combos.is_empty() {
            rows.push(not_run_row(task, "topk not run", header.len()));
        }
        let mut task_verdict = Verdict::Inconclusive;
        for (activation, variant) in combos {
            let is_primary = primary.is(activation, variant);
            let mark = if is_primary { " (primary)" } else { "" };
            let other = find_group(inputs, task, variant, activation).expect("listed group exists");
            let Some(full) = find_group(inputs, task, Variant::Full, activation) else {
                let mut row = not_run_row(task, &activation.to_string(), header.len());
                row[2] = variant.to_string();
                *row.last_mut().expect("row") =
                    format!("{}{mark} (full not run)", Verdict::Inconclusive);
                rows.push(row);
                continue;
            };
            let t = fewer_epochs(full, other);
            let verdict = significance(&t);
            if is_primary {
                task_verdict = verdict;
            }
            rows.push(vec![
                format!("`{task}`"),
                activation.to_string(),
                variant.to_string(),
                test_name(&t),
                statistic(&t),
                p_value(t.p_value),
                p_value(t.min_p_value),
                censored_means(full, other),
                speedup_cell(other),
                format!("{verdict}{mark}"),
            ]);
        }
        task_verdicts.push((task, task_verdict));
    }

    let conclusive: Vec<&(Task, Verdict)> = task_verdicts
        .iter()
        .filter(|(_, v)| *v != Verdict::Inconclusive)
        .collect();
    let reproduced: Vec<Task> = conclusive
        .iter()
        .filter(|(_, v)| *v == Verdict::Reproduced)
        .map(|(t, _)| *t)
        .collect();
    let headline_failed: Vec<Task> = conclusive
        .iter()
        .filter(|(t, v)| HEADLINE_TASKS.contains(t) && *v == Verdict::NotReproduced)
        .map(|(t, _)| *t)
        .collect();
    let pooled = match (primary.activation, primary.topk) {
        (Some(a), Some(v)) => pooled_fewer_epochs(inputs, a, v),
        _ => None,
    };
    let (verdict, basis) = if !conclusive.is_empty() {
        let v = if headline_failed.is_empty() && reproduced.len() * 2 > conclusive.len() {
            Verdict::Reproduced
        } else {
            Verdict::NotReproduced
        };
        (v, "per-task tests")
    } else {
        match &pooled {
            Some(p) => (
                significance(&p.test),
                "pooled test (no per-task test could reach alpha)",
            ),
            None => (Verdict::Inconclusive, "no comparison"),
        }
    };
    let names = |ts: &mut dyn Iterator<Item = Task>| list(ts.map(|t| format!("`{t}`")));
    let largest = largest_topk_speedup(inputs);
    let summary = format!(
        "Primary comparison {} vs full under {}: significantly fewer epochs on {} of {} tasks with a conclusive test ({}); \
         not reproduced on {}; inconclusive on {}. Pooled over tasks: {}. Verdict from the {basis}. \
         Largest speedup of a topk variant observed: {}; the paper's largest is {PAPER_MAX_SPEEDUP}×.",
        primary.topk.map_or("topk".to_owned(), |v| v.to_string()),
        primary.activation.map_or("any activation".to_owned(), |a| a.to_string()),
        reproduced.len(),
        conclusive.len(),
        names(&mut reproduced.iter().copied()),
        names(&mut conclusive.iter().filter(|(_, v)| *v == Verdict::NotReproduced).map(|(t, _)| *t)),
        names(&mut task_verdicts.iter().filter(|(_, v)| *v == Verdict::Inconclusive).map(|(t, _)| *t)),
        pooled_text(pooled.as_ref()),
        largest,
    );
    Claim {
        id: "C1",
        statement: "top-k attention converges in fewer epochs than full attention on listops, even_pairs, missing_duplicate, \
                    and on most other tasks (largest reported speedup 8.83×).",
        rule: format!(
            "per task, exact one-sided Wilcoxon signed-rank test paired by seed on censored convergence epochs \
             (Mann-Whitney U when no seed is shared), alpha = {ALPHA}; a test that cannot reach alpha is inconclusive. \
             Reproduced when every headline task with a conclusive test is reproduced and more than half of all such tasks are. \
             When no per-task test is conclusive, the verdict follows a pooled signed-rank test on the per-(task, seed) log ratio \
             of censored epochs (topk / full) over all tasks run."
        ),
        verdict,
        summary,
        tables: vec![ClaimTable { header, rows }],
        scope: scope::c1(inputs, primary),
    }
}

fn largest_topk_speedup(inputs: &Inputs) -> String {
    inputs
        .stats
        .values()
        .flat_map(|(_, f)| f.groups.iter().map(move |g| (f.task, g)))
        .filter(|(_, g)| is_topk(g.variant))
        .filter_map(|(t, g)| g.speedup_vs_full.as_ref().map(|s| (t, g, s)))
        .max_by(|a, b| a.2.estimate.total_cmp(&b.2.estimate))
        .map_or(
            "none (no topk run with a full-attention baseline)".to_owned(),
            |(t, g, s)| {
                format!(
                    "{:.2}× [{:.2}, {:.2}] (`{t}`, {}, {})",
                    s.estimate, s.ci_low, s.ci_high, g.variant, g.activation
                )
            },
        )
}

/// Per (activation, band/bloc variant): tasks compared with full, significantly faster, and
/// undetermined (the test could not reach alpha).
#[derive(Clone, Copy, Debug)]
struct Tally {
    activation: Activation,
    variant: Variant,
    compared: usize,
    faster: usize,
    undetermined: usize,
}

/// C2: no banded or block-local variant (with or without global tokens) converges consistently
/// faster than full attention.
pub(crate) fn local_attention_not_consistently_faster(inputs: &Inputs) -> Claim {
    let header = vec![
        "task",
        "activation",
        "variant",
        "test",
        "statistic",
        "p",
        "min. p",
        "epochs full → variant",
        "speedup [95% CI]",
        "faster than full?",
    ];
    let mut rows = Vec::new();
    let mut tally: Vec<Tally> = Vec::new();
    for task in Task::ALL {
        for (activation, variant) in variants_of(inputs, task, is_band_or_bloc) {
            let Some(full) = find_group(inputs, task, Variant::Full, activation) else {
                continue;
            };
            let other = find_group(inputs, task, variant, activation).expect("listed group exists");
            let t = fewer_epochs(full, other);
            let answer = match significance(&t) {
                Verdict::Reproduced => "yes",
                Verdict::NotReproduced => "no",
                Verdict::Inconclusive => "undetermined (min. p > alpha)",
            };
            let i = match tally
                .iter()
                .position(|t| (t.activation, t.variant) == (activation, variant))
            {
                Some(i) => i,
                None => {
                    tally.push(Tally {
                        activation,
                        variant,
                        compared: 0,
                        faster: 0,
                        undetermined: 0,
                    });
                    tally.len() - 1
                }
            };
            let entry = &mut tally[i];
            entry.compared += 1;
            match significance(&t) {
                Verdict::Reproduced => entry.faster += 1,
                Verdict::Inconclusive => entry.undetermined += 1,
                Verdict::NotReproduced => {}
            }
            rows.push(vec![
                format!("`{task}`"),
                activation.to_string(),
                variant.to_string(),
                test_name(&t),
                statistic(&t),
                p_value(t.p_value),
                p_value(t.min_p_value),
                censored_means(full, other),
                speedup_cell(other),
                answer.to_owned(),
            ]);
        }
    }
    tally.sort_by_key(|t| (activation_order(&t.activation), variant_order(&t.variant)));
    let mut consistently = Vec::new();
    let mut undetermined = Vec::new();
    let summary_rows = tally
        .iter()
        .map(|t| {
            let (activation, variant) = (t.activation, t.variant);
            let (m, s, u) = (t.compared, t.faster, t.undetermined);
            let pooled = pooled_fewer_epochs(inputs, activation, variant);
            let name = format!("{variant} ({activation})");
            let status = if s * 2 > m {
                consistently.push(name);
                "consistently faster"
            } else if (s + u) * 2 <= m {
                "not consistently faster"
            } else {
                // The per-task tests cannot decide: fall back on the pooled test.
                match pooled.as_ref().map(|p| significance(&p.test)) {
                    Some(Verdict::Reproduced) => {
                        consistently.push(name);
                        "faster on the pooled test"
                    }
                    Some(Verdict::NotReproduced) => "not faster on the pooled test",
                    _ => {
                        undetermined.push(name);
                        "undetermined"
                    }
                }
            };
            vec![
                activation.to_string(),
                variant.to_string(),
                m.to_string(),
                s.to_string(),
                u.to_string(),
                pooled
                    .as_ref()
                    .map_or("–".to_owned(), |p| p_value(p.test.p_value)),
                status.to_owned(),
            ]
        })
        .collect::<Vec<_>>();
    let verdict = if !consistently.is_empty() {
        Verdict::NotReproduced
    } else if !undetermined.is_empty() || tally.is_empty() {
        Verdict::Inconclusive
    } else {
        Verdict::Reproduced
    };
    let significant: usize = tally.iter().map(|t| t.faster).sum();
    let summary = format!(
        "{} band/bloc comparisons with full attention over {} variant/activation pairs; significantly faster in {significant}. \
         Consistently faster: {}. Undetermined (too few informative seeds): {}.",
        rows.len(),
        tally.len(),
        list(consistently.into_iter()),
        list(undetermined.into_iter()),
    );
    Claim {
        id: "C2",
        statement: "banded and block-local attention, with or without global tokens, do not consistently converge faster than full attention.",
        rule: format!(
            "per task, the same one-sided test as C1 (alpha = {ALPHA}); a band/bloc variant is consistently faster when significantly \
             faster on more than half of the tasks it was run on; when the tests that cannot reach alpha could tip that majority, \
             the pooled signed-rank test over tasks (log ratio of censored epochs, variant / full) decides. Not reproduced if any \
             variant is consistently faster; inconclusive if some variant stays undetermined or no band/bloc variant was run."
        ),
        verdict,
        summary,
        tables: vec![
            ClaimTable { header, rows },
            ClaimTable {
                header: vec!["activation", "variant", "tasks compared", "significantly faster", "undetermined", "pooled p", "status"],
                rows: summary_rows,
            },
        ],
        scope: scope::c2(inputs),
    }
}
