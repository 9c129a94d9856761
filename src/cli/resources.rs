//! `repro run --set-resources STAGE.FIELD=VALUE`: per-run overrides of a stage's `resources:`.
//!
//! How many runs share a GPU depends on the machine (with CUDA MPS, sixteen small training runs
//! share an H100 well; without it, time-slicing caps the gain at about eight: docs/benchmarks.md),
//! not on the pipeline, so it is set where the run is started. Resources decide scheduling only:
//! they are not part of any cache key, and an override never makes an instance stale.

use crate::graph::Graph;
use crate::spec::{check_gpus, Pipeline};

use super::CliError;

/// Which resource an override sets.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    Gpus(f64),
    Cpus(u32),
}

/// One parsed `STAGE.FIELD=VALUE`.
#[derive(Debug, Clone, PartialEq)]
struct Override {
    stage: String,
    field: Field,
}

fn bad(text: &str, why: impl std::fmt::Display) -> CliError {
    CliError::User {
        message: format!("--set-resources `{text}`: {why}"),
        hint: Some("write STAGE.gpus=FRACTION or STAGE.cpus=N, e.g. train.gpus=0.0625".into()),
    }
}

fn parse(text: &str, pipeline: &Pipeline) -> Result<Override, CliError> {
    let (target, value) = text
        .split_once('=')
        .ok_or_else(|| bad(text, "expected STAGE.FIELD=VALUE"))?;
    let (stage, field) = target
        .rsplit_once('.')
        .ok_or_else(|| bad(text, "expected STAGE.FIELD before `=`"))?;
    if !pipeline.stages.iter().any(|s| s.name == stage) {
        let known: Vec<&str> = pipeline.stages.iter().map(|s| s.name.as_str()).collect();
        return Err(bad(
            text,
            format!(
                "no stage `{stage}` in this profile (stages: {})",
                known.join(", ")
            ),
        ));
    }
    let value = value.trim();
    let field = match field {
        "gpus" => {
            let gpus: f64 = value
                .parse()
                .map_err(|_| bad(text, format!("`{value}` is not a number")))?;
            check_gpus(gpus).map_err(|m| bad(text, m))?;
            Field::Gpus(gpus)
        }
        "cpus" => match value.parse::<u32>() {
            Ok(n) if n >= 1 => Field::Cpus(n),
            _ => return Err(bad(text, "`cpus` must be a whole number of at least 1")),
        },
        other => {
            return Err(bad(
                text,
                format!("unknown resource `{other}` (known: gpus, cpus)"),
            ))
        }
    };
    Ok(Override {
        stage: stage.to_owned(),
        field,
    })
}

/// Parses every override (all are checked before any is applied) and applies them to the
/// instances of the named stages.
pub(crate) fn apply(
    overrides: &[String],
    pipeline: &Pipeline,
    graph: &mut Graph,
) -> Result<(), CliError> {
    let parsed = overrides
        .iter()
        .map(|o| parse(o, pipeline))
        .collect::<Result<Vec<_>, _>>()?;
    for o in &parsed {
        for inst in graph
            .instances
            .iter_mut()
            .filter(|i| i.stage_name == o.stage)
        {
            match o.field {
                Field::Gpus(g) => inst.resources.gpus = g,
                Field::Cpus(c) => inst.resources.cpus = c,
            }
        }
    }
    Ok(())
}
