//! The page's size bound for the paper profile, pinned by a synthetic page of the paper grid's
//! size rather than a real run (which is GPU- or cluster-scale): 8 tasks x 15 variants x 3
//! activations x 10 seeds (3,600 training runs) plus the ablations, probes, landscapes and
//! stats (about 4,000 instances), every instance with a record, a 12-line log tail of 240
//! characters per line and a timeline span, and the table stage's curves as it writes them
//! (median lines thinned to 100 points with bands, per-seed lines to 40). Test-only.

/// The stated bound on the paper profile's page, in bytes.
pub(crate) const PAPER_PAGE_BOUND: usize = 10_000_000;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use repro_sections::{Block, Chart, Line, PageSections, Point, Section, Table};

    use super::PAPER_PAGE_BOUND;
    use crate::cache::{ActionRecord, KeyInputs};
    use crate::runreport::facts::{InstanceFacts, PageFacts, SectionsFile, LOG_TAIL_LINES};
    use crate::runreport::provenance::Checkout;
    use crate::runreport::record::{InstanceRun, Outcome, RunRecord};
    use crate::runreport::stagegraph::StageNode;

    const TASKS: usize = 8;
    const VARIANTS: usize = 15;
    const ACTIVATIONS: usize = 3;
    const SEEDS: usize = 10;
    /// Training runs plus the 320 ablation runs, probes, landscapes, stats and tables.
    const INSTANCES: usize = TASKS * VARIANTS * ACTIVATIONS * SEEDS + 320 + 80;
    /// Median lines are thinned to this many points (`stages/table/src/page.rs`).
    const MEDIAN_POINTS: usize = 100;
    /// Per-seed lines are thinned to this many points.
    const SEED_POINTS: usize = 40;

    fn points(n: usize, band: bool) -> Vec<Point> {
        (0..n)
            .map(|i| {
                let y = 0.5 + 0.4 * (i as f64 / n as f64) + 0.000_123_456 * i as f64;
                Point {
                    x: (i * 10 + 1) as f64,
                    y,
                    lo: band.then_some(y - 0.031_234_5),
                    hi: band.then_some(y + 0.029_876_5),
                }
            })
            .collect()
    }

    fn line(name: String, n: usize, faint: bool) -> Line {
        Line {
            name,
            colour: "#1f77b4".into(),
            points: points(n, !faint),
            faint,
        }
    }

    fn chart(title: String, lines: Vec<Line>) -> Chart {
        Chart {
            title,
            x_label: "epoch".into(),
            y_label: "held-out accuracy".into(),
            y_range: Some((0.0, 1.0)),
            lines,
        }
    }

    /// The table stage's sections at the paper grid's size.
    fn paper_sections() -> PageSections {
        let mut curves = Vec::new();
        for t in 0..TASKS {
            for a in 0..ACTIVATIONS {
                let medians = |what: &str| {
                    chart(
                        format!("modular_arithmetic_brackets{t} (gelu{a}): {what}"),
                        (0..VARIANTS)
                            .map(|v| line(format!("bloc9+G3-{v}"), MEDIAN_POINTS, false))
                            .collect(),
                    )
                };
                curves.push(Block::Chart(medians("held-out accuracy")));
                curves.push(Block::Chart(medians("training loss")));
                let seeds = (0..VARIANTS * SEEDS)
                    .map(|i| line(format!("bloc9+G3 seed 15347699{i}"), SEED_POINTS, true))
                    .collect();
                curves.push(Block::Details {
                    summary: format!("task {t} ({a}): each seed's held-out accuracy"),
                    blocks: vec![Block::Chart(chart(format!("task {t} per seed"), seeds))],
                });
            }
        }
        let row: Vec<String> = (0..12)
            .map(|i| format!("{i}.{i}1 ± 0.{i}2 (10/10)"))
            .collect();
        let table = Table {
            caption: "Main table".into(),
            header: (0..12).map(|i| format!("column {i}")).collect(),
            rows: vec![row; TASKS * VARIANTS * ACTIVATIONS],
            sortable: true,
        };
        PageSections {
            format: repro_sections::PAGE_SECTIONS_FORMAT,
            sections: vec![
                Section {
                    id: "tables".into(),
                    title: "Tables".into(),
                    blocks: vec![Block::Table(table)],
                },
                Section {
                    id: "curves".into(),
                    title: "Learning curves".into(),
                    blocks: curves,
                },
            ],
        }
    }

    fn instance(i: usize) -> InstanceFacts {
        let id = format!(
            "train@task=modular_arithmetic_brackets,variant=bloc9+G3,activation=softmax,seed={i}"
        );
        let params: BTreeMap<String, serde_json::Value> = (0..20)
            .map(|p| {
                (
                    format!("param_{p}"),
                    serde_json::json!(format!("value {p}")),
                )
            })
            .collect();
        let key = format!("{:064x}", i);
        let record = ActionRecord {
            format: 1,
            key: key.clone(),
            instance: id.clone(),
            inputs: KeyInputs {
                version: 1,
                argv: vec![],
                env: BTreeMap::new(),
                params: params.clone(),
                deps: BTreeMap::new(),
                code: BTreeMap::new(),
                outs: vec![],
            },
            outputs: BTreeMap::new(),
            metrics: (0..6)
                .map(|m| (format!("metric_{m}"), 0.123_456 * m as f64))
                .collect(),
            exit_status: 0,
            duration_s: 1234.5,
            host: "gpu-node-017".into(),
            device: "cuda:3".into(),
            slot: Some("gpu 3 · cpu 12".into()),
            log: key.clone(),
            finished_at: 1_796_000_000,
            platform: None,
            checkout: Some(crate::cache::CheckoutRecord {
                commit: "9947fb3a".repeat(5),
                dirty: Some(false),
            }),
        };
        InstanceFacts {
            matrix: [
                ("task", "modular_arithmetic_brackets"),
                ("variant", "bloc9+G3"),
                ("activation", "softmax"),
                ("seed", "153476998"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            params,
            stage: "train".into(),
            state: "fresh",
            key: Some(key),
            record: Some(record),
            // 64 slots (8 GPUs, 8 CPU slots each), each running its instances one after another.
            last: Some(InstanceRun {
                outcome: Outcome::Ran,
                device: Some(format!("cuda:{}", i % 64 / 8)),
                slot: Some(format!("gpu {} · cpu {}", i % 64 / 8, i % 64)),
                start_s: Some((i / 64) as f64 * 1300.0),
                end_s: Some((i / 64) as f64 * 1300.0 + 1234.5),
            }),
            log_tail: vec!["x".repeat(240); LOG_TAIL_LINES],
            log_path: format!(".repro/logs/{id}.log"),
            id,
            cpus: 1,
            gpus: 0.25,
        }
    }

    fn paper_facts() -> PageFacts {
        let instances: Vec<InstanceFacts> = (0..INSTANCES).map(instance).collect();
        let run = RunRecord {
            format: crate::runreport::RUN_RECORD_FORMAT,
            profile: "paper".into(),
            argv: vec!["repro".into(), "run".into(), "all".into()],
            started_at: 1_796_000_000,
            seconds: 86_400.0,
            interrupted: false,
            instances: instances
                .iter()
                .filter_map(|i| Some((i.id.clone(), i.last.clone()?)))
                .collect(),
        };
        PageFacts {
            profile: "paper".into(),
            description: Some("The full grid.".into()),
            run: Some(run),
            page_argv: vec!["repro".into(), "report".into()],
            written_at: 1_796_100_000,
            checkout: Checkout {
                commit: Ok("0123456789abcdef0123456789abcdef01234567".into()),
                dirty: Some(false),
            },
            repro_version: "0.1.0",
            versions: vec![],
            stages: vec![StageNode {
                name: "train".into(),
                instances: INSTANCES,
                fresh: INSTANCES,
            }],
            edges: vec![],
            instances,
            sections: vec![SectionsFile {
                path: "results/report.json".into(),
                content: Ok(paper_sections()),
            }],
        }
    }

    #[test]
    fn the_paper_profiles_page_stays_under_its_bound() {
        let mut facts = paper_facts();
        let page = crate::runreport::page::render(&facts);
        let sections = facts.sections.clone();
        facts.sections.clear();
        let engine_part = crate::runreport::page::render(&facts).len();
        facts.sections = sections;
        eprintln!(
            "synthetic paper page: {} bytes for {} instances ({engine_part} without the sections)",
            page.len(),
            facts.instances.len()
        );
        assert!(
            page.len() < PAPER_PAGE_BOUND,
            "the paper profile's page is {} bytes, over the bound of {PAPER_PAGE_BOUND}",
            page.len()
        );
    }
}
