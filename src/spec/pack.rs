//! `pack:` of a stage: which ready instances may share one process, and how that process is
//! started.
//!
//! Members of one pack agree on every dimension outside `by`, so the pack's command may use
//! those dimensions, the parameters and `${pack.manifest}` (the path of the file that lists
//! the members, known only when the pack forms). The command is not part of any cache key: a
//! packed program must produce, per member, what the stage's own `cmd` would.

use serde_json::Value;

use super::error::{SpecError, SpecErrorKind};
use super::resources::{self, Resources};
use super::schema::{Cmd, PackFile};
use super::words::split_words;

/// The reference that a pack command uses for its manifest.
pub(crate) const MANIFEST_REF: &str = "pack.manifest";

/// Packs hold at most this many members unless `max` says otherwise.
pub(crate) const DEFAULT_MAX: usize = 8;

/// The largest `max` accepted.
pub(crate) const LIMIT_MAX: usize = 4096;

/// A validated `pack:`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pack {
    /// Dimensions in which members may differ.
    pub by: Vec<String>,
    /// The most members in one pack: a whole number, or a template over the parameters and
    /// the dimensions outside `by` (resolved per instance by [`max_value`]).
    pub max: String,
    /// argv template of the pack's command.
    pub argv: Vec<String>,
    /// What a pack holds while it runs.
    pub resources: Resources,
}

/// Checks the `pack:` of stage `base` (`stages.NAME`) whose dimensions are `dims`.
pub(crate) fn check(
    p: &PackFile,
    dims: &[(String, Vec<String>)],
    env: &std::collections::BTreeMap<String, String>,
    base: &str,
    at: &dyn Fn(&str, SpecErrorKind) -> SpecError,
) -> Result<Pack, SpecError> {
    let field = format!("{base}.pack");
    let schema = |f: String, m: String| at(&f, SpecErrorKind::Schema(m));
    if p.by.is_empty() {
        return Err(schema(
            format!("{field}.by"),
            "`by` must name at least one matrix dimension in which members may differ".into(),
        ));
    }
    for (i, dim) in p.by.iter().enumerate() {
        if !dims.iter().any(|(d, _)| d == dim) {
            let known: Vec<&str> = dims.iter().map(|(d, _)| d.as_str()).collect();
            return Err(schema(
                format!("{field}.by[{i}]"),
                format!(
                    "`{dim}` is not a dimension of this stage's matrix (dimensions: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        if p.by[..i].contains(dim) {
            return Err(schema(
                format!("{field}.by[{i}]"),
                format!("`{dim}` is listed twice"),
            ));
        }
    }
    let max = match &p.max {
        None => DEFAULT_MAX.to_string(),
        Some(Value::String(t)) => t.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(schema(
                format!("{field}.max"),
                format!(
                    "`max` must be a whole number or a `${{params.…}}` template, found `{other}`"
                ),
            ))
        }
    };
    if max.contains(&format!("${{{MANIFEST_REF}}}")) {
        return Err(schema(
            format!("{field}.max"),
            format!("`max` may not use `${{{MANIFEST_REF}}}`"),
        ));
    }
    if !max.contains("${") {
        max_value(&max).map_err(|m| schema(format!("{field}.max"), m))?;
    }
    let argv = match &p.cmd {
        Cmd::Argv(a) => a.clone(),
        Cmd::Line(l) => split_words(l).map_err(|m| schema(format!("{field}.cmd"), m))?,
    };
    if argv.is_empty() {
        return Err(schema(format!("{field}.cmd"), "`cmd` is empty".into()));
    }
    // One process serves every member: nothing it is given may vary within the pack.
    for dim in &p.by {
        let used = format!("${{{dim}}}");
        if let Some(i) = argv.iter().position(|a| a.contains(&used)) {
            return Err(schema(
                format!("{field}.cmd[{i}]"),
                format!("a pack's `cmd` may not use `{used}`: the members of one pack differ in `{dim}` (`by`); each member's own command is in the manifest"),
            ));
        }
        if let Some((k, _)) = env.iter().find(|(_, v)| v.contains(&used)) {
            return Err(schema(
                format!("{base}.env.{k}"),
                format!("`{k}` varies with `{dim}`, in which the members of one pack differ (`pack.by`), but a pack is one process with one environment"),
            ));
        }
    }
    let reference = format!("${{{MANIFEST_REF}}}");
    if !argv.iter().any(|a| a.contains(&reference)) {
        return Err(schema(
            format!("{field}.cmd"),
            format!("a pack's `cmd` must pass `{reference}`, the file that lists its members"),
        ));
    }
    let resources = resources::check(&p.resources, &format!("{field}.resources"), at)?;
    Ok(Pack {
        by: p.by.clone(),
        max,
        argv,
        resources,
    })
}

/// A resolved `max`: a whole number in `1..=LIMIT_MAX` (1: every instance runs alone).
pub(crate) fn max_value(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(m) if (1..=LIMIT_MAX).contains(&m) => Ok(m),
        _ => Err(format!(
            "`max` must be a whole number between 1 and {LIMIT_MAX}, found `{text}`"
        )),
    }
}
