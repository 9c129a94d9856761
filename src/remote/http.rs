//! `http(s)://host/prefix/` remotes: plain GET, HEAD and PUT below a base URL, as a Bazel HTTP
//! cache behind nginx WebDAV (`dav_methods PUT; create_full_put_path on;`) answers them.
//!
//! The client is `ureq` 2 (blocking, rustls for TLS, one connection pool shared by the
//! transfer threads; docs/cache.md says why). Requests carry the [`Credentials`]' header;
//! 401 and 403 become [`RemoteError::Credentials`], which stops the command. Uploads send a
//! `Content-Length` (no chunked bodies, which some WebDAV servers refuse). A record is created
//! with `If-None-Match: *` after the caller found it absent: a server that honours the header
//! answers 412 to a racing second writer; nginx ignores it and the later of two racing writers
//! wins, each with a whole record whose objects were uploaded first.
//!
//! Limits: no retry of a failed request (the command names what failed, and running it again
//! resumes: present objects are skipped); timeouts are 10 s to connect and 300 s per read or
//! write.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::credentials::Credentials;
use super::error::RemoteError;
use super::transport::Transport;

/// A remote HTTP server.
pub struct HttpRemote {
    base: String,
    agent: ureq::Agent,
    auth: Option<String>,
    requests: AtomicU64,
}

impl HttpRemote {
    /// The remote at `base` (ending in `/`), with `connections` pooled connections.
    pub fn new(base: String, credentials: &Credentials, connections: usize) -> HttpRemote {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout_read(Duration::from_secs(300))
            .timeout_write(Duration::from_secs(300))
            .max_idle_connections_per_host(connections.max(1))
            .max_idle_connections(connections.max(1) * 2)
            .redirects(0)
            .build();
        HttpRemote {
            base,
            agent,
            auth: credentials.header(),
            requests: AtomicU64::new(0),
        }
    }

    fn request(&self, method: &str, rel: &str) -> ureq::Request {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let r = self.agent.request(method, &format!("{}{rel}", self.base));
        match &self.auth {
            Some(h) => r.set("Authorization", h),
            None => r,
        }
    }

    /// The answer to a request: `Ok(None)` on 404, the response on 2xx, an error otherwise.
    fn answer(
        &self,
        method: &'static str,
        rel: &str,
        result: Result<ureq::Response, ureq::Error>,
    ) -> Result<Option<ureq::Response>, RemoteError> {
        answer_of(&self.base, method, rel, result)
            .unwrap_or_else(|t| Err(self.broken(rel, t.to_string())))
    }

    fn broken(&self, rel: &str, message: String) -> RemoteError {
        RemoteError::Transport {
            url: self.base.clone(),
            what: rel.to_owned(),
            message,
        }
    }
}

impl Transport for HttpRemote {
    fn url(&self) -> String {
        self.base.clone()
    }

    fn exists(&self, rel: &str) -> Result<bool, RemoteError> {
        let r = self.request("HEAD", rel).call();
        Ok(self.answer("HEAD", rel, r)?.is_some())
    }

    fn fetch(&self, rel: &str, dest: &Path) -> Result<bool, RemoteError> {
        let r = self.request("GET", rel).call();
        let Some(response) = self.answer("GET", rel, r)? else {
            return Ok(false);
        };
        save_body(response, dest)
            .map(|()| true)
            .map_err(|m| self.broken(rel, m))
    }

    fn read(&self, rel: &str, limit: u64) -> Result<Option<Vec<u8>>, RemoteError> {
        let r = self.request("GET", rel).call();
        let Some(response) = self.answer("GET", rel, r)? else {
            return Ok(None);
        };
        read_body(response, limit)
            .map(Some)
            .map_err(|m| self.broken(rel, m))
    }

    fn upload(&self, rel: &str, src: &Path) -> Result<(), RemoteError> {
        let (f, len) = upload_source(src)?;
        let r = self
            .request("PUT", rel)
            .set("Content-Length", &len.to_string())
            .send(f);
        self.answer("PUT", rel, r)?;
        Ok(())
    }

    fn create(&self, rel: &str, bytes: &[u8]) -> Result<bool, RemoteError> {
        let r = self
            .request("PUT", rel)
            .set("If-None-Match", "*")
            .send_bytes(bytes);
        match r {
            Err(ureq::Error::Status(412, _)) => Ok(false),
            r => self.answer("PUT", rel, r).map(|_| true),
        }
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// Writes a response's body to `dest`; when it breaks off, removes the partial file and says
/// why (shared by the HTTP and S3 kinds, which describe the failure each in its own way).
pub(super) fn save_body(response: ureq::Response, dest: &Path) -> Result<(), String> {
    let result = (|| {
        let mut f = File::create(dest)?;
        io::copy(&mut response.into_reader(), &mut f)?;
        Ok::<(), io::Error>(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(dest);
        format!("the body broke off: {e}")
    })
}

/// A response's body, refused when it is larger than `limit` bytes.
pub(super) fn read_body(response: ureq::Response, limit: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    response
        .into_reader()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("the body broke off: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    Ok(bytes)
}

/// The file to upload and its length (sent as `Content-Length`).
pub(super) fn upload_source(src: &Path) -> Result<(File, u64), RemoteError> {
    let io_err = |source| RemoteError::Io {
        path: src.to_owned(),
        source,
    };
    let f = File::open(src).map_err(io_err)?;
    let len = f.metadata().map_err(io_err)?.len();
    Ok((f, len))
}

/// What an HTTP answer means for `rel` on the remote `url` (shared by the HTTP and S3 kinds):
/// `Ok(None)` on 404, the response on 2xx, a credentials error on 401/403, a status error
/// otherwise; a transport failure is handed back for the kind to describe (S3 must not print
/// its presigned URL).
pub(super) fn answer_of(
    url: &str,
    method: &'static str,
    rel: &str,
    result: Result<ureq::Response, ureq::Error>,
) -> Result<Result<Option<ureq::Response>, RemoteError>, Box<ureq::Transport>> {
    Ok(match result {
        Ok(r) => Ok(Some(r)),
        Err(ureq::Error::Status(404, _)) => Ok(None),
        Err(ureq::Error::Status(status @ (401 | 403), _)) => Err(RemoteError::Credentials {
            url: url.to_owned(),
            status,
            what: rel.to_owned(),
        }),
        Err(ureq::Error::Status(status, _)) => Err(RemoteError::Status {
            url: url.to_owned(),
            method,
            status,
            what: rel.to_owned(),
        }),
        Err(ureq::Error::Transport(t)) => return Err(Box::new(t)),
    })
}
