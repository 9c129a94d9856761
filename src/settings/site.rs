//! Per-machine settings that never belong in `pipeline.yaml`: which executor runs the jobs,
//! and a batch site's partition, account, QOS, extra `sbatch` arguments and limits.
//!
//! They come from `repro.local.yaml` beside the pipeline (git-ignored: each machine has its
//! own; `REPRO_CONFIG` names another file), then the environment, then flags, each overriding
//! the one before:
//!
//! ```yaml
//! executor: slurm          # or local
//! retries: 1               # attempts after a failed one
//! slurm:
//!   partition: gpu
//!   account: my-lab
//!   qos: normal
//!   sbatch_args: ["--constraint=a100"]
//!   max_jobs: 500          # submitted and not yet ended, at once
//!   throttle: 64           # `%N` of job arrays: running at once per array
//!   poll_interval: 10s
//!   gpu_sharing: whole     # or shard (fractional `gpus` ask for Slurm GPU shards), or none
//! ```
//!
//! | environment | setting |
//! |---|---|
//! | `REPRO_EXECUTOR` | `executor` |
//! | `REPRO_RETRIES` | `retries` |
//! | `REPRO_SLURM_PARTITION`, `_ACCOUNT`, `_QOS` | the same |
//! | `REPRO_SLURM_SBATCH_ARGS` | `sbatch_args`, split on white space |
//! | `REPRO_SLURM_MAX_JOBS`, `_THROTTLE` | the same |
//! | `REPRO_SLURM_POLL` | `poll_interval` |
//! | `REPRO_SLURM_GPU_SHARING` | `gpu_sharing` |

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::spec::parse_timeout;

/// The file's name beside the pipeline.
pub const SITE_FILE: &str = "repro.local.yaml";

/// Which executor runs the jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecutorKind {
    /// Child processes on this machine.
    #[default]
    Local,
    /// One Slurm batch job per instance.
    Slurm,
}

impl ExecutorKind {
    /// Parses `local` or `slurm`.
    pub fn parse(text: &str) -> Result<ExecutorKind, String> {
        match text.trim() {
            "local" => Ok(ExecutorKind::Local),
            "slurm" => Ok(ExecutorKind::Slurm),
            other => Err(format!("unknown executor `{other}` (known: local, slurm)")),
        }
    }

    /// `local` or `slurm`.
    pub fn name(self) -> &'static str {
        match self {
            ExecutorKind::Local => "local",
            ExecutorKind::Slurm => "slurm",
        }
    }
}

/// What a fractional `gpus` request becomes on a Slurm site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GpuSharing {
    /// A whole GPU (`--gres=gpu:1`): always available, wastes the rest of the device.
    #[default]
    Whole,
    /// Slurm GPU shards (`--gres=shard:N`, with N the fraction of the site's shards per GPU);
    /// the site must configure `gres/shard`.
    Shard,
    /// The cluster has no GPUs: ask for none, and stages that want GPUs run on the CPUs the
    /// job gets (as the local executor does on a machine without a GPU).
    None,
}

/// The Slurm executor's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SlurmSettings {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--account`.
    pub account: Option<String>,
    /// `--qos`.
    pub qos: Option<String>,
    /// More `sbatch` arguments, as given.
    pub sbatch_args: Vec<String>,
    /// Jobs submitted and not yet ended, at most.
    pub max_jobs: u32,
    /// `%N` on job arrays (default: `max_jobs`).
    pub throttle: Option<u32>,
    /// Between two `squeue` queries.
    pub poll_interval: Duration,
    /// Largest array to submit (default: the cluster's `MaxArraySize` less one).
    pub max_array_size: Option<u32>,
    /// How fractional GPUs are asked for.
    pub gpu_sharing: GpuSharing,
    /// Shards per GPU on the site (for [`GpuSharing::Shard`]).
    pub shards_per_gpu: u32,
    /// One Slurm command's limit before it is retried.
    pub command_timeout: Duration,
    /// How long Slurm may stay unreachable before the run gives up on its jobs (they keep
    /// running; the next `repro run` re-attaches).
    pub unreachable_after: Duration,
    /// How long after a job ends its published record may take to appear (a lagging shared
    /// filesystem).
    pub publish_grace: Duration,
    /// How long the executor's thread may send nothing (it reports after every `squeue` poll
    /// and every `sbatch`) before the run fails its jobs: it must exceed a poll interval plus
    /// a Slurm command's retries (`command_timeout` each).
    pub silence_limit: Duration,
}

