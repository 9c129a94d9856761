//! Run settings, resolved once: command-line flags over the environment over the pipeline
//! become one [`RunSettings`] value that the scheduler reads. The loaded pipeline and graph are
//! never changed afterwards (a resource override is looked up here, not written into the
//! instances; `--no-build` clears the build command here, not in the pipeline).

mod gitignore;
pub mod gpus;
mod overrides;
mod resolve;
mod sbatch;
mod site;
mod sources;
mod value;

pub use gitignore::unignored_site_file;
pub use overrides::ResourceOverrides;
pub use resolve::{RunFlags, RunSettings};
pub use sbatch::SbatchArgs;
pub use site::{
    ExecutorKind, GpuSharing, RemoteSettings, S3Addressing, S3EndpointUrl, S3Settings,
    SiteSettings, SlurmSettings, SITE_FILE,
};
pub use sources::SiteError;
pub use value::{
    HumanDuration, PollInterval, Positive, Retries, ValueError, MAX_RETRIES, MIN_POLL,
};

/// A flag or environment value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A `--set-resources` value is malformed or names an unknown stage or field.
    #[error("--set-resources `{text}`: {why}")]
    Resources {
        /// The value as given.
        text: String,
        /// What is wrong.
        why: String,
    },
    /// The site file, an environment variable or a flag (`--executor`, `--set-site`) is
    /// malformed.
    #[error(transparent)]
    Site(#[from] SiteError),
    /// `--gpus` names something that is not a detected device.
    #[error(transparent)]
    Gpus(#[from] gpus::GpuFlagError),
    /// `-j 0`.
    #[error("-j 0: a run needs at least one job slot")]
    NoJobs,
}

impl SettingsError {
    /// The fix, when known.
    pub fn hint(&self) -> Option<String> {
        match self {
            SettingsError::Resources { .. } => Some(
                "write STAGE.gpus=FRACTION, STAGE.cpus=N, STAGE.mem=SIZE or STAGE.time=DURATION, e.g. train.gpus=0.0625"
                    .to_owned(),
            ),
            SettingsError::Gpus(g) => Some(g.hint()),
            SettingsError::NoJobs => Some(
                "leave `-j` out to use one slot per core, or give a positive number".to_owned(),
            ),
            SettingsError::Site(_) => Some(format!(
                "see docs/slurm.md for `{}` and the REPRO_* variables",
                site::SITE_FILE
            )),
        }
    }
}
