//! Slurm job ids: `123` for a job, `123_4` for task 4 of array job 123, as `sbatch --parsable`
//! answers (the job) and `squeue --array` lists them (the tasks), parsed in this one place.
//!
//! The registry stores an id as this text, so its files read as before. Heterogeneous jobs
//! (`123+0`) and the compressed forms `squeue` prints without `--array` (`123_[0-9%4]`) are
//! not ids this executor submits or asks about, and do not parse.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A Slurm job id, with its array index for a task of an array job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SlurmJobId {
    /// The job's number (for an array task, its array job's).
    job: u64,
    /// The array index of a task.
    index: Option<u32>,
}

/// Text that is not a Slurm job id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to read Slurm job id `{0}`: expected `JOB` or `JOB_INDEX`, in digits")]
pub struct JobIdError(pub String);

impl SlurmJobId {
    /// A plain job's id.
    pub fn job(job: u64) -> SlurmJobId {
        SlurmJobId { job, index: None }
    }

    /// The id of task `index` of array job `job`.
    pub fn task(job: u64, index: u32) -> SlurmJobId {
        SlurmJobId {
            job,
            index: Some(index),
        }
    }

    /// The array index, for a task of an array job.
    pub fn index(&self) -> Option<u32> {
        self.index
    }

    /// The whole job: an array task's array job (what `afterok` waits for, all its tasks),
    /// or the job itself.
    pub fn whole(&self) -> SlurmJobId {
        SlurmJobId::job(self.job)
    }

    /// The id of member `index` of a submission whose job is `self`: its array task when the
    /// submission is an array, else the job itself.
    pub fn member(&self, index: u32, array: bool) -> SlurmJobId {
        if array {
            SlurmJobId::task(self.job, index)
        } else {
            self.whole()
        }
    }
}

impl fmt::Display for SlurmJobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(index) => write!(f, "{}_{index}", self.job),
            None => write!(f, "{}", self.job),
        }
    }
}

/// Parses digits only: `u64::from_str` would also take a sign.
fn number<T: FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl FromStr for SlurmJobId {
    type Err = JobIdError;

    fn from_str(text: &str) -> Result<SlurmJobId, JobIdError> {
        let bad = || JobIdError(text.to_owned());
        match text.split_once('_') {
            Some((job, index)) => Ok(SlurmJobId::task(
                number(job).ok_or_else(bad)?,
                number(index).ok_or_else(bad)?,
            )),
            None => Ok(SlurmJobId::job(number(text).ok_or_else(bad)?)),
        }
    }
}

impl TryFrom<String> for SlurmJobId {
    type Error = JobIdError;

    fn try_from(text: String) -> Result<SlurmJobId, JobIdError> {
        text.parse()
    }
}

impl From<SlurmJobId> for String {
    fn from(id: SlurmJobId) -> String {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_and_print_back() {
        // (text, job, index)
        let rows = [
            ("123", 123, None),
            ("123_4", 123, Some(4)),
            ("0", 0, None),
            ("7_0", 7, Some(0)),
            ("18446744073709551615", u64::MAX, None),
            ("42_4294967295", 42, Some(u32::MAX)),
        ];
        for (text, job, index) in rows {
            let id: SlurmJobId = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(id, SlurmJobId { job, index }, "{text}");
            assert_eq!(id.to_string(), text);
        }
    }

    #[test]
    fn junk_is_a_typed_error() {
        for text in [
            "",
            "_",
            "123_",
            "_4",
            "123_4_5",
            "abc",
            "12a",
            "+5",
            "-5",
            "5_+1",
            " 123",
            "123 ",
            "123_[0-3%2]",
            "123+0",
            "123.batch",
            "18446744073709551616",
            "1_4294967296",
        ] {
            assert_eq!(
                text.parse::<SlurmJobId>(),
                Err(JobIdError(text.to_owned())),
                "{text:?}"
            );
        }
        assert_eq!(
            "x_1".parse::<SlurmJobId>().unwrap_err().to_string(),
            "failed to read Slurm job id `x_1`: expected `JOB` or `JOB_INDEX`, in digits"
        );
    }

    #[test]
    fn members_and_whole_jobs() {
        let job = SlurmJobId::job(41);
        assert_eq!(job.member(3, true).to_string(), "41_3");
        assert_eq!(job.member(0, false), job);
        assert_eq!(SlurmJobId::task(41, 3).whole(), job);
        assert_eq!(SlurmJobId::task(41, 3).index(), Some(3));
        assert!(SlurmJobId::task(41, 9) < SlurmJobId::task(42, 0));
        assert!(job < SlurmJobId::task(41, 0));
    }

    #[test]
    fn ids_are_stored_as_their_text() {
        let id = SlurmJobId::task(9, 2);
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"9_2\"");
        assert_eq!(serde_json::from_str::<SlurmJobId>("\"9_2\"").unwrap(), id);
        assert!(serde_json::from_str::<SlurmJobId>("\"9-2\"").is_err());
    }
}
