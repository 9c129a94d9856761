//! The pipeline's `report:` declaration: where `repro report` (and `repro run`, at its end)
//! writes the run's HTML page, which files the pipeline's stages write for it to embed, and
//! which commands print the versions it shows.
//!
//! ```yaml
//! report:
//!   out: results/report.html
//!   sections: [results/report.json]          # written by a stage, in `repro_sections::PageSections`
//!   versions: {rustc: [rustc, --version]}    # label -> argv, run from the workspace root
//! ```
//!
//! Paths are workspace-relative (normalised like `outs`) and may name parameters
//! (`out: ${params.results}/report.html`), resolved with the profile's values, so each profile's
//! page can sit beside its own results. The page is never a stage output, so
//! its wall times and provenance never enter a cached output; `repro report` refuses an `out`
//! that a stage declares or lies inside (checked against the instances, `runreport`).

use std::collections::BTreeMap;

use super::interp::{interpolate, Scope};
use super::rules;
use super::schema::ReportFile;

/// The validated declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSpec {
    /// The page, relative to the workspace root.
    pub out: String,
    /// Section files, relative to the workspace root, in page order.
    pub sections: Vec<String>,
    /// Label to argv of a command whose first line of output is a version.
    pub versions: BTreeMap<String, Vec<String>>,
}

/// Validates `report:`; the error is the field path and what is wrong with it.
/// `out` and `sections` may name parameters (`${params.results}/report.html`), resolved with
/// the profile's values, so that each profile's page goes where its results go.
pub(super) fn validate(
    r: &ReportFile,
    params: &BTreeMap<String, serde_json::Value>,
) -> Result<ReportSpec, (String, String)> {
    let matrix = super::Dims::new();
    let scope = Scope {
        matrix: &matrix,
        params,
    };
    let path = |field: String, template: &str| -> Result<String, (String, String)> {
        let (p, _) = interpolate(template, &scope).map_err(|e| (field.clone(), e.to_string()))?;
        let p = p.as_str();
        let norm = rules::normalise(p).ok_or_else(|| {
            (
                field.clone(),
                format!(
                    "`{}` must be a relative path inside the workspace, without `..`",
                    p.escape_debug()
                ),
            )
        })?;
        rules::check_path_text(&norm).map_err(|m| (field, m))?;
        Ok(norm)
    };
    let out = path("report.out".into(), &r.out)?;
    let sections = r
        .sections
        .iter()
        .enumerate()
        .map(|(i, s)| path(format!("report.sections[{i}]"), s))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(i) = sections.iter().position(|s| *s == out) {
        return Err((
            format!("report.sections[{i}]"),
            format!("`{out}` is the page itself"),
        ));
    }
    for (label, argv) in &r.versions {
        if argv.is_empty() || argv[0].is_empty() {
            return Err((
                format!("report.versions.{label}"),
                "the command is empty".to_owned(),
            ));
        }
    }
    Ok(ReportSpec {
        out,
        sections,
        versions: r.versions.clone(),
    })
}
