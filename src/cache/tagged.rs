//! Tagged digests: how an output's digest is written in action records and `repro.lock`,
//! `file:<hex>` for a regular file or `dir:<hex>` for a directory (the digest of its manifest).
//!
//! This is the one place that parses the form; everything else asks [`Tagged::parse`]. A bare
//! digest without a tag (written by no current version) reads as a file.

use std::fmt;

/// What kind of object a tagged digest names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file: the digest names its bytes.
    File,
    /// A directory: the digest names its manifest, which names its files.
    Dir,
}

/// A parsed `kind:digest`, borrowing the digest from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tagged<'a> {
    /// File or directory.
    pub kind: Kind,
    /// The object digest (lowercase hex).
    pub digest: &'a str,
}

/// Whether `text` is a digest this crate writes: 64 lowercase hex characters. Digests read
/// back from records, manifests and `repro.lock` must pass this before they name a path.
pub fn is_digest(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl<'a> Tagged<'a> {
    /// Parses like [`Tagged::parse`] and checks the digest ([`is_digest`]).
    pub fn parse_checked(text: &'a str) -> Result<Tagged<'a>, String> {
        let t = Tagged::parse(text);
        if is_digest(t.digest) {
            Ok(t)
        } else {
            Err(format!("`{}` is not a digest", text.escape_debug()))
        }
    }

    /// Parses `file:<d>` or `dir:<d>`; any other text is read as the digest of a file.
    pub fn parse(text: &'a str) -> Tagged<'a> {
        match text.split_once(':') {
            Some(("dir", d)) => Tagged {
                kind: Kind::Dir,
                digest: d,
            },
            Some(("file", d)) => Tagged {
                kind: Kind::File,
                digest: d,
            },
            _ => Tagged {
                kind: Kind::File,
                digest: text,
            },
        }
    }
}

impl fmt::Display for Tagged<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::File => write!(f, "file:{}", self.digest),
            Kind::Dir => write!(f, "dir:{}", self.digest),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lowercase_hex_of_the_right_length_is_a_digest() {
        let good = "0123456789abcdef".repeat(4);
        assert!(is_digest(&good));
        assert!(Tagged::parse_checked(&format!("dir:{good}")).is_ok());
        for bad in [
            "../../../tmp/x/victim".to_owned(),
            good.to_uppercase(),
            good[1..].to_owned(),
            format!("{good}0"),
            format!("{}/x", &good[..62]),
        ] {
            assert!(!is_digest(&bad), "{bad}");
            assert!(Tagged::parse_checked(&format!("file:{bad}")).is_err());
        }
    }

    #[test]
    fn both_tags_round_trip_and_a_bare_digest_is_a_file() {
        for text in ["file:ab12", "dir:cd34"] {
            assert_eq!(Tagged::parse(text).to_string(), text);
        }
        assert_eq!(Tagged::parse("dir:cd34").kind, Kind::Dir);
        assert_eq!(
            Tagged::parse("ab12"),
            Tagged {
                kind: Kind::File,
                digest: "ab12"
            }
        );
    }
}
