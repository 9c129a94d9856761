//! `repro report`: write the profile's HTML page (`report.out`) from the workspace as it is,
//! and the end of `repro run`, which calls [`after_run`] when the pipeline declares `report:`.

use std::io::Write;

use crate::runreport::{self, ReportError, RunRecord};
use crate::workspace::Workspace;

use super::load::Loaded;
use super::{Cli, CliError};

impl From<ReportError> for CliError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::NotDeclared(_) => CliError::User {
                message: e.to_string(),
                hint: Some(
                    "add `report: {out: results/report.html}` to the pipeline (docs/pipeline.md)"
                        .into(),
                ),
            },
            ReportError::InsideOutput { .. } => CliError::User {
                message: e.to_string(),
                hint: Some("choose a `report.out` that no stage declares".into()),
            },
            ReportError::Check(c) => c.into(),
            other => CliError::Internal(other.to_string()),
        }
    }
}

pub(crate) fn report(cli: &Cli) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let ws = loaded.workspace()?;
    let (path, bytes) = runreport::write_page(
        &loaded.pipeline,
        &loaded.graph,
        &ws,
        std::env::args().collect(),
    )?;
    super::load::show_notes(&ws);
    say(&path, bytes);
    Ok(())
}

/// After a run: saves its record (a run that did nothing has none), then writes the page when
/// the pipeline declares one.
pub(crate) fn after_run(
    loaded: &Loaded,
    ws: &Workspace<'_>,
    record: Option<&RunRecord>,
) -> Result<(), CliError> {
    if let Some(record) = record {
        let record_path = ws.layout().last_run(ws.profile());
        record.write(&record_path).map_err(|e| {
            CliError::Internal(format!(
                "failed to write the run record `{}`: {e}",
                record_path.display()
            ))
        })?;
    }
    if loaded.pipeline.report.is_none() {
        return Ok(());
    }
    let (path, bytes) = runreport::write_page(
        &loaded.pipeline,
        &loaded.graph,
        ws,
        std::env::args().collect(),
    )?;
    say(&path, bytes);
    Ok(())
}

fn say(path: &std::path::Path, bytes: usize) {
    // Progress, on stderr: stdout stays free for `--json`.
    let _ = writeln!(
        std::io::stderr().lock(),
        "repro: wrote `{}` ({} KB)",
        path.display(),
        bytes.div_ceil(1024)
    );
}
