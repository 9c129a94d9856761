//! `s3://bucket/prefix` remotes: any S3-compatible store, through presigned requests.
//!
//! Each request is a SigV4 query-signed URL made by `rusty-s3` (a signer without I/O) and sent
//! with the same blocking `ureq` agent as the HTTP kind (docs/cache.md says why). Keys are the
//! remote's layout below the prefix (`PREFIX/objects/ab/cdef…`, `PREFIX/actions/KEY.json`).
//! GET, HEAD and PUT mean what they mean for `http.rs`: 404 is absent, 401/403 stop the command
//! naming the remote, what arrives is checked by its digest by the caller. A record is created
//! with a signed `If-None-Match: *`: a store that honours it (AWS S3 since 2024, and the server
//! the tests use, `scripts/remote-s3.sh`) answers 412 to a second writer, so two pushers never
//! overwrite each other's record; a store that ignores it leaves the later of two whole
//! records, after the caller's read found none (the race `http.rs` has on nginx).
//!
//! A signed URL holds the access key id, the signature and any session token in its query:
//! no message carries a request's URL (errors name the remote and the key below it), and the
//! secret itself never leaves this process.
//!
//! Limits: one PUT per object (no multipart upload: S3 refuses a single PUT over 5 GiB); no
//! retry; timeouts as `http.rs`; signatures last one hour, and a clock more than 15 minutes off
//! the store's is refused by it (HTTP 403).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusty_s3::actions::{GetObject, HeadObject, PutObject, S3Action};
use rusty_s3::{Bucket, UrlStyle};

use super::error::RemoteError;
use super::http::{read_body, save_body, upload_source};
use super::s3_config::S3Endpoint;
use super::s3_credentials::S3Credentials;
use super::transport::Transport;
use crate::settings::S3Addressing;

/// How long a signed request stays valid.
const SIGNATURE_LIFETIME: Duration = Duration::from_secs(3600);

/// A bucket and prefix of an S3-compatible store.
pub struct S3Remote {
    url: String,
    bucket: Bucket,
    prefix: String,
    credentials: Option<rusty_s3::Credentials>,
    agent: ureq::Agent,
    requests: AtomicU64,
}

impl S3Remote {
    /// The remote `s3://bucket/prefix` at `endpoint`, signing with `credentials` (unsigned
    /// without), over `connections` pooled connections.
    pub fn new(
        bucket: &str,
        prefix: &str,
        endpoint: &S3Endpoint,
        credentials: Option<&S3Credentials>,
        connections: usize,
    ) -> Result<S3Remote, RemoteError> {
        let url = format!("s3://{bucket}/{prefix}");
        let bad = |why: String| RemoteError::S3Endpoint {
            url: url.clone(),
            why,
        };
        let base: url::Url = endpoint
            .endpoint
            .parse()
            .map_err(|e| bad(format!("the endpoint `{}`: {e}", endpoint.endpoint)))?;
        let style = match endpoint.addressing {
            S3Addressing::Path => UrlStyle::Path,
            S3Addressing::Virtual => UrlStyle::VirtualHost,
        };
        let bucket = Bucket::new(base, style, bucket.to_owned(), endpoint.region.clone())
            .map_err(|e| bad(format!("the endpoint `{}`: {e:?}", endpoint.endpoint)))?;
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout_read(Duration::from_secs(300))
            .timeout_write(Duration::from_secs(300))
            .max_idle_connections_per_host(connections.max(1))
            .max_idle_connections(connections.max(1) * 2)
            .redirects(0)
            .build();
        Ok(S3Remote {
            url,
            bucket,
            prefix: prefix.to_owned(),
            credentials: credentials.map(|c| match &c.token {
                Some(t) => rusty_s3::Credentials::new_with_token(&c.key, &c.secret, t),
                None => rusty_s3::Credentials::new(&c.key, &c.secret),
            }),
            agent,
            requests: AtomicU64::new(0),
        })
    }

    /// The request `method` of the signed `url`.
    fn request(&self, method: &str, url: &url::Url) -> ureq::Request {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.agent.request_url(method, url)
    }

    fn key(&self, rel: &str) -> String {
        format!("{}{rel}", self.prefix)
    }

    fn head(&self, rel: &str) -> ureq::Request {
        let key = self.key(rel);
        let url =
            HeadObject::new(&self.bucket, self.credentials.as_ref(), &key).sign(SIGNATURE_LIFETIME);
        self.request("HEAD", &url)
    }

    fn get(&self, rel: &str) -> ureq::Request {
        let key = self.key(rel);
        let url =
            GetObject::new(&self.bucket, self.credentials.as_ref(), &key).sign(SIGNATURE_LIFETIME);
        self.request("GET", &url)
    }

