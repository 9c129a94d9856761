//! The value types of site settings, each parsed in one place.
//!
//! Every setting that is not free text is a newtype ([`Positive`], [`Retries`], [`PollInterval`],
//! [`HumanDuration`]) or an enum ([`super::ExecutorKind`], [`super::GpuSharing`]) with one
//! `FromStr`. The environment and flags hand it their text; serde hands it the file's scalar
//! (its `Deserialize` reads the scalar as text and calls the same `FromStr`), so `max_jobs: 50` and
//! `REPRO_SLURM_MAX_JOBS=50` are read by the same code and refused with the same words.
//!
//! A [`ValueError`] says what was expected and what was found, without saying where: the caller
//! names the source (a file's line and field, a variable, a flag).
//!
//! Limits: a YAML scalar is read as its text, so `max_jobs: "50"` and `max_jobs: 50` are the
//! same setting, and a duration written as a number is seconds.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

use crate::spec::{parse_duration, DURATION_FORMS};

/// A setting's text that cannot be used; reads after the name of its source
/// (`REPRO_SLURM_POLL: must be ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Not of the expected form.
    #[error("must be {expected}, found `{found}`")]
    Invalid {
        /// What the value must be, e.g. "a whole number of at least 1".
        expected: &'static str,
        /// The text as given.
        found: String,
    },
    /// Not one of a few names.
    #[error("unknown {what} `{found}` (known: {known})")]
    Unknown {
        /// What kind of name, e.g. "executor".
        what: &'static str,
        /// The text as given.
        found: String,
        /// The names that are known, comma-separated.
        known: &'static str,
    },
    /// An `sbatch` argument that sets an option the engine sets itself (`settings/sbatch.rs`).
    #[error("must not set `--{option}`, which repro sets on every job itself, found `{found}`")]
    Reserved {
        /// The engine's option, e.g. "job-name".
        option: &'static str,
        /// The argument as given.
        found: String,
    },
}

/// Reads one YAML (or JSON) scalar as text (a string as written, a number or boolean as its
/// decimal text) and parses it with `T`'s `FromStr`. The parse runs inside the visitor, so
/// serde_yaml places the error at the scalar and under its key path.
struct Parsed<T>(PhantomData<T>);

impl<T: FromStr<Err = ValueError>> Visitor<'_> for Parsed<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a single value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
}

/// `Deserialize` through `FromStr` (see [`Parsed`]), for the setting types.
macro_rules! deserialize_from_str {
    ($($t:ty),*) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                $crate::settings::value::parse_scalar(d)
            }
        }
    )*};
}
pub(crate) use deserialize_from_str;

/// Deserializes one scalar into `T` through its `FromStr`.
pub(crate) fn parse_scalar<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err = ValueError>,
{
    d.deserialize_any(Parsed(PhantomData))
}

const POSITIVE: &str = "a whole number of at least 1";

/// A whole number of at least 1 (a count of jobs, a limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Positive(u32);

impl Positive {
    /// `n`, if it is at least 1.
    pub const fn new(n: u32) -> Option<Positive> {
        if n >= 1 {
            Some(Positive(n))
        } else {
            None
        }
    }

    /// The number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl FromStr for Positive {
    type Err = ValueError;
    fn from_str(text: &str) -> Result<Positive, ValueError> {
        text.trim()
            .parse::<u32>()
            .ok()
            .and_then(Positive::new)
            .ok_or_else(|| ValueError::Invalid {
                expected: POSITIVE,
                found: text.to_owned(),
            })
    }
}

