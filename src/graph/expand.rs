//! Matrix expansion: each stage template becomes one [`Instance`] per combination of its
//! dimension values (cartesian product, minus `exclude` matches, plus `include` entries), with
//! every template string resolved against the instance's dimensions and the parameters.
//!
//! Resolved values are checked where they land: a `shell: true` command line takes only
//! shell-safe values (`interpolate_shell`); paths may hold no control characters and must fit
//! the filesystem's limits; outputs may not be, contain or lie inside `.git`, `cache`,
//! `.repro`, `repro.lock` or the pipeline file; arguments and environment values may hold no
//! NUL. The loader has already bounded the number of instances (`spec::rules`); the total size
//! of resolved values is bounded here, as it grows.
//!
//! A wide matrix (from [`PARALLEL_FROM`] instances on) is resolved on every core; the error
//! reported is still the first in stage and matrix order.

use std::collections::{BTreeMap, BTreeSet};

use crate::spec::interp::{interpolate, interpolate_shell, lookup_explained, Scope};
use crate::spec::rules::{self, shown};
use crate::spec::{Dims, Pipeline, SpecError, SpecErrorKind, Stage};

use super::instance::{
    instance_id, is_glob, normalise, Instance, Metrics, PackTemplate, MANIFEST_SENTINEL,
};

/// From this many instances on, they are resolved on every core (`rayon`); fewer are not
/// worth starting the pool's threads for.
const PARALLEL_FROM: usize = 1024;

/// Expands every stage of `pipeline` into instances.
pub fn expand(pipeline: &Pipeline) -> Result<Vec<Instance>, SpecError> {
    let combos: Vec<_> = pipeline.stages.iter().map(combinations).collect();
    let total: usize = combos.iter().map(Vec::len).sum();
    if total < PARALLEL_FROM {
        return expand_in_order(pipeline, combos, total);
    }
    let mut work: Vec<(usize, Dims)> = Vec::with_capacity(total);
    for (index, matrices) in combos.into_iter().enumerate() {
        work.extend(matrices.into_iter().map(|m| (index, m)));
    }
    let budget = Budget::new();
    use rayon::prelude::*;
    // In stage and matrix order. Collecting into a `Result` is not an indexed collect: each
    // thread's part grows by itself before they are joined, which cost 1-2 MB more at the peak
    // of a 50,000-instance no-op (docs/benchmarks.md) than the sequential pass sized once.
    let resolved: Result<Vec<Instance>, SpecError> = work
        .into_par_iter()
        .map(|(index, matrix)| resolve(pipeline, index, &pipeline.stages[index], matrix, &budget))
        .collect();
    // Which error a parallel pass meets first is a matter of timing: the one reported is the
    // first in order, found again by the sequential pass.
    resolved.or_else(|_| {
        let combos = pipeline.stages.iter().map(combinations).collect();
        expand_in_order(pipeline, combos, total)
    })
}

/// Expands stage by stage, each combination in turn; the first error is returned.
fn expand_in_order(
    pipeline: &Pipeline,
    combos: Vec<Vec<Dims>>,
    total: usize,
) -> Result<Vec<Instance>, SpecError> {
    // Sized once: growing a vector of 50,000 instances by doubling held two copies at its peak.
    let mut out = Vec::with_capacity(total);
    let budget = Budget::new();
    for (index, (stage, matrices)) in pipeline.stages.iter().zip(combos).enumerate() {
        for matrix in matrices {
            out.push(resolve(pipeline, index, stage, matrix, &budget)?);
        }
    }
    Ok(out)
}

/// What is left of [`rules::MAX_RESOLVED_BYTES`] for the resolved values of all instances,
/// shared by the threads that resolve them.
struct Budget(std::sync::atomic::AtomicUsize);

impl Budget {
    fn new() -> Budget {
        Budget(std::sync::atomic::AtomicUsize::new(
            rules::MAX_RESOLVED_BYTES,
        ))
    }