    fn put(&self, rel: &str, only_if_absent: bool) -> ureq::Request {
        let key = self.key(rel);
        let mut action = PutObject::new(&self.bucket, self.credentials.as_ref(), &key);
        if only_if_absent {
            action.headers_mut().insert("if-none-match", "*");
        }
        let r = self.request("PUT", &action.sign(SIGNATURE_LIFETIME));
        if only_if_absent {
            r.set("If-None-Match", "*")
        } else {
            r
        }
    }

    /// The answer to a request: `Ok(None)` on 404, the response on 2xx, an error otherwise.
    fn answer(
        &self,
        method: &'static str,
        rel: &str,
        result: Result<ureq::Response, ureq::Error>,
    ) -> Result<Option<ureq::Response>, RemoteError> {
        super::http::answer_of(&self.url, method, rel, result)
            .unwrap_or_else(|t| Err(self.broken(rel, &t)))
    }

    /// A transport failure, described without its URL (whose query holds the signature).
    fn broken(&self, rel: &str, t: &ureq::Transport) -> RemoteError {
        let mut message = t.kind().to_string();
        if let Some(m) = t.message() {
            message = format!("{message}: {m}");
        }
        if let Some(s) = std::error::Error::source(t) {
            message = format!("{message}: {s}");
        }
        self.failed(rel, message)
    }

    fn failed(&self, rel: &str, message: String) -> RemoteError {
        RemoteError::Transport {
            url: self.url.clone(),
            what: rel.to_owned(),
            message,
        }
    }
}

impl Transport for S3Remote {
    fn url(&self) -> String {
        self.url.clone()
    }

    fn exists(&self, rel: &str) -> Result<bool, RemoteError> {
        let r = self.head(rel).call();
        Ok(self.answer("HEAD", rel, r)?.is_some())
    }

    fn fetch(&self, rel: &str, dest: &Path) -> Result<bool, RemoteError> {
        let r = self.get(rel).call();
        let Some(response) = self.answer("GET", rel, r)? else {
            return Ok(false);
        };
        save_body(response, dest)
            .map(|()| true)
            .map_err(|m| self.failed(rel, m))
    }

    fn read(&self, rel: &str, limit: u64) -> Result<Option<Vec<u8>>, RemoteError> {
        let r = self.get(rel).call();
        let Some(response) = self.answer("GET", rel, r)? else {
            return Ok(None);
        };
        read_body(response, limit)
            .map(Some)
            .map_err(|m| self.failed(rel, m))
    }

    /// A `HEAD` whose `ETag` is the MD5 of `bytes` answers "the same" without a body: the
    /// `ETag` of an object written by one PUT is its MD5 on S3 and the stores that copy it.
    /// Any other `ETag` (multipart uploads, stores that tag otherwise) is not taken as a
    /// difference: the object is then read and compared. Over one kept-alive connection a
    /// body-less answer also avoids the per-response stall of stores that write headers and
    /// body separately (docs/benchmarks.md, Remote through S3).
    fn holds(&self, rel: &str, bytes: &[u8], limit: u64) -> Result<Option<bool>, RemoteError> {
        let r = self.head(rel).call();
        let Some(response) = self.answer("HEAD", rel, r)? else {
            return Ok(None);
        };
        let md5 = hex_md5(bytes);
        let tagged = response.header("etag").map(|t| {
            t.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_ascii_lowercase()
        });
        if tagged.as_deref() == Some(md5.as_str()) {
            return Ok(Some(true));
        }
        Ok(self.read(rel, limit)?.map(|there| there == bytes))
    }

    fn upload(&self, rel: &str, src: &Path) -> Result<(), RemoteError> {
        let (f, len) = upload_source(src)?;
        let r = self
            .put(rel, false)
            .set("Content-Length", &len.to_string())
            .send(f);
        self.answer("PUT", rel, r)?;
        Ok(())
    }

    fn create(&self, rel: &str, bytes: &[u8]) -> Result<bool, RemoteError> {
        match self.put(rel, true).send_bytes(bytes) {
            // 412: it exists; 409: another conditional write to it is in flight (the caller
            // reads what is there and compares).
            Err(ureq::Error::Status(412 | 409, _)) => Ok(false),
            r => self.answer("PUT", rel, r).map(|_| true),
        }
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// The MD5 of `bytes` in lower-case hex, as S3 writes a single PUT's `ETag`.
fn hex_md5(bytes: &[u8]) -> String {
    use md5::Digest as _;
    let digest = md5::Md5::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::hex_md5;

    #[test]
    fn hex_md5_is_the_etag_s3_gives_a_single_put() {
        // RFC 1321's test suite.
        assert_eq!(hex_md5(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex_md5(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
    }
}
