//! Loading: YAML text to schema types to a validated [`Pipeline`] with the profile applied.
//!
//! This is the second configuration layer. It checks what can be checked per stage template
//! (version, profiles, matrix shapes, parameter lists, resources, command shapes); checks that
//! need the expanded instances (undefined variables, duplicate outputs, missing deps, cycles)
//! happen in `graph`, using the same [`PositionIndex`] for their positions.
//!
//! Before serde sees the text, the file size is checked and duplicate keys are refused; after
//! the stages are validated, the number of instances they will expand to is computed from the
//! dimension sizes and checked against [`rules::MAX_INSTANCES`], so that expansion never
//! starts on a pipeline too large to hold (limits: `spec::rules`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::{SpecError, SpecErrorKind};
use super::position::{Pos, PositionIndex};
use super::resources::{parse_timeout, Resources};
use super::rules::{self, shown};
use super::schema::{Cmd, DimValues, PipelineFile, StageFile};
use super::words::split_words;

/// A validated pipeline with one profile applied.
#[derive(Debug)]
pub struct Pipeline {
    /// The pipeline file as given on the command line (for messages).
    pub file: PathBuf,
    /// The workspace root: the directory holding the pipeline file.
    pub root: PathBuf,
    /// The applied profile, if any.
    pub profile: Option<String>,
    /// Its description.
    pub profile_description: Option<String>,
    /// Names of all profiles in the file.
    pub profiles: Vec<String>,
    /// Parameters after the profile overlay.
    pub params: BTreeMap<String, Value>,
    /// Command run once before the first stage that executes.
    pub build: Option<Vec<String>>,
    /// Stage templates, in name order.
    pub stages: Vec<Stage>,
    /// Stages defined in the file that the applied profile skips (`skip:`), in name order.
    pub skipped: Vec<String>,
    /// Source positions, for errors found later.
    pub positions: PositionIndex,
    /// The run's HTML page, when the pipeline declares one.
    pub report: Option<super::report::ReportSpec>,
}

/// One stage template after validation.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Stage name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// argv template (already `["sh", "-c", line]` for shell stages).
    pub argv: Vec<String>,
    /// `shell: true`: `argv[2]` is a shell command line, so values substituted into it must
    /// be shell-safe (`spec::interp::interpolate_shell`).
    pub shell: bool,
    /// Dimensions in name order, with their values after the profile overlay.
    pub dims: Vec<(String, Vec<String>)>,
    /// Exclusion patterns.
    pub exclude: Vec<BTreeMap<String, String>>,
    /// Extra combinations.
    pub include: Vec<BTreeMap<String, String>>,
    /// Declared parameter names (templates, may use `${dim}`).
    pub params: Vec<String>,
    /// Dependency templates.
    pub deps: Vec<String>,
    /// Code entries: package names or globs.
    pub code: Vec<String>,
    /// Output templates.
    pub outs: Vec<String>,
    /// Resource request.
    pub resources: Resources,
    /// The longest an instance may run (scheduling only: not part of any key).
    pub timeout: Option<std::time::Duration>,
    /// `priority` template (scheduling only: not part of any key).
    pub priority: String,
    /// Environment templates.
    pub env: BTreeMap<String, String>,
    /// Metrics recorded in the lock file, if declared.
    pub metrics: Option<super::schema::MetricsFile>,
    /// Which ready instances may run together as one process, if declared.
    pub pack: Option<super::pack::Pack>,
    /// What the live view reads from a running instance's log, if declared (display only).
    pub progress: Option<super::progress::ProgressPattern>,
    /// How `repro audit` checks the stage's results (not part of any key).
    pub audit: super::audit::AuditPolicy,
}