    /// Takes `n` bytes; `false` (taking nothing) when fewer are left.
    fn take(&self, n: usize) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        self.0
            .fetch_update(Relaxed, Relaxed, |left| left.checked_sub(n))
            .is_ok()
    }
}

fn combinations(stage: &Stage) -> Vec<Dims> {
    let mut combos: Vec<Dims> = vec![Dims::new()];
    for (dim, values) in &stage.dims {
        // Shared once per stage: every instance's dimensions point at these strings.
        let dim: std::sync::Arc<str> = dim.as_str().into();
        let values: Vec<std::sync::Arc<str>> = values.iter().map(|v| v.as_str().into()).collect();
        let mut next = Vec::with_capacity(combos.len() * values.len());
        for c in &combos {
            for v in &values {
                next.push(c.with(dim.clone(), v.clone()));
            }
        }
        combos = next;
    }
    combos.retain(|c| {
        !stage
            .exclude
            .iter()
            .any(|e| e.iter().all(|(k, v)| c.get(k) == Some(v.as_str())))
    });
    let mut seen: BTreeSet<Dims> = combos.iter().cloned().collect();
    for inc in &stage.include {
        let inc = Dims::from(inc.clone());
        if seen.insert(inc.clone()) {
            combos.push(inc);
        }
    }
    combos
}

