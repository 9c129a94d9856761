//! The workspace: its state and its rules, between the scheduler and the passive store.
//!
//! It owns where everything lives ([`Layout`]), the staleness check ([`Workspace::evaluate`],
//! [`Dirty`]), `repro.lock` ([`LockFile`], behind methods), the workspace lock, publishing an
//! executed instance ([`Workspace::publish`]), restoring a cached one, verification, the
//! comparison with a reference lock, and garbage collection. The scheduler decides *when*;
//! this module decides *what* an instance needs and how its results enter the cache.

mod check;
mod clean;
mod dirty;
mod gc;
mod iopool;
mod layout;
mod ledger;
mod lockfile;
mod metrics;
mod open;
mod orphans;
mod plan;
mod platform;
mod publish;
mod reference;
mod rerun;
mod verify;
mod wslock;

pub use check::{CheckError, State};
pub use clean::CleanRefused;
pub use dirty::{diff, Dirty};
pub use gc::GcReport;
pub use layout::Layout;
pub use lockfile::{LockEntry, LockError, LockFile};
pub use open::{Workspace, WorkspaceError};
pub use orphans::{Orphan, StrayOutputs, SweepError};
pub use platform::Machine;
pub use publish::{PublishError, RunFacts};
pub use reference::{compare_entry, EntryComparison, ReferenceReport, Verdict};
pub use rerun::{Rerun, RerunError};
pub use verify::VerifyReport;
pub use wslock::{WorkspaceLock, WritersLock};