/// Reads, parses and validates `file`, applying `profile` (or the default profile).
///
/// At most [`rules::MAX_FILE_BYTES`] are read, whatever the file is (`/dev/zero` included).
pub fn load(file: &Path, profile: Option<&str>) -> Result<Pipeline, SpecError> {
    use std::io::Read;
    let err0 = |kind| SpecError::new(file, Pos { line: 1, col: 1 }, "", kind);
    let read = |e: std::io::Error| err0(SpecErrorKind::Read(e.to_string()));
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(rules::MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(read)?;
    if bytes.len() as u64 > rules::MAX_FILE_BYTES {
        return Err(err0(too_large()));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        read(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })?;
    parse(file, &text, profile)
}

fn too_large() -> SpecErrorKind {
    SpecErrorKind::Limit(format!(
        "the file is larger than {} MiB, the limit for a pipeline file",
        rules::MAX_FILE_BYTES / (1024 * 1024)
    ))
}

/// Parses and validates pipeline text (the file name is used in messages only).
pub fn parse(file: &Path, text: &str, profile: Option<&str>) -> Result<Pipeline, SpecError> {
    if text.len() as u64 > rules::MAX_FILE_BYTES {
        return Err(SpecError::new(
            file,
            Pos { line: 1, col: 1 },
            "",
            too_large(),
        ));
    }
    let positions = PositionIndex::build(text);
    let at =
        |field: &str, kind: SpecErrorKind| SpecError::new(file, positions.get(field), field, kind);
    if let Some(pos) = positions.too_deep() {
        // Checked before serde: libyaml takes time quadratic in the nesting depth.
        return Err(SpecError::new(
            file,
            pos,
            "",
            SpecErrorKind::Limit(format!(
                "the YAML is nested deeper than {} levels",
                rules::MAX_YAML_DEPTH
            )),
        ));
    }
    if let Some(d) = positions.duplicate() {
        return Err(SpecError::new(
            file,
            d.second,
            &d.path,
            SpecErrorKind::DuplicateKey {
                key: shown(&d.key),
                first: d.first,
            },
        ));
    }
    let parsed: PipelineFile = serde_yaml::from_str(text).map_err(|e| {
        let pos = e
            .location()
            .map(|l| Pos {
                line: l.line(),
                col: l.column(),
            })
            .unwrap_or(Pos { line: 1, col: 1 });
        SpecError::new(
            file,
            pos,
            "",
            schema_error(text, pos, clean_serde_message(&e)),
        )
    })?;
    if parsed.version != 1 {
        return Err(at("version", SpecErrorKind::Version(parsed.version)));
    }

    // Profiles: names the lock file can hold, at most one default; the requested one must
    // exist.
    for name in parsed.profiles.keys() {
        if name.is_empty()
            || name
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '[' || c == ']')
        {
            return Err(SpecError::new(
                file,
                positions.key(&format!("profiles.{name}")),
                format!("profiles.{name}"),
                SpecErrorKind::Schema(format!(
                    "invalid profile name `{}` (it is recorded in `repro.lock`: no spaces, control characters, `[` or `]`)",
                    shown(name)
                )),
            ));
        }
    }
    let mut default: Option<&str> = None;
    for (name, p) in &parsed.profiles {
        if p.default {
            if let Some(first) = default {
                return Err(at(
                    &format!("profiles.{name}.default"),
                    SpecErrorKind::TwoDefaults(first.into(), name.clone()),
                ));
            }
            default = Some(name);
        }
    }
    let chosen = match profile {
        Some(name) => match parsed.profiles.get(name) {
            Some(_) => Some(name.to_owned()),
            None => {
                let defined = parsed
                    .profiles
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                let defined = if defined.is_empty() {
                    "none".to_owned()
                } else {
                    defined
                };
                let kind = SpecErrorKind::UnknownProfile {
                    name: name.to_owned(),
                    defined,
                };
                return Err(SpecError::new(
                    file,
                    positions.key("profiles"),
                    "profiles",
                    kind,
                ));
            }
        },
        None => default.map(str::to_owned),
    };
    for (name, p) in &parsed.profiles {
        check_profile_params(name, &p.params, &parsed.params).map_err(|e| {
            let (field, kind) = *e;
            SpecError::new(file, positions.key(&field), field, kind)
        })?;
    }
    let overlay = chosen.as_ref().map(|n| &parsed.profiles[n]);

    let mut params = parsed.params.clone();
    if let Some(p) = overlay {
        for (k, v) in &p.params {
            merge(params.entry(k.clone()).or_insert(Value::Null), v);
        }
    }

    if let Some(p) = overlay {
        for dim in p.matrix.keys() {
            if !parsed
                .stages
                .values()
                .any(|s| s.matrix.dims.contains_key(dim))
            {
                let field = format!(
                    "profiles.{}.matrix.{dim}",
                    chosen.as_deref().unwrap_or_default()
                );
                return Err(at(&field, SpecErrorKind::UnknownDimension(dim.clone())));
            }
        }
    }

    let skipped: &[String] = overlay.map(|p| p.skip.as_slice()).unwrap_or_default();
    for (i, name) in skipped.iter().enumerate() {
        if !parsed.stages.contains_key(name) {
            let field = format!(
                "profiles.{}.skip[{i}]",
                chosen.as_deref().unwrap_or_default()
            );
            let defined: Vec<&str> = parsed.stages.keys().map(String::as_str).collect();
            return Err(at(
                &field,
                SpecErrorKind::Schema(format!(
                    "the profile skips stage `{name}`, which is not defined (stages: {})",
                    defined.join(", ")
                )),
            ));
        }
    }

    let mut stages = Vec::new();
    for (name, s) in &parsed.stages {
        if skipped.contains(name) {
            continue;
        }
        stages.push(stage(
            name,
            s,
            overlay.map(|p| (&p.matrix, chosen.as_deref().unwrap_or_default())),
            &params,
            &at,
        )?);
    }

    // Located at the `matrix:` key: a block mapping's own position is its first entry's.
    let at_key =
        |field: &str, kind: SpecErrorKind| SpecError::new(file, positions.key(field), field, kind);
    check_instance_count(&stages, &at_key)?;

    let build = match &parsed.build {
        None => None,
        Some(Cmd::Argv(a)) => Some(a.clone()),
        Some(Cmd::Line(l)) => {
            Some(split_words(l).map_err(|m| at("build", SpecErrorKind::Schema(m)))?)
        }
    };
    if build.as_ref().is_some_and(|b| b.is_empty()) {
        return Err(at(
            "build",
            SpecErrorKind::Schema("`build` is empty".into()),
        ));
    }

    let report = match &parsed.report {
        None => None,
        Some(r) => Some(
            super::report::validate(r, &params)
                .map_err(|(field, m)| at(&field, SpecErrorKind::Schema(m)))?,
        ),
    };

    let root = file
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(Pipeline {
        file: file.to_owned(),
        root,
        profile_description: overlay.and_then(|p| p.description.clone()),
        profile: chosen,
        profiles: parsed.profiles.keys().cloned().collect(),
        skipped: {
            let mut v = skipped.to_vec();
            v.sort();
            v
        },
        params,
        build,
        stages,
        positions,
        report,
    })
}

