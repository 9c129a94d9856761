//! Integration tests of the Slurm executor against a real Slurm (not a mock): each test runs
//! the real `repro` binary with `--executor slurm` in a temporary workspace whose stages are
//! small `sh -c` commands, and reads the jobs' fate from `squeue` itself. Faults are injected
//! by wrappers put first on `PATH` in front of Slurm's own commands.
//!
//! Every test is ignored by default: it needs a running Slurm (`scripts/slurm-local.sh start`,
//! then `SLURM_CONF` set) and fails, rather than skips, when none answers. Run them one at a
//! time, they share the cluster's two CPUs:
//!
//! ```sh
//! cargo test -p repro --test slurm -- --ignored --test-threads=1
//! ```

mod basics;
mod common;
mod errors;
mod failures;
mod faults;
mod interrupt;
mod packs;
#[path = "../support/process.rs"]
mod process;
