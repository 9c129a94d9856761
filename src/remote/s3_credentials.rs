//! Credentials for `s3://` remotes, only from the environment or the usual file, in this
//! order: `AWS_ACCESS_KEY_ID` with `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN` when set),
//! then the profile `AWS_PROFILE` (default `default`) of `~/.aws/credentials` or of the file
//! `AWS_SHARED_CREDENTIALS_FILE` names (`aws_access_key_id`, `aws_secret_access_key`,
//! `aws_session_token`). Without either, requests go unsigned (a public bucket).
//!
//! Never printed: [`S3Credentials`]'s `Debug` shows the key id only, and no error carries the
//! secret or the session token.
//!
//! Limits: no `~/.aws/config` (`credential_process`, SSO, assumed roles), no instance metadata.

use std::fmt;
use std::path::{Path, PathBuf};

use super::error::RemoteError;

/// An access key (with its session token when temporary).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Credentials {
    /// The access key id (not a secret; AWS prints it in logs).
    pub key: String,
    /// The secret access key.
    pub secret: String,
    /// The session token of temporary credentials.
    pub token: Option<String>,
}

impl fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "S3Credentials({}:***)", self.key)
    }
}

impl S3Credentials {
    /// The credentials to sign with: `get` reads an environment variable. `Ok(None)` when
    /// neither the environment nor the credentials file names any.
    pub fn find(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<S3Credentials>, RemoteError> {
        let set = |n: &str| get(n).filter(|v| !v.is_empty());
        if let Some(key) = set("AWS_ACCESS_KEY_ID") {
            let Some(secret) = set("AWS_SECRET_ACCESS_KEY") else {
                return Err(RemoteError::S3Credentials {
                    source_name: "the environment".into(),
                    why: "`AWS_ACCESS_KEY_ID` is set without `AWS_SECRET_ACCESS_KEY`".into(),
                });
            };
            return Ok(Some(S3Credentials {
                key,
                secret,
                token: set("AWS_SESSION_TOKEN"),
            }));
        }
        let path = match set("AWS_SHARED_CREDENTIALS_FILE") {
            Some(p) => PathBuf::from(p),
            None => match set("HOME") {
                Some(h) => Path::new(&h).join(".aws/credentials"),
                None => return Ok(None),
            },
        };
        let profile = set("AWS_PROFILE").unwrap_or_else(|| "default".into());
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(RemoteError::S3Credentials {
                    source_name: format!("`{}`", path.display()),
                    why: e.to_string(),
                })
            }
        };
        from_profile(&text, &profile).map_err(|why| RemoteError::S3Credentials {
            source_name: format!("`{}`", path.display()),
            why,
        })
    }
}

/// The credentials of `[profile]` in the text of a credentials file; `Ok(None)` when the
/// profile is absent and is `default` (a named profile must exist).
fn from_profile(text: &str, profile: &str) -> Result<Option<S3Credentials>, String> {
    let mut current: Option<&str> = None;
    let mut seen = false;
    let (mut key, mut secret, mut token) = (None, None, None);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.trim());
            seen |= current == Some(profile);
            continue;
        }
        if current != Some(profile) {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!("line {}: expected `name = value`", n + 1));
        };
        let v = Some(v.trim().to_owned());
        match k.trim() {
            "aws_access_key_id" => key = v,
            "aws_secret_access_key" => secret = v,
            "aws_session_token" => token = v,
            _ => {}
        }
    }
    match (key, secret) {
        (Some(key), Some(secret)) => Ok(Some(S3Credentials { key, secret, token })),
        (None, None) if !seen && profile == "default" => Ok(None),
        _ if !seen => Err(format!("no profile `[{profile}]` (AWS_PROFILE)")),
        _ => Err(format!(
            "profile `[{profile}]` lacks `aws_access_key_id` or `aws_secret_access_key`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_comes_before_the_profile_of_the_credentials_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials");
        std::fs::write(
            &file,
            "[default]\naws_access_key_id = AKDEF\naws_secret_access_key = sdef\n\n# lab\n[lab]\naws_access_key_id=AKLAB\naws_secret_access_key=slab\naws_session_token=tlab\n",
        )
        .unwrap();
        let f = file.display().to_string();
        let env = |vars: &'static [(&'static str, &'static str)], f: String| {
            move |n: &str| {
                if n == "AWS_SHARED_CREDENTIALS_FILE" {
                    return Some(f.clone());
                }
                vars.iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let c = S3Credentials::find(env(&[], f.clone())).unwrap().unwrap();
        assert_eq!(
            (c.key.as_str(), c.secret.as_str(), c.token),
            ("AKDEF", "sdef", None)
        );
        let c = S3Credentials::find(env(&[("AWS_PROFILE", "lab")], f.clone()))
            .unwrap()
            .unwrap();
        assert_eq!(c.token.as_deref(), Some("tlab"));
        assert_eq!(format!("{c:?}"), "S3Credentials(AKLAB:***)");
        let vars = &[
            ("AWS_ACCESS_KEY_ID", "AKENV"),
            ("AWS_SECRET_ACCESS_KEY", "senv"),
        ];
        let c = S3Credentials::find(env(vars, f.clone())).unwrap().unwrap();
        assert_eq!(c.key, "AKENV");
        let e = S3Credentials::find(env(&[("AWS_PROFILE", "nope")], f.clone()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no profile `[nope]`") && e.contains("credentials"),
            "{e}"
        );
        let e = S3Credentials::find(env(&[("AWS_ACCESS_KEY_ID", "AKENV")], f))
            .unwrap_err()
            .to_string();
        assert!(e.contains("without `AWS_SECRET_ACCESS_KEY`"), "{e}");
        let absent = dir.path().join("absent").display().to_string();
        assert_eq!(S3Credentials::find(env(&[], absent)).unwrap(), None);
    }

    #[test]
    fn a_malformed_line_of_the_profile_is_named() {
        let e = from_profile("[default]\naws_access_key_id AK\n", "default").unwrap_err();
        assert_eq!(e, "line 2: expected `name = value`");
    }
}
