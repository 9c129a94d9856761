//! Everything the engine's part of the page shows, gathered in one pass from the workspace:
//! each instance's state now (`Workspace::plan`, as `repro status` sees it), its `repro.lock`
//! key, its action record (device, duration, host, code digests, log), the tail of its log
//! from the store, what the latest run did with it (the run record), the stage graph, the
//! checkout, the declared versions, and the stage-written sections files.
//!
//! Nothing here writes; a sections file that is missing or malformed is kept as its error, so
//! that the page says which file and why instead of failing the run that writes it.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use repro_sections::PageSections;

use crate::cache::ActionRecord;
use crate::graph::Graph;
use crate::spec::{Pipeline, ReportSpec};
use crate::workspace::Workspace;

use super::provenance::{self, Checkout};
use super::record::{InstanceRun, RunRecord};
use super::stagegraph::{self, StageNode};
use super::ReportError;

/// Lines of each log shown on the page.
pub(crate) const LOG_TAIL_LINES: usize = 12;
/// Longest log line shown, in characters (longer ones are cut, with `…`).
const LOG_LINE_CHARS: usize = 240;

/// One instance.
#[derive(Clone, Debug)]
pub(crate) struct InstanceFacts {
    /// Its id.
    pub(crate) id: String,
    /// Its stage.
    pub(crate) stage: String,
    /// Its matrix values.
    pub(crate) matrix: BTreeMap<String, String>,
    /// The parameters its key reads.
    pub(crate) params: BTreeMap<String, serde_json::Value>,
    /// `fresh`, `restore` or `run`: its state now.
    pub(crate) state: &'static str,
    /// Its key in `repro.lock`, if recorded.
    pub(crate) key: Option<String>,
    /// The action record of that key, if in the store.
    pub(crate) record: Option<ActionRecord>,
    /// What the latest run did with it.
    pub(crate) last: Option<InstanceRun>,
    /// The last lines of the record's log.
    pub(crate) log_tail: Vec<String>,
    /// Where `repro logs` finds its latest attempt's log, relative to the workspace root.
    pub(crate) log_path: String,
    /// CPU slots it holds while it runs.
    pub(crate) cpus: u32,
    /// GPUs it holds while it runs.
    pub(crate) gpus: f64,
}

/// A sections file, read or not.
#[derive(Clone, Debug)]
pub(crate) struct SectionsFile {
    /// Its path, relative to the workspace root.
    pub(crate) path: String,
    /// Its content, or why it is not on the page.
    pub(crate) content: Result<PageSections, String>,
}

/// Everything the page shows.
#[derive(Clone, Debug)]
pub(crate) struct PageFacts {
    /// The profile's name (as in `repro.lock`).
    pub(crate) profile: String,
    /// The profile's description.
    pub(crate) description: Option<String>,
    /// The latest run of the profile, if recorded.
    pub(crate) run: Option<RunRecord>,
    /// The command that writes the page.
    pub(crate) page_argv: Vec<String>,
    /// Seconds since the epoch when the page was written.
    pub(crate) written_at: u64,
    /// The checkout.
    pub(crate) checkout: Checkout,
    /// `repro`'s own version.
    pub(crate) repro_version: &'static str,
    /// Declared versions, in label order.
    pub(crate) versions: Vec<(String, Result<String, String>)>,
    /// Every instance of the profile, in the graph's order.
    pub(crate) instances: Vec<InstanceFacts>,
    /// The stage graph.
    pub(crate) stages: Vec<StageNode>,
    /// Its arrows.
    pub(crate) edges: Vec<(usize, usize)>,
    /// The sections files, in declared order.
    pub(crate) sections: Vec<SectionsFile>,
}

