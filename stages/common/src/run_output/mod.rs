//! The run-output contract between `train` and `stats`: the two files a training run leaves for
//! the statistics, `metrics.json` and `history.csv` (docs/stages.md), defined once.
//!
//! - [`history`]: the columns of `history.csv`, its row type, the writer `train` uses and the
//!   reader `stats` uses.
//! - [`metrics`]: `metrics.json` ([`Metrics`], generic over the trainer's configuration so that
//!   this crate need not know it), its format version, and the curve summary it carries
//!   ([`CurveSummary`]: convergence at 95% training accuracy, best and last held-out accuracy).
//! - [`read`]: the checked reader of one run directory, used by `stats`.
//! - [`error`]: what the readers report.
//!
//! Writer and reader sit side by side so that a change to one shows in the other, and
//! `stats::fixture` writes its synthetic runs through the same types. The contract lives here,
//! not in `train`, so that `stats` need not depend on the trainer: a trainer change then leaves
//! the statistics' cache keys alone. The cost: as for every change to this crate, a change to
//! the contract changes the cache keys of every stage (`gen` included).

pub mod error;
pub mod history;
pub mod metrics;
pub mod read;

pub use error::RunOutputError;
pub use history::{HistoryRow, HISTORY_COLUMNS, HISTORY_FILE};
pub use metrics::{CurveSummary, Metrics, CONVERGED_ACC, METRICS_FILE, METRICS_FORMAT_VERSION};
pub use read::{read_run, RunFiles, RunId, RunMetrics};
