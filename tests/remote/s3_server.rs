//! A real S3-compatible remote for one test: `s3s-fs` from crates.io, built once into
//! `.tools/` and started on loopback by `scripts/remote-s3.sh` with SigV4 authentication.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{command_in, run_limited, Ws};
use crate::process::Out;

/// The access key every test server accepts.
pub(crate) const KEY: &str = "repro-test-key";
/// Its secret.
pub(crate) const SECRET: &str = "repro-test-secret-7f3a";

/// A running `s3s-fs`; stopped on drop.
pub(crate) struct S3Server {
    dir: tempfile::TempDir,
    /// `http://127.0.0.1:PORT`.
    pub(crate) endpoint: String,
    /// The remote's URL (`s3://repro/cache/`).
    pub(crate) url: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/remote-s3.sh")
}

impl S3Server {
    /// Starts a server; `None` (after saying why) unless `REPRO_S3_TESTS` is set (`make
    /// test-s3`: building the server takes about 20 minutes the first time, too long for
    /// every `make test`), or when the script cannot install it here and `CI` is unset.
    pub(crate) fn start() -> Option<S3Server> {
        if std::env::var_os("REPRO_S3_TESTS").is_none() {
            eprintln!(
                "SKIPPED: the S3 tests run with `make test-s3` (REPRO_S3_TESTS=1), which builds s3s-fs from crates.io once"
            );
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("repro-s3-")
            .tempdir()
            .expect("tempdir");
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir.path())
            .arg(format!("{KEY}:{SECRET}"))
            .output()
            .expect("run bash");
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => {
                let stdout = String::from_utf8_lossy(&out.stdout);
                let mut lines = stdout.lines();
                let endpoint = lines.next().expect("endpoint line").trim().to_owned();
                let url = lines.next().expect("url line").trim().to_owned();
                Some(S3Server { dir, endpoint, url })
            }
            Some(3) if std::env::var_os("CI").is_none() => {
                eprintln!("SKIPPED: scripts/remote-s3.sh cannot install s3s-fs here: {stderr}");
                None
            }
            code => panic!("scripts/remote-s3.sh start failed ({code:?}): {stderr}"),
        }
    }

    /// The remote's objects and records (the bucket's directory below the prefix).
    pub(crate) fn files(&self) -> PathBuf {
        self.dir.path().join("root/repro/cache")
    }

    /// `repro ARGS` in `ws` with this server's endpoint and the given secret.
    pub(crate) fn command_with(&self, ws: &Ws, secret: &str, args: &[&str]) -> Command {
        let mut c = command_in(&ws.root, &ws.counter, args);
        c.env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", KEY)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                ws.tmp().join("no-aws-credentials"),
            );
        c
    }

    /// `repro ARGS` in `ws` with the right credentials; the outcome.
    pub(crate) fn run(&self, ws: &Ws, args: &[&str]) -> Out {
        run_limited(self.command_with(ws, SECRET, args))
    }

    /// `repro ARGS` in `ws` with the right credentials, which must succeed.
    pub(crate) fn ok(&self, ws: &Ws, args: &[&str]) -> Out {
        let out = self.run(ws, args);
        assert_eq!(out.code, 0, "repro {args:?}: {}", out.both());
        out
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}
