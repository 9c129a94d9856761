//! Errors in `pipeline.yaml`, each carrying the file, the 1-based line and column, and the
//! field path (`stages.train.outs[0]`) of the offending value.

use std::fmt;
use std::path::PathBuf;

use super::interp::InterpError;
use super::position::Pos;

/// An error in the pipeline file, located.
#[derive(Debug, Clone)]
pub struct SpecError {
    /// The pipeline file, as given.
    pub file: PathBuf,
    /// Where in it.
    pub pos: Pos,
    /// Field path of the offending value (empty for the whole document).
    pub field: String,
    /// What is wrong (boxed: errors travel on the cold path, results stay small).
    pub kind: Box<SpecErrorKind>,
}

/// What is wrong with a pipeline file.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SpecErrorKind {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Read(String),
    /// YAML syntax or a shape/unknown-key error reported by serde_yaml.
    #[error("{0}")]
    Schema(String),
    /// `version` other than 1.
    #[error("unsupported version {0} (this repro reads version 1)")]
    Version(u32),
    /// `--profile` names no profile.
    #[error("unknown profile `{name}` (defined: {defined})")]
    UnknownProfile {
        /// The requested name.
        name: String,
        /// Defined profiles, comma-separated.
        defined: String,
    },
    /// More than one profile has `default: true`.
    #[error("profiles `{0}` and `{1}` are both marked `default: true`")]
    TwoDefaults(String, String),
    /// A profile sets a dimension that no stage has.
    #[error("profile sets matrix dimension `{0}`, which no stage has")]
    UnknownDimension(String),
    /// A profile's `params` names a parameter that the file's `params` does not define.
    #[error("profile `{profile}` sets parameter `{name}`, which {}", match within { Some(p) => format!("parameter `{p}` does not have (its keys: {defined})"), None => format!("`params` does not define (defined: {defined})") })]
    UnknownParam {
        /// The profile.
        profile: String,
        /// The dotted parameter path as written in the profile.
        name: String,
        /// The closest defined name (full dotted path), if one is close.
        suggestion: Option<String>,
        /// The names defined at that level, each in backticks.
        defined: String,
        /// The mapping parameter the name lies in, for a nested name.
        within: Option<String>,
    },
    /// A key that the schema does not know (serde's message, which lists the expected keys).
    #[error("{message}")]
    UnknownField {
        /// serde's message.
        message: String,
        /// The closest expected key, if one is close.
        suggestion: Option<String>,
    },
    /// A YAML syntax error on a line where `${...}` stands unquoted inside a `[...]` list.
    #[error("{message} (likely cause: `{value}` is not quoted, and inside `[...]` YAML reads `{{` as the start of a mapping)")]
    UnquotedInterp {
        /// The parser's message.
        message: String,
        /// The unquoted list item.
        value: String,
    },
    /// A matrix dimension's `${params.NAME}` names no parameter.
    #[error("{0}")]
    MissingParam(super::interp::MissingParam),
    /// A matrix is malformed (empty dimension, include/exclude naming unknown dimensions...).
    #[error("{0}")]
    Matrix(String),
    /// A parameter is missing or has the wrong shape.
    #[error("{0}")]
    Param(String),
    /// `${...}` could not be resolved.
    #[error("{0}")]
    Interp(#[from] InterpError),
    /// A path is absolute or escapes the workspace.
    #[error("path `{0}` must be relative and stay inside the workspace")]
    BadPath(String),
    /// Two instances declare the same output, or one output lies inside another.
    #[error("output `{path}` of `{instance}` is also declared by `{other}`")]
    DuplicateOutput {
        /// The output path.
        path: String,
        /// The instance reported.
        instance: String,
        /// The instance that declared it first.
        other: String,
        /// When both are instances of one stage: the dimensions in which they differ, which
        /// the output path does not use.
        unused_dims: Vec<String>,
    },
    /// An instance reads its own output: a dependency is, contains or lies inside it.
    #[error("{}", own_dep_text(instance, dep, out))]
    OwnDep {
        /// The instance.
        instance: String,
        /// The dependency.
        dep: String,
        /// Its output that the dependency reaches.
        out: String,
    },
    /// An output lies inside another instance's output directory.
    #[error("output `{path}` of `{instance}` lies inside output `{outer}` of `{other}`")]
    NestedOutput {
        /// The inner output path.
        path: String,
        /// Its instance.
        instance: String,
        /// The enclosing output path.
        outer: String,
        /// The instance that declares the enclosing output.
        other: String,
    },
    /// A dependency neither exists nor is produced by any instance.
    #[error("dependency `{path}` of `{instance}` neither exists nor is produced by any stage")]
    MissingDep {
        /// The dependency path.
        path: String,
        /// The instance that needs it.
        instance: String,
    },
    /// The dependency graph has a cycle.
    #[error("dependency cycle: {0}")]
    Cycle(String),
    /// `code:` names neither a workspace package nor a glob that matches files.
    #[error("{0}")]
    Code(String),
    /// Resources out of range.
    #[error("{0}")]
    Resources(String),
    /// A size limit of the loader is exceeded (see `spec::rules`).
    #[error("{0}")]
    Limit(String),
    /// A mapping has the same key twice; YAML would keep only the last.
    #[error("duplicate key `{key}` (first at {}:{})", first.line, first.col)]
    DuplicateKey {
        /// The key, control characters escaped.
        key: String,
        /// Where the first one is.
        first: Pos,
    },
    /// An output is, contains or lies inside a path that belongs to git or the engine.
    #[error("output `{path}` of `{instance}` is or lies inside `{reserved}`, {what}")]
    ReservedOutput {
        /// The output path.
        path: String,
        /// Its instance.
        instance: String,
        /// The reserved entry (`.git`, `cache`, `.repro`, `repro.lock`, the pipeline file).
        reserved: String,
        /// What the reserved entry is.
        what: String,
    },
    /// A resolved path or value holds characters or lengths that cannot be used.
    #[error("{0}")]
    Value(String),
}