type At<'a> = dyn Fn(&str, SpecErrorKind) -> SpecError + 'a;

fn stage(
    name: &str,
    s: &StageFile,
    overlay: Option<(&BTreeMap<String, DimValues>, &str)>,
    params: &BTreeMap<String, Value>,
    at: &At<'_>,
) -> Result<Stage, SpecError> {
    let base = format!("stages.{name}");
    if !super::schema::is_identifier(name) {
        return Err(at(
            &base,
            SpecErrorKind::Schema(format!(
                "invalid stage name `{name}` (use letters, digits, `_`, `-`)"
            )),
        ));
    }
    let argv = match (&s.cmd, s.shell) {
        (Cmd::Line(l), true) => vec!["sh".to_owned(), "-c".to_owned(), l.clone()],
        (Cmd::Argv(_), true) => {
            return Err(at(
                &format!("{base}.cmd"),
                SpecErrorKind::Schema("`shell: true` needs `cmd` as a single string".into()),
            ))
        }
        (Cmd::Line(l), false) => {
            split_words(l).map_err(|m| at(&format!("{base}.cmd"), SpecErrorKind::Schema(m)))?
        }
        (Cmd::Argv(a), false) => a.clone(),
    };
    if argv.is_empty() {
        return Err(at(
            &format!("{base}.cmd"),
            SpecErrorKind::Schema("`cmd` is empty".into()),
        ));
    }

    let mut dims = Vec::new();
    for (dim, values) in &s.matrix.dims {
        let (values, field) = match overlay.and_then(|(m, p)| {
            m.get(dim)
                .map(|v| (v, format!("profiles.{p}.matrix.{dim}")))
        }) {
            Some((v, field)) => (v, field),
            None => (values, format!("{base}.matrix.{dim}")),
        };
        let list = match values {
            DimValues::List(l) => l.clone(),
            DimValues::Param(p) => match super::interp::lookup_explained(params, p) {
                Ok(Value::Array(items)) => items
                    .iter()
                    .map(|v| super::interp::scalar_string(v).filter(|s| !s.is_empty()))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        at(
                            &field,
                            SpecErrorKind::Param(format!(
                                "parameter `{p}` must be a list of scalars"
                            )),
                        )
                    })?,
                Ok(_) => {
                    return Err(at(
                        &field,
                        SpecErrorKind::Param(format!("parameter `{p}` must be a list")),
                    ))
                }
                Err(missing) => return Err(at(&field, SpecErrorKind::MissingParam(missing))),
            },
        };
        if list.is_empty() {
            return Err(at(
                &field,
                SpecErrorKind::Matrix(format!("matrix dimension `{dim}` has no values")),
            ));
        }
        for v in &list {
            rules::check_matrix_value(dim, v).map_err(|m| at(&field, SpecErrorKind::Matrix(m)))?;
        }
        dims.push((dim.clone(), list));
    }
    for (kind, entries) in [
        ("exclude", &s.matrix.exclude),
        ("include", &s.matrix.include),
    ] {
        for (i, e) in entries.iter().enumerate() {
            for k in e.keys() {
                if !s.matrix.dims.contains_key(k) {
                    return Err(at(
                        &format!("{base}.matrix.{kind}[{i}]"),
                        SpecErrorKind::Matrix(format!(
                            "`{kind}` entry names unknown dimension `{k}`"
                        )),
                    ));
                }
            }
            if kind == "include" && e.len() != s.matrix.dims.len() {
                return Err(at(
                    &format!("{base}.matrix.include[{i}]"),
                    SpecErrorKind::Matrix(
                        "an `include` entry must give a value for every dimension".into(),
                    ),
                ));
            }
            if kind == "include" {
                // Included values become instance ids and paths exactly like listed ones.
                for (dim, v) in e {
                    rules::check_matrix_value(dim, v).map_err(|m| {
                        at(
                            &format!("{base}.matrix.include[{i}].{dim}"),
                            SpecErrorKind::Matrix(m),
                        )
                    })?;
                }
            }
        }
    }

    let resources = super::resources::check(&s.resources, &format!("{base}.resources"), at)?;
    let timeout =
        match &s.timeout {
            None => None,
            Some(v) => Some(parse_timeout(v).map_err(|message| {
                at(&format!("{base}.timeout"), SpecErrorKind::Schema(message))
            })?),
        };
    if let Some(m) = &s.metrics {
        if !(m.tolerance >= 0.0 && m.tolerance.is_finite()) {
            return Err(at(
                &format!("{base}.metrics.tolerance"),
                SpecErrorKind::Schema(format!(
                    "`tolerance` must be a non-negative number, found {}",
                    m.tolerance
                )),
            ));
        }
        if m.files.is_empty() || m.fields.is_empty() {
            return Err(at(
                &format!("{base}.metrics"),
                SpecErrorKind::Schema("`metrics` needs at least one file and one field".into()),
            ));
        }
    }
    for (i, entry) in s.code.iter().enumerate() {
        check_code_entry(entry).map_err(|k| at(&format!("{base}.code[{i}]"), k))?;
    }
    for key in s.env.keys() {
        if key.is_empty() || key.contains('=') || rules::control_char(key).is_some() {
            return Err(at(
                &format!("{base}.env.{key}"),
                SpecErrorKind::Schema(format!(
                    "invalid environment variable name `{}` (no `=`, no control characters)",
                    shown(key)
                )),
            ));
        }
    }
    if let Some(m) = &s.metrics {
        for (i, f) in m.fields.iter().enumerate() {
            if let Some(c) = rules::control_char(f) {
                return Err(at(
                    &format!("{base}.metrics.fields[{i}]"),
                    SpecErrorKind::Schema(format!(
                        "metric field `{}` contains the control character {} (fields are recorded in `repro.lock`, one per line)",
                        shown(f),
                        rules::code_point(c)
                    )),
                ));
            }
        }
    }
    let priority = super::priority::check(s.priority.as_ref())
        .map_err(|m| at(&format!("{base}.priority"), SpecErrorKind::Schema(m)))?;
    let audit = super::audit::check(s.audit.as_ref())
        .map_err(|m| at(&format!("{base}.audit"), SpecErrorKind::Schema(m)))?;
    let pack = match &s.pack {
        None => None,
        Some(p) => Some(super::pack::check(p, &dims, &s.env, &base, at)?),
    };
    let progress = match &s.progress {
        None => None,
        Some(text) => Some(
            super::progress::ProgressPattern::parse(text)
                .map_err(|m| at(&format!("{base}.progress"), SpecErrorKind::Schema(m)))?,
        ),
    };
    if s.outs.is_empty() {
        return Err(at(
            &base,
            SpecErrorKind::Schema(format!(
                "stage `{name}` declares no `outs`: without outputs nothing can be cached"
            )),
        ));
    }

    Ok(Stage {
        name: name.to_owned(),
        description: s.description.clone(),
        argv,
        dims,
        exclude: s.matrix.exclude.clone(),
        include: s.matrix.include.clone(),
        params: s.params.clone(),
        deps: s.deps.clone(),
        code: s.code.clone(),
        outs: s.outs.clone(),
        resources,
        timeout,
        priority,
        env: s.env.clone(),
        metrics: s.metrics.clone(),
        shell: s.shell,
        pack,
        progress,
        audit,
    })
}