fn resolve(
    pipeline: &Pipeline,
    index: usize,
    stage: &Stage,
    matrix: Dims,
    budget: &Budget,
) -> Result<Instance, SpecError> {
    let base = format!("stages.{}", stage.name);
    let pipeline_file = pipeline
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let scope = Scope {
        matrix: &matrix,
        params: &pipeline.params,
    };
    let err = |field: String, kind: SpecErrorKind| {
        SpecError::new(&pipeline.file, pipeline.positions.get(&field), field, kind)
    };
    let mut used: Vec<String> = Vec::new();
    let mut resolve_as =
        |template: &str, field: String, shell: bool| -> Result<String, SpecError> {
            let resolved = if shell {
                interpolate_shell(template, &scope)
            } else {
                interpolate(template, &scope)
            };
            let (text, u) = resolved.map_err(|e| err(field.clone(), e.into()))?;
            used.extend(u);
            if !budget.take(text.len() + 32) {
                return Err(err(
                    field,
                    SpecErrorKind::Limit(format!(
                        "the resolved values of all instances exceed {} MiB together",
                        rules::MAX_RESOLVED_BYTES / (1024 * 1024)
                    )),
                ));
            }
            Ok(text)
        };
    let no_nul = |text: String, field: String, what: &str| -> Result<String, SpecError> {
        if text.contains('\0') {
            return Err(err(
                field,
                SpecErrorKind::Value(format!(
                    "{what} `{}` contains a NUL character, which no process can receive",
                    shown(&text)
                )),
            ));
        }
        Ok(text)
    };

    let mut argv = Vec::with_capacity(stage.argv.len());
    for (i, a) in stage.argv.iter().enumerate() {
        // A shell stage's argv is `["sh", "-c", line]`; `line` is the `cmd` string.
        let (field, shell) = if stage.shell && i == 2 {
            (format!("{base}.cmd"), true)
        } else {
            (format!("{base}.cmd[{i}]"), false)
        };
        let text = resolve_as(a, field.clone(), shell)?;
        argv.push(no_nul(text, field, "argument")?);
    }
    let pack = match &stage.pack {
        None => None,
        Some(p) => Some(Box::new(resolve_pack(pipeline, stage, p, &matrix, &err)?)),
    };
    let mut one = |template: &str, field: String| resolve_as(template, field, false);
    let mut env = BTreeMap::new();
    for (k, v) in &stage.env {
        let field = format!("{base}.env.{k}");
        let text = one(v, field.clone())?;
        env.insert(k.clone(), no_nul(text, field, "environment value")?);
    }
    let mut paths = |list: &[String], what: &str| -> Result<Vec<String>, SpecError> {
        let mut res = Vec::new();
        for (i, p) in list.iter().enumerate() {
            let field = format!("{base}.{what}[{i}]");
            let text = one(p, field.clone())?;
            let norm = normalise(&text)
                .ok_or_else(|| err(field.clone(), SpecErrorKind::BadPath(shown(&text))))?;
            rules::check_path_text(&norm)
                .map_err(|m| err(field.clone(), SpecErrorKind::Value(m)))?;
            if what == "outs" && is_glob(&norm) {
                return Err(err(
                    field,
                    SpecErrorKind::Schema(format!(
                        "output `{text}` is a glob; outputs must be plain paths"
                    )),
                ));
            }
            if what == "outs" {
                if let Some((reserved, what)) = rules::engine_entry(&norm, &pipeline_file) {
                    return Err(err(
                        field,
                        SpecErrorKind::ReservedOutput {
                            path: norm,
                            instance: instance_id(&stage.name, &matrix),
                            reserved: reserved.to_owned(),
                            what: what.to_owned(),
                        },
                    ));
                }
            }
            res.push(norm);
        }
        Ok(res)
    };
    let deps = paths(&stage.deps, "deps")?;
    let outs = paths(&stage.outs, "outs")?;
    let metrics = match &stage.metrics {
        None => None,
        Some(m) => {
            let files = paths(&m.files, "metrics.files")?;
            for (i, f) in files.iter().enumerate() {
                let inside = outs.iter().any(|o| {
                    f == o
                        || (f.starts_with(o.as_str()) && f.as_bytes().get(o.len()) == Some(&b'/'))
                });
                if !inside {
                    let field = format!("{base}.metrics.files[{i}]");
                    return Err(err(
                        field,
                        SpecErrorKind::Schema(format!(
                            "metrics file `{f}` is not inside an output of the stage"
                        )),
                    ));
                }
            }
            Some(Box::new(Metrics {
                files,
                fields: m.fields.clone(),
                tolerance: m.tolerance,
            }))
        }
    };

    let field = format!("{base}.priority");
    // Scheduling only: the parameters it reads do not enter the key.
    let (priority, _) =
        interpolate(&stage.priority, &scope).map_err(|e| err(field.clone(), e.into()))?;
    let priority = crate::spec::priority::value(&priority)
        .map_err(|m| err(field, SpecErrorKind::Schema(m)))?;

    let mut declared = Vec::new();
    for (i, p) in stage.params.iter().enumerate() {
        let field = format!("{base}.params[{i}]");
        let (name, _) = interpolate(p, &scope).map_err(|e| err(field.clone(), e.into()))?;
        declared.push((name, field));
    }
    let mut params = BTreeMap::new();
    for (name, field) in declared
        .into_iter()
        .chain(used.into_iter().map(|u| (u, String::new())))
    {
        match lookup_explained(&pipeline.params, &name) {
            Ok(v) => {
                params.insert(name, v.clone());
            }
            Err(missing) => {
                let field = if field.is_empty() {
                    format!("{base}.params")
                } else {
                    field
                };
                return Err(err(field, SpecErrorKind::MissingParam(missing)));
            }
        }
    }

    Ok(Instance {
        id: instance_id(&stage.name, &matrix),
        stage: index,
        stage_name: stage.name.clone(),
        matrix,
        argv,
        env,
        params,
        deps,
        outs,
        code: stage.code.clone(),
        resources: stage.resources,
        timeout: stage.timeout,
        priority,
        metrics,
        pack,
    })
}

