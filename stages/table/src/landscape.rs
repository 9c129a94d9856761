//! The loss-landscape Lipschitz estimate (SPEC §6) as this stage reads and shows it: one JSON
//! file per analysed run, written by the `landscape` stage, rendered as a Markdown section and
//! `landscape.csv`. Each row names its run (task, variant, activation, seed); `repro.lock` maps
//! runs and files to cache keys, which the outputs never hold (a key would change them on every
//! re-run with new code but the same numbers). Landscape files of format 2, which held keys,
//! still read: unknown fields are ignored.
//!
//! The paper gives no numbers for it in SPEC, so there is no "paper" row: only ours.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::{Task, Variant};

use crate::format::sig3;
use crate::input::{json_files, parse};
use crate::TableError;

/// Percentiles of the neighbour slopes |change of loss| / spacing.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Slopes {
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Maximum.
    pub p100: f64,
}

impl Slopes {
    /// The values in column order p50, p75, p90, p95, p100.
    pub fn values(&self) -> [f64; 5] {
        [self.p50, self.p75, self.p90, self.p95, self.p100]
    }
}

/// One landscape result (unknown fields ignored).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LandscapeFile {
    /// Task of the analysed run.
    pub task: Task,
    /// Variant of the analysed run.
    pub variant: Variant,
    /// Activation of the analysed run.
    pub activation: String,
    /// Seed of the analysed run.
    pub seed: u64,
    /// Grid points per axis.
    pub grid: usize,
    /// Training examples the loss was averaged over.
    pub examples: usize,
    /// Mean training loss at the trained weights.
    pub loss_at_weights: f64,
    /// Percentiles of the neighbour slopes.
    pub lipschitz: Slopes,
}

/// Reads every `*.json` under `dir`, ordered by task, variant and seed; two files for the same
/// (task, variant, activation, seed) are an error.
pub fn read_landscapes(dir: &Path) -> Result<Vec<(PathBuf, LandscapeFile)>, TableError> {
    let mut seen: BTreeMap<(Task, String, String, u64), PathBuf> = BTreeMap::new();
    let mut out = Vec::new();
    for path in json_files(dir)? {
        let file: LandscapeFile = parse(&path)?;
        let key = (
            file.task,
            file.variant.to_string(),
            file.activation.clone(),
            file.seed,
        );
        if let Some(first) = seen.get(&key) {
            return Err(TableError::Duplicate {
                first: first.clone(),
                second: path,
                what: format!(
                    "the landscape of `{}` / `{}` / `{}` / seed {}",
                    file.task, file.variant, file.activation, file.seed
                ),
            });
        }
        seen.insert(key, path.clone());
        out.push((path, file));
    }
    out.sort_by(|(_, a), (_, b)| {
        (
            a.task,
            stats::schema::variant_order(&a.variant),
            &a.activation,
            a.seed,
        )
            .cmp(&(
                b.task,
                stats::schema::variant_order(&b.variant),
                &b.activation,
                b.seed,
            ))
    });
    Ok(out)
}

/// The Markdown section.
pub fn landscape_md(rows: &[(PathBuf, LandscapeFile)]) -> String {
    let mut out = String::from("## Loss landscape: Lipschitz estimate\n\n");
    out.push_str(
        "Training loss at θ + a·d1 + b·d2 on a G × G grid over [-1, 1]², d1 and d2 random directions drawn per \
         parameter tensor and scaled to its norm; slopes |change of loss| / spacing between horizontal and vertical \
         neighbours, as percentiles. Smaller slopes mean a smoother landscape around the trained weights.\n\n",
    );
    if rows.is_empty() {
        out.push_str("Not run.\n\n");
        return out;
    }
    out.push_str(
        "| task | variant | activation | seed | grid | examples | loss at weights | slope p50/p75/p90/p95/p100 |\n\
         |---|---|---|---:|---:|---:|---:|---:|\n",
    );
    for (_, f) in rows {
        let slopes: Vec<String> = f.lipschitz.values().iter().map(|v| sig3(*v)).collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
            f.task,
            f.variant,
            f.activation,
            f.seed,
            f.grid,
            f.examples,
            sig3(f.loss_at_weights),
            slopes.join(" / ")
        );
    }
    out.push('\n');
    out
}

/// Columns of `landscape.csv`.
pub const LANDSCAPE_COLUMNS: [&str; 12] = [
    "task",
    "variant",
    "activation",
    "seed",
    "grid",
    "examples",
    "loss_at_weights",
    "slope_p50",
    "slope_p75",
    "slope_p90",
    "slope_p95",
    "slope_p100",
];

/// Renders `landscape.csv`.
pub fn landscape_csv(rows: &[(PathBuf, LandscapeFile)]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(LANDSCAPE_COLUMNS).expect("in-memory csv");
    for (_, f) in rows {
        let mut rec = vec![
            f.task.to_string(),
            f.variant.to_string(),
            f.activation.clone(),
            f.seed.to_string(),
            f.grid.to_string(),
            f.examples.to_string(),
            f.loss_at_weights.to_string(),
        ];
        rec.extend(f.lipschitz.values().iter().map(f64::to_string));
        w.write_record(&rec).expect("in-memory csv");
    }
    String::from_utf8(w.into_inner().expect("in-memory csv")).expect("utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(task: Task, variant: &str, seed: u64, p50: f64) -> LandscapeFile {
        LandscapeFile {
            task,
            variant: variant.parse().unwrap(),
            activation: "relu".into(),
            seed,
            grid: 5,
            examples: 50,
            loss_at_weights: 0.5,
            lipschitz: Slopes {
                p50,
                p75: 2.0,
                p90: 3.0,
                p95: 4.0,
                p100: 5.0,
            },
        }
    }

    fn write(dir: &Path, name: &str, f: &LandscapeFile) {
        std::fs::create_dir_all(dir.join(name).parent().unwrap()).unwrap();
        std::fs::write(dir.join(name), serde_json::to_string(f).unwrap()).unwrap();
    }

    #[test]
    fn reads_sorted_and_renders_every_row_with_its_run() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "even_pairs/topk5.json",
            &file(Task::EvenPairs, "topk5", 1, 1.5),
        );
        write(
            dir.path(),
            "even_pairs/full.json",
            &file(Task::EvenPairs, "full", 1, 0.25),
        );
        let rows = read_landscapes(dir.path()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].1.variant.to_string(), "full");
        let md = landscape_md(&rows);
        assert!(
            md.contains(
                "| `even_pairs` | full | relu | 1 | 5 | 50 | 0.500 | 0.250 / 2 / 3 / 4 / 5 |"
            ),
            "{md}"
        );
        let csv = landscape_csv(&rows);
        assert_eq!(csv.lines().count(), 3);
        assert!(
            csv.lines()
                .nth(2)
                .unwrap()
                .starts_with("even_pairs,topk5,relu,1,"),
            "{csv}"
        );
    }

    #[test]
    fn duplicates_and_malformed_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.json", &file(Task::Parity, "full", 1, 1.0));
        write(dir.path(), "b.json", &file(Task::Parity, "full", 1, 2.0));
        let err = read_landscapes(dir.path()).unwrap_err().to_string();
        assert!(err.contains("a.json") && err.contains("b.json"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.json"), "{\"task\": \"parity\"}").unwrap();
        let err = read_landscapes(dir.path()).unwrap_err().to_string();
        assert!(err.contains("bad.json") && err.contains("variant"), "{err}");
    }

    #[test]
    fn no_rows_render_as_not_run() {
        assert!(landscape_md(&[]).contains("Not run."));
    }
}
