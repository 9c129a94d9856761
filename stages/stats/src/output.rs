//! Writing the summary: the JSON document ([`StatsFile`]) and a flat CSV with one row per
//! (task, variant, activation).
//!
//! Both files are first written beside their destination under a temporary name and renamed
//! into place only when both are complete, so a failure leaves no partial output. Cells that
//! cannot be computed are empty in the CSV and `null` in the JSON. Lists (seeds, cache keys) are
//! space-separated in one cell; a run without a cache key shows as `null` there.

use std::path::{Path, PathBuf};

use crate::describe::Describe;
use crate::schema::StatsFile;
use crate::StatsError;

/// The CSV header, in column order.
pub const CSV_COLUMNS: [&str; 31] = [
    "task",
    "variant",
    "activation",
    "epochs",
    "seeds_run",
    "seeds_converged",
    "diverged",
    "conv_epoch_mean",
    "conv_epoch_std",
    "conv_epoch_ci_low",
    "conv_epoch_ci_high",
    "conv_epoch_censored_mean",
    "conv_epoch_censored_std",
    "conv_epoch_censored_ci_low",
    "conv_epoch_censored_ci_high",
    "speedup_vs_full",
    "speedup_ci_low",
    "speedup_ci_high",
    "speedup_paired_seeds",
    "speedup_converged_only",
    "best_heldout_acc_mean",
    "best_heldout_acc_std",
    "best_heldout_acc_ci_low",
    "best_heldout_acc_ci_high",
    "last_heldout_acc_mean",
    "last_heldout_acc_std",
    "last_heldout_acc_ci_low",
    "last_heldout_acc_ci_high",
    "n_best_heldout_acc",
    "n_last_heldout_acc",
    "seeds",
];

/// Renders the CSV text of a summary.
pub fn csv_text(stats: &StatsFile) -> String {
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let describe = |d: &Describe| [opt(d.mean), opt(d.std), opt(d.ci_low), opt(d.ci_high)];
    let mut out = CSV_COLUMNS.join(",");
    out.push('\n');
    for g in &stats.groups {
        let s = g.speedup_vs_full.as_ref();
        let mut row: Vec<String> = vec![
            stats.task.to_string(),
            g.variant.to_string(),
            g.activation.to_string(),
            g.epochs
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            g.seeds_run.to_string(),
            g.seeds_converged.to_string(),
            g.diverged.to_string(),
        ];
        row.extend(describe(&g.convergence));
        row.extend(describe(&g.convergence_censored));
        row.extend([
            opt(s.map(|s| s.estimate)),
            opt(s.map(|s| s.ci_low)),
            opt(s.map(|s| s.ci_high)),
            s.map(|s| s.n_pairs.to_string()).unwrap_or_default(),
            opt(s.and_then(|s| s.converged_only_estimate)),
        ]);
        row.extend(describe(&g.best_heldout_acc));
        row.extend(describe(&g.last_heldout_acc));
        row.push(g.best_heldout_acc.n.to_string());
        row.push(g.last_heldout_acc.n.to_string());
        row.push(
            g.seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        );
        debug_assert_eq!(row.len(), CSV_COLUMNS.len());
        out.push_str(
            &row.iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

fn csv_cell(cell: &str) -> String {
    if cell.contains([',', '"', '\n']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

/// Writes the JSON and CSV files; either both appear complete or neither is touched.
pub fn write_outputs(
    stats: &StatsFile,
    json_path: &Path,
    csv_path: &Path,
) -> Result<(), StatsError> {
    let mut json = serde_json::to_string_pretty(stats).expect("stats serialise");
    json.push('\n');
    write_all_atomically(&[
        (json_path, json.as_bytes()),
        (csv_path, csv_text(stats).as_bytes()),
    ])
}

/// Writes each `(path, contents)` to a temporary sibling, then renames them all into place.
/// On failure the temporary files are removed.
pub fn write_all_atomically(files: &[(&Path, &[u8])]) -> Result<(), StatsError> {
    let temps: Vec<PathBuf> = files.iter().map(|(p, _)| temp_sibling(p)).collect();
    let cleanup = |temps: &[PathBuf]| {
        for t in temps {
            let _ = std::fs::remove_file(t);
        }
    };
    for ((path, contents), temp) in files.iter().zip(&temps) {
        if let Err(source) = std::fs::write(temp, contents) {
            cleanup(&temps);
            return Err(StatsError::Write {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    for ((path, _), temp) in files.iter().zip(&temps) {
        if let Err(source) = std::fs::rename(temp, path) {
            cleanup(&temps);
            return Err(StatsError::Write {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    Ok(())
}

fn temp_sibling(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