/// Refuses a pipeline whose stages would expand to more than [`rules::MAX_INSTANCES`]
/// instances, or whose `exclude` lists would cost more than [`rules::MAX_EXCLUDE_WORK`]
/// comparisons, computed from the dimension sizes without expanding anything.
fn check_instance_count(stages: &[Stage], at: &At<'_>) -> Result<(), SpecError> {
    let mut total: u64 = 0;
    for stage in stages {
        let product = stage
            .dims
            .iter()
            .fold(1u64, |n, (_, v)| n.saturating_mul(v.len() as u64));
        let count = product.saturating_add(stage.include.len() as u64);
        total = total.saturating_add(count);
        let field = format!("stages.{}.matrix", stage.name);
        if total > rules::MAX_INSTANCES {
            let sizes: Vec<String> = stage
                .dims
                .iter()
                .map(|(_, v)| v.len().to_string())
                .collect();
            return Err(at(
                &field,
                SpecErrorKind::Limit(format!(
                    "stage `{}` expands to {count} instances ({}{}), bringing the pipeline to {total}, over the limit of {} instances per pipeline",
                    stage.name,
                    sizes.join(" × "),
                    if stage.include.is_empty() { String::new() } else { format!(" + {} included", stage.include.len()) },
                    rules::MAX_INSTANCES
                )),
            ));
        }
        let work = product.saturating_mul(stage.exclude.len() as u64);
        if work > rules::MAX_EXCLUDE_WORK {
            return Err(at(
                &format!("{field}.exclude"),
                SpecErrorKind::Limit(format!(
                    "stage `{}` would test {product} combinations against {} `exclude` entries, over the limit of {} tests",
                    stage.name,
                    stage.exclude.len(),
                    rules::MAX_EXCLUDE_WORK
                )),
            ));
        }
    }
    Ok(())
}

