//! Remote URLs: `file:///absolute/path`, `http(s)://host[:port]/prefix/` and
//! `s3://bucket[/prefix]` (its endpoint and region come from `s3.rs`). A URL names a
//! place, never a credential: one with `user:password@`, a query or a fragment is refused, so
//! no credential can reach `repro.local.yaml`, a message or a log through a URL.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::error::RemoteError;

/// A parsed remote location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteUrl {
    /// A directory on a shared or mounted filesystem.
    File(PathBuf),
    /// An HTTP server that answers GET, HEAD and PUT under a base URL (ending in `/`).
    Http {
        /// The base URL, ending in `/`.
        base: String,
        /// The host (with port), for `~/.netrc`.
        host: String,
    },
    /// A bucket of an S3-compatible store, and a key prefix (empty, or ending in `/`).
    S3 {
        /// The bucket.
        bucket: String,
        /// The prefix of every key, empty or ending in `/`.
        prefix: String,
    },
}

fn bad(url: &str, why: &str) -> RemoteError {
    RemoteError::Url {
        url: redact(url),
        why: why.to_owned(),
    }
}

/// The URL with anything between `://` and an `@` of its authority replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

impl FromStr for RemoteUrl {
    type Err = RemoteError;
    fn from_str(text: &str) -> Result<RemoteUrl, RemoteError> {
        let text = text.trim();
        if let Some(path) = text.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(bad(text, "a file remote must be `file:///absolute/path`"));
            }
            return Ok(RemoteUrl::File(PathBuf::from(path)));
        }
        if let Some(rest) = text.strip_prefix("s3://") {
            return parse_s3(text, rest);
        }
        let rest = text
            .strip_prefix("http://")
            .or_else(|| text.strip_prefix("https://"));
        let Some(rest) = rest else {
            return Err(bad(
                text,
                "expected `file:///path`, `http(s)://host/prefix/` or `s3://bucket/prefix`",
            ));
        };
        let host = rest.split('/').next().unwrap_or("");
        if host.contains('@') {
            return Err(bad(
                text,
                "credentials never go in a URL; use `REPRO_REMOTE_TOKEN`, `REPRO_REMOTE_USER`/`REPRO_REMOTE_PASSWORD` or `~/.netrc`",
            ));
        }
        if host.is_empty() {
            return Err(bad(text, "no host"));
        }
        if text.contains('?') || text.contains('#') {
            return Err(bad(text, "a remote URL has no query or fragment"));
        }
        let mut base = text.to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        Ok(RemoteUrl::Http {
            base,
            host: host.to_owned(),
        })
    }
}

/// `s3://bucket[/prefix]`: `rest` is what follows `s3://`.
fn parse_s3(text: &str, rest: &str) -> Result<RemoteUrl, RemoteError> {
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.contains('@') || bucket.contains(':') {
        return Err(bad(
            text,
            "credentials never go in a URL; use `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` or `~/.aws/credentials`",
        ));
    }
    if text.contains('?') || text.contains('#') {
        return Err(bad(text, "a remote URL has no query or fragment"));
    }
    let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    if bucket.len() < 3 || bucket.len() > 63 || !bucket.chars().all(valid) {
        return Err(bad(
            text,
            "a bucket name has 3 to 63 lowercase letters, digits, `-` and `.`",
        ));
    }
    let prefix = prefix.trim_matches('/');
    if prefix.split('/').any(|p| p == "." || p == "..") || prefix.contains("//") {
        return Err(bad(text, "the prefix has an empty, `.` or `..` part"));
    }
    Ok(RemoteUrl::S3 {
        bucket: bucket.to_owned(),
        prefix: if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        },
    })
}

impl fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            RemoteUrl::File(p) => write!(f, "file://{}", p.display()),
            RemoteUrl::Http { base, .. } => f.write_str(base),
            RemoteUrl::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_http_urls_parse_and_credentials_in_a_url_are_refused_unprinted() {
        assert_eq!(
            "file:///srv/cache".parse::<RemoteUrl>().unwrap(),
            RemoteUrl::File("/srv/cache".into())
        );
        assert_eq!(
            "http://127.0.0.1:8080/c".parse::<RemoteUrl>().unwrap(),
            RemoteUrl::Http {
                base: "http://127.0.0.1:8080/c/".into(),
                host: "127.0.0.1:8080".into()
            }
        );
        let e = "https://alice:s3cret@host/c/"
            .parse::<RemoteUrl>()
            .unwrap_err()
            .to_string();
        assert!(!e.contains("s3cret") && !e.contains("alice"), "{e}");
        assert!(e.contains("credentials never go in a URL"), "{e}");
        for bad in [
            "file://relative",
            "ftp://x/",
            "http:///x",
            "http://h/x?token=1",
        ] {
            assert!(bad.parse::<RemoteUrl>().is_err(), "{bad}");
        }
    }

    #[test]
    fn s3_urls_name_a_bucket_and_a_prefix_and_never_a_credential() {
        let u = "s3://repro-cache/lab/runs".parse::<RemoteUrl>().unwrap();
        assert_eq!(
            u,
            RemoteUrl::S3 {
                bucket: "repro-cache".into(),
                prefix: "lab/runs/".into()
            }
        );
        assert_eq!(u.to_string(), "s3://repro-cache/lab/runs/");
        let u = "s3://repro-cache".parse::<RemoteUrl>().unwrap();
        assert_eq!(u.to_string(), "s3://repro-cache/");
        let e = "s3://AKIA:s3cret@bucket/p"
            .parse::<RemoteUrl>()
            .unwrap_err()
            .to_string();
        assert!(!e.contains("s3cret") && !e.contains("AKIA"), "{e}");
        assert!(e.contains("credentials never go in a URL"), "{e}");
        for bad in [
            "s3://",
            "s3://ab/",
            "s3://Bucket/p",
            "s3://b_b/p",
            "s3://bkt/a/../b",
            "s3://bkt/p?x=1",
        ] {
            assert!(bad.parse::<RemoteUrl>().is_err(), "{bad}");
        }
    }
}
