//! Integration tests of `repro push`, `repro pull` and `repro status --remote` against real
//! remotes: nginx with WebDAV PUT on loopback, started by `scripts/remote-nginx.sh` (which
//! installs Debian's `nginx-light` when it is missing), and `file://` directories. Each test
//! starts its own server under a temporary directory and stops it when done.
//!
//! When the script cannot run here (no nginx and no way to install it: exit 3), the nginx
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
mod server;
