//! Remote artifact stores: `repro push`, `repro pull` and `repro status --remote` move action
//! records and objects between the local store and a remote that mirrors its layout
//! (`VERSION`, `objects/ab/cdef…`, `actions/<key>.json`).
//!
//! - `url.rs`: the remote URL kinds (`file:///path`, `http(s)://host/prefix/`), never holding a
//!   credential; `config.rs`: which remote a command uses; `credentials.rs`: where credentials
//!   come from (the environment, `~/.netrc`).
//! - `transport.rs`: the interface every kind implements (exists, fetch, read, upload,
//!   create-if-absent) and the remote's layout; `file.rs`, `http.rs`, `s3.rs`: the kinds;
//!   `s3_config.rs`, `s3_credentials.rs`: an `s3://` remote's endpoint and credentials.
//! - `push.rs`, `pull.rs`: the two directions, each checking what it moves by digest;
//!   `parallel.rs`: the transfers' thread pool.
//!
//! The engine stays synchronous: transfers are blocking requests on a small thread pool of
//! the configured number of connections.
//!
//! `repro run --pull` pulls before the run (`cli/prefetch.rs`); `repro run --push` pushes
//! during it (`cli/pushing.rs`).

mod config;
mod credentials;
mod error;
mod file;
mod http;
mod parallel;
mod pull;
mod push;
mod s3;
mod s3_config;
mod s3_credentials;
mod transport;
mod url;

pub use config::{choose, open, Chosen};
pub use credentials::Credentials;
pub use error::RemoteError;
pub use file::FileRemote;
pub use http::HttpRemote;
pub use parallel::each as in_parallel;
pub use pull::{pull, PullReport, Wanted};
pub use push::{push, PushReport};
pub use s3::S3Remote;
pub use s3_config::S3Endpoint;
pub use s3_credentials::S3Credentials;
pub use transport::{on_remote, Transport};
pub use url::{redact, RemoteUrl};