impl Default for SlurmSettings {
    fn default() -> Self {
        SlurmSettings {
            partition: None,
            account: None,
            qos: None,
            sbatch_args: Vec::new(),
            max_jobs: 500,
            throttle: None,
            poll_interval: Duration::from_secs(10),
            max_array_size: None,
            gpu_sharing: GpuSharing::Whole,
            shards_per_gpu: 16,
            command_timeout: Duration::from_secs(60),
            unreachable_after: Duration::from_secs(600),
            publish_grace: Duration::from_secs(60),
            silence_limit: Duration::from_secs(900),
        }
    }
}

/// Everything the site file, environment and flags say.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SiteSettings {
    /// The executor.
    pub executor: ExecutorKind,
    /// Attempts after a failed one (`None`: the executor's default, 0 local, 1 Slurm).
    pub retries: Option<u32>,
    /// Slurm settings (used when `executor` is Slurm).
    pub slurm: SlurmSettings,
}

/// A site setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// The file could not be read.
    #[error("failed to read `{path}`: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The file is malformed; the message names the line, column and field.
    #[error("{path}:{line}:{column}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, naming the field.
        message: String,
    },
    /// An environment variable or flag is malformed.
    #[error("{source_name}: {message}")]
    Value {
        /// `REPRO_SLURM_POLL`, `--executor`, ...
        source_name: String,
        /// What is wrong.
        message: String,
    },
}

/// `repro.local.yaml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteFile {
    #[serde(default, deserialize_with = "executor_field")]
    executor: Option<ExecutorKind>,
    #[serde(default)]
    retries: Option<u32>,
    #[serde(default)]
    slurm: Option<SlurmFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlurmFile {
    partition: Option<String>,
    account: Option<String>,
    qos: Option<String>,
    #[serde(default)]
    sbatch_args: Vec<String>,
    #[serde(default, deserialize_with = "max_jobs")]
    max_jobs: Option<u32>,
    #[serde(default, deserialize_with = "throttle")]
    throttle: Option<u32>,
    #[serde(default, deserialize_with = "poll_interval")]
    poll_interval: Option<Duration>,
    #[serde(default, deserialize_with = "max_array_size")]
    max_array_size: Option<u32>,
    #[serde(default)]
    gpu_sharing: Option<GpuSharing>,
    #[serde(default, deserialize_with = "shards_per_gpu")]
    shards_per_gpu: Option<u32>,
    #[serde(default, deserialize_with = "command_timeout")]
    command_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "unreachable_after")]
    unreachable_after: Option<Duration>,
    #[serde(default, deserialize_with = "publish_grace")]
    publish_grace: Option<Duration>,
    #[serde(default, deserialize_with = "silence_limit")]
    silence_limit: Option<Duration>,
}

fn executor_field<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<ExecutorKind>, D::Error> {
    let text = String::deserialize(d)?;
    ExecutorKind::parse(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn positive<'de, D: serde::Deserializer<'de>>(d: D, field: &str) -> Result<Option<u32>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    match v.as_u64() {
        Some(n) if n >= 1 && n <= u64::from(u32::MAX) => Ok(Some(n as u32)),
        _ => Err(serde::de::Error::custom(format!(
            "`{field}` must be a whole number of at least 1, found {v}"
        ))),
    }
}

fn duration<'de, D: serde::Deserializer<'de>>(
    d: D,
    field: &str,
) -> Result<Option<Duration>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    parse_duration(&v)
        .map(Some)
        .map_err(|m| serde::de::Error::custom(format!("`{field}` {m}")))
}

