//! `report.json`: the sections this stage adds to the run's report page (`repro report`
//! renders them; the format is `repro_sections::PageSections`, content only, no markup).
//!
//! Sections, in page order:
//! - verdicts: a strip C1..C4 (verdict, the claim in one sentence) and how much of the paper's
//!   grid the data covers (tasks, variants, activations, seeds of the paper's);
//! - the main table with a "paper" column ("not transcribed": SPEC.md transcribes none of the
//!   paper's main-table numbers, only its largest speedup, shown beside ours), and Table 6 as
//!   one row per (task, quantity): the paper's value, ours, and ours minus the paper's, with
//!   "not run" and "not transcribed" instead of blanks;
//! - per claim: the statement, the rule, the verdict, the numbers behind it, its tables (the
//!   test, the statistic, p and the smallest p the seeds allow) and what it cannot show;
//! - learning curves per task and activation: held-out accuracy and training loss, the median
//!   over seeds with an interquartile band per variant, and each seed's held-out accuracy behind
//!   a disclosure.
//!
//! Curves come from the runs' `history.csv` when `--runs` is given: a run that stopped early
//! (the stopping rule) carries its last value forward, so the median at an epoch is over every
//! seed, not only the ones still training. Without `--runs`, the stats summaries' bands (over
//! the seeds still training) are drawn and the per-seed curves are left out, saying so. Lines
//! are thinned to at most [`MAX_POINTS`] points (per-seed lines [`MAX_SEED_POINTS`]), first
//! and last kept, so that the paper's 1,000-epoch runs keep the page small.

use std::collections::BTreeMap;
use std::path::Path;

use common::run_output::{history::read_history, HistoryRow, HISTORY_FILE};
use common::{Activation, Task, Variant, PAPER_SEEDS};
use repro_sections::{
    Block, Chart, Fact, Line, PageSections, Point, Section, Table, Tone, PAGE_SECTIONS_FORMAT,
};
use stats::schema::{activation_order, variant_order, Band, GroupStats};

use crate::claims::{Claim, Verdict};
use crate::format::{self, NOT_RUN};
use crate::input::Inputs;
use crate::origin::Origin;
use crate::paper::{paper_table6, PAPER_MAX_SPEEDUP};
use crate::rows::MainTable;
use crate::table6::{Source, Table6Row, GROUPS};
use crate::TableError;

/// Most points of a median line.
pub const MAX_POINTS: usize = 100;
/// Most points of a per-seed line.
pub const MAX_SEED_POINTS: usize = 40;
/// What a cell says when the paper's number is not transcribed.
pub const NOT_TRANSCRIBED: &str = "not transcribed";

/// Per (task, variant name, activation name), each seed's history, when runs were read.
pub type Histories = BTreeMap<(Task, String, String), Vec<(u64, Vec<HistoryRow>)>>;

/// Reads each group's runs' `history.csv` under `runs/TASK/VARIANT/ACTIVATION/SEED/`.
pub fn read_histories(runs: &Path, inputs: &Inputs) -> Result<Histories, TableError> {
    let mut out = Histories::new();
    for (task, (_, file)) in &inputs.stats {
        for g in &file.groups {
            let mut seeds = Vec::new();
            for &seed in &g.seeds {
                let path = runs
                    .join(task.to_string())
                    .join(g.variant.to_string())
                    .join(g.activation.to_string())
                    .join(seed.to_string())
                    .join(HISTORY_FILE);
                let rows = read_history(&path).map_err(|e| TableError::Malformed {
                    path: path.clone(),
                    line: 0,
                    message: e.to_string(),
                })?;
                seeds.push((seed, rows));
            }
            out.insert(
                (*task, g.variant.to_string(), g.activation.to_string()),
                seeds,
            );
        }
    }
    Ok(out)
}

/// Everything the sections are built from.
pub struct PageInputs<'a> {
    /// The stats summaries and probes.
    pub inputs: &'a Inputs,
    /// The main table.
    pub main: &'a MainTable<'a>,
    /// Table 6 rows.
    pub table6: &'a [Table6Row],
    /// The claims.
    pub claims: &'a [Claim],
    /// Per-seed histories, when `--runs` was given.
    pub histories: Option<&'a Histories>,
    /// The profile and key the results belong to.
    pub origin: &'a Origin,
}