impl SpecError {
    /// A located error.
    pub fn new(
        file: impl Into<PathBuf>,
        pos: Pos,
        field: impl Into<String>,
        kind: SpecErrorKind,
    ) -> SpecError {
        SpecError {
            file: file.into(),
            pos,
            field: field.into(),
            kind: Box::new(kind),
        }
    }

    /// A hint line for the user, when the fix is known.
    pub fn hint(&self) -> Option<String> {
        match &*self.kind {
            SpecErrorKind::UnknownProfile { .. } => {
                Some("pass one of the defined names to `--profile`".into())
            }
            SpecErrorKind::UnknownParam {
                suggestion, name, ..
            } => Some(match suggestion {
                Some(c) => format!("did you mean `{c}`? a profile can only change parameters that `params` defines"),
                None => format!("define `{name}` in `params` first, or fix the name: a profile can only change parameters that `params` defines"),
            }),
            SpecErrorKind::UnknownField { suggestion, .. } => Some(match suggestion {
                Some(c) => format!("did you mean `{c}`? docs/pipeline.md lists every field"),
                None => "remove the field or fix its name; docs/pipeline.md lists every field".into(),
            }),
            SpecErrorKind::UnquotedInterp { value, .. } => Some(format!(
                "quote it: `\"{value}\"`"
            )),
            SpecErrorKind::DuplicateOutput { unused_dims, .. } if !unused_dims.is_empty() => {
                let refs: Vec<String> = unused_dims.iter().map(|d| format!("`${{{d}}}`")).collect();
                Some(format!(
                    "the path does not use {}; add {} to the path so that each instance writes its own output",
                    refs.join(", "),
                    if refs.len() == 1 { "it" } else { "them" }
                ))
            }
            SpecErrorKind::OwnDep { dep, out, .. } if out.starts_with(&format!("{dep}/")) => Some(format!(
                "a stage cannot read what it writes: depend on the upstream outputs inside `{dep}` that it reads, or write `{out}` outside `{dep}`"
            )),
            SpecErrorKind::OwnDep { .. } => {
                Some("a stage cannot read what it writes: remove the dependency, or depend on what an upstream stage produces".into())
            }
            SpecErrorKind::MissingDep { .. } => {
                Some("create the file, fix the path, or add a stage whose `outs` produce it".into())
            }
            SpecErrorKind::Interp(InterpError::Undefined {
                suggestion: Some(c),
                ..
            }) => Some(format!(
                "did you mean `{c}`? otherwise add the dimension to the stage's `matrix`, or the parameter to `params`"
            )),
            SpecErrorKind::Interp(InterpError::Undefined { .. }) => Some(
                "add the dimension to the stage's `matrix`, or the parameter to `params`".into(),
            ),
            SpecErrorKind::Interp(InterpError::MissingParam(m)) => Some(param_hint(m)),
            SpecErrorKind::MissingParam(m) => Some(param_hint(m)),
            SpecErrorKind::Interp(InterpError::ShellUnsafe { .. }) => Some(format!(
                "write `cmd` as an argv list (`cmd: [prog, \"${{x}}\"]`, without `shell: true`), which passes each value as one argument; values substituted into a shell command may hold only ASCII letters, digits and `{}`",
                super::rules::SHELL_SAFE_PUNCTUATION
            )),
            SpecErrorKind::DuplicateKey { .. } => Some(
                "rename or remove one of the two entries (YAML would silently keep only the last)"
                    .into(),
            ),
            SpecErrorKind::ReservedOutput { .. } => Some(
                "write outputs elsewhere, for example under `results/` or a work directory".into(),
            ),
            _ => None,
        }
    }
}

/// What an [`SpecErrorKind::OwnDep`] says: which of the two paths lies inside the other.
fn own_dep_text(instance: &str, dep: &str, out: &str) -> String {
    if dep == out {
        format!("output `{out}` of `{instance}` is also its own dependency")
    } else if out.starts_with(&format!("{dep}/")) {
        format!("output `{out}` of `{instance}` lies inside its own dependency `{dep}`, so the stage would read what it writes")
    } else {
        format!("dependency `{dep}` of `{instance}` lies inside its own output `{out}`, so the stage would read what it writes")
    }
}

/// The hint for a parameter path that names nothing.
fn param_hint(m: &super::interp::MissingParam) -> String {
    match &m.suggestion {
        Some(c) => format!("did you mean `{c}`?"),
        None => "fix the name, or define it in `params` (a profile can then change it)".into(),
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` at {}:{}",
            self.file.display(),
            self.pos.line,
            self.pos.col
        )?;
        if !self.field.is_empty() {
            write!(f, ", field `{}`", self.field)?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for SpecError {}
