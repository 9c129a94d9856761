//! The thread pool that restores outputs from the store (`Workspace::restore_many`). Each
//! restored file is copied and fsynced, so the work waits on the disk far more than it
//! computes: a pool with several threads per core keeps more syncs in flight than rayon's
//! global pool (one thread per core). Measured on 10,000 one-file restores on two cores
//! (docs/benchmarks.md): 1 thread 4.2-5.9 s, 2 threads 3.5-4.3 s, 8 threads 2.4-2.6 s,
//! 16 threads 1.9-2.1 s.

use std::sync::OnceLock;

/// Threads per core of the pool.
const THREADS_PER_CORE: usize = 8;
/// Bounds on its size, whatever the core count.
const MIN_THREADS: usize = 8;
const MAX_THREADS: usize = 64;

/// The pool, built on first use; `None` when the system refused its threads (the caller then
/// uses rayon's global pool).
pub(crate) fn io_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        rayon::ThreadPoolBuilder::new()
            .num_threads((cores * THREADS_PER_CORE).clamp(MIN_THREADS, MAX_THREADS))
            .thread_name(|i| format!("repro-restore-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}
