//! Where site settings come from, in the order each overrides the one before: the site file
//! (`repro.local.yaml` beside the pipeline, or the file `REPRO_CONFIG` names), the environment,
//! then flags (`--set-site KEY=VALUE`, and the shorthands `--executor` and `--retries`).
//! The site file must be a regular file of at most 1 MiB (`cache/bounded.rs`); a file that
//! `REPRO_CONFIG` names must exist, while a missing `repro.local.yaml` means the defaults.
//!
//! The file deserializes into [`SiteSettings`] with serde. The environment and flags go
//! through [`SETTINGS`], one row per setting: its file key (`slurm.poll_interval`), its
//! environment variable and a setter that parses the text with the field type's `FromStr`,
//! the same code serde uses for the file. A test walks the table, so a setting missing from
//! it, or from the file, fails.
//!
//! Errors name their source: the file with line, column and key
//! (``repro.local.yaml:3:18: `poll_interval` must be ...``), a variable or a flag by name
//! (`REPRO_SLURM_POLL: must be ...`).
//!
//! Limits: serde_yaml reports a value's key path only inside its message (`slurm.max_jobs:
//! ...`); [`parse`](SiteSettings::parse) recognises the keys of [`SETTINGS`] there to name the
//! key plainly, and leaves any other message (an unknown key, a malformed file) as serde wrote
//! it. serde_yaml 0.9 is frozen (deprecated upstream), and a unit test pins the form.

use std::path::{Path, PathBuf};

use super::site::{SiteSettings, SITE_FILE};
use super::value::ValueError;
use crate::cache::bounded::{read_text, SMALL_FILE_LIMIT};

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
        /// `REPRO_SLURM_POLL`, `--executor`, `--set-site slurm.qos`, ...
        source_name: String,
        /// What is wrong.
        message: String,
    },
}

/// One site setting: where it is written and how its text is read.
pub(crate) struct Setting {
    /// The key in the site file, dotted below a section (`slurm.poll_interval`); also the
    /// key of `--set-site KEY=VALUE`.
    pub(crate) key: &'static str,
    /// The environment variable.
    pub(crate) env: &'static str,
    /// Parses `text` into the field.
    set: fn(&mut SiteSettings, &str) -> Result<(), ValueError>,
}

/// The rows of [`SETTINGS`]: `KEY, VARIABLE => |s, v| ASSIGNMENT;`, where the assignment
/// parses and stores the text `v` into the settings `s`.
macro_rules! settings {
    ($($key:literal, $env:literal => |$s:ident, $v:ident| $assign:expr;)*) => {
        &[$(Setting {
            key: $key,
            env: $env,
            set: |$s, $v| {
                $assign;
                Ok(())
            },
        }),*]
    };
}

/// Every site setting, in the order of docs/slurm.md's table.
#[rustfmt::skip]
pub(crate) const SETTINGS: &[Setting] = settings! {
    "executor", "REPRO_EXECUTOR" => |s, v| s.executor = v.parse()?;
    "retries", "REPRO_RETRIES" => |s, v| s.retries = Some(v.parse()?);
    "slurm.partition", "REPRO_SLURM_PARTITION" => |s, v| s.slurm.partition = Some(v.to_owned());
    "slurm.account", "REPRO_SLURM_ACCOUNT" => |s, v| s.slurm.account = Some(v.to_owned());
    "slurm.qos", "REPRO_SLURM_QOS" => |s, v| s.slurm.qos = Some(v.to_owned());
    "slurm.sbatch_args", "REPRO_SLURM_SBATCH_ARGS" =>
        |s, v| s.slurm.sbatch_args = v.parse()?;
    "slurm.max_jobs", "REPRO_SLURM_MAX_JOBS" => |s, v| s.slurm.max_jobs = v.parse()?;
    "slurm.throttle", "REPRO_SLURM_THROTTLE" => |s, v| s.slurm.throttle = Some(v.parse()?);
    "slurm.poll_interval", "REPRO_SLURM_POLL" => |s, v| s.slurm.poll_interval = v.parse()?;
    "slurm.max_array_size", "REPRO_SLURM_MAX_ARRAY_SIZE" =>
        |s, v| s.slurm.max_array_size = Some(v.parse()?);
    "slurm.pack_max", "REPRO_SLURM_PACK_MAX" => |s, v| s.slurm.pack_max = Some(v.parse()?);
    "slurm.gpu_sharing", "REPRO_SLURM_GPU_SHARING" => |s, v| s.slurm.gpu_sharing = v.parse()?;
    "slurm.shards_per_gpu", "REPRO_SLURM_SHARDS_PER_GPU" =>
        |s, v| s.slurm.shards_per_gpu = v.parse()?;
    "slurm.command_timeout", "REPRO_SLURM_COMMAND_TIMEOUT" =>
        |s, v| s.slurm.command_timeout = v.parse()?;
    "slurm.unreachable_after", "REPRO_SLURM_UNREACHABLE_AFTER" =>
        |s, v| s.slurm.unreachable_after = v.parse()?;
    "slurm.publish_grace", "REPRO_SLURM_PUBLISH_GRACE" => |s, v| s.slurm.publish_grace = v.parse()?;
    "slurm.silence_limit", "REPRO_SLURM_SILENCE_LIMIT" => |s, v| s.slurm.silence_limit = v.parse()?;
    "remote.default", "REPRO_REMOTE" => |s, v| s.remote.default = Some(v.to_owned());
    "remote.connections", "REPRO_REMOTE_CONNECTIONS" => |s, v| s.remote.connections = v.parse()?;
};

