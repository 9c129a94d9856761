//! `repro verify`: re-hash the selected instances' cached objects and workspace outputs
//! against `repro.lock` and, with `--reference`, compare with another lock file; print each
//! problem and a summary (`--json`: one [`VerifyDoc`], documented in docs/cli.md). Exit 1
//! on any problem.

use std::path::Path;

use crate::workspace::{ReferenceReport, Workspace};

use super::args::VerifyArgs;
use super::load::Loaded;
use super::page::{outln, Page};
use super::{Cli, CliError};

/// `repro verify --json`.
#[derive(serde::Serialize)]
struct VerifyDoc<'a> {
    profile: &'a str,
    instances: usize,
    outputs: usize,
    objects: usize,
    /// With `--reference`: the comparison's counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<ReferenceDoc>,
    /// One line per problem, each starting with the instance id (or `cache:`).
    problems: &'a [String],
}

#[derive(serde::Serialize)]
struct ReferenceDoc {
    path: String,
    exact: usize,
    tolerant: usize,
    derived: usize,
    mismatched: usize,
    /// The largest metric difference seen.
    worst: f64,
}

pub(crate) fn verify(cli: &Cli, a: &VerifyArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let selected = loaded.targets(&a.targets)?;
    let ws = loaded.workspace()?;
    let report = ws.verify(&loaded.graph, &selected);
    let mut problems = report.problems;
    let mut page = Page::default();
    let mut reference = None;
    if let Some(path) = &a.reference {
        let r = compare_reference(&ws, &loaded, &selected, path)?;
        reference = Some(ReferenceDoc {
            path: path.display().to_string(),
            exact: r.exact,
            tolerant: r.tolerant,
            derived: r.derived,
            mismatched: r.mismatched,
            worst: r.worst,
        });
        if !a.json {
            outln!(
            page,
            "reference `{}`: {} exact, {} within tolerance (largest difference {}), {} derived from tolerant upstream, {} mismatched",
            path.display(),
            r.exact,
            r.tolerant,
            r.worst,
            r.derived,
            r.mismatched
        );
        }
        problems.extend(r.problems);
    }
    if a.json {
        page.json(&VerifyDoc {
            profile: ws.profile(),
            instances: report.instances,
            outputs: report.outputs,
            objects: report.objects,
            reference,
            problems: &problems,
        })?;
    } else {
        for p in &problems {
            outln!(page, "MISMATCH {p}");
        }
        outln!(
            page,
            "verified {} instances: {} outputs, {} cached objects, {} problem(s)",
            report.instances,
            report.outputs,
            report.objects,
            problems.len()
        );
    }
    page.print()?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "{} artifact(s) failed verification",
            problems.len()
        )))
    }
}

/// Compares the selected instances' lock entries with those of the lock file at `path`, as
/// `verify --reference` and `audit --reference` do. A reference that does not exist is a
/// usage error (an empty lock would make every instance "missing from the reference").
pub(super) fn compare_reference(
    ws: &Workspace<'_>,
    loaded: &Loaded,
    selected: &[usize],
    path: &Path,
) -> Result<ReferenceReport, CliError> {
    if !path.is_file() {
        return Err(CliError::User {
            message: format!("the reference lock `{}` does not exist", path.display()),
            hint: Some("give the path of a `repro.lock` file, e.g. one from `git show REV:repro.lock > ref.lock`".to_owned()),
        });
    }
    ws.compare_reference(&loaded.graph, selected, path)
        .map_err(|e| CliError::User {
            hint: e.hint(),
            message: e.to_string(),
        })
}