/// Builds the sections.
pub fn page_sections(p: &PageInputs<'_>) -> PageSections {
    PageSections {
        format: PAGE_SECTIONS_FORMAT,
        sections: vec![verdicts(p), tables(p), claims(p.claims), curves(p)],
    }
}

fn tone(v: Verdict) -> Tone {
    match v {
        Verdict::Reproduced => Tone::Good,
        Verdict::NotReproduced => Tone::Bad,
        Verdict::Inconclusive => Tone::Neutral,
    }
}

fn verdicts(p: &PageInputs<'_>) -> Section {
    let groups = || p.inputs.stats.values().flat_map(|(_, f)| f.groups.iter());
    let mut variants: Vec<Variant> = groups().map(|g| g.variant).collect();
    variants.sort_by_key(variant_order);
    variants.dedup();
    let mut activations: Vec<Activation> = groups().map(|g| g.activation).collect();
    activations.sort_by_key(activation_order);
    activations.dedup();
    let seeds: std::collections::BTreeSet<u64> =
        groups().flat_map(|g| g.seeds.iter().copied()).collect();
    let paper_seeds = seeds.iter().filter(|s| PAPER_SEEDS.contains(s)).count();
    let coverage = vec![
        Fact {
            label: "tasks".into(),
            value: format!("{} of the paper's 8", p.inputs.stats.len()),
        },
        Fact {
            label: "variants".into(),
            value: format!(
                "{} of the paper's 15 ({})",
                variants.len(),
                join(variants.iter().map(|v| v.to_string()))
            ),
        },
        Fact {
            label: "activations".into(),
            value: format!(
                "{} of the paper's 3 ({})",
                activations.len(),
                join(activations.iter().map(|a| a.to_string()))
            ),
        },
        Fact {
            label: "seeds".into(),
            value: format!("{} ({paper_seeds} of the paper's 10)", seeds.len()),
        },
    ];
    Section {
        id: "verdicts".into(),
        title: "Claims at a glance".into(),
        blocks: vec![
            Block::Verdicts {
                items: p
                    .claims
                    .iter()
                    .map(|c| repro_sections::Verdict {
                        id: c.id.into(),
                        verdict: c.verdict.to_string(),
                        tone: tone(c.verdict),
                        sentence: match &c.reason {
                            Some(reason) => format!("{} Inconclusive because {reason}.", c.statement),
                            None => c.statement.into(),
                        },
                    })
                    .collect(),
            },
            Block::Text {
                text: "What the data covers of the paper's grid (the commit and date are in the page's header):".into(),
            },
            Block::Facts { items: coverage },
            Block::Text {
                text: "Which run wrote the table stage's results (its key is also in each of its files; the key's action record names the commit it ran at):".into(),
            },
            Block::Facts {
                items: vec![
                    Fact {
                        label: "profile".into(),
                        value: p.origin.profile.clone(),
                    },
                    Fact {
                        label: "table key".into(),
                        value: p.origin.key_text().to_owned(),
                    },
                ],
            },
        ],
    }
}