/// Keys of the file that no variable or flag sets: a map, written only in the file.
#[cfg(test)]
const FILE_ONLY: &[&str] = &["remote.named", "remote.s3"];

fn find(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}

impl SiteSettings {
    /// Reads the site file of the workspace at `root` (if any) and the environment.
    pub fn load(root: &Path) -> Result<SiteSettings, SiteError> {
        let named = std::env::var_os("REPRO_CONFIG").map(PathBuf::from);
        let mut site = Self::read_file(named.as_deref(), &root.join(SITE_FILE))?;
        site.apply_env(|name| std::env::var(name).ok())?;
        Ok(site)
    }

    /// Reads the site file: `named` (by `REPRO_CONFIG`), which must exist, or else
    /// `default`, whose absence means the defaults. Either must be a regular file of at most
    /// [`SMALL_FILE_LIMIT`] bytes.
    fn read_file(named: Option<&Path>, default: &Path) -> Result<SiteSettings, SiteError> {
        let path = named.unwrap_or(default);
        match read_text(path, SMALL_FILE_LIMIT) {
            Ok(text) => Self::parse(path, &text),
            Err(e) if e.is_not_found() && named.is_none() => Ok(SiteSettings::default()),
            Err(e) => Err(SiteError::Read {
                path: path.to_owned(),
                message: match named {
                    Some(_) => format!("{e} (named by REPRO_CONFIG)"),
                    None => e.to_string(),
                },
            }),
        }
    }

    /// Parses the text of a site file.
    pub fn parse(path: &Path, text: &str) -> Result<SiteSettings, SiteError> {
        if text.trim().is_empty() {
            return Ok(SiteSettings::default());
        }
        serde_yaml::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            SiteError::File {
                path: path.to_owned(),
                line,
                column,
                message: file_message(&e.to_string()),
            }
        })
    }

    /// Applies the environment (`get` reads one variable).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), SiteError> {
        for s in SETTINGS {
            if let Some(text) = get(s.env) {
                (s.set)(self, &text).map_err(|e| SiteError::Value {
                    source_name: s.env.to_owned(),
                    message: e.to_string(),
                })?;
            }
        }
        Ok(())
    }

    /// Sets the setting `key` (a file key, `slurm.qos`) from `text`, given by `source`
    /// (`--executor`, `--set-site slurm.qos`), which the error names.
    pub fn set(&mut self, source: &str, key: &str, text: &str) -> Result<(), SiteError> {
        let bad = |message: String| SiteError::Value {
            source_name: source.to_owned(),
            message,
        };
        let s = find(key).ok_or_else(|| {
            let known: Vec<&str> = SETTINGS.iter().map(|s| s.key).collect();
            bad(format!(
                "unknown setting `{key}` (known: {})",
                known.join(", ")
            ))
        })?;
        (s.set)(self, text).map_err(|e| bad(e.to_string()))
    }

    /// Applies one `--set-site KEY=VALUE`.
    pub fn apply_flag(&mut self, flag: &str) -> Result<(), SiteError> {
        let (key, text) = flag.split_once('=').ok_or_else(|| SiteError::Value {
            source_name: format!("--set-site `{flag}`"),
            message: "expected KEY=VALUE, e.g. slurm.partition=gpu".into(),
        })?;
        let key = key.trim();
        self.set(&format!("--set-site {key}"), key, text)
    }
}