/// Gathers the facts of `ws` under `report`.
pub(crate) fn gather(
    pipeline: &Pipeline,
    graph: &Graph,
    ws: &Workspace<'_>,
    report: &ReportSpec,
    run: Option<RunRecord>,
    page_argv: Vec<String>,
) -> Result<PageFacts, ReportError> {
    let all: Vec<usize> = (0..graph.instances.len()).collect();
    let forced = vec![false; graph.instances.len()];
    let states = ws.plan(graph, &all, &forced)?;
    let mut state_of: Vec<&'static str> = vec!["run"; graph.instances.len()];
    for (i, s) in &states {
        state_of[*i] = s.label();
    }
    let fresh: Vec<bool> = state_of.iter().map(|s| *s == "fresh").collect();
    let (stages, edges) = stagegraph::stage_graph(graph, &fresh);
    let instances = graph
        .instances
        .iter()
        .enumerate()
        .map(|(i, inst)| {
            let key = ws.lock_entry(&inst.id).map(|e| e.key.clone());
            let record = key.as_deref().and_then(|k| ws.record(k));
            let log_tail = record
                .as_ref()
                .filter(|r| !r.log.is_empty())
                .map(|r| tail(&ws.store().object_path(&r.log)))
                .unwrap_or_default();
            let log_path = ws
                .layout()
                .log(&inst.id)
                .strip_prefix(ws.layout().root())
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            InstanceFacts {
                id: inst.id.clone(),
                stage: inst.stage_name.clone(),
                matrix: inst.matrix.to_map(),
                params: inst.params.clone(),
                state: state_of[i],
                key,
                record,
                last: run
                    .as_ref()
                    .and_then(|r| r.instances.get(&inst.id).cloned()),
                log_tail,
                log_path,
                cpus: inst.resources.cpus,
                gpus: inst.resources.gpus,
            }
        })
        .collect();
    let root = &pipeline.root;
    let versions = report
        .versions
        .iter()
        .map(|(label, argv)| {
            let args: Vec<&str> = argv.iter().map(String::as_str).collect();
            (label.clone(), provenance::first_line(root, &args))
        })
        .collect();
    let sections = report
        .sections
        .iter()
        .map(|rel| SectionsFile {
            path: rel.clone(),
            content: read_sections(&root.join(rel), rel),
        })
        .collect();
    Ok(PageFacts {
        profile: ws.profile().to_owned(),
        description: pipeline.profile_description.clone(),
        run,
        page_argv,
        written_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        checkout: provenance::checkout(root),
        repro_version: env!("CARGO_PKG_VERSION"),
        versions,
        instances,
        stages,
        edges,
        sections,
    })
}

fn read_sections(path: &Path, rel: &str) -> Result<PageSections, String> {
    if !path.exists() {
        return Err(format!(
            "`{rel}` does not exist yet: the stage that writes it has not run in this workspace"
        ));
    }
    PageSections::read(path).map_err(|e| e.to_string())
}

/// The last [`LOG_TAIL_LINES`] lines of a log object (reading at most its last 16 KiB).
fn tail(path: &Path) -> Vec<String> {
    let Ok(mut f) = std::fs::File::open(path) else {
        return vec![];
    };
    let len = f.metadata().map_or(0, |m| m.len());
    let from = len.saturating_sub(16 * 1024);
    if f.seek(SeekFrom::Start(from)).is_err() {
        return vec![];
    }
    let mut bytes = Vec::new();
    if f.read_to_end(&mut bytes).is_err() {
        return vec![];
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    if from > 0 && !lines.is_empty() {
        lines.remove(0); // cut in the middle
    }
    let start = lines.len().saturating_sub(LOG_TAIL_LINES);
    lines[start..]
        .iter()
        .map(|l| {
            if l.chars().count() > LOG_LINE_CHARS {
                let cut: String = l.chars().take(LOG_LINE_CHARS).collect();
                format!("{cut}…")
            } else {
                (*l).to_owned()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_last_lines_cut_to_a_readable_width() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let mut text = String::new();
        for i in 0..100 {
            text.push_str(&format!("line {i}\n"));
        }
        text.push_str(&"x".repeat(1000));
        std::fs::write(&p, &text).unwrap();
        let t = tail(&p);
        assert_eq!(t.len(), LOG_TAIL_LINES);
        assert_eq!(t[0], format!("line {}", 100 - LOG_TAIL_LINES + 1));
        assert!(t.last().unwrap().ends_with('…'));
        assert_eq!(t.last().unwrap().chars().count(), LOG_LINE_CHARS + 1);
        assert!(tail(&dir.path().join("absent")).is_empty());
    }
}
