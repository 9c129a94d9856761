//! Transfers at once: a thread pool of the configured number of connections, local to one
//! command, so that the global rayon pool (hashing) is not blocked on the network.

use rayon::prelude::*;

/// `f` over `items` on `connections` threads, results in order. If no pool can be built,
/// the items are handled one at a time on this thread.
pub fn each<'a, T: Sync, R: Send>(
    connections: usize,
    items: &'a [T],
    f: impl Fn(&'a T) -> R + Sync + Send,
) -> Vec<R> {
    match rayon::ThreadPoolBuilder::new()
        .num_threads(connections.max(1))
        .build()
    {
        Ok(pool) => pool.install(|| items.par_iter().map(&f).collect()),
        Err(_) => items.iter().map(f).collect(),
    }
}
