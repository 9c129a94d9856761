//! What can go wrong talking to a remote. Messages name the remote by its URL, which never
//! holds a credential (`url.rs` refuses one), and never include a credential or a header.

use std::path::PathBuf;

/// A remote failure.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// No remote was named and none is configured.
    #[error("no remote is configured")]
    NoRemote,
    /// A remote name that the site file does not define.
    #[error("unknown remote `{name}` (known: {known})")]
    UnknownName {
        /// The name as given.
        name: String,
        /// The configured names, comma-separated (or `none`).
        known: String,
    },
    /// A remote URL that cannot be used.
    #[error("remote `{url}`: {why}")]
    Url {
        /// The URL as given, with anything after `://` up to `@` replaced.
        url: String,
        /// What is wrong.
        why: String,
    },
    /// The credentials file cannot be read or parsed.
    #[error("failed to read `{path}`: {why}")]
    Netrc {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// The S3 credentials cannot be read (never carries a secret).
    #[error("failed to read S3 credentials from {source_name}: {why}")]
    S3Credentials {
        /// The environment, or the credentials file.
        source_name: String,
        /// Why.
        why: String,
    },
    /// The endpoint or region of an `s3://` remote is unusable.
    #[error("remote `{url}`: {why}")]
    S3Endpoint {
        /// The remote's URL.
        url: String,
        /// What is wrong (naming the setting or variable).
        why: String,
    },
    /// The server refused the request's credentials (or their absence).
    #[error("remote `{url}` refused the credentials (HTTP {status}) for `{what}`")]
    Credentials {
        /// The remote's base URL.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The request's path below the remote.
        what: String,
    },
    /// The server answered with an unexpected status.
    #[error("remote `{url}` answered HTTP {status} to {method} `{what}`")]
    Status {
        /// The remote's base URL.
        url: String,
        /// The method.
        method: &'static str,
        /// The HTTP status.
        status: u16,
        /// The request's path below the remote.
        what: String,
    },
    /// The server could not be reached, or a transfer broke off.
    #[error("failed to reach remote `{url}` for `{what}`: {message}")]
    Transport {
        /// The remote's base URL.
        url: String,
        /// The request's path below the remote.
        what: String,
        /// The cause.
        message: String,
    },
    /// A local or `file://` path could not be read or written.
    #[error("failed to access `{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The remote holds a store of another layout version, or no store at all where one must be.
    #[error("remote `{url}`: {why}")]
    Layout {
        /// The remote's base URL.
        url: String,
        /// What was found.
        why: String,
    },
}

impl RemoteError {
    /// Whether the user must fix something (configuration, credentials) rather than retry.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            RemoteError::NoRemote
                | RemoteError::UnknownName { .. }
                | RemoteError::Url { .. }
                | RemoteError::Netrc { .. }
                | RemoteError::S3Credentials { .. }
                | RemoteError::S3Endpoint { .. }
                | RemoteError::Credentials { .. }
                | RemoteError::Layout { .. }
        )
    }

    /// Whether no further request can succeed (wrong credentials, an unusable remote): the
    /// command stops at once instead of naming every object.
    pub fn is_fatal(&self) -> bool {
        self.is_user_error()
    }

    /// The fix, when known.
    pub fn hint(&self) -> Option<String> {
        match self {
            RemoteError::NoRemote => Some(
                "name one with `--remote URL`, set `REPRO_REMOTE`, or write `remote: {default: URL}` in `repro.local.yaml` (docs/cache.md)".into(),
            ),
            RemoteError::Credentials { url, .. } if url.starts_with("s3://") => Some(
                "set `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), or a profile in `~/.aws/credentials` (`AWS_PROFILE`); check the endpoint and region too (docs/cache.md)".into(),
            ),
            RemoteError::Credentials { .. } => Some(
                "set `REPRO_REMOTE_TOKEN` (a bearer token), or `REPRO_REMOTE_USER` and `REPRO_REMOTE_PASSWORD`, or a `machine` entry in `~/.netrc` (or the file `NETRC` names)".into(),
            ),
            _ => None,
        }
    }
}
