//! The `pipeline.yaml` schema: plain serde types, first of the three configuration layers.
//!
//! These types only describe what may be written; they hold no invariants. Unknown keys are
//! rejected by serde (`deny_unknown_fields`), so a typo such as `outz` fails with the position
//! serde_yaml reports. `validate` turns a [`PipelineFile`] into a [`super::Pipeline`].
//!
//! Two fields accept more than one shape, each through a hand-written visitor rather than an
//! `untagged` enum, so that a wrong shape still gets a precise message: `cmd` (a string or a
//! list of strings) and the values of a matrix dimension (a list of scalars, or a string
//! `${params.NAME}` naming a list parameter).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// Format version; only `1` exists.
    pub version: u32,
    /// Command run once before the first stage that must execute (e.g. a build), not on no-ops.
    #[serde(default)]
    pub build: Option<Cmd>,
    /// Default parameter values (any YAML value; nested mappings allowed).
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    /// Named overlays of parameters and matrix values.
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileFile>,
    /// The stages, by name.
    pub stages: BTreeMap<String, StageFile>,
    /// The run's HTML page (`spec/report.rs`).
    #[serde(default)]
    pub report: Option<ReportFile>,
}

/// `report:`: the run's HTML page, what it embeds and the versions it shows.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportFile {
    /// Where the page goes, relative to the workspace root.
    pub out: String,
    /// Files written by stages (`repro_sections::PageSections`), embedded in order.
    #[serde(default)]
    pub sections: Vec<String>,
    /// Label to argv: a command whose output's first line is shown as that version.
    #[serde(default)]
    pub versions: BTreeMap<String, Vec<String>>,
}

/// A profile: an overlay applied over the file's defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// Marks the profile used when `--profile` is not given (at most one).
    #[serde(default)]
    pub default: bool,
    /// Free text shown by `repro status` and in reports.
    #[serde(default)]
    pub description: Option<String>,
    /// Parameter values, deep-merged over the defaults (mappings merge, other values replace).
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    /// Matrix dimension values that replace the values of the same-named dimension in every
    /// stage that has it.
    #[serde(default)]
    pub matrix: BTreeMap<String, DimValues>,
    /// Stages that do not exist under this profile: not expanded, not run by `all`, not
    /// recorded in the lock. A remaining stage may not depend on their outputs.
    #[serde(default)]
    pub skip: Vec<String>,
}

/// One stage template.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageFile {
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The command: an argv template, or a string (split like a shell would, or passed to
    /// `sh -c` when `shell: true`).
    pub cmd: Cmd,
    /// Run `cmd` through `sh -c`.
    #[serde(default)]
    pub shell: bool,
    /// Named dimensions plus `exclude` / `include` entries.
    #[serde(default)]
    pub matrix: MatrixFile,
    /// Names of parameters the stage reads other than through `${params.*}` in its templates.
    #[serde(default)]
    pub params: Vec<String>,
    /// Files, directories, globs and upstream outputs the stage reads.
    #[serde(default)]
    pub deps: Vec<String>,
    /// Code the stage runs: workspace package names or globs.
    #[serde(default)]
    pub code: Vec<String>,
    /// Files or directories the stage must produce.
    #[serde(default)]
    pub outs: Vec<String>,
    /// Slots the stage needs while it runs.
    #[serde(default)]
    pub resources: ResourcesFile,
    /// Extra environment variables; they enter the cache key.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Numbers to record in `repro.lock` and compare within a tolerance when outputs are
    /// not reproducible bit for bit (trained models).
    #[serde(default)]
    pub metrics: Option<MetricsFile>,
    /// The longest an instance may run (`90s`, `30m`, `2h`, `1.5d`, or a number of seconds);
    /// past it the instance is ended and fails as timed out.
    #[serde(default)]
    pub timeout: Option<Value>,
    /// Lets ready instances that differ only in some dimensions run as one process.
    #[serde(default)]
    pub pack: Option<PackFile>,
    /// Which instances start first when several wait for slots (higher first; default 0): a
    /// whole number or a template over the parameters and dimensions. Never part of a key.
    #[serde(default)]
    pub priority: Option<Value>,
    /// A regular expression over the lines a running instance logs; the live view shows the
    /// last match (named groups `done` and `total` give a fraction). Never part of a key.
    #[serde(default)]
    pub progress: Option<String>,
    /// How `repro audit` checks the stage's results: `always` (re-run every instance),
    /// `sample` (the default: may be drawn for re-execution), `never`. Never part of a key.
    #[serde(default)]
    pub audit: Option<Value>,
}

