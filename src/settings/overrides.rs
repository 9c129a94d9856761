//! `repro run --set-resources STAGE.FIELD=VALUE`: per-run overrides of a stage's `resources:`
//! (`STAGE.pack.FIELD=VALUE`: of what its packs hold).
//!
//! How many runs share a GPU depends on the machine (with CUDA MPS, sixteen small training runs
//! share an H100 well; without it, time-slicing caps the gain at about eight: docs/benchmarks.md),
//! not on the pipeline, so it is set where the run is started. Resources decide scheduling only:
//! they are not part of any cache key, and an override never makes an instance stale.

use std::collections::BTreeMap;

use crate::spec::{check_gpus, parse_mem, parse_timeout, Pipeline, Resources};

use super::SettingsError;

/// Which resource an override sets.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    Gpus(f64),
    Cpus(u32),
    Mem(u64),
    Time(std::time::Duration),
}

/// The parsed overrides of one run, by stage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceOverrides {
    by_stage: BTreeMap<String, Vec<Field>>,
}

fn bad(text: &str, why: impl std::fmt::Display) -> SettingsError {
    SettingsError::Resources {
        text: text.to_owned(),
        why: why.to_string(),
    }
}

fn parse(text: &str, pipeline: &Pipeline) -> Result<(String, Field), SettingsError> {
    let (target, value) = text
        .split_once('=')
        .ok_or_else(|| bad(text, "expected STAGE.FIELD=VALUE"))?;
    let (stage, field) = target
        .rsplit_once('.')
        .ok_or_else(|| bad(text, "expected STAGE.FIELD before `=`"))?;
    // `STAGE.pack.FIELD` sets what a pack of the stage holds.
    let (name, pack) = match stage.strip_suffix(".pack") {
        Some(name) => (name, true),
        None => (stage, false),
    };
    if let Some(s) = pipeline.stages.iter().find(|s| s.name == name) {
        if pack && s.pack.is_none() {
            return Err(bad(text, format!("stage `{name}` declares no `pack:`")));
        }
    } else {
        let known: Vec<&str> = pipeline.stages.iter().map(|s| s.name.as_str()).collect();
        return Err(bad(
            text,
            format!(
                "no stage `{name}` in this profile (stages: {})",
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
        "mem" => Field::Mem(
            parse_mem(&serde_json::Value::String(value.to_owned())).map_err(|m| bad(text, m))?,
        ),
        "time" => Field::Time(
            parse_timeout(&serde_json::Value::String(value.to_owned()))
                .map_err(|m| bad(text, m.replacen("`timeout`", "`time`", 1)))?,
        ),
        other => {
            return Err(bad(
                text,
                format!("unknown resource `{other}` (known: gpus, cpus, mem, time)"),
            ))
        }
    };
    Ok((stage.to_owned(), field))
}

impl ResourceOverrides {
    /// Parses every `STAGE.FIELD=VALUE` (all are checked; the first bad one is the error).
    pub fn parse(texts: &[String], pipeline: &Pipeline) -> Result<Self, SettingsError> {
        let mut by_stage: BTreeMap<String, Vec<Field>> = BTreeMap::new();
        for text in texts {
            let (stage, field) = parse(text, pipeline)?;
            by_stage.entry(stage).or_default().push(field);
        }
        Ok(ResourceOverrides { by_stage })
    }

    /// The resources of an instance of `stage` declared as `declared`, after the overrides
    /// (later overrides of the same field win).
    pub fn apply(&self, stage: &str, declared: &Resources) -> Resources {
        let mut r = *declared;
        for f in self.by_stage.get(stage).into_iter().flatten() {
            match *f {
                Field::Gpus(g) => r.gpus = g,
                Field::Cpus(c) => r.cpus = c,
                Field::Mem(m) => r.mem = Some(m),
                Field::Time(t) => r.time = Some(t),
            }
        }
        r
    }
}
