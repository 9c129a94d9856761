//! Typed events from the dispatcher to whatever reports progress (terminal, JSON lines).

use std::path::PathBuf;

use crate::spec::progress::ProgressPattern;
use crate::workspace::Dirty;

/// Where a running instance's progress can be read: the stage's `progress:` pattern over the
/// file its output goes to.
#[derive(Debug, Clone)]
pub struct Watch {
    /// The log file, written while the instance runs.
    pub log: PathBuf,
    /// The stage's pattern.
    pub pattern: ProgressPattern,
    /// `Some(id)`: the log is a pack's, whose lines for this member begin with `id: `.
    pub member: Option<String>,
}

/// Receives the dispatcher's events (the progress display, `--json`).
pub trait Reporter {
    /// Called for every event, in order, on the dispatcher thread.
    fn event(&mut self, e: &Event);

    /// The first failure to write what must not be lost (stdout data such as `--json` events
    /// or dry-run lines), if any; progress on stderr is best effort and never reported here.
    fn output_error(&self) -> Option<String> {
        None
    }
}

/// What happened.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Once, before anything runs.
    Plan {
        /// Instances selected (with their upstream).
        total: usize,
        /// Profile in use.
        profile: String,
    },
    /// A note for the user (e.g. GPU stages falling back to CPU).
    Note {
        /// The text.
        message: String,
    },
    /// The `build` command is running.
    Build {
        /// Its argv.
        argv: Vec<String>,
    },
    /// Already up to date.
    Fresh {
        /// Instance id.
        id: String,
    },
    /// Outputs restored from the cache without running.
    Restored {
        /// Instance id.
        id: String,
    },
    /// Started running.
    Started {
        /// Instance id.
        id: String,
        /// Why it runs.
        reasons: Vec<Dirty>,
        /// `cpu` or the GPU ids given.
        device: String,
        /// Which slots it holds (`cpu 2`, `gpu 0 · cpu 1`, or the batch executor's name).
        #[serde(default)]
        slot: String,
        /// Where its progress can be followed while it runs (its stage declares `progress:`
        /// and its output goes to a file the engine knows).
        #[serde(skip)]
        watch: Option<Watch>,
    },
    /// Once, when the first instance starts: how long the instances of this run took before
    /// (their last recorded runs, else others of their stage), for the estimate of the time
    /// left.
    Expected {
        /// Seconds of work expected for the selected instances that have an estimate.
        total_s: f64,
        /// Selected instances without any estimate.
        unknown: usize,
        /// How many instances may run at once (`-j`, or the executor's limit).
        parallel: usize,
        /// Expected seconds by instance id.
        #[serde(skip)]
        by_id: std::collections::HashMap<String, f64>,
    },
    /// Finished successfully and published.
    Finished {
        /// Instance id.
        id: String,
        /// Seconds.
        seconds: f64,
        /// The key it was published under (for `repro run --push`).
        #[serde(skip)]
        key: Option<String>,
        /// When its job ended (publication may come later: the run record times the job).
        #[serde(skip)]
        ended: std::time::Instant,
    },
    /// Failed; nothing was published.
    Failed {
        /// Instance id.
        id: String,
        /// What happened.
        error: String,
        /// Last lines of its log.
        log_tail: Vec<String>,
        /// Where the whole log is.
        log: String,
    },
    /// Not run because an upstream failed or the run stopped.
    Skipped {
        /// Instance id.
        id: String,
        /// Why.
        because: String,
    },
    /// Would run (dry run).
    WouldRun {
        /// Instance id.
        id: String,
        /// Why.
        reasons: Vec<Dirty>,
    },
    /// Would be restored (dry run).
    WouldRestore {
        /// Instance id.
        id: String,
        /// Why.
        reasons: Vec<Dirty>,
    },
    /// Once, at the end.
    Summary {
        /// Ran and succeeded.
        ran: usize,
        /// Restored from the cache.
        restored: usize,
        /// Already fresh.
        fresh: usize,
        /// Failed.
        failed: usize,
        /// Skipped.
        skipped: usize,
        /// Of those that ran, how many produced outputs byte-identical to their previous lock
        /// entry's (an early cutoff: their dependents' keys did not change).
        unchanged: usize,
        /// Dependents kept: fresh or restored without running although an instance upstream
        /// of them (directly or through other kept ones) ran.
        kept: usize,
        /// Whether the run was interrupted.
        interrupted: bool,
        /// Seconds.
        seconds: f64,
    },
}
