//! Where an `s3://` remote is served: its endpoint, signing region and addressing style, from
//! `remote.s3` of the site file (checked as it is read, with its line), else the AWS
//! environment variables (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`; `AWS_REGION`,
//! `AWS_DEFAULT_REGION`), else AWS itself
//! (`https://s3.REGION.amazonaws.com`, region `us-east-1`). A custom endpoint is addressed by
//! path (`endpoint/bucket/key`) unless `addressing: virtual` says otherwise; AWS by virtual
//! host (`bucket.s3.REGION.amazonaws.com/key`).

use super::error::RemoteError;
use crate::settings::{S3Addressing, S3EndpointUrl, S3Settings};

/// The resolved place of a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Endpoint {
    /// The endpoint's base URL (`http(s)://host[:port]`), without a path.
    pub endpoint: String,
    /// The signing region.
    pub region: String,
    /// How the bucket is addressed.
    pub addressing: S3Addressing,
}

impl S3Endpoint {
    /// The endpoint of the remote `url` (for messages): the site file's `settings`, else the
    /// environment (`get` reads a variable).
    pub fn resolve(
        url: &str,
        settings: &S3Settings,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<S3Endpoint, RemoteError> {
        let set = |n: &str| get(n).filter(|v| !v.trim().is_empty());
        let region = settings
            .region
            .clone()
            .or_else(|| set("AWS_REGION"))
            .or_else(|| set("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-';
        if region.is_empty() || !region.chars().all(valid) {
            return Err(RemoteError::S3Endpoint {
                url: url.to_owned(),
                why: format!("the region `{region}` is not a region name"),
            });
        }
        let given = match &settings.endpoint {
            Some(e) => Some(e.clone()),
            None => {
                let var = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
                    .into_iter()
                    .find_map(|n| set(n).map(|v| (n, v)));
                match var {
                    Some((name, text)) => Some(text.parse::<S3EndpointUrl>().map_err(|e| {
                        RemoteError::S3Endpoint {
                            url: url.to_owned(),
                            why: format!("`{name}` {e}"),
                        }
                    })?),
                    None => None,
                }
            }
        };
        let Some(endpoint) = given else {
            return Ok(S3Endpoint {
                endpoint: format!("https://s3.{region}.amazonaws.com"),
                region,
                addressing: settings.addressing.unwrap_or(S3Addressing::Virtual),
            });
        };
        Ok(S3Endpoint {
            endpoint: endpoint.as_str().to_owned(),
            region,
            addressing: settings.addressing.unwrap_or(S3Addressing::Path),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_site_file_comes_before_the_environment_and_aws_is_the_fallback() {
        let none = S3Settings::default();
        let e = S3Endpoint::resolve("s3://b/", &none, env(&[])).unwrap();
        assert_eq!(e.endpoint, "https://s3.us-east-1.amazonaws.com");
        assert_eq!(e.addressing, S3Addressing::Virtual);
        let vars = &[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
        ];
        let e = S3Endpoint::resolve("s3://b/", &none, env(vars)).unwrap();
        assert_eq!(
            (e.endpoint.as_str(), e.region.as_str(), e.addressing),
            ("http://127.0.0.1:9000", "eu-west-1", S3Addressing::Path)
        );
        let file = S3Settings {
            endpoint: Some("https://store.lab:8443/".parse().unwrap()),
            region: Some("lab-1".into()),
            addressing: Some(S3Addressing::Virtual),
        };
        let e = S3Endpoint::resolve("s3://b/", &file, env(vars)).unwrap();
        assert_eq!(
            (e.endpoint.as_str(), e.region.as_str(), e.addressing),
            ("https://store.lab:8443", "lab-1", S3Addressing::Virtual)
        );
    }

    #[test]
    fn a_bad_endpoint_or_region_names_where_it_came_from() {
        let none = S3Settings::default();
        let vars = &[("AWS_ENDPOINT_URL", "http://u:p@host/")];
        let e = S3Endpoint::resolve("s3://b/", &none, env(vars))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("remote `s3://b/`: `AWS_ENDPOINT_URL` must be `http(s)://host[:port]`"),
            "{e}"
        );
        assert!(!e.contains("u:p"), "{e}");
        let vars = &[
            ("AWS_ENDPOINT_URL_S3", "ftp://x"),
            ("AWS_ENDPOINT_URL", "http://h"),
        ];
        let e = S3Endpoint::resolve("s3://b/", &none, env(vars))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`AWS_ENDPOINT_URL_S3` must be") && e.contains("`ftp://x`"),
            "{e}"
        );
        let e = S3Endpoint::resolve("s3://b/", &none, env(&[("AWS_REGION", "eu west")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("the region `eu west`"), "{e}");
    }
}
