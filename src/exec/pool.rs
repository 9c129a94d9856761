//! The local executor's waiter threads, kept between jobs.
//!
//! Each local job needs a thread that spawns its process and blocks until it ends. Starting a
//! thread per job and letting it exit afterwards costs a `clone`, a stack mapped and unmapped
//! (the unmapping interrupts the other cores to flush their address translations) and the
//! wake-up of a task the scheduler has never seen, on every one of a short job's turnarounds.
//! Here a thread that finished its job waits for the next one instead: a submission hands the
//! task to an idle thread, and starts a new thread only when every thread is busy, so no task
//! ever waits behind another and the threads number at most the jobs that ran at once.
//!
//! A task that panics unwinds its thread, which ends (its job's guard reports the job); the
//! tasks queued meanwhile go to the other threads or to new ones. Dropping the pool lets idle
//! threads end; busy ones end after their task.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

type Task = Box<dyn FnOnce() + Send + 'static>;

/// Threads that run submitted tasks, one task per thread at a time (see the module doc).
#[derive(Debug, Default)]
pub(super) struct Pool {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    ready: Condvar,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("Shared")
            .field("queued", &s.tasks.len())
            .field("idle", &s.idle)
            .field("threads", &s.threads)
            .finish()
    }
}

#[derive(Default)]
struct State {
    /// Submitted tasks that no thread has taken yet.
    tasks: VecDeque<Task>,
    /// Threads waiting for a task.
    idle: usize,
    /// Threads alive.
    threads: usize,
    /// Set when the pool is dropped: idle threads end.
    closing: bool,
}

impl Shared {
    /// The state; a thread that panicked holding it (it never does: tasks run unlocked) left
    /// it whole.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Pool {
    /// Runs `task` on an idle thread, or on a new one (named `name`) when none is idle. Fails
    /// only when a needed thread cannot be started; the task is then dropped unrun.
    pub(super) fn run(
        &self,
        name: impl FnOnce() -> String,
        task: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<()> {
        let mut s = self.shared.lock();
        s.tasks.push_back(Box::new(task));
        // Each idle thread takes one queued task once it wakes: a new thread is needed when
        // the queue holds more tasks than there are idle threads to take them.
        if s.tasks.len() <= s.idle {
            self.shared.ready.notify_one();
            return Ok(());
        }
        s.threads += 1;
        drop(s);
        let shared = Arc::clone(&self.shared);
        let started = std::thread::Builder::new()
            .name(name())
            .spawn(move || work(&shared));
        if let Err(e) = started {
            let mut s = self.shared.lock();
            s.threads -= 1;
            s.tasks.pop_back();
            return Err(e);
        }
        Ok(())
    }

    /// Threads alive now (for tests).
    #[cfg(test)]
    fn threads(&self) -> usize {
        self.shared.lock().threads
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.ready.notify_all();
    }
}

/// A thread's life: take a task, run it, wait for the next; end when the pool closes.
fn work(shared: &Shared) {
    /// Counts the thread out however it ends (a task's panic unwinds through here).
    struct Alive<'a>(&'a Shared);
    impl Drop for Alive<'_> {
        fn drop(&mut self) {
            self.0.lock().threads -= 1;
        }
    }
    let _alive = Alive(shared);
    loop {
        let task = {
            let mut s = shared.lock();
            loop {
                if let Some(task) = s.tasks.pop_front() {
                    break task;
                }
                if s.closing {
                    return;
                }
                s.idle += 1;
                s = shared.ready.wait(s).unwrap_or_else(PoisonError::into_inner);
                s.idle -= 1;
            }
        };
        task();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    const LONG: Duration = Duration::from_secs(10);

    #[test]
    fn tasks_submitted_while_all_threads_are_busy_run_at_once_on_new_threads() {
        let pool = Pool::default();
        let (started, seen) = mpsc::channel();
        let (release, gate) = mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        for i in 0..3 {
            let (started, gate) = (started.clone(), Arc::clone(&gate));
            pool.run(
                || format!("t{i}"),
                move || {
                    started.send(i).unwrap();
                    // Held until released: all three must be running together.
                    let _ = gate.lock().unwrap().recv_timeout(LONG);
                },
            )
            .unwrap();
        }
        let mut ran: Vec<i32> = (0..3).map(|_| seen.recv_timeout(LONG).unwrap()).collect();
        ran.sort();
        assert_eq!(ran, [0, 1, 2]);
        assert_eq!(pool.threads(), 3);
        for _ in 0..3 {
            release.send(()).unwrap();
        }
    }

    #[test]
    fn a_thread_that_finished_its_task_takes_the_next_instead_of_a_new_thread_starting() {
        let pool = Pool::default();
        let (done, seen) = mpsc::channel();
        for i in 0..20 {
            let done = done.clone();
            pool.run(|| "t".into(), move || done.send(i).unwrap())
                .unwrap();
            // One at a time: the thread is idle again before the next submission.
            assert_eq!(seen.recv_timeout(LONG).unwrap(), i);
            wait_until(|| pool.shared.lock().idle == 1);
        }
        assert_eq!(pool.threads(), 1);
    }

    #[test]
    fn a_panicking_task_ends_only_its_thread_and_later_tasks_still_run() {
        let pool = Pool::default();
        pool.run(|| "t".into(), || panic!("a task's panic"))
            .unwrap();
        wait_until(|| pool.threads() == 0);
        let (done, seen) = mpsc::channel();
        pool.run(|| "t".into(), move || done.send(7).unwrap())
            .unwrap();
        assert_eq!(seen.recv_timeout(LONG).unwrap(), 7);
    }

    #[test]
    fn dropping_the_pool_ends_its_idle_threads() {
        let pool = Pool::default();
        let (done, seen) = mpsc::channel();
        pool.run(|| "t".into(), move || done.send(()).unwrap())
            .unwrap();
        seen.recv_timeout(LONG).unwrap();
        let shared = Arc::clone(&pool.shared);
        wait_until(|| shared.lock().idle == 1);
        drop(pool);
        wait_until(|| shared.lock().threads == 0);
    }

    fn wait_until(done: impl Fn() -> bool) {
        let end = std::time::Instant::now() + LONG;
        while !done() {
            assert!(std::time::Instant::now() < end, "timed out");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