/// serde_yaml's message, without the position (printed before it) and with a setting's key
/// path (`slurm.poll_interval: must be ...`) turned into its name: a [`ValueError`] that reads
/// after a subject follows the name (`` `poll_interval` must be ...``), any other message
/// follows `` `name`: `` (`` `executor`: unknown executor `pbs` ...``).
fn file_message(serde: &str) -> String {
    let msg = match serde.find(" at line ") {
        Some(i) => &serde[..i],
        None => serde,
    };
    let Some((key, rest)) = msg.split_once(": ") else {
        return msg.to_owned();
    };
    let Some(s) = find(key) else {
        return msg.to_owned();
    };
    let name = s.key.rsplit('.').next().unwrap_or(s.key);
    if rest.starts_with("must ") {
        format!("`{name}` {rest}")
    } else {
        format!("`{name}`: {rest}")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::settings::{
        ExecutorKind, GpuSharing, HumanDuration, PollInterval, Positive, Retries, SbatchArgs,
    };

    fn parse(text: &str) -> Result<SiteSettings, SiteError> {
        SiteSettings::parse(Path::new("repro.local.yaml"), text)
    }

    /// For every key of [`SETTINGS`]: a value as the file writes it, as the environment and
    /// `--set-site` write it, and what either must set.
    fn examples() -> Vec<(&'static str, &'static str, &'static str, SiteSettings)> {
        let d = SiteSettings::default;
        let with = |f: &dyn Fn(&mut SiteSettings)| {
            let mut s = d();
            f(&mut s);
            s
        };
        let p = |n| Positive::new(n).unwrap();
        let secs = HumanDuration::from_secs;
        vec![
            (
                "executor",
                "slurm",
                "slurm",
                with(&|s| s.executor = ExecutorKind::Slurm),
            ),
            ("retries", "3", "3", with(&|s| s.retries = Retries::new(3))),
            (
                "slurm.partition",
                "gpu",
                "gpu",
                with(&|s| s.slurm.partition = Some("gpu".into())),
            ),
            (
                "slurm.account",
                "lab",
                "lab",
                with(&|s| s.slurm.account = Some("lab".into())),
            ),
            (
                "slurm.qos",
                "hi",
                "hi",
                with(&|s| s.slurm.qos = Some("hi".into())),
            ),
            (
                "slurm.sbatch_args",
                "[\"--nice=10\", \"--constraint=a100\"]",
                "--nice=10  --constraint=a100",
                with(&|s| {
                    s.slurm.sbatch_args =
                        SbatchArgs::new(vec!["--nice=10".into(), "--constraint=a100".into()])
                            .unwrap()
                }),
            ),
            (
                "slurm.max_jobs",
                "7",
                "7",
                with(&|s| s.slurm.max_jobs = p(7)),
            ),
            (
                "slurm.throttle",
                "8",
                "8",
                with(&|s| s.slurm.throttle = Some(p(8))),
            ),
            (
                "slurm.poll_interval",
                "2s",
                "2s",
                with(&|s| s.slurm.poll_interval = PollInterval::from_secs(2)),
            ),
            (
                "slurm.max_array_size",
                "99",
                "99",
                with(&|s| s.slurm.max_array_size = Some(p(99))),
            ),
            (
                "slurm.pack_max",
                "16",
                "16",
                with(&|s| s.slurm.pack_max = Some(p(16))),
            ),
            (
                "slurm.gpu_sharing",
                "shard",
                "shard",
                with(&|s| s.slurm.gpu_sharing = GpuSharing::Shard),
            ),
            (
                "slurm.shards_per_gpu",
                "4",
                "4",
                with(&|s| s.slurm.shards_per_gpu = p(4)),
            ),
            (
                "slurm.command_timeout",
                "5m",
                "5m",
                with(&|s| s.slurm.command_timeout = secs(300)),
            ),
            (
                "slurm.unreachable_after",
                "1h",
                "1h",
                with(&|s| s.slurm.unreachable_after = secs(3600)),
            ),
            (
                "slurm.publish_grace",
                "90",
                "90",
                with(&|s| s.slurm.publish_grace = secs(90)),
            ),
            (
                "slurm.silence_limit",
                "20m",
                "20m",
                with(&|s| s.slurm.silence_limit = secs(1200)),
            ),
            (
                "remote.default",
                "lab",
                "lab",
                with(&|s| s.remote.default = Some("lab".into())),
            ),
            (
                "remote.connections",
                "3",
                "3",
                with(&|s| s.remote.connections = p(3)),
            ),
        ]
    }

    /// The site file that sets `key` (`slurm.qos`) to `value`, with the value on line 2 when
    /// it is below `slurm:`.
    fn file_with(key: &str, value: &str) -> String {
        match key.split_once('.') {
            Some((section, name)) => format!("{section}:\n  {name}: {value}\n"),
            None => format!("{key}: {value}\n"),
        }
    }

    #[test]
    fn every_setting_is_reachable_from_the_file_the_environment_and_a_flag() {
        let examples = examples();
        let keys: Vec<&str> = SETTINGS.iter().map(|s| s.key).collect();
        let covered: Vec<&str> = examples.iter().map(|e| e.0).collect();
        assert_eq!(keys, covered, "every setting needs an example here");
        for (key, file_text, env_text, want) in examples {
            assert_ne!(
                want,
                SiteSettings::default(),
                "{key}: the example is the default"
            );
            let from_file = parse(&file_with(key, file_text)).unwrap();
            assert_eq!(from_file, want, "{key} from the file");
            let env = find(key).unwrap().env;
            let mut from_env = SiteSettings::default();
            from_env
                .apply_env(|n| (n == env).then(|| env_text.to_owned()))
                .unwrap();
            assert_eq!(from_env, want, "{key} from {env}");
            let mut from_flag = SiteSettings::default();
            from_flag.apply_flag(&format!("{key}={env_text}")).unwrap();
            assert_eq!(from_flag, want, "{key} from --set-site");
        }
    }

    /// The keys serde knows, read from its "expected one of" list for an unknown key.
    fn serde_keys(section: Option<&str>) -> Vec<String> {
        let text = match section {
            Some(s) => format!("{s}:\n  no_such_key: 1\n"),
            None => "no_such_key: 1\n".to_owned(),
        };
        let e = parse(&text).unwrap_err().to_string();
        let list = e.split_once("expected one of ").expect(&e).1;
        list.split(", ")
            .map(|k| {
                let k = k.trim_matches('`');
                section.map_or(k.to_owned(), |s| format!("{s}.{k}"))
            })
            .filter(|k| k != "slurm" && k != "remote" && !FILE_ONLY.contains(&k.as_str()))
            .collect()
    }

    #[test]
    fn the_table_holds_every_key_of_the_file() {
        let mut file_keys = serde_keys(None);
        file_keys.extend(serde_keys(Some("slurm")));
        file_keys.extend(serde_keys(Some("remote")));
        let table: Vec<String> = SETTINGS.iter().map(|s| s.key.to_owned()).collect();
        assert_eq!(file_keys, table);
    }

    #[test]
    fn every_environment_variable_is_distinct_and_prefixed() {
        let mut envs: Vec<&str> = SETTINGS.iter().map(|s| s.env).collect();
        assert!(envs.iter().all(|e| e.starts_with("REPRO_")), "{envs:?}");
        envs.sort_unstable();
        envs.dedup();
        assert_eq!(envs.len(), SETTINGS.len());
    }

    #[test]
    fn a_bad_value_names_its_source() {
        for s in SETTINGS {
            // Free text cannot be malformed.
            if [
                "partition",
                "account",
                "qos",
                "sbatch_args",
                "remote.default",
            ]
            .iter()
            .any(|k| s.key.ends_with(k))
            {
                continue;
            }
            let name = s.key.rsplit('.').next().unwrap();
            let line = if s.key.contains('.') { 2 } else { 1 };
            let e = parse(&file_with(s.key, "bogus")).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("repro.local.yaml:{line}:"))
                    && e.contains(&format!("`{name}`")),
                "{}: {e}",
                s.key
            );
            assert!(e.contains("`bogus`") && !e.contains(" at line "), "{e}");
            let e = SiteSettings::default()
                .apply_env(|n| (n == s.env).then(|| "bogus".into()))
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!("{}: ", s.env)) && e.contains("`bogus`"),
                "{e}"
            );
            let e = SiteSettings::default()
                .apply_flag(&format!("{}=bogus", s.key))
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!("--set-site {}: ", s.key)) && e.contains("`bogus`"),
                "{e}"
            );
        }
    }

    #[test]
    fn named_remotes_are_read_from_the_file() {
        let s =
            parse("remote:\n  default: lab\n  named:\n    lab: http://127.0.0.1:9/c/\n").unwrap();
        assert_eq!(s.remote.default.as_deref(), Some("lab"));
        assert_eq!(s.remote.named["lab"], "http://127.0.0.1:9/c/");
        assert_eq!(s.remote.connections.get(), 8);
        let e = parse("remote:\n  conections: 2\n").unwrap_err().to_string();
        assert!(e.contains("unknown field `conections`"), "{e}");
        let s = parse("remote:\n  s3:\n    endpoint: http://127.0.0.1:9/\n    addressing: path\n")
            .unwrap();
        let endpoint = s.remote.s3.endpoint.as_ref().map(|e| e.as_str());
        assert_eq!(endpoint, Some("http://127.0.0.1:9"));
        assert_eq!(
            s.remote.s3.addressing,
            Some(crate::settings::S3Addressing::Path)
        );
        let e = parse("remote:\n  s3:\n    addressing: vhost\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("repro.local.yaml:3:") && e.contains("`vhost`"),
            "{e}"
        );
        let e = parse("remote:\n  s3:\n    endpoint: http://AK:s3cret@h:9\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("repro.local.yaml:3:") && e.contains("remote.s3.endpoint: must be"),
            "{e}"
        );
        assert!(e.contains("`***@h:9`") && !e.contains("s3cret"), "{e}");
    }

    #[test]
    fn a_full_file_is_read() {
        let s = parse(
            "executor: slurm\nretries: 2\nslurm:\n  partition: gpu\n  account: lab\n  qos: hi\n  sbatch_args: [\"--constraint=a100\"]\n  max_jobs: 50\n  throttle: 8\n  poll_interval: 30s\n  gpu_sharing: shard\n",
        )
        .unwrap();
        assert_eq!(s.executor, ExecutorKind::Slurm);
        assert_eq!(s.retries, Retries::new(2));
        assert_eq!(s.slurm.partition.as_deref(), Some("gpu"));
        assert_eq!(s.slurm.sbatch_args.to_string(), "--constraint=a100");
        assert_eq!(s.slurm.max_jobs.get(), 50);
        assert_eq!(s.slurm.throttle.map(Positive::get), Some(8));
        assert_eq!(s.slurm.poll_interval.get(), Duration::from_secs(30));
        assert_eq!(s.slurm.gpu_sharing, GpuSharing::Shard);
        assert_eq!(s.slurm.silence_limit.get(), Duration::from_secs(900));
        assert_eq!(parse("").unwrap(), SiteSettings::default());
        assert_eq!(parse("slurm:\n").unwrap(), SiteSettings::default());
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let e = parse("executor: slurm\nslurm:\n  poll_interval: soon\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("repro.local.yaml:3:18: `poll_interval` must be a positive duration"),
            "{e}"
        );
        assert!(e.ends_with("found `soon`"), "{e}");
        let e = parse("executor: pbs\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "repro.local.yaml:1:11: `executor`: unknown executor `pbs` (known: local, slurm)"
        );
        let e = parse("slurm:\n  partiton: gpu\n").unwrap_err().to_string();
        assert!(
            e.starts_with("repro.local.yaml:2:") && e.contains("unknown field `partiton`"),
            "{e}"
        );
        let e = parse("slurm:\n  max_jobs: 0\n").unwrap_err().to_string();
        assert!(
            e.starts_with(
                "repro.local.yaml:2:13: `max_jobs` must be a whole number of at least 1, found `0`"
            ),
            "{e}"
        );
    }

    #[test]
    fn the_environment_overrides_the_file_and_a_flag_both() {
        let mut s = parse("executor: local\nslurm:\n  partition: a\n  qos: q\n").unwrap();
        s.apply_env(|n| match n {
            "REPRO_EXECUTOR" => Some("slurm".into()),
            "REPRO_SLURM_PARTITION" => Some("b".into()),
            "REPRO_SLURM_POLL" => Some("2s".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.executor, ExecutorKind::Slurm);
        assert_eq!(s.slurm.partition.as_deref(), Some("b"));
        assert_eq!(s.slurm.qos.as_deref(), Some("q"));
        assert_eq!(s.slurm.poll_interval.get(), Duration::from_secs(2));
        s.apply_flag("slurm.partition=c").unwrap();
        assert_eq!(s.slurm.partition.as_deref(), Some("c"));
        let e = s
            .apply_env(|n| (n == "REPRO_SLURM_MAX_JOBS").then(|| "many".into()))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "REPRO_SLURM_MAX_JOBS: must be a whole number of at least 1, found `many`"
        );
    }

    #[test]
    fn engine_sbatch_options_too_many_retries_and_a_fast_poll_are_refused_where_written() {
        let e = parse("executor: slurm\nslurm:\n  sbatch_args: [\"--nice=1\", \"--job-name=x\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("repro.local.yaml:3:")
                && e.contains("`sbatch_args` must not set `--job-name`")
                && e.ends_with("found `--job-name=x`"),
            "{e}"
        );
        let e = SiteSettings::default()
            .apply_env(|n| (n == "REPRO_SLURM_SBATCH_ARGS").then(|| "-J x".into()))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "REPRO_SLURM_SBATCH_ARGS: must not set `--job-name`, which repro sets on every job itself, found `-J`"
        );
        let e = SiteSettings::default()
            .apply_flag("slurm.sbatch_args=--output /etc/x")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--set-site slurm.sbatch_args: must not set `--output`"),
            "{e}"
        );
        let e = parse("retries: 100000\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "repro.local.yaml:1:10: `retries` must be a whole number from 0 to 10, found `100000`"
        );
        let e = SiteSettings::default()
            .set("--retries", "retries", "11")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "--retries: must be a whole number from 0 to 10, found `11`"
        );
        let e = parse("slurm:\n  poll_interval: 0.001s\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "repro.local.yaml:2:18: `poll_interval` must be a duration of at least 1s"
            ),
            "{e}"
        );
        let e = SiteSettings::default()
            .apply_env(|n| (n == "REPRO_SLURM_POLL").then(|| "0.001s".into()))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("REPRO_SLURM_POLL: must be a duration of at least 1s"),
            "{e}"
        );
    }

    #[test]
    fn a_named_site_file_must_exist_and_be_a_small_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let default = dir.path().join(SITE_FILE);
        assert_eq!(
            SiteSettings::read_file(None, &default).unwrap(),
            SiteSettings::default()
        );
        let missing = dir.path().join("nope.yaml");
        let e = SiteSettings::read_file(Some(&missing), &default)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!("failed to read `{}`: ", missing.display()))
                && e.ends_with("(named by REPRO_CONFIG)"),
            "{e}"
        );
        let e = SiteSettings::read_file(Some(Path::new("/dev/zero")), &default)
            .unwrap_err()
            .to_string();
        assert!(e.contains("it is a device, not a regular file"), "{e}");
        std::fs::write(&default, "#".repeat(SMALL_FILE_LIMIT as usize + 1)).unwrap();
        let e = SiteSettings::read_file(None, &default)
            .unwrap_err()
            .to_string();
        assert!(e.contains("larger than 1048576 bytes"), "{e}");
        std::fs::write(&default, "executor: slurm\n").unwrap();
        assert_eq!(
            SiteSettings::read_file(None, &default).unwrap().executor,
            ExecutorKind::Slurm
        );
    }

    #[test]
    fn a_malformed_or_unknown_flag_is_refused() {
        let mut s = SiteSettings::default();
        let e = s.apply_flag("slurm.qos").unwrap_err().to_string();
        assert!(
            e.starts_with("--set-site `slurm.qos`: expected KEY=VALUE"),
            "{e}"
        );
        let e = s.apply_flag("slurm.queue=x").unwrap_err().to_string();
        assert!(
            e.starts_with("--set-site slurm.queue: unknown setting `slurm.queue` (known: executor, retries, slurm.partition"),
            "{e}"
        );
        let e = s
            .set("--executor", "executor", "pbs")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "--executor: unknown executor `pbs` (known: local, slurm)"
        );
    }
}