/// Field-named deserializers, so that a message names the field it is about.
macro_rules! named {
    ($kind:ident, $t:ty, $($field:ident),*) => {$(
        fn $field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<$t>, D::Error> {
            $kind(d, stringify!($field))
        }
    )*};
}
named!(
    positive,
    u32,
    max_jobs,
    throttle,
    max_array_size,
    shards_per_gpu
);
named!(
    duration,
    Duration,
    poll_interval,
    command_timeout,
    unreachable_after,
    publish_grace,
    silence_limit
);

fn parse_duration(v: &serde_json::Value) -> Result<Duration, String> {
    parse_timeout(v).map_err(|m| m.replacen("`timeout` must be", "must be", 1))
}

impl SiteSettings {
    /// Reads the site file of the workspace at `root` (if any) and the environment.
    pub fn load(root: &Path) -> Result<SiteSettings, SiteError> {
        let path = std::env::var_os("REPRO_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(SITE_FILE));
        let mut site = match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&path, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => SiteSettings::default(),
            Err(e) => {
                return Err(SiteError::Read {
                    path,
                    message: e.to_string(),
                })
            }
        };
        site.apply_env(|name| std::env::var(name).ok())?;
        Ok(site)
    }

    /// Parses the text of a site file.
    pub fn parse(path: &Path, text: &str) -> Result<SiteSettings, SiteError> {
        if text.trim().is_empty() {
            return Ok(SiteSettings::default());
        }
        let file: SiteFile = serde_yaml::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            SiteError::File {
                path: path.to_owned(),
                line,
                column,
                message: e.to_string(),
            }
        })?;
        let mut s = SiteSettings {
            executor: file.executor.unwrap_or_default(),
            retries: file.retries,
            slurm: SlurmSettings::default(),
        };
        if let Some(f) = file.slurm {
            let d = &mut s.slurm;
            d.partition = f.partition;
            d.account = f.account;
            d.qos = f.qos;
            d.sbatch_args = f.sbatch_args;
            d.max_jobs = f.max_jobs.unwrap_or(d.max_jobs);
            d.throttle = f.throttle;
            d.poll_interval = f.poll_interval.unwrap_or(d.poll_interval);
            d.max_array_size = f.max_array_size;
            d.gpu_sharing = f.gpu_sharing.unwrap_or_default();
            d.shards_per_gpu = f.shards_per_gpu.unwrap_or(d.shards_per_gpu);
            d.command_timeout = f.command_timeout.unwrap_or(d.command_timeout);
            d.unreachable_after = f.unreachable_after.unwrap_or(d.unreachable_after);
            d.publish_grace = f.publish_grace.unwrap_or(d.publish_grace);
            d.silence_limit = f.silence_limit.unwrap_or(d.silence_limit);
        }
        Ok(s)
    }

    /// Applies the environment (`get` reads one variable).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), SiteError> {
        let bad = |name: &str, message: String| SiteError::Value {
            source_name: name.to_owned(),
            message,
        };
        let count = |name: &str| -> Result<Option<u32>, SiteError> {
            match get(name) {
                None => Ok(None),
                Some(v) => match v.trim().parse::<u32>() {
                    Ok(n) if n >= 1 => Ok(Some(n)),
                    _ => Err(bad(
                        name,
                        format!("`{v}` is not a whole number of at least 1"),
                    )),
                },
            }
        };
        if let Some(v) = get("REPRO_EXECUTOR") {
            self.executor = ExecutorKind::parse(&v).map_err(|m| bad("REPRO_EXECUTOR", m))?;
        }
        if let Some(v) = get("REPRO_RETRIES") {
            self.retries = Some(
                v.trim()
                    .parse()
                    .map_err(|_| bad("REPRO_RETRIES", format!("`{v}` is not a whole number")))?,
            );
        }
        let s = &mut self.slurm;
        for (name, field) in [
            ("REPRO_SLURM_PARTITION", &mut s.partition),
            ("REPRO_SLURM_ACCOUNT", &mut s.account),
            ("REPRO_SLURM_QOS", &mut s.qos),
        ] {
            if let Some(v) = get(name) {
                *field = Some(v);
            }
        }
        if let Some(v) = get("REPRO_SLURM_SBATCH_ARGS") {
            s.sbatch_args = v.split_whitespace().map(str::to_owned).collect();
        }
        if let Some(n) = count("REPRO_SLURM_MAX_JOBS")? {
            s.max_jobs = n;
        }
        if let Some(n) = count("REPRO_SLURM_THROTTLE")? {
            s.throttle = Some(n);
        }
        if let Some(v) = get("REPRO_SLURM_GPU_SHARING") {
            s.gpu_sharing = match v.trim() {
                "whole" => GpuSharing::Whole,
                "shard" => GpuSharing::Shard,
                "none" => GpuSharing::None,
                _ => {
                    return Err(bad(
                        "REPRO_SLURM_GPU_SHARING",
                        format!("`{v}` is not one of whole, shard, none"),
                    ))
                }
            };
        }
        if let Some(v) = get("REPRO_SLURM_POLL") {
            s.poll_interval = parse_duration(&serde_json::Value::String(v))
                .map_err(|m| bad("REPRO_SLURM_POLL", m))?;
        }
        if let Some(v) = get("REPRO_SLURM_SILENCE_LIMIT") {
            s.silence_limit = parse_duration(&serde_json::Value::String(v))
                .map_err(|m| bad("REPRO_SLURM_SILENCE_LIMIT", m))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SiteSettings, SiteError> {
        SiteSettings::parse(Path::new("repro.local.yaml"), text)
    }

    #[test]
    fn a_full_file_is_read() {
        let s = parse(
            "executor: slurm\nretries: 2\nslurm:\n  partition: gpu\n  account: lab\n  qos: hi\n  sbatch_args: [\"--constraint=a100\"]\n  max_jobs: 50\n  throttle: 8\n  poll_interval: 30s\n  gpu_sharing: shard\n",
        )
        .unwrap();
        assert_eq!(s.executor, ExecutorKind::Slurm);
        assert_eq!(s.retries, Some(2));
        assert_eq!(s.slurm.partition.as_deref(), Some("gpu"));
        assert_eq!(s.slurm.sbatch_args, vec!["--constraint=a100"]);
        assert_eq!(s.slurm.max_jobs, 50);
        assert_eq!(s.slurm.throttle, Some(8));
        assert_eq!(s.slurm.poll_interval, Duration::from_secs(30));
        assert_eq!(s.slurm.gpu_sharing, GpuSharing::Shard);
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let e = parse("executor: slurm\nslurm:\n  poll_interval: soon\n").unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("repro.local.yaml:3:"), "{text}");
        assert!(text.contains("poll_interval"), "{text}");
        let e = parse("executor: pbs\n").unwrap_err().to_string();
        assert!(e.contains("unknown executor `pbs`"), "{e}");
        assert!(e.starts_with("repro.local.yaml:1:"), "{e}");
        let e = parse("slurm:\n  partiton: gpu\n").unwrap_err().to_string();
        assert!(e.contains("partiton"), "{e}");
        let e = parse("slurm:\n  max_jobs: 0\n").unwrap_err().to_string();
        assert!(e.contains("max_jobs") || e.contains("at least 1"), "{e}");
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let mut s = parse("executor: local\nslurm:\n  partition: a\n").unwrap();
        s.apply_env(|n| match n {
            "REPRO_EXECUTOR" => Some("slurm".into()),
            "REPRO_SLURM_PARTITION" => Some("b".into()),
            "REPRO_SLURM_POLL" => Some("2s".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.executor, ExecutorKind::Slurm);
        assert_eq!(s.slurm.partition.as_deref(), Some("b"));
        assert_eq!(s.slurm.poll_interval, Duration::from_secs(2));
        let e = s
            .apply_env(|n| (n == "REPRO_SLURM_MAX_JOBS").then(|| "many".into()))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("REPRO_SLURM_MAX_JOBS:"), "{e}");
    }
}
