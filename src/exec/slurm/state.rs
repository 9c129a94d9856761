//! Reading `squeue`'s answer: one line per job (array tasks expanded), `ID|STATE|REASON|COMMENT`,
//! classified into what the executor does next. Slurm's state is used for liveness only: an
//! ended job counts as done only once its record is published in the store.

use std::collections::HashMap;

use super::jobid::SlurmJobId;

/// The `squeue` arguments of one query for every job named `name` (the workspace's jobs).
pub fn query_args(name: &str) -> Vec<String> {
    [
        "--noheader",
        "--array",
        "--states=all",
        &format!("--name={name}"),
        "--format=%i|%T|%r|%k",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// One job as `squeue` reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// `PENDING`, `RUNNING`, `COMPLETED`, `TIMEOUT`, ...
    pub state: String,
    /// Slurm's reason (`None`, `Resources`, `NonZeroExitCode`, `TimeLimit`, ...).
    pub reason: String,
    /// The job's comment: the batch name repro gave it.
    pub comment: String,
}

/// Parses `squeue`'s answer into job id → state; malformed lines (and ids that are not
/// [`SlurmJobId`]s) are skipped.
pub fn parse(answer: &str) -> HashMap<SlurmJobId, Seen> {
    answer
        .lines()
        .filter_map(|line| {
            let mut f = line.trim().splitn(4, '|');
            let id = f.next()?.trim();
            let state = f.next()?.trim();
            let reason = f.next().unwrap_or("").trim();
            let comment = f.next().unwrap_or("").trim();
            if state.is_empty() {
                return None;
            }
            Some((
                id.parse().ok()?,
                Seen {
                    state: state.to_owned(),
                    reason: reason.to_owned(),
                    comment: comment.to_owned(),
                },
            ))
        })
        .collect()
}

/// What a state means for the executor.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Waiting in the queue (or suspended, requeued).
    Queued,
    /// Waiting on a dependency that can never be met (an `afterok` parent failed).
    Stuck,
    /// Running.
    Running,
    /// Ended with exit status 0.
    Completed,
    /// Ended otherwise; the text says how, in words.
    Ended(String),
    /// A state this code does not know (or `UNKNOWN`): ask again.
    Unknown,
}

/// Classifies one job's state.
pub fn phase(seen: &Seen) -> Phase {
    let reason = if seen.reason.is_empty() || seen.reason == "None" {
        String::new()
    } else {
        format!(", reason {}", seen.reason)
    };
    let ended = |what: &str| Phase::Ended(format!("{what} (Slurm state {}{reason})", seen.state));
    match seen.state.as_str() {
        "PENDING" if seen.reason == "DependencyNeverSatisfied" => Phase::Stuck,
        "PENDING" | "CONFIGURING" | "REQUEUED" | "REQUEUE_FED" | "REQUEUE_HOLD" | "RESIZING"
        | "SUSPENDED" | "STOPPED" | "SIGNALING" | "RESV_DEL_HOLD" | "SPECIAL_EXIT" => Phase::Queued,
        "RUNNING" | "COMPLETING" | "STAGE_OUT" => Phase::Running,
        "COMPLETED" => Phase::Completed,
        "FAILED" => ended("failed"),
        "TIMEOUT" => ended("timed out: it ran past its `time`"),
        "OUT_OF_MEMORY" => ended("ran out of memory: it needs more than its `mem`"),
        "NODE_FAIL" => ended("its node failed"),
        "PREEMPTED" => ended("preempted"),
        "BOOT_FAIL" => ended("its node failed to boot"),
        "DEADLINE" => ended("missed its deadline"),
        "CANCELLED" => ended("cancelled outside this run"),
        "REVOKED" => ended("revoked by a federated cluster"),
        _ => Phase::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_and_classify() {
        let seen = parse(
            "1_0|COMPLETED|None|repro-x\n1_2|FAILED|NonZeroExitCode|repro-x\n2|PENDING|DependencyNeverSatisfied|repro-x\ngarbage\n3|TIMEOUT|TimeLimit|repro-x\n4|WEIRD|None|x\n5_[1-3]|PENDING|None|x\n",
        );
        assert_eq!(seen.len(), 5);
        let seen: HashMap<String, Seen> =
            seen.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(phase(&seen["1_0"]), Phase::Completed);
        assert_eq!(phase(&seen["2"]), Phase::Stuck);
        assert_eq!(phase(&seen["4"]), Phase::Unknown);
        let Phase::Ended(why) = phase(&seen["3"]) else {
            panic!()
        };
        assert!(
            why.contains("timed out") && why.contains("TimeLimit"),
            "{why}"
        );
        let Phase::Ended(why) = phase(&seen["1_2"]) else {
            panic!()
        };
        assert!(why.contains("NonZeroExitCode"), "{why}");
    }
}
