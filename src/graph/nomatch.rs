//! Why a target selects nothing, said about the part that is wrong.
//!
//! A target `STAGE[@dim=value,...]` can fail in one place at a time, checked in this order:
//! the stage pattern matches no stage of this profile (a typo, with the closest stage, or a
//! stage that the profile skips), a `dim=value` part is not of that form, the stages have no
//! such dimension (with the closest one), or no instance has a matching value in this profile
//! (with the values there are). Only when every part matches some instance on its own, and no
//! instance matches them all (a combination the matrix excludes), is the answer the general
//! "matches no instance".

use std::collections::BTreeSet;

use crate::spec::suggest::{closest, listed};

use super::dag::Graph;
use super::select::glob_eq;

/// A target that selects nothing, and why.
#[derive(Debug, thiserror::Error)]
pub enum NoMatch {
    /// The stage part names no stage of the pipeline.
    #[error("target `{target}` names no stage `{stage}` (stages: {stages})")]
    UnknownStage {
        /// The target as given.
        target: String,
        /// Its stage part.
        stage: String,
        /// The closest stage name, if close.
        suggestion: Option<String>,
        /// The stages, each in backticks.
        stages: String,
    },
    /// The stage exists in the file but the applied profile skips it.
    #[error("target `{target}` names stage `{stage}`, which profile `{profile}` skips")]
    Skipped {
        /// The target as given.
        target: String,
        /// The skipped stage.
        stage: String,
        /// The applied profile.
        profile: String,
    },
    /// A part after `@` is not `dim=value`.
    #[error("target `{target}`: `{part}` is not of the form `dim=value`")]
    BadPart {
        /// The target as given.
        target: String,
        /// The offending part.
        part: String,
    },
    /// No selected stage has the dimension.
    #[error("target `{target}`: {which} no dimension `{dim}` (dimensions: {dims})")]
    UnknownDimension {
        /// The target as given.
        target: String,
        /// `stage `train` has` or `stages `a`, `b` have`.
        which: String,
        /// The dimension as typed.
        dim: String,
        /// The closest dimension, if close.
        suggestion: Option<String>,
        /// The dimensions the stages have, each in backticks.
        dims: String,
    },
    /// The dimension exists, but no instance in this profile has a matching value.
    #[error("target `{target}`: no instance of {stages} has `{dim}={value}` in {profile} (values: {values})")]
    UnavailableValue {
        /// The target as given.
        target: String,
        /// The stages, each in backticks.
        stages: String,
        /// The dimension.
        dim: String,
        /// The value (or glob) as typed.
        value: String,
        /// `profile `quick`` or `this pipeline`.
        profile: String,
        /// The values there are, each in backticks.
        values: String,
        /// The closest value, if close.
        suggestion: Option<String>,
    },
    /// Every part matches on its own, but no instance matches them all.
    #[error("target `{target}` matches no instance (stages: {stages})")]
    Combination {
        /// The target as given.
        target: String,
        /// Stage names, comma-separated.
        stages: String,
    },
}

impl NoMatch {
    /// The fix, when known.
    pub fn hint(&self) -> String {
        match self {
            NoMatch::UnknownStage {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            NoMatch::Skipped { profile, .. } => format!(
                "choose a profile that runs it (`-p NAME`), or remove it from `skip` of profile `{profile}`"
            ),
            NoMatch::BadPart { .. } => {
                "write targets as `STAGE@dim=value,dim=value` (values may be globs)".into()
            }
            NoMatch::UnknownDimension {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            NoMatch::UnavailableValue {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            NoMatch::UnavailableValue { .. } => {
                "pick one of the values, or a profile whose matrix has it (`-p NAME`)".into()
            }
            _ => "list instances with `repro dag`".into(),
        }
    }
}

/// Explains why `target` selects no instance of `graph`; `skipped` are the stages the applied
/// `profile` skips.
pub(super) fn explain(
    graph: &Graph,
    target: &str,
    skipped: &[String],
    profile: Option<&str>,
) -> NoMatch {
    let mut stages: Vec<&str> = graph
        .instances
        .iter()
        .map(|i| i.stage_name.as_str())
        .collect();
    stages.dedup();
    let (stage_pat, dims) = match target.split_once('@') {
        Some((s, d)) => (s, Some(d)),
        None => (target, None),
    };
    let target_s = target.to_owned();
    let chosen: Vec<&str> = stages
        .iter()
        .copied()
        .filter(|s| glob_eq(stage_pat, s))
        .collect();
    if chosen.is_empty() {
        if let (Some(stage), Some(profile)) =
            (skipped.iter().find(|s| glob_eq(stage_pat, s)), profile)
        {
            return NoMatch::Skipped {
                target: target_s,
                stage: stage.clone(),
                profile: profile.to_owned(),
            };
        }
        return NoMatch::UnknownStage {
            target: target_s,
            stage: stage_pat.to_owned(),
            suggestion: closest(stage_pat, stages.iter().copied()).map(str::to_owned),
            stages: listed(stages.iter().copied()),
        };
    }
    let of_chosen = || {
        graph
            .instances
            .iter()
            .filter(|i| chosen.contains(&i.stage_name.as_str()))
    };
    for part in dims
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.is_empty())
    {
        let Some((dim, value)) = part.split_once('=') else {
            return NoMatch::BadPart {
                target: target_s,
                part: part.to_owned(),
            };
        };
        let have: BTreeSet<&str> = of_chosen().flat_map(|i| i.matrix.keys()).collect();
        if !have.contains(dim) {
            let which = match chosen.as_slice() {
                [one] => format!("stage `{one}` has"),
                many => format!("stages {} have", listed(many.iter().copied())),
            };
            return NoMatch::UnknownDimension {
                target: target_s,
                which,
                dim: dim.to_owned(),
                suggestion: closest(dim, have.iter().copied()).map(str::to_owned),
                dims: listed(have.iter().copied()),
            };
        }
        let values: BTreeSet<&str> = of_chosen().filter_map(|i| i.matrix.get(dim)).collect();
        if !values.iter().any(|v| glob_eq(value, v)) {
            return NoMatch::UnavailableValue {
                target: target_s,
                stages: listed(chosen.iter().copied()),
                dim: dim.to_owned(),
                value: value.to_owned(),
                profile: profile
                    .map_or_else(|| "this pipeline".to_owned(), |p| format!("profile `{p}`")),
                suggestion: closest(value, values.iter().copied()).map(|v| format!("{dim}={v}")),
                values: listed(values.iter().copied()),
            };
        }
    }
    NoMatch::Combination {
        target: target_s,
        stages: stages.join(", "),
    }
}