/// Checks a `code:` entry as far as the loader can: a glob must be relative, stay inside the
/// workspace and not point into git's or the engine's entries. Entries shaped like a package
/// name are left to the code digest, which alone knows the packages. (That a glob does not
/// point into an output is checked in `graph`, which knows the outputs.)
fn check_code_entry(entry: &str) -> Result<(), SpecErrorKind> {
    if rules::could_be_package(entry) {
        return Ok(());
    }
    let norm = rules::normalise(entry).ok_or_else(|| SpecErrorKind::BadPath(shown(entry)))?;
    rules::check_path_text(&norm).map_err(SpecErrorKind::Value)?;
    let literal = rules::literal_prefix(&norm);
    if let Some((name, what)) = rules::engine_entry(&literal, "") {
        return Err(SpecErrorKind::Code(format!(
            "code glob `{}` points into `{name}`, {what}, which is not code and changes as the engine runs",
            shown(entry)
        )));
    }
    Ok(())
}

/// Refuses a profile's `params` entry that names no parameter of the file's `params`
/// (`seedz` for `seeds`), which the overlay would otherwise add beside the intended one and
/// nothing would read. Inside a mapping parameter the same holds key by key
/// (`lr: {listop: ...}` when `lr` has `listops`); a value that replaces a non-mapping is free.
/// Every profile is checked, not only the applied one: the mistake is in the file either way.
fn check_profile_params(
    profile: &str,
    over: &BTreeMap<String, Value>,
    base: &BTreeMap<String, Value>,
) -> Result<(), Box<(String, SpecErrorKind)>> {
    fn walk<'a>(
        profile: &str,
        path: &str,
        over: impl Iterator<Item = (&'a String, &'a Value)>,
        base: &dyn Fn(&str) -> Option<&'a Value>,
        known: Vec<&'a str>,
    ) -> Result<(), Box<(String, SpecErrorKind)>> {
        for (k, v) in over {
            let name = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            let field = format!("profiles.{profile}.params.{name}");
            let Some(b) = base(k) else {
                return Err(Box::new((
                    field,
                    SpecErrorKind::UnknownParam {
                        profile: profile.to_owned(),
                        name,
                        suggestion: super::suggest::closest(k, known.iter().copied()).map(|c| {
                            if path.is_empty() {
                                c.to_owned()
                            } else {
                                format!("{path}.{c}")
                            }
                        }),
                        defined: super::suggest::listed(known.iter().copied()),
                        within: (!path.is_empty()).then(|| path.to_owned()),
                    },
                )));
            };
            if let (Value::Object(o), Value::Object(bm)) = (v, b) {
                walk(
                    profile,
                    &name,
                    o.iter(),
                    &|key| bm.get(key),
                    bm.keys().map(String::as_str).collect(),
                )?;
            }
        }
        Ok(())
    }
    walk(
        profile,
        "",
        over.iter(),
        &|key| base.get(key),
        base.keys().map(String::as_str).collect(),
    )
}

