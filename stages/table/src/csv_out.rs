//! `table.csv` (the main table, one row per activation, task and variant, "not run" rows
//! included) and `table6.csv` (Table 6 in long form, one value per row). Each row names the
//! runs behind it (task, variant, activation, seeds), which `repro.lock` maps to their cache
//! keys; no upstream's key is written. The file's own origin (the profile and the key of the
//! table instance that wrote it) is appended as two columns by `origin` when the run writes it.

use crate::format::NOT_RUN;
use crate::rows::MainTable;
use crate::table6::{Source, Table6Row};

/// Columns of `table.csv`.
pub const TABLE_COLUMNS: [&str; 20] = [
    "activation",
    "task",
    "variant",
    "status",
    "seeds_run",
    "seeds_converged",
    "diverged",
    "epochs",
    "conv_epoch_mean",
    "conv_epoch_std",
    "conv_epoch_censored_mean",
    "speedup_vs_full",
    "speedup_ci_low",
    "speedup_ci_high",
    "speedup_paired_seeds",
    "best_heldout_acc_mean",
    "best_heldout_acc_std",
    "last_heldout_acc_mean",
    "last_heldout_acc_std",
    "seeds",
];

fn opt(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn join<T: ToString>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
}

/// Renders `table.csv`.
pub fn table_csv(main: &MainTable<'_>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(TABLE_COLUMNS).expect("in-memory csv");
    for section in &main.sections {
        for block in &section.blocks {
            let head = |variant: &str| {
                vec![
                    section.activation.to_string(),
                    block.task.to_string(),
                    variant.to_owned(),
                ]
            };
            if block.rows.is_empty() {
                let mut rec = head("");
                rec.push(NOT_RUN.to_owned());
                rec.resize(TABLE_COLUMNS.len(), String::new());
                w.write_record(&rec).expect("in-memory csv");
                continue;
            }
            for row in &block.rows {
                let mut rec = head(&row.variant.to_string());
                match row.group {
                    None => {
                        rec.push(NOT_RUN.to_owned());
                        rec.resize(TABLE_COLUMNS.len(), String::new());
                    }
                    Some(g) => {
                        let s = g.speedup_vs_full.as_ref();
                        rec.extend([
                            "ok".to_owned(),
                            g.seeds_run.to_string(),
                            g.seeds_converged.to_string(),
                            g.diverged.to_string(),
                            join(g.epochs.iter()),
                            opt(g.convergence.mean),
                            opt(g.convergence.std),
                            opt(g.convergence_censored.mean),
                            opt(s.map(|s| s.estimate)),
                            opt(s.map(|s| s.ci_low)),
                            opt(s.map(|s| s.ci_high)),
                            s.map(|s| s.n_pairs.to_string()).unwrap_or_default(),
                            opt(g.best_heldout_acc.mean),
                            opt(g.best_heldout_acc.std),
                            opt(g.last_heldout_acc.mean),
                            opt(g.last_heldout_acc.std),
                            join(g.seeds.iter()),
                        ]);
                    }
                }
                w.write_record(&rec).expect("in-memory csv");
            }
        }
    }
    String::from_utf8(w.into_inner().expect("in-memory csv")).expect("utf-8")
}

/// Columns of `table6.csv`.
pub const TABLE6_COLUMNS: [&str; 7] = [
    "task", "source", "model", "quantity", "level", "value", "seed",
];

/// Renders `table6.csv`: one row per value; values not run are left out.
pub fn table6_csv(rows: &[Table6Row]) -> String {
    const QUANTITIES: [(&str, &str, [&str; 4]); 4] = [
        ("full", "delta", ["p75", "p90", "p95", "p100"]),
        ("topk5", "delta", ["p75", "p90", "p95", "p100"]),
        ("topk5", "sep", ["p25", "p10", "p5", "p0"]),
        ("topk5", "beta", ["p75", "p90", "p95", "p100"]),
    ];
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(TABLE6_COLUMNS).expect("in-memory csv");
    for r in rows {
        for (g, (model, quantity, levels)) in QUANTITIES.iter().enumerate() {
            for (l, level) in levels.iter().enumerate() {
                let (source, value, seed) = match &r.source {
                    Source::Paper => {
                        let text = &r.groups[g][l];
                        if text == "–" {
                            continue;
                        }
                        (
                            "paper",
                            text.clone(),
                            crate::paper::PAPER_PROBE_SEED.to_string(),
                        )
                    }
                    Source::Ours {
                        full_seed,
                        top5_seed,
                    } => {
                        let Some(v) = r.values[g][l] else { continue };
                        let seed = if g == 0 { full_seed } else { top5_seed };
                        (
                            "ours",
                            v.to_string(),
                            seed.map(|s| s.to_string()).unwrap_or_default(),
                        )
                    }
                };
                w.write_record([
                    r.task.to_string(),
                    source.to_owned(),
                    (*model).to_owned(),
                    (*quantity).to_owned(),
                    (*level).to_owned(),
                    value,
                    seed,
                ])
                .expect("in-memory csv");
            }
        }
    }
    String::from_utf8(w.into_inner().expect("in-memory csv")).expect("utf-8")
}
