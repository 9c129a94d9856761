//! Credentials for an HTTP remote, only from the environment or the usual file, in this order:
//! `REPRO_REMOTE_TOKEN` (sent as `Authorization: Bearer`), `REPRO_REMOTE_USER` with
//! `REPRO_REMOTE_PASSWORD` (HTTP Basic), then the `machine` entry for the remote's host (or
//! the `default` entry) of `~/.netrc` or of the file `NETRC` names (HTTP Basic). Never from a
//! URL, and never printed: [`Credentials`]'s `Debug` hides the secret, and no error carries it.
//!
//! Limits: `.netrc` `macdef` macros are skipped up to the next blank line; a `machine` entry is
//! matched against the host with its port first, then without it.

use std::fmt;
use std::path::{Path, PathBuf};

use super::error::RemoteError;
use crate::encode::base64;

/// What an HTTP request carries to authenticate.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Nothing.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Bearer(_) => f.write_str("Bearer(***)"),
            Credentials::Basic { user, .. } => write!(f, "Basic({user}:***)"),
        }
    }
}

impl Credentials {
    /// The credentials for `host` (`name[:port]`): `get` reads an environment variable;
    /// `netrc` is the file to read when the environment names none (absent is fine).
    pub fn find(
        host: &str,
        get: impl Fn(&str) -> Option<String>,
        netrc: Option<&Path>,
    ) -> Result<Credentials, RemoteError> {
        if let Some(token) = get("REPRO_REMOTE_TOKEN").filter(|t| !t.is_empty()) {
            return Ok(Credentials::Bearer(token));
        }
        if let Some(user) = get("REPRO_REMOTE_USER").filter(|u| !u.is_empty()) {
            let password = get("REPRO_REMOTE_PASSWORD").unwrap_or_default();
            return Ok(Credentials::Basic { user, password });
        }
        let Some(path) = netrc else {
            return Ok(Credentials::None);
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Credentials::None),
            Err(e) => {
                return Err(RemoteError::Netrc {
                    path: path.to_owned(),
                    why: e.to_string(),
                })
            }
        };
        let name = host.rsplit_once(':').map_or(host, |(n, _)| n);
        Ok(netrc_entry(&text, &[host, name]).unwrap_or(Credentials::None))
    }

    /// The file `NETRC` names, else `~/.netrc`.
    pub fn netrc_path(get: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
        get("NETRC")
            .map(PathBuf::from)
            .or_else(|| get("HOME").map(|h| Path::new(&h).join(".netrc")))
    }

    /// The `Authorization` header's value, if any.
    pub(crate) fn header(&self) -> Option<String> {
        match self {
            Credentials::None => None,
            Credentials::Bearer(t) => Some(format!("Bearer {t}")),
            Credentials::Basic { user, password } => Some(format!(
                "Basic {}",
                base64(format!("{user}:{password}").as_bytes())
            )),
        }
    }
}

/// The login and password of the first `machine` entry matching one of `hosts` (tried in
/// order), else of the `default` entry.
fn netrc_entry(text: &str, hosts: &[&str]) -> Option<Credentials> {
    // Entries as (machine or None for default, login, password).
    let mut entries: Vec<(Option<String>, String, String)> = Vec::new();
    let mut lines = text.lines();
    let mut tokens: Vec<String> = Vec::new();
    while let Some(line) = lines.next() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"macdef") {
            // A macro runs to the next blank line.
            for l in lines.by_ref() {
                if l.trim().is_empty() {
                    break;
                }
            }
            continue;
        }
        tokens.extend(words.iter().map(|w| (*w).to_owned()));
    }
    let mut it = tokens.into_iter();
    while let Some(t) = it.next() {
        match t.as_str() {
            "machine" => {
                let m = it.next().unwrap_or_default();
                entries.push((Some(m), String::new(), String::new()));
            }
            "default" => entries.push((None, String::new(), String::new())),
            "login" | "password" | "account" => {
                let v = it.next().unwrap_or_default();
                if let Some(e) = entries.last_mut() {
                    match t.as_str() {
                        "login" => e.1 = v,
                        "password" => e.2 = v,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let pick = |e: &(Option<String>, String, String)| Credentials::Basic {
        user: e.1.clone(),
        password: e.2.clone(),
    };
    for h in hosts {
        if let Some(e) = entries.iter().find(|e| e.0.as_deref() == Some(*h)) {
            return Some(pick(e));
        }
    }
    entries.iter().find(|e| e.0.is_none()).map(pick)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_comes_before_netrc_and_netrc_matches_host_then_default() {
        let dir = tempfile::tempdir().unwrap();
        let netrc = dir.path().join("netrc");
        std::fs::write(
            &netrc,
            "machine other login o password p\nmacdef init\ncd /\n\nmachine cache.lab:8443\n  login alice\n  password s3cret\ndefault login anon password x\n",
        )
        .unwrap();
        let none = |_: &str| None;
        let c = Credentials::find("cache.lab:8443", none, Some(&netrc)).unwrap();
        assert_eq!(
            c,
            Credentials::Basic {
                user: "alice".into(),
                password: "s3cret".into()
            }
        );
        assert!(!format!("{c:?}").contains("s3cret"));
        let c = Credentials::find("elsewhere", none, Some(&netrc)).unwrap();
        assert_eq!(c.header(), Some(format!("Basic {}", base64(b"anon:x"))));
        let env = |n: &str| (n == "REPRO_REMOTE_TOKEN").then(|| "tok".to_owned());
        let c = Credentials::find("cache.lab:8443", env, Some(&netrc)).unwrap();
        assert_eq!(c.header().as_deref(), Some("Bearer tok"));
        assert_eq!(format!("{c:?}"), "Bearer(***)");
        let c = Credentials::find("h", none, Some(&dir.path().join("absent"))).unwrap();
        assert_eq!(c, Credentials::None);
    }
}
