//! Per-machine settings that never belong in `pipeline.yaml`: which executor runs the jobs,
//! and a batch site's partition, account, QOS, extra `sbatch` arguments and limits.
//!
//! They are one serde struct, [`SiteSettings`], whose defaults are its `Default` and whose
//! fields are typed ([`Positive`], [`HumanDuration`], [`GpuSharing`], ...): the file
//! `repro.local.yaml` deserializes into it directly, and the environment and flags set its
//! fields through the same types' `FromStr` (the table in `sources.rs`). A setting is written
//! once here; there is no second copy of optional fields and no merge.
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
//! remote:
//!   default: lab           # a name below `named`, or a URL (REPRO_REMOTE)
//!   connections: 8         # parallel transfers of push and pull
//!   named:
//!     lab: https://cache.example.org/repro/
//!     shared: file:///mnt/shared/repro-cache
//!     bucket: s3://repro-cache/lab/
//!   s3:                    # for `s3://` remotes (else AWS_ENDPOINT_URL, AWS_REGION)
//!     endpoint: http://127.0.0.1:9000
//!     region: us-east-1
//!     addressing: path     # or virtual (bucket.host); path is the default with an endpoint
//! ```

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

use super::sbatch::SbatchArgs;
use super::value::{
    deserialize_from_str, HumanDuration, PollInterval, Positive, Retries, ValueError,
};

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
    /// `local` or `slurm`.
    pub fn name(self) -> &'static str {
        match self {
            ExecutorKind::Local => "local",
            ExecutorKind::Slurm => "slurm",
        }
    }
}

impl FromStr for ExecutorKind {
    type Err = ValueError;
    /// Parses `local` or `slurm`.
    fn from_str(text: &str) -> Result<ExecutorKind, ValueError> {
        match text.trim() {
            "local" => Ok(ExecutorKind::Local),
            "slurm" => Ok(ExecutorKind::Slurm),
            other => Err(ValueError::Unknown {
                what: "executor",
                found: other.to_owned(),
                known: "local, slurm",
            }),
        }
    }
}

impl fmt::Display for ExecutorKind {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a fractional `gpus` request becomes on a Slurm site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

impl FromStr for GpuSharing {
    type Err = ValueError;
    /// Parses `whole`, `shard` or `none`.
    fn from_str(text: &str) -> Result<GpuSharing, ValueError> {
        match text.trim() {
            "whole" => Ok(GpuSharing::Whole),
            "shard" => Ok(GpuSharing::Shard),
            "none" => Ok(GpuSharing::None),
            other => Err(ValueError::Unknown {
                what: "GPU sharing",
                found: other.to_owned(),
                known: "whole, shard, none",
            }),
        }
    }
}

deserialize_from_str!(ExecutorKind, GpuSharing);

/// The Slurm executor's settings (`slurm:` in the site file).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlurmSettings {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--account`.
    pub account: Option<String>,
    /// `--qos`.
    pub qos: Option<String>,
    /// More `sbatch` arguments, as given, none setting an option the engine sets.
    pub sbatch_args: SbatchArgs,
    /// Jobs submitted and not yet ended, at most.
    pub max_jobs: Positive,
    /// `%N` on job arrays (default: `max_jobs`).
    pub throttle: Option<Positive>,
    /// Between two `squeue` queries (at least 1s).
    pub poll_interval: PollInterval,
    /// Largest array to submit (default: the cluster's `MaxArraySize` less one).
    pub max_array_size: Option<Positive>,
    /// The most instances one packed batch job may run (a site's limit on how much one job
    /// holds); a stage whose pack `max` exceeds it is refused before anything is submitted.
    pub pack_max: Option<Positive>,
    /// How fractional GPUs are asked for.
    pub gpu_sharing: GpuSharing,
    /// Shards per GPU on the site (for [`GpuSharing::Shard`]).
    pub shards_per_gpu: Positive,
    /// One Slurm command's limit before it is retried.
    pub command_timeout: HumanDuration,
    /// How long Slurm may stay unreachable before the run gives up on its jobs (they keep
    /// running; the next `repro run` re-attaches).
    pub unreachable_after: HumanDuration,
    /// How long after a job ends its published record may take to appear (a lagging shared
    /// filesystem).
    pub publish_grace: HumanDuration,
    /// How long the executor's thread may send nothing (it reports after every `squeue` poll
    /// and every `sbatch`) before the run fails its jobs: it must exceed a poll interval plus
    /// a Slurm command's retries (`command_timeout` each).
    pub silence_limit: HumanDuration,
}