/// `pack:` of a stage: ready instances that differ only in the `by` dimensions may run as one
/// process, started with `cmd` (see `docs/pipeline.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackFile {
    /// Dimensions in which members of one pack may differ.
    pub by: Vec<String>,
    /// The most members in one pack (default 8; 1: never pack): a number, or a template over
    /// the parameters and the dimensions outside `by` (`${params.pack_max.${task}}`), so that
    /// a profile can size packs to its machine and each task to its memory.
    #[serde(default)]
    pub max: Option<Value>,
    /// The command that runs a pack; `${pack.manifest}` names the file listing its members.
    pub cmd: Cmd,
    /// What the whole pack holds while it runs (instead of its members' resources).
    #[serde(default)]
    pub resources: ResourcesFile,
}

/// `metrics:` of a stage.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsFile {
    /// JSON files (templates) among or inside the stage's outputs.
    pub files: Vec<String>,
    /// Dotted field paths inside each file whose numbers are recorded.
    pub fields: Vec<String>,
    /// Largest absolute difference accepted by `repro verify --reference`.
    pub tolerance: f64,
}

/// `resources:` of a stage.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ResourcesFile {
    /// GPUs: a fraction (0.25) packs onto one device; whole numbers take whole devices.
    #[serde(default)]
    pub gpus: f64,
    /// CPU slots (of the `-j` budget).
    #[serde(default)]
    pub cpus: Option<u32>,
    /// Memory a batch job asks for: `512M`, `4G`, `1.5T` (binary units; a bare number is
    /// megabytes, as in Slurm).
    #[serde(default)]
    pub mem: Option<serde_json::Value>,
    /// Wall time a batch job asks for: `90s`, `30m`, `2h`, `1.5d` (or seconds).
    #[serde(default)]
    pub time: Option<serde_json::Value>,
}

/// A command: argv template or a single string.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// Written as a list: each entry is one argument.
    Argv(Vec<String>),
    /// Written as a string.
    Line(String),
}

impl<'de> Deserialize<'de> for Cmd {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cmd;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a command string or a list of arguments")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Cmd, E> {
                Ok(Cmd::Line(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Cmd, A::Error> {
                let mut argv = Vec::new();
                while let Some(arg) = seq.next_element::<Scalar>()? {
                    argv.push(arg.0);
                }
                Ok(Cmd::Argv(argv))
            }
        }
        d.deserialize_any(V)
    }
}

/// A YAML scalar read as its string form (numbers and booleans included).
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Scalar(s)),
            v @ (Value::Number(_) | Value::Bool(_)) => Ok(Scalar(v.to_string())),
            other => Err(de::Error::custom(format!(
                "expected a scalar, found `{other}`"
            ))),
        }
    }
}

/// Values of one matrix dimension.
#[derive(Debug, Clone, PartialEq)]
pub enum DimValues {
    /// Listed inline.
    List(Vec<String>),
    /// `${params.NAME}`: a list parameter, resolved after the profile is applied.
    Param(String),
}

impl<'de> Deserialize<'de> for DimValues {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DimValues;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of values or a string `${params.NAME}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DimValues, E> {
                v.strip_prefix("${params.")
                    .and_then(|r| r.strip_suffix('}'))
                    .filter(|name| !name.is_empty() && !name.contains(['$', '{', '}']))
                    .map(|name| DimValues::Param(name.to_owned()))
                    .ok_or_else(|| {
                        E::custom(format!(
                            "expected a list or `${{params.NAME}}`, found `{v}`"
                        ))
                    })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DimValues, A::Error> {
                let mut values = Vec::new();
                while let Some(v) = seq.next_element::<Scalar>()? {
                    values.push(v.0);
                }
                Ok(DimValues::List(values))
            }
        }
        d.deserialize_any(V)
    }
}

/// `matrix:` of a stage: dimensions, plus optional `exclude` and `include` lists of
/// dimension-to-value mappings.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MatrixFile {
    /// Dimension name to values, in name order.
    pub dims: BTreeMap<String, DimValues>,
    /// Combinations to drop: an entry matches every combination that agrees on all its keys.
    pub exclude: Vec<BTreeMap<String, String>>,
    /// Extra combinations to add (each must name every dimension).
    pub include: Vec<BTreeMap<String, String>>,
}

impl<'de> Deserialize<'de> for MatrixFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MatrixFile;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of dimension names to lists")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MatrixFile, A::Error> {
                let mut out = MatrixFile::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "exclude" | "include" => {
                            let entries: Vec<BTreeMap<String, Scalar>> = map.next_value()?;
                            let entries = entries
                                .into_iter()
                                .map(|e| e.into_iter().map(|(k, v)| (k, v.0)).collect())
                                .collect();
                            if key == "exclude" {
                                out.exclude = entries;
                            } else {
                                out.include = entries;
                            }
                        }
                        _ => {
                            if !is_identifier(&key) {
                                return Err(de::Error::custom(format!(
                                    "invalid matrix dimension name `{key}` (use letters, digits and `_`)"
                                )));
                            }
                            let values: DimValues = map.next_value()?;
                            out.dims.insert(key, values);
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

/// Whether `s` is a usable name for a dimension or a parameter segment.
pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s != "params"
}
