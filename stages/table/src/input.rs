//! Reading the inputs: every `*.json` under the stats directory (one [`StatsFile`] per task) and
//! under the probes directory (one [`ProbeFile`] per probed run), subdirectories included.
//!
//! Either directory may hold only a subset of tasks (the quick profile runs two or three); what
//! is absent is reported as "not run" downstream, never filled in. Files other than `*.json`
//! (the stats stage's CSV, for instance) are ignored. Two files for the same task, or for the
//! same probed (task, variant, seed), are an error rather than a silent choice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{Task, Variant};
use stats::schema::STATS_FORMAT;
use stats::StatsFile;

use crate::probe::ProbeFile;
use crate::TableError;

/// Everything the table is built from.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// Stats summaries by task, with the file each came from.
    pub stats: BTreeMap<Task, (PathBuf, StatsFile)>,
    /// Probe results, ordered by (task, variant name, seed).
    pub probes: Vec<(PathBuf, ProbeFile)>,
}

/// Reads both directories.
pub fn read_inputs(stats_dir: &Path, probes_dir: &Path) -> Result<Inputs, TableError> {
    let mut inputs = Inputs::default();
    for path in json_files(stats_dir)? {
        let file: StatsFile = parse(&path)?;
        if file.format != STATS_FORMAT {
            return Err(TableError::Malformed {
                path,
                line: 0,
                message: format!(
                    "field `format`: unsupported stats format {} (this stage reads {STATS_FORMAT})",
                    file.format
                ),
            });
        }
        if let Some((first, _)) = inputs.stats.get(&file.task) {
            return Err(TableError::Duplicate {
                first: first.clone(),
                second: path,
                what: format!("the summary of task `{}`", file.task),
            });
        }
        inputs.stats.insert(file.task, (path, file));
    }
    let mut seen: BTreeMap<(Task, String, u64), PathBuf> = BTreeMap::new();
    for path in json_files(probes_dir)? {
        let probe: ProbeFile = parse(&path)?;
        let key = (probe.task, probe.variant.to_string(), probe.seed);
        if let Some(first) = seen.get(&key) {
            return Err(TableError::Duplicate {
                first: first.clone(),
                second: path,
                what: format!(
                    "the probe of `{}` / `{}` / seed {}",
                    probe.task, probe.variant, probe.seed
                ),
            });
        }
        seen.insert(key, path.clone());
        inputs.probes.push((path, probe));
    }
    inputs
        .probes
        .sort_by_key(|(_, p)| (p.task, stats::schema::variant_order(&p.variant), p.seed));
    Ok(inputs)
}

impl Inputs {
    /// The probe of (`task`, `variant`) to show: the paper's probed seed if present, else the
    /// smallest seed.
    pub fn probe_for(&self, task: Task, variant: Variant) -> Option<&(PathBuf, ProbeFile)> {
        let all: Vec<&(PathBuf, ProbeFile)> = self
            .probes
            .iter()
            .filter(|(_, p)| p.task == task && p.variant == variant)
            .collect();
        all.iter()
            .find(|(_, p)| p.seed == crate::paper::PAPER_PROBE_SEED)
            .or_else(|| all.first())
            .copied()
    }
}

/// Every `*.json` under `dir`, subdirectories included (the pipeline writes probes as
/// `probes/TASK/VARIANT.json`), sorted; hidden entries are skipped.
pub(crate) fn json_files(dir: &Path) -> Result<Vec<PathBuf>, TableError> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        let read_err = |source| TableError::Read {
            path: current.clone(),
            source,
        };
        for entry in std::fs::read_dir(&current).map_err(read_err)? {
            let path = entry.map_err(read_err)?.path();
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json") && path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, TableError> {
    let text = std::fs::read_to_string(path).map_err(|source| TableError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| TableError::Malformed {
        path: path.to_owned(),
        line: e.line() as u64,
        message: e.to_string(),
    })
}

/// The first file named `name` under `dir` in sorted depth-first order (hidden entries
/// skipped), or `None` when there is none or `dir` does not exist.
pub(crate) fn find_file(dir: &Path, name: &str) -> Result<Option<PathBuf>, TableError> {
    if !dir.is_dir() {
        return Ok(None);
    }
    let read_err = |source| TableError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(read_err)?;
    entries.sort();
    for path in entries {
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if file_name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if let Some(found) = find_file(&path, name)? {
                return Ok(Some(found));
            }
        } else if file_name == name {
            return Ok(Some(path));
        }
    }
    Ok(None)
}