const MAX_JOBS: Positive = Positive::new(500).expect("500 is positive");
const SHARDS_PER_GPU: Positive = Positive::new(16).expect("16 is positive");

impl Default for SlurmSettings {
    fn default() -> Self {
        SlurmSettings {
            partition: None,
            account: None,
            qos: None,
            sbatch_args: SbatchArgs::default(),
            max_jobs: MAX_JOBS,
            throttle: None,
            poll_interval: PollInterval::from_secs(10),
            max_array_size: None,
            pack_max: None,
            gpu_sharing: GpuSharing::Whole,
            shards_per_gpu: SHARDS_PER_GPU,
            command_timeout: HumanDuration::from_secs(60),
            unreachable_after: HumanDuration::from_secs(600),
            publish_grace: HumanDuration::from_secs(60),
            silence_limit: HumanDuration::from_secs(900),
        }
    }
}

/// The artifact remotes of this machine (`remote:` in the site file); `src/remote/` reads them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteSettings {
    /// The remote `push`, `pull` and `status --remote` use without `--remote`: a name below
    /// `named`, or a URL (`file:///path`, `http(s)://host/prefix/`).
    pub default: Option<String>,
    /// Transfers at once.
    pub connections: Positive,
    /// Named remotes: name to URL. A URL never holds credentials (`docs/cache.md`).
    pub named: std::collections::BTreeMap<String, String>,
    /// Where `s3://` remotes are served (`src/remote/s3_config.rs`).
    pub s3: S3Settings,
}

/// The endpoint of `s3://` remotes (`remote.s3` in the site file); unset fields come from the
/// AWS environment variables.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Settings {
    /// The store's base URL (`http(s)://host[:port]`), over `AWS_ENDPOINT_URL`.
    pub endpoint: Option<S3EndpointUrl>,
    /// The signing region, over `AWS_REGION` and `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
    /// `path` (`endpoint/bucket/key`) or `virtual` (`bucket.endpoint/key`).
    pub addressing: Option<S3Addressing>,
}

/// The base URL of an S3 endpoint: `http(s)://host[:port]`, without a path, credentials,
/// query or trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3EndpointUrl(String);

impl S3EndpointUrl {
    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for S3EndpointUrl {
    type Err = ValueError;
    /// Parses `http(s)://host[:port]` (a trailing `/` is dropped). The error never repeats
    /// what stood before an `@`.
    fn from_str(text: &str) -> Result<S3EndpointUrl, ValueError> {
        let url = text.trim().trim_end_matches('/');
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"));
        match rest {
            Some(rest) if !rest.is_empty() && !rest.contains(['/', '@', '?', '#']) => {
                Ok(S3EndpointUrl(url.to_owned()))
            }
            _ => Err(ValueError::Invalid {
                expected: "`http(s)://host[:port]`, with no path, credentials or query",
                found: match url.rsplit_once('@') {
                    Some((_, host)) => format!("***@{host}"),
                    None => url.to_owned(),
                },
            }),
        }
    }
}

deserialize_from_str!(S3EndpointUrl);

/// How a bucket is addressed at an S3 endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum S3Addressing {
    /// `endpoint/bucket/key`: S3-compatible servers on one host.
    Path,
    /// `bucket.endpoint/key`: AWS.
    Virtual,
}

const CONNECTIONS: Positive = Positive::new(8).expect("8 is positive");

impl Default for RemoteSettings {
    fn default() -> Self {
        RemoteSettings {
            default: None,
            connections: CONNECTIONS,
            named: std::collections::BTreeMap::new(),
            s3: S3Settings::default(),
        }
    }
}

/// Everything the site file, environment and flags say (the site file's schema).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteSettings {
    /// The executor.
    pub executor: ExecutorKind,
    /// Attempts after a failed one, at most 10 (`None`: the executor's default, 0 local, 1
    /// Slurm).
    pub retries: Option<Retries>,
    /// Slurm settings (used when `executor` is Slurm).
    pub slurm: SlurmSettings,
    /// Artifact remotes (`repro push`, `repro pull`).
    pub remote: RemoteSettings,
}