/// Resolves a stage's `pack:` for one instance: its group, and its command over the
/// dimensions outside `by`, the parameters and `${pack.manifest}` (left as
/// [`MANIFEST_SENTINEL`]). The parameters it reads do not enter the instance's key.
fn resolve_pack(
    pipeline: &Pipeline,
    stage: &Stage,
    pack: &crate::spec::pack::Pack,
    matrix: &Dims,
    err: &dyn Fn(String, SpecErrorKind) -> SpecError,
) -> Result<PackTemplate, SpecError> {
    let mut shared = matrix.only(|d| !pack.by.iter().any(|b| b == d));
    let group = instance_id(&stage.name, &shared);
    shared.insert(
        crate::spec::pack::MANIFEST_REF.to_owned(),
        MANIFEST_SENTINEL.to_owned(),
    );
    let scope = Scope {
        matrix: &shared,
        params: &pipeline.params,
    };
    let mut argv = Vec::with_capacity(pack.argv.len());
    for (i, a) in pack.argv.iter().enumerate() {
        let field = format!("stages.{}.pack.cmd[{i}]", stage.name);
        let (text, _) = interpolate(a, &scope).map_err(|e| err(field.clone(), e.into()))?;
        if text.replace(MANIFEST_SENTINEL, "").contains('\0') {
            return Err(err(
                field,
                SpecErrorKind::Value(format!(
                    "argument `{}` contains a NUL character, which no process can receive",
                    shown(&text.replace(MANIFEST_SENTINEL, "${pack.manifest}"))
                )),
            ));
        }
        argv.push(text);
    }
    let field = format!("stages.{}.pack.max", stage.name);
    let (max, _) = interpolate(&pack.max, &scope).map_err(|e| err(field.clone(), e.into()))?;
    let max =
        crate::spec::pack::max_value(&max).map_err(|m| err(field, SpecErrorKind::Schema(m)))?;
    Ok(PackTemplate {
        group,
        argv,
        max,
        resources: pack.resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pipeline of one stage over `seeds` (YAML flow list items), `shell: true`.
    fn pipeline(seeds: &[String]) -> Pipeline {
        let yaml = format!(
            "version: 1\nstages:\n  s:\n    cmd: \"echo ${{seed}} > out/${{seed}}.txt\"\n    shell: true\n    matrix:\n      seed: [{}]\n    outs: [\"out/${{seed}}.txt\"]\n",
            seeds.join(", ")
        );
        crate::spec::parse(std::path::Path::new("pipeline.yaml"), &yaml, None).unwrap()
    }

    fn seeds(n: usize) -> Vec<String> {
        (0..n).map(|i| i.to_string()).collect()
    }

    #[test]
    fn instances_resolved_on_every_core_are_those_resolved_in_order() {
        let p = pipeline(&seeds(PARALLEL_FROM * 2 + 3));
        let parallel = expand(&p).unwrap();
        let combos = p.stages.iter().map(combinations).collect();
        let in_order = expand_in_order(&p, combos, parallel.len()).unwrap();
        assert_eq!(parallel.len(), PARALLEL_FROM * 2 + 3);
        assert_eq!(format!("{parallel:?}"), format!("{in_order:?}"));
    }

    /// With one thread (`RAYON_NUM_THREADS=1`, one core) the parallel pass meets the errors in
    /// order too, and this passes without the sequential pass; with two or more it does not.
    #[test]
    fn the_error_of_a_wide_expansion_is_the_first_in_order() {
        let mut values = seeds(PARALLEL_FROM * 2);
        // Two values no shell command may take; the one found first in order is reported,
        // whichever thread met the other first.
        // Last of the first half and first of the second: the second is met first by the
        // thread that takes the second half.
        values[PARALLEL_FROM - 1] = "'a;b'".into();
        values[PARALLEL_FROM] = "'c|d'".into();
        let e = expand(&pipeline(&values)).unwrap_err().to_string();
        assert!(e.contains("a;b") && !e.contains("c|d"), "{e}");
    }

    #[test]
    fn the_budget_gives_what_is_left_and_nothing_more() {
        let b = Budget::new();
        assert!(b.take(rules::MAX_RESOLVED_BYTES - 10));
        assert!(!b.take(11));
        assert!(b.take(10));
        assert!(!b.take(1));
    }
}