impl fmt::Display for Positive {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The most retries a site may ask for: each retry of a failing stage waits longer (see
/// `sched/attempt.rs`), and a number beyond this only hides a broken stage behind hours of
/// attempts.
pub const MAX_RETRIES: u32 = 10;

/// A number of retries: a whole number from 0 to [`MAX_RETRIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Retries(u32);

impl Retries {
    /// `n`, if it is at most [`MAX_RETRIES`].
    pub const fn new(n: u32) -> Option<Retries> {
        if n <= MAX_RETRIES {
            Some(Retries(n))
        } else {
            None
        }
    }

    /// The number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl FromStr for Retries {
    type Err = ValueError;
    fn from_str(text: &str) -> Result<Retries, ValueError> {
        text.trim()
            .parse::<u32>()
            .ok()
            .and_then(Retries::new)
            .ok_or_else(|| ValueError::Invalid {
                expected: "a whole number from 0 to 10",
                found: text.to_owned(),
            })
    }
}

/// A positive duration written for people: `90s`, `30m`, `2h`, `1.5d`, or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(Duration);

impl HumanDuration {
    /// `seconds` seconds (for defaults and tests; text goes through `FromStr`).
    pub const fn from_secs(seconds: u64) -> HumanDuration {
        HumanDuration(Duration::from_secs(seconds))
    }

    /// The duration.
    pub const fn get(self) -> Duration {
        self.0
    }
}

impl FromStr for HumanDuration {
    type Err = ValueError;
    fn from_str(text: &str) -> Result<HumanDuration, ValueError> {
        parse_duration(text)
            .map(HumanDuration)
            .ok_or_else(|| ValueError::Invalid {
                expected: DURATION_FORMS,
                found: text.to_owned(),
            })
    }
}

/// The shortest `poll_interval`: Slurm's documentation asks that `squeue` not be run in
/// tight loops, and a query of a busy controller takes about this long anyway.
pub const MIN_POLL: Duration = Duration::from_secs(1);

/// Between two `squeue` queries: a duration of at least [`MIN_POLL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PollInterval(HumanDuration);

impl PollInterval {
    /// `seconds` seconds, at least [`MIN_POLL`] (for defaults).
    pub const fn from_secs(seconds: u64) -> PollInterval {
        assert!(seconds >= MIN_POLL.as_secs());
        PollInterval(HumanDuration::from_secs(seconds))
    }

    /// The duration.
    pub const fn get(self) -> Duration {
        self.0.get()
    }
}

impl FromStr for PollInterval {
    type Err = ValueError;
    fn from_str(text: &str) -> Result<PollInterval, ValueError> {
        let d: HumanDuration = text.parse()?;
        if d.get() < MIN_POLL {
            return Err(ValueError::Invalid {
                expected: "a duration of at least 1s (`squeue` must not be run in a tight loop)",
                found: text.to_owned(),
            });
        }
        Ok(PollInterval(d))
    }
}

deserialize_from_str!(Positive, Retries, HumanDuration, PollInterval);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_parses_its_text_and_names_what_it_expected() {
        assert_eq!("12".parse::<Positive>().map(Positive::get), Ok(12));
        assert_eq!(
            "0".parse::<Positive>().unwrap_err().to_string(),
            "must be a whole number of at least 1, found `0`"
        );
        assert_eq!(" 0 ".parse::<Retries>().map(Retries::get), Ok(0));
        assert!("-1".parse::<Retries>().is_err());
        assert_eq!(
            "90s".parse::<HumanDuration>().map(HumanDuration::get),
            Ok(Duration::from_secs(90))
        );
        assert_eq!(
            "1.5".parse::<HumanDuration>().map(HumanDuration::get),
            Ok(Duration::from_millis(1500))
        );
        let e = "soon".parse::<HumanDuration>().unwrap_err().to_string();
        assert!(
            e.starts_with("must be a positive duration") && e.ends_with("found `soon`"),
            "{e}"
        );
    }

    #[test]
    fn retries_and_the_poll_interval_have_bounds() {
        assert_eq!("10".parse::<Retries>().map(Retries::get), Ok(10));
        assert_eq!(
            "100000".parse::<Retries>().unwrap_err().to_string(),
            "must be a whole number from 0 to 10, found `100000`"
        );
        assert_eq!(
            "1s".parse::<PollInterval>().map(PollInterval::get),
            Ok(Duration::from_secs(1))
        );
        for small in ["0.001s", "0.5", "0.999s"] {
            let e = small.parse::<PollInterval>().unwrap_err().to_string();
            assert!(
                e.starts_with("must be a duration of at least 1s"),
                "{small}: {e}"
            );
        }
        assert!("soon"
            .parse::<PollInterval>()
            .unwrap_err()
            .to_string()
            .starts_with("must be a positive duration"));
    }

    #[test]
    fn a_yaml_number_and_its_text_are_the_same_value() {
        let from = |yaml: &str| serde_yaml::from_str::<HumanDuration>(yaml).map(|d| d.get());
        assert_eq!(from("30").unwrap(), Duration::from_secs(30));
        assert_eq!(from("\"30\"").unwrap(), Duration::from_secs(30));
        assert_eq!(from("0.5").unwrap(), Duration::from_millis(500));
        let e = serde_yaml::from_str::<Positive>("0")
            .unwrap_err()
            .to_string();
        assert!(e.contains("must be a whole number of at least 1"), "{e}");
        assert!(serde_yaml::from_str::<Positive>("[1]").is_err());
    }
}
