//! The run's report page: one self-contained HTML file per profile, written after a run (never
//! as a stage output: its wall times and provenance would break byte-identical re-runs) by
//! `repro report`, and by `repro run` at its end when the pipeline declares `report:`.
//!
//! Layout (imports go one way, down this list):
//! - here, [`write_page`]: gathers the facts, renders the page, writes it atomically;
//! - `facts`: reads the workspace (states, lock keys, action records, logs, the run record,
//!   the sections files, the checkout and versions through `provenance`) into `PageFacts`;
//! - `page`: the page from the facts, with the engine's sections (time, graph, runs,
//!   provenance) and the pipeline's (`blocks`), its style, policy and sorting script;
//! - leaves: `record` (the run record and the [`Recorder`] that writes it from events),
//!   `blocks`, `chart`, `stagegraph`, `timeline`, `provenance`, `html` (escaping).
//!
//! The engine knows nothing of what the pipeline's sections say: a stage writes them as
//! `repro_sections::PageSections` (text, verdicts, tables, charts as numbers), and this module
//! renders each kind of block itself, escaping every string.

mod blocks;
mod chart;
mod facts;
mod html;
mod page;
pub(crate) mod provenance;
mod record;
#[cfg(test)]
mod sizebound;
mod stagegraph;
mod timeline;

pub use record::{InstanceRun, Outcome, Recorder, RunRecord, RUN_RECORD_FORMAT};

use std::path::PathBuf;

use crate::graph::Graph;
use crate::spec::Pipeline;
use crate::workspace::{CheckError, Workspace};

/// Why the page could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The pipeline declares no `report:`.
    #[error("`{0}` declares no `report:`")]
    NotDeclared(String),
    /// The page's path is a stage's output or lies inside one.
    #[error("`report.out` `{out}` is, or lies inside, `{output}`, an output of `{instance}`: the page would be deleted or cached with it")]
    InsideOutput {
        /// The page.
        out: String,
        /// The output.
        output: String,
        /// Its instance.
        instance: String,
    },
    /// Checking the instances failed.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// Reading the run record failed.
    #[error("failed to read the run record `{path}`: {source}")]
    Record {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing the page failed.
    #[error("failed to write `{path}`: {source}")]
    Write {
        /// The page.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Writes the page of `ws`'s profile to the pipeline's `report.out`, from the run record of the
/// latest run (read from `.repro/last-run/`); returns the path written and its size in bytes.
pub fn write_page(
    pipeline: &Pipeline,
    graph: &Graph,
    ws: &Workspace<'_>,
    page_argv: Vec<String>,
) -> Result<(PathBuf, usize), ReportError> {
    let report = pipeline
        .report
        .as_ref()
        .ok_or_else(|| ReportError::NotDeclared(pipeline.file.display().to_string()))?;
    for inst in &graph.instances {
        for o in &inst.outs {
            let inside = report.out == *o || report.out.starts_with(&format!("{o}/"));
            if inside {
                return Err(ReportError::InsideOutput {
                    out: report.out.clone(),
                    output: o.clone(),
                    instance: inst.id.clone(),
                });
            }
        }
    }
    let record_path = ws.layout().last_run(ws.profile());
    let run = RunRecord::read(&record_path).map_err(|source| ReportError::Record {
        path: record_path,
        source,
    })?;
    let facts = facts::gather(pipeline, graph, ws, report, run, page_argv)?;
    let text = page::render(&facts);
    let path = ws.layout().abs(&report.out);
    crate::cache::atomic::write(&path, text.as_bytes()).map_err(|source| ReportError::Write {
        path: path.clone(),
        source,
    })?;
    Ok((path, text.len()))
}
