//! The local executor's waiter threads, kept between jobs.
//!
//! Each local job needs a thread that spawns its process and blocks until it ends. Starting a
//! thread per job and letting it exit afterwards costs a `clone`, a stack mapped and unmapped
//! (the unmapping interrupts the other cores to flush their address translations) and the
//! wake-up of a task the scheduler has never seen, on every one of a short job's turnarounds.
//! Here a thread that finished its job waits for the next one instead: a submission hands the
//! task to an idle thread, and starts a new thread with the task when no idle thread is left
//! to take it, so no task ever waits behind another. The threads stay few but may outnumber
//! the jobs that run at once: a job's end is reported from its thread, so the next submission
//! can come before that thread waits again, and then starts another.
//!
//! A task that panics unwinds its thread, which ends (its job's guard reports the job). A
//! task whose new thread cannot start is dropped unrun, as it was with a thread per job.
//! Dropping the pool lets idle threads end; busy ones end after their task.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

type Task = Box<dyn FnOnce() + Send + 'static>;

/// Threads that run submitted tasks, one task per thread at a time (see the module doc).
#[derive(Debug)]
pub(super) struct Pool {
    shared: Arc<Shared>,
    /// The name its threads carry.
    name: &'static str,
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
    /// A pool without threads yet, whose threads will be named `name`.
    pub(super) fn new(name: &'static str) -> Pool {
        Pool {
            shared: Arc::default(),
            name,
        }
    }

    /// Runs `task` on an idle thread, or on a new one when no idle thread is left to take it.
    /// Fails only when that new thread cannot be started; the task is then dropped unrun.
    pub(super) fn run(&self, task: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        let mut s = self.shared.lock();
        if an_idle_thread_is_free(s.tasks.len(), s.idle) {
            s.tasks.push_back(Box::new(task));
            self.shared.ready.notify_one();
            return Ok(());
        }
        // Otherwise the new thread starts with the task in hand: queued, it could be taken
        // by a thread finishing meanwhile, and a failed start would leave it running.
        s.threads += 1;
        drop(s);
        let shared = Arc::clone(&self.shared);
        let started = std::thread::Builder::new()
            .name(self.name.to_owned())
            .spawn(move || {
                let alive = Alive(&shared);
                task();
                work(&alive);
            });
        if let Err(e) = started {
            self.shared.lock().threads -= 1;
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

/// Whether a new task can wait in the queue for an idle thread, with `queued` tasks already
/// waiting and `idle` threads waiting for tasks: each idle thread takes one queued task once
/// it wakes, and a woken thread counts as idle until it has taken its task.
fn an_idle_thread_is_free(queued: usize, idle: usize) -> bool {
    queued < idle
}

/// A pool thread, counted out of `threads` however it ends (a task's panic unwinds through
/// its drop).
struct Alive<'a>(&'a Shared);

impl Drop for Alive<'_> {
    fn drop(&mut self) {
        self.0.lock().threads -= 1;
    }
}

/// A thread's life after its first task: take a task, run it, wait for the next; end when the
/// pool closes.
fn work(alive: &Alive<'_>) {
    let shared = alive.0;
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
        let pool = Pool::new("t");
        let (started, seen) = mpsc::channel();
        let (release, gate) = mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        for i in 0..3 {
            let (started, gate) = (started.clone(), Arc::clone(&gate));
            pool.run(move || {
                started.send(i).unwrap();
                // Held until released: all three must be running together.
                let _ = gate.lock().unwrap().recv_timeout(LONG);
            })
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
    fn a_task_waits_for_an_idle_thread_only_when_one_is_left_untaken() {
        // (queued, idle, whether the new task may be queued)
        for (queued, idle, free) in [
            (0, 0, false),
            (0, 1, true),
            (1, 1, false), // the one idle thread was woken for the queued task
            (1, 2, true),
            (2, 2, false),
            (3, 1, false),
        ] {
            assert_eq!(
                an_idle_thread_is_free(queued, idle),
                free,
                "{queued} queued, {idle} idle"
            );
        }
    }

    #[test]
    fn with_one_idle_thread_two_tasks_submitted_together_both_start_at_once() {
        let pool = one_idle_thread();
        // Both tasks must be running for the barrier to open: a task queued behind the other
        // would leave it closed.
        let barrier = Arc::new(std::sync::Barrier::new(3));
        let (done, seen) = mpsc::channel();
        for i in 0..2 {
            let (barrier, done) = (Arc::clone(&barrier), done.clone());
            pool.run(move || {
                barrier.wait();
                done.send(i).unwrap();
            })
            .unwrap();
        }
        let (opened, wait) = mpsc::channel();
        std::thread::spawn(move || {
            barrier.wait();
            opened.send(()).unwrap();
        });
        wait.recv_timeout(Duration::from_secs(5))
            .expect("both tasks started together");
        let mut ran = [
            seen.recv_timeout(LONG).unwrap(),
            seen.recv_timeout(LONG).unwrap(),
        ];
        ran.sort();
        assert_eq!(ran, [0, 1]);
    }

    #[test]
    fn a_thread_that_finished_its_task_takes_the_next_instead_of_a_new_thread_starting() {
        let pool = Pool::new("t");
        let (done, seen) = mpsc::channel();
        for i in 0..20 {
            let done = done.clone();
            pool.run(move || done.send(i).unwrap()).unwrap();
            // One at a time: the thread is idle again before the next submission.
            assert_eq!(seen.recv_timeout(LONG).unwrap(), i);
            wait_until(|| pool.shared.lock().idle == 1);
        }
        assert_eq!(pool.threads(), 1);
    }

    #[test]
    fn a_panicking_task_ends_only_its_thread_and_later_tasks_still_run() {
        let pool = Pool::new("t");
        pool.run(|| panic!("a task's panic")).unwrap();
        wait_until(|| pool.threads() == 0);
        let (done, seen) = mpsc::channel();
        pool.run(move || done.send(7).unwrap()).unwrap();
        assert_eq!(seen.recv_timeout(LONG).unwrap(), 7);
    }

    #[test]
    fn dropping_the_pool_ends_its_idle_threads() {
        let pool = one_idle_thread();
        let shared = Arc::clone(&pool.shared);
        drop(pool);
        wait_until(|| shared.lock().threads == 0);
    }

    /// A pool whose one thread ran a task and waits for the next.
    fn one_idle_thread() -> Pool {
        let pool = Pool::new("t");
        let (done, seen) = mpsc::channel();
        pool.run(move || done.send(()).unwrap()).unwrap();
        seen.recv_timeout(LONG).unwrap();
        wait_until(|| pool.shared.lock().idle == 1);
        pool
    }

    fn wait_until(done: impl Fn() -> bool) {
        let end = std::time::Instant::now() + LONG;
        while !done() {
            assert!(std::time::Instant::now() < end, "timed out");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
