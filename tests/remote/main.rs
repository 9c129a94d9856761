//! Integration tests of `repro push`, `repro pull` and `repro status --remote` against real
//! remotes: nginx with WebDAV PUT on loopback, started by `scripts/remote-nginx.sh` (which
//! installs Debian's `nginx-light` when it is missing), the S3-compatible `s3s-fs` started by
//! `scripts/remote-s3.sh` (which builds it from crates.io into `.tools/` once), and `file://`
//! directories. Each test starts its own server under a temporary directory and stops it when
//! done.
//!
//! When a script cannot run here (no nginx or s3s-fs and no way to install it: exit 3), its
//! tests print why and pass without checking anything, except under `CI`, where they fail.

mod audit;
#[allow(dead_code)]
#[path = "../engine/common.rs"]
mod common;
mod corrupt;
mod credentials;
#[path = "../support/process.rs"]
mod process;
mod roundtrip;
mod runpull;
mod s3;
mod s3_server;
mod server;
