//! Which remote a command uses: `--remote NAME|URL`, else `remote.default` of the site
//! settings (`REPRO_REMOTE` over `repro.local.yaml`), a name below `remote.named` or a URL;
//! and opening it with its credentials (`credentials.rs`) and connection count.

use super::credentials::Credentials;
use super::error::RemoteError;
use super::file::FileRemote;
use super::http::HttpRemote;
use super::s3::S3Remote;
use super::s3_config::S3Endpoint;
use super::s3_credentials::S3Credentials;
use super::transport::Transport;
use super::url::RemoteUrl;
use crate::settings::{RemoteSettings, S3Settings};

/// A remote chosen for a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// Its name in the site file, when chosen by name.
    pub name: Option<String>,
    /// Where it is.
    pub url: RemoteUrl,
    /// The site file's endpoint of `s3://` remotes.
    pub s3: S3Settings,
}

/// The remote named by `flag` (a name or a URL), else the configured default.
pub fn choose(settings: &RemoteSettings, flag: Option<&str>) -> Result<Chosen, RemoteError> {
    let text = flag
        .filter(|f| !f.is_empty())
        .or(settings.default.as_deref())
        .ok_or(RemoteError::NoRemote)?;
    if let Some(url) = settings.named.get(text) {
        return Ok(Chosen {
            name: Some(text.to_owned()),
            url: url.parse()?,
            s3: settings.s3.clone(),
        });
    }
    if text.contains("://") {
        return Ok(Chosen {
            name: None,
            url: text.parse()?,
            s3: settings.s3.clone(),
        });
    }
    let known: Vec<&str> = settings.named.keys().map(String::as_str).collect();
    Err(RemoteError::UnknownName {
        name: text.to_owned(),
        known: if known.is_empty() {
            "none".into()
        } else {
            known.join(", ")
        },
    })
}

/// Opens the chosen remote for `connections` transfers at once, with credentials from the
/// process environment, `~/.netrc` and `~/.aws/credentials`; an `s3://` remote's endpoint
/// from the site file's `remote.s3` and the environment.
pub fn open(chosen: &Chosen, connections: usize) -> Result<Box<dyn Transport>, RemoteError> {
    match &chosen.url {
        RemoteUrl::File(root) => Ok(Box::new(FileRemote::new(root.clone()))),
        RemoteUrl::Http { base, host } => {
            let get = |n: &str| std::env::var(n).ok();
            let netrc = Credentials::netrc_path(get);
            let creds = Credentials::find(host, get, netrc.as_deref())?;
            Ok(Box::new(HttpRemote::new(base.clone(), &creds, connections)))
        }
        RemoteUrl::S3 { bucket, prefix } => {
            let get = |n: &str| std::env::var(n).ok();
            let url = chosen.url.to_string();
            let endpoint = S3Endpoint::resolve(&url, &chosen.s3, get)?;
            let creds = S3Credentials::find(get)?;
            let remote = S3Remote::new(bucket, prefix, &endpoint, creds.as_ref(), connections)?;
            Ok(Box::new(remote))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_names_a_remote_or_a_url_over_the_default() {
        let mut s = RemoteSettings::default();
        assert!(matches!(choose(&s, None), Err(RemoteError::NoRemote)));
        s.named.insert("lab".into(), "http://h/c/".into());
        s.default = Some("lab".into());
        let c = choose(&s, None).unwrap();
        assert_eq!(c.name.as_deref(), Some("lab"));
        let c = choose(&s, Some("file:///tmp/r")).unwrap();
        assert_eq!(c.url, RemoteUrl::File("/tmp/r".into()));
        let e = choose(&s, Some("lba")).unwrap_err().to_string();
        assert_eq!(e, "unknown remote `lba` (known: lab)");
    }
}