fn join(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn tables(p: &PageInputs<'_>) -> Section {
    let mut rows = Vec::new();
    let mut largest: Option<(f64, String)> = None;
    for section in &p.main.sections {
        for block in &section.blocks {
            if block.rows.is_empty() {
                rows.push(vec![
                    section.activation.to_string(),
                    block.task.to_string(),
                    "–".into(),
                    "0".into(),
                    NOT_RUN.into(),
                    NOT_RUN.into(),
                    NOT_RUN.into(),
                    NOT_TRANSCRIBED.into(),
                ]);
                continue;
            }
            for row in &block.rows {
                let mut cells = vec![
                    section.activation.to_string(),
                    block.task.to_string(),
                    row.variant.to_string(),
                ];
                match row.group {
                    None => {
                        cells.extend(["0".into(), NOT_RUN.into(), NOT_RUN.into(), NOT_RUN.into()])
                    }
                    Some(g) => {
                        if let Some(s) = &g.speedup_vs_full {
                            if largest.as_ref().is_none_or(|(b, _)| s.estimate > *b) {
                                largest = Some((
                                    s.estimate,
                                    format!("{} {} {}", block.task, g.variant, g.activation),
                                ));
                            }
                        }
                        cells.extend([
                            g.seeds_run.to_string(),
                            format::convergence(g),
                            format::speedup(g),
                            format::accuracy(&g.best_heldout_acc),
                        ]);
                    }
                }
                cells.push(NOT_TRANSCRIBED.into());
                rows.push(cells);
            }
        }
    }
    let speedup_line = match &largest {
        Some((s, which)) => format!(
            "Largest speedup: ours {s:.2}× ({which}); the paper's {PAPER_MAX_SPEEDUP:.2}× (difference {:+.2}×).",
            s - PAPER_MAX_SPEEDUP
        ),
        None => format!(
            "Largest speedup: ours {NOT_RUN} (no variant beside a full run); the paper's {PAPER_MAX_SPEEDUP:.2}×."
        ),
    };
    Section {
        id: "tables".into(),
        title: "The paper's tables beside ours".into(),
        blocks: vec![
            Block::Text {
                text: "Convergence epoch: first epoch with training accuracy ≥ 95%, mean ± std over the seeds that converged (converged/seeds). Speedup: mean(full) / mean(variant) of convergence epochs, a run that never converged counted as epochs + 1, with a 95% bootstrap interval. Best held-out accuracy in %, mean ± std over seeds. The paper's per-row numbers are not transcribed in the specification this reproduction works from, so the paper column says so rather than staying blank.".into(),
            },
            Block::Text { text: speedup_line },
            Block::Table(Table {
                caption: "Main table".into(),
                header: [
                    "activation",
                    "task",
                    "variant",
                    "seeds",
                    "convergence epoch (conv./seeds)",
                    "speedup vs full [95% CI]",
                    "best held-out acc. (%)",
                    "paper",
                ]
                .map(String::from)
                .to_vec(),
                rows,
                sortable: true,
            }),
            Block::Table(table6_beside(p.table6)),
        ],
    }
}

/// Table 6 as one row per (task, quantity): paper, ours, ours minus paper.
fn table6_beside(rows: &[Table6Row]) -> Table {
    let labels: Vec<Vec<String>> = GROUPS
        .iter()
        .map(|g| {
            let (name, pcts) = g.rsplit_once(' ').unwrap_or((g, ""));
            pcts.split('/').map(|p| format!("{name} {p}")).collect()
        })
        .collect();
    let mut out = Vec::new();
    for ours in rows
        .iter()
        .filter(|r| matches!(r.source, Source::Ours { .. }))
    {
        let paper =
            paper_table6(ours.task).map(|r| [r.full_delta, r.top5_delta, r.top5_sep, r.top5_beta]);
        for (g, names) in labels.iter().enumerate() {
            for (k, name) in names.iter().enumerate() {
                let paper_text = paper.map(|p| p[g][k]);
                let ours_value = ours.values[g][k];
                let diff = match (paper_text.and_then(|t| t.parse::<f64>().ok()), ours_value) {
                    (Some(a), Some(b)) => format::sig3(b - a),
                    _ => "–".into(),
                };
                out.push(vec![
                    ours.task.to_string(),
                    name.clone(),
                    paper_text.map_or(NOT_TRANSCRIBED.into(), str::to_owned),
                    ours_value.map_or(NOT_RUN.into(), format::sig3),
                    diff,
                    ours.source_label(),
                ]);
            }
        }
    }
    Table {
        caption: "Table 6 (semantic dispersion probe): the paper's value, ours, and ours minus the paper's".into(),
        header: ["task", "quantity", "paper", "ours", "difference", "our probes"]
            .map(String::from)
            .to_vec(),
        rows: out,
        sortable: true,
    }
}

fn claims(claims: &[Claim]) -> Section {
    let mut blocks = Vec::new();
    for c in claims {
        let mut items = vec![fact(&format!("{} verdict", c.id), &c.verdict.to_string())];
        if let Some(reason) = &c.reason {
            items.push(fact("why inconclusive", reason));
        }
        blocks.push(Block::Facts {
            items: [
                items,
                vec![
                    fact("claim", c.statement),
                    fact("rule", &c.rule),
                    fact("result", &c.summary),
                    fact("showed", &c.scope.showed),
                    fact("cannot show", &c.scope.cannot_show),
                ],
            ]
            .concat(),
        });
        for t in &c.tables {
            blocks.push(Block::Table(Table {
                caption: format!("{}: the comparisons", c.id),
                header: t.header.iter().map(|h| (*h).to_owned()).collect(),
                rows: t.rows.clone(),
                sortable: true,
            }));
        }
    }
    Section {
        id: "claims".into(),
        title: "Each claim: rule, test, statistic and what it cannot show".into(),
        blocks,
    }
}

fn fact(label: &str, value: &str) -> Fact {
    Fact {
        label: label.into(),
        value: value.into(),
    }
}

/// `#rrggbb` of a variant's colour in the PNG/SVG figures.
fn colour(v: Variant) -> String {
    let c = crate::figures::colour(v);
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn curves(p: &PageInputs<'_>) -> Section {
    let mut blocks = vec![Block::Text {
        text: match p.histories {
            Some(_) => "Per task and activation: the median over seeds with the band from the 25% to the 75% quantile, per variant; a run that stopped early carries its last value forward. Hover a point for its values. Each seed's held-out accuracy is behind the disclosure under each task.".into(),
            None => "Per task and activation: the median over the seeds still training at each epoch, with the band from the 25% to the 75% quantile, per variant (from the stats summaries). Per-seed curves need the runs (`table --runs`), which this stage was not given.".into(),
        },
    }];
    let mut any = false;
    for (task, (_, file)) in &p.inputs.stats {
        let mut groups: Vec<&GroupStats> = file.groups.iter().collect();
        groups.sort_by_key(|g| (activation_order(&g.activation), variant_order(&g.variant)));
        let mut activations: Vec<Activation> = groups.iter().map(|g| g.activation).collect();
        activations.dedup();
        for a in activations {
            any = true;
            let of: Vec<&GroupStats> = groups
                .iter()
                .copied()
                .filter(|g| g.activation == a)
                .collect();
            let hist = |g: &GroupStats| {
                p.histories
                    .and_then(|h| h.get(&(*task, g.variant.to_string(), a.to_string())))
            };
            let line_of = |g: &GroupStats,
                           pick: fn(&HistoryRow) -> f64,
                           band: fn(&stats::schema::Curves) -> &Band| {
                let points = match hist(g) {
                    Some(seeds) => carried_quantiles(seeds, pick),
                    None => band_points(&g.curves.epochs, band(&g.curves)),
                };
                Line {
                    name: g.variant.to_string(),
                    colour: colour(g.variant),
                    points: thin(&points, MAX_POINTS),
                    faint: false,
                }
            };
            blocks.push(Block::Chart(Chart {
                title: format!("{task} ({a}): held-out accuracy"),
                x_label: "epoch".into(),
                y_label: "held-out accuracy".into(),
                y_range: Some((0.0, 1.0)),
                lines: of
                    .iter()
                    .map(|g| line_of(g, |r| r.heldout_acc, |c| &c.heldout_acc))
                    .collect(),
            }));
            blocks.push(Block::Chart(Chart {
                title: format!("{task} ({a}): training loss"),
                x_label: "epoch".into(),
                y_label: "training loss".into(),
                y_range: None,
                lines: of
                    .iter()
                    .map(|g| line_of(g, |r| r.train_loss, |c| &c.train_loss))
                    .collect(),
            }));
            if p.histories.is_some() {
                let mut lines = Vec::new();
                for g in &of {
                    for (seed, rows) in hist(g).into_iter().flatten() {
                        let pts: Vec<Point> = rows
                            .iter()
                            .filter(|r| r.heldout_acc.is_finite())
                            .map(|r| Point {
                                x: r.epoch as f64,
                                y: r.heldout_acc,
                                lo: None,
                                hi: None,
                            })
                            .collect();
                        lines.push(Line {
                            name: format!("{} seed {seed}", g.variant),
                            colour: colour(g.variant),
                            points: thin(&pts, MAX_SEED_POINTS),
                            faint: true,
                        });
                    }
                }
                blocks.push(Block::Details {
                    summary: format!("{task} ({a}): each seed's held-out accuracy"),
                    blocks: vec![Block::Chart(Chart {
                        title: format!("{task} ({a}): held-out accuracy per seed"),
                        x_label: "epoch".into(),
                        y_label: "held-out accuracy".into(),
                        y_range: Some((0.0, 1.0)),
                        lines,
                    })],
                });
            }
        }
    }
    if !any {
        blocks.push(Block::Text {
            text: "No curves: no runs.".into(),
        });
    }
    Section {
        id: "curves".into(),
        title: "Learning curves".into(),
        blocks,
    }
}

/// Points of a stats band (epochs where the median is finite).
fn band_points(epochs: &[usize], b: &Band) -> Vec<Point> {
    epochs
        .iter()
        .enumerate()
        .filter_map(|(i, &e)| {
            let y = (*b.median.get(i)?)?;
            y.is_finite().then(|| Point {
                x: e as f64,
                y,
                lo: b.q25.get(i).copied().flatten().filter(|v| v.is_finite()),
                hi: b.q75.get(i).copied().flatten().filter(|v| v.is_finite()),
            })
        })
        .collect()
}

/// Per epoch up to the longest run, the median and quartiles over seeds, a seed that stopped
/// early contributing its last value; non-finite values (a diverged run) are left out.
pub fn carried_quantiles(
    seeds: &[(u64, Vec<HistoryRow>)],
    pick: fn(&HistoryRow) -> f64,
) -> Vec<Point> {
    let longest = seeds.iter().map(|(_, r)| r.len()).max().unwrap_or(0);
    (0..longest)
        .filter_map(|e| {
            let mut v: Vec<f64> = seeds
                .iter()
                .filter_map(|(_, rows)| rows.get(e).or(rows.last()).map(pick))
                .filter(|x| x.is_finite())
                .collect();
            if v.is_empty() {
                return None;
            }
            v.sort_by(f64::total_cmp);
            Some(Point {
                x: (e + 1) as f64,
                y: quantile(&v, 0.5),
                lo: Some(quantile(&v, 0.25)),
                hi: Some(quantile(&v, 0.75)),
            })
        })
        .collect()
}

/// Linear-interpolation quantile of sorted, non-empty `v`.
fn quantile(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// At most `max` points, evenly spread, the first and last kept.
pub fn thin(points: &[Point], max: usize) -> Vec<Point> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let n = points.len();
    (0..max).map(|i| points[i * (n - 1) / (max - 1)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(epoch: usize, acc: f64) -> HistoryRow {
        HistoryRow {
            epoch,
            lr: 0.1,
            train_loss: 1.0 / epoch as f64,
            train_acc: acc,
            heldout_loss: 1.0,
            heldout_acc: acc,
        }
    }

    #[test]
    fn a_run_that_stopped_early_counts_with_its_last_value() {
        // Seed 1 stopped at epoch 2 with 0.9; seed 2 trains to epoch 4, slowly.
        let seeds = vec![
            (1, vec![row(1, 0.5), row(2, 0.9)]),
            (2, vec![row(1, 0.5), row(2, 0.5), row(3, 0.6), row(4, 0.7)]),
        ];
        let pts = carried_quantiles(&seeds, |r| r.heldout_acc);
        assert_eq!(pts.len(), 4);
        // Epoch 4: 0.9 (carried) and 0.7 -> median 0.8, not 0.7 from seed 2 alone.
        assert!((pts[3].y - 0.8).abs() < 1e-12, "{:?}", pts[3]);
        assert!((pts[3].lo.unwrap() - 0.75).abs() < 1e-12);
        assert!((pts[3].hi.unwrap() - 0.85).abs() < 1e-12);
    }

    #[test]
    fn thinning_keeps_the_ends_and_the_cap() {
        let pts: Vec<Point> = (0..1000)
            .map(|i| Point {
                x: i as f64,
                y: 0.0,
                lo: None,
                hi: None,
            })
            .collect();
        let t = thin(&pts, MAX_POINTS);
        assert_eq!(t.len(), MAX_POINTS);
        assert_eq!(t[0].x, 0.0);
        assert_eq!(t[MAX_POINTS - 1].x, 999.0);
        assert_eq!(thin(&pts[..10], MAX_POINTS).len(), 10);
    }

    #[test]
    fn table6_says_not_run_and_not_transcribed_instead_of_blanks() {
        let inputs = Inputs::default();
        let rows = crate::table6::table6(&inputs);
        let t = table6_beside(&rows);
        assert!(!t.rows.is_empty());
        for r in &t.rows {
            assert!(r.iter().all(|c| !c.is_empty()), "{r:?}");
            assert_eq!(r[3], NOT_RUN);
        }
        assert!(t.rows.iter().any(|r| r[0] == "listops" && r[2] == "8.61"));
    }
}
