//! The site's extra `sbatch` arguments (`slurm.sbatch_args`), refused when they would take
//! over what the engine itself sets on every submission.
//!
//! The engine writes `--parsable` (it reads the job id from the output), `--job-name` and
//! `--comment` (how it finds its jobs in `squeue` after a restart), `--chdir`, `--output`
//! (where it reads a job's log back), `--array` and `--dependency` (the submission's shape),
//! and it never uses `--error` (stderr joins the log) or `--wrap` (it submits a script). The
//! site's arguments come after its own flags, and `sbatch` lets the last one win, so a site
//! argument naming one of these would silently break the run: a changed job name made the
//! controller lose sight of a queued job and submit it again. Such an argument is refused
//! wherever it is written (the file, `REPRO_SLURM_SBATCH_ARGS`, `--set-site`), in any
//! spelling `sbatch` accepts: `--job-name=x`, `--job-name x`, an abbreviation `--job=x`
//! (getopt takes any unambiguous prefix), the short `-J x` or `-Jx`, and a short one after
//! flags without values (`-HJx`).
//!
//! Limits: which short options take a value is read from a short list of those that do not
//! (`-H`, `-O`, `-Q`, `-s`, `-v`, `-V`, `-W`, `-h`); a cluster continuing past another letter
//! is taken to be that option's value. A word that is the value of the option before it
//! (`--constraint -J`) is checked too and refused: no real value starts that way.

use std::fmt;
use std::str::FromStr;

use serde::de::{Deserialize, Deserializer, Error as _, SeqAccess, Visitor};

use super::value::ValueError;

/// The long options the engine owns, with their short forms.
const RESERVED: &[(&str, Option<char>)] = &[
    ("parsable", None),
    ("job-name", Some('J')),
    ("comment", None),
    ("chdir", Some('D')),
    ("output", Some('o')),
    ("error", Some('e')),
    ("wrap", None),
    ("array", Some('a')),
    ("dependency", Some('d')),
];

/// Short `sbatch` options that take no value, so a cluster (`-HJ`) goes on after them.
const SHORT_FLAGS: &str = "HOQsvVWh";

/// The reserved long option (`--job-name`) that the argument `arg` sets, if any.
pub(crate) fn reserved(arg: &str) -> Option<&'static str> {
    if let Some(long) = arg.strip_prefix("--") {
        let name = long.split_once('=').map_or(long, |(n, _)| n);
        if name.is_empty() {
            return None;
        }
        // An exact name, or an abbreviation getopt would expand to it.
        return RESERVED
            .iter()
            .find(|(full, _)| full.starts_with(name))
            .map(|(full, _)| *full);
    }
    let cluster = arg.strip_prefix('-')?;
    for c in cluster.chars() {
        if let Some((full, _)) = RESERVED.iter().find(|(_, short)| *short == Some(c)) {
            return Some(full);
        }
        if !SHORT_FLAGS.contains(c) {
            return None; // the rest is this option's value
        }
    }
    None
}

/// Extra `sbatch` arguments, none of which sets an option the engine owns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SbatchArgs(Vec<String>);

impl SbatchArgs {
    /// The arguments, refusing the first that sets an option the engine owns.
    pub fn new(args: Vec<String>) -> Result<SbatchArgs, ValueError> {
        if let Some((arg, option)) = args
            .iter()
            .find_map(|a| reserved(a).map(|option| (a, option)))
        {
            return Err(ValueError::Reserved {
                option,
                found: arg.clone(),
            });
        }
        Ok(SbatchArgs(args))
    }

    /// The arguments, in order.
    pub fn iter(&self) -> impl Iterator<Item = &String> {
        self.0.iter()
    }
}

impl FromStr for SbatchArgs {
    type Err = ValueError;
    /// Arguments separated by white space (the environment's and `--set-site`'s form).
    fn from_str(text: &str) -> Result<SbatchArgs, ValueError> {
        SbatchArgs::new(text.split_whitespace().map(str::to_owned).collect())
    }
}

impl fmt::Display for SbatchArgs {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

/// Reads the list and checks each argument as it is read, so that serde_yaml places an error
/// under the setting's key (`slurm.sbatch_args`), not under the section that holds it.
struct ArgsVisitor;

impl<'de> Visitor<'de> for ArgsVisitor {
    type Value = SbatchArgs;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of `sbatch` arguments")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SbatchArgs, A::Error> {
        let mut args = Vec::new();
        while let Some(arg) = seq.next_element::<String>()? {
            if let Some(option) = reserved(&arg) {
                return Err(A::Error::custom(ValueError::Reserved {
                    option,
                    found: arg,
                }));
            }
            args.push(arg);
        }
        Ok(SbatchArgs(args))
    }
}

impl<'de> Deserialize<'de> for SbatchArgs {
    /// A list of arguments (the site file's form).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SbatchArgs, D::Error> {
        d.deserialize_seq(ArgsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_an_engine_option_is_recognised() {
        for (arg, option) in [
            ("--job-name=x", "job-name"),
            ("--job-name", "job-name"),
            ("--job=x", "job-name"),
            ("-J", "job-name"),
            ("-Jx", "job-name"),
            ("-HJx", "job-name"),
            ("--comment=c", "comment"),
            ("--chdir=/tmp", "chdir"),
            ("-D/tmp", "chdir"),
            ("--output=/tmp/o", "output"),
            ("-o", "output"),
            ("--error=e", "error"),
            ("-e", "error"),
            ("--wrap=true", "wrap"),
            ("--array=0-3", "array"),
            ("-a", "array"),
            ("--dependency=afterok:1", "dependency"),
            ("-d", "dependency"),
            ("-Qd1", "dependency"),
            ("--parsable", "parsable"),
        ] {
            assert_eq!(reserved(arg), Some(option), "{arg}");
        }
    }

    #[test]
    fn the_site_options_and_values_pass() {
        for arg in [
            "--constraint=a100",
            "--nice=10",
            "--partition=gpu",
            "-C",
            "a100",
            "-pgpu",
            "-tJ", // `-t`'s value
            "-H",
            "--",
            "--time=1:00:00",
            "--exclusive",
            "--export=ALL",
        ] {
            assert_eq!(reserved(arg), None, "{arg}");
        }
    }

    #[test]
    fn the_first_engine_option_is_refused_with_its_spelling() {
        let e = "--nice=1 -J mine --comment=x"
            .parse::<SbatchArgs>()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "must not set `--job-name`, which repro sets on every job itself, found `-J`"
        );
        let ok = "--nice=1  --constraint=a100".parse::<SbatchArgs>().unwrap();
        assert_eq!(
            ok.iter().collect::<Vec<_>>(),
            ["--nice=1", "--constraint=a100"]
        );
        let e = serde_yaml::from_str::<SbatchArgs>("[\"--output=/etc/x\"]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("must not set `--output`"), "{e}");
    }
}
