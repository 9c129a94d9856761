//! Errors of the trainer, split into user errors (exit 2) and failures while working (exit 1).

use std::path::PathBuf;

/// What can go wrong while setting up or running a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A shared-type parse failure or a malformed data file.
    #[error(transparent)]
    Common(#[from] common::CommonError),
    /// The data directory does not exist.
    #[error("failed to find data directory `{0}`")]
    MissingData(PathBuf),
    /// `meta.json` disagrees with the command line or with itself.
    #[error("failed to use `{path}`: field `{field}` is {found} but {expected}")]
    MetaMismatch {
        /// The `meta.json` file.
        path: PathBuf,
        /// The offending field.
        field: &'static str,
        /// What the file says.
        found: String,
        /// What was expected, phrased to read after "but".
        expected: String,
    },
    /// A command-line value that cannot be used.
    #[error("failed to accept `--{flag}`: {message}")]
    BadArg {
        /// The flag, without dashes.
        flag: &'static str,
        /// Why.
        message: String,
    },
    /// A packed member's command line (`cmd` in the manifest) that clap rejects.
    #[error("failed to parse the member's command line: {0}")]
    Cli(String),
    /// Writing an output file failed.
    #[error("failed to write `{path}`: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A libtorch operation failed.
    #[error("failed to {context}: {source}")]
    Torch {
        /// What was being done, reads after "failed to".
        context: String,
        /// The libtorch error.
        source: tch::TchError,
    },
    /// The device could not be chosen (`REPRO_DEVICE`).
    #[error("failed to choose a device: {0}")]
    Device(String),
}

impl TrainError {
    /// Whether the error is the user's (bad flag, bad or missing input file): exit status 2.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, TrainError::Write { .. } | TrainError::Torch { .. })
    }
}