/// Deep merge: mappings merge key by key, anything else replaces.
fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// What serde_yaml's message at `pos` means: an unknown key (with the closest expected key),
/// a syntax error that an unquoted `${...}` in a flow list explains, or the message as is.
fn schema_error(text: &str, pos: Pos, message: String) -> SpecErrorKind {
    if let Some((typed, expected)) = unknown_field(&message) {
        let suggestion =
            super::suggest::closest(typed, expected.iter().copied()).map(str::to_owned);
        return SpecErrorKind::UnknownField {
            message,
            suggestion,
        };
    }
    if let Some(value) = text
        .lines()
        .nth(pos.line.saturating_sub(1))
        .and_then(|line| unquoted_flow_interp(line, pos.col))
    {
        return SpecErrorKind::UnquotedInterp { message, value };
    }
    SpecErrorKind::Schema(message)
}

/// From serde's "unknown field `x`, expected one of `a`, `b`" (or "expected `a`"): the typed
/// key and the expected ones.
fn unknown_field(message: &str) -> Option<(&str, Vec<&str>)> {
    let rest = &message[message.find("unknown field `")? + "unknown field `".len()..];
    let (typed, rest) = rest.split_once('`')?;
    let expected = rest
        .split_once("expected ")
        .map(|(_, list)| {
            list.trim_start_matches("one of ")
                .split(", ")
                .map(|e| e.trim_matches('`'))
                .collect()
        })
        .unwrap_or_default();
    Some((typed, expected))
}

/// The list item holding the last `${` that starts before column `col` (1-based) of `line`,
/// when that `${` stands unquoted inside a `[` of the same line: YAML reads its `{` as a flow
/// mapping, which is the likely cause of a syntax error there.
fn unquoted_flow_interp(line: &str, col: usize) -> Option<String> {
    let chars: Vec<char> = line.chars().collect();
    let end = col.min(chars.len());
    let start = (0..end)
        .rev()
        .find(|&i| chars[i] == '$' && chars.get(i + 1) == Some(&'{'))?;
    let (mut quote, mut in_flow) = (None, false);
    for &c in &chars[..start] {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => in_flow = true,
            (None, '#') => return None,
            _ => {}
        }
    }
    if quote.is_some() || !in_flow {
        return None;
    }
    let from = chars[..start]
        .iter()
        .rposition(|&c| c == '[' || c == ',')
        .map_or(0, |i| i + 1);
    let mut to = start;
    let mut depth = 0usize;
    while to < chars.len() {
        match chars[to] {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' | ']' if depth == 0 => break,
            _ => {}
        }
        to += 1;
    }
    let value: String = chars[from..to].iter().collect();
    Some(value.trim().to_owned())
}

/// serde_yaml appends " at line L column C" to its messages; the position is printed
/// separately, so drop it.
fn clean_serde_message(e: &serde_yaml::Error) -> String {
    let msg = e.to_string();
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    }
}
