//! The local executor: a child process per job, in its own process group so that cancelling
//! reaches its children too (SIGTERM to the group, then SIGKILL after a grace period). stdout
//! and stderr go to the job's log file (or to the engine's stderr); stdin is `/dev/null`.
//!
//! Jobs are spawned on the submitting thread, which goes on without waiting for the child's `exec`
//! (`spawn.rs`), and waited for in [`Executor::wait`], on the dispatcher's own thread: each child's
//! pidfd is in one epoll set with the dispatcher's doorbell ([`Exits`]), so a job's end wakes the
//! dispatcher directly, with no thread between (a waiter thread per job put two more hand-offs
//! between threads into every job's turnaround; docs/benchmarks.md). Nothing is reported unless
//! `wait` is called. When a child exits, whatever it left in its process group is killed before the
//! child is reaped (so the group id cannot have been reused), and then every process carrying the
//! job's token (a `setsid` child too) is ended and confirmed gone before `Finished` is sent,
//! whether the job succeeded, failed or was cancelled: the next attempt of the same instance never
//! shares its outputs with a leftover of this one. The search is left out when the kernel's fork
//! counter says that no process but the engine's own jobs was created since the job started
//! (`procs::Mark::only_starts_since`): the job made none. Ending leftovers can take a grace period,
//! so a job that left any is finished on a thread of its own. Each running job holds a
//! [`JobGuard`], so dropping the executor with jobs running (a panic on the dispatcher's thread)
//! ends their processes and reports them `Vanished`. Cancelling signals the process group and every
//! process carrying the job's token (`procs`), which reaches processes that left the group with
//! `setsid`. A supervised executor ([`LocalExecutor::supervised`]) also starts a reaper process
//! that ends the run's processes if the engine dies, and records the run in a registry so that the
//! next run can end what an earlier one left ([`sweep`]).

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use std::path::{Path, PathBuf};

use super::bell::Doorbell;
use super::event::{EventSink, ExecEvent, JobFailure, JobStatus, JobTimes, StartFailure};
use super::exits::{has_exited, Exits, Watch};
use super::guard::JobGuard;
use super::job::{JobId, JobOutput, JobSpec};
use super::procs::{self, TOKEN_VAR};
use super::spawn::{Ended, Inherited, Launch, Spawned};
use super::{ExecError, Executor, Waited};

/// How long a cancelled job's process group has between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// A job the executor knows: its token, its process group once spawned, and whether it was
/// cancelled.
#[derive(Debug, Default)]
struct Entry {
    token: String,
    pgid: Option<i32>,
    cancelled: bool,
}

type Table = Arc<Mutex<HashMap<JobId, Entry>>>;

/// The job table, also after a thread panicked holding it (its entries stay valid: each
/// change is one insert, update or remove).
fn table(jobs: &Table) -> MutexGuard<'_, HashMap<JobId, Entry>> {
    jobs.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs jobs as local child processes.
#[derive(Debug)]
pub struct LocalExecutor {
    sink: Option<EventSink>,
    jobs: Table,
    /// This run's token: `<engine pid>-<nanoseconds>`; a job's is `<run>/<job id>/`. Tokens
    /// are matched as prefixes (a run's ends all of its jobs'), so a job's ends with `/`: job
    /// 1's must not match job 10's.
    run: String,
    /// How to start the reaper (program, registry file), until it is started at the first
    /// submission (a no-op run starts no process).
    supervisor: Option<(PathBuf, PathBuf)>,
    /// The reaper's stdin: closing it (dropping the executor, or the engine dying) makes the
    /// reaper end whatever still carries this run's token.
    reaper: Option<std::process::ChildStdin>,
    /// Where the children's exits are watched (from `start`).
    exits: Option<Exits>,
    /// The jobs whose child runs, by pid.
    running: HashMap<i32, Running>,
    /// The environment every job inherits, read once.
    inherited: Arc<Inherited>,
    /// `/dev/null`, every job's stdin (from `start`).
    devnull: Option<OwnedFd>,
}

/// A job whose child runs: what its end needs.
struct Running {
    id: JobId,
    child: Spawned,
    /// argv[0], for the report of a child that could not run it.
    program: String,
    /// Keeps the child in [`Exits`] until it is reaped.
    watch: Watch,
    token: String,
    /// Where process creation stood before the spawn (`procs::Mark`), to narrow the scan for
    /// the job's leftovers.
    mark: Option<procs::Mark>,
    guard: JobGuard,
    submitted: Instant,
    started: Instant,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("id", &self.id)
            .field("pid", &self.child.pid())
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl Default for LocalExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalExecutor {
    /// A local executor (start it with [`Executor::start`]), without a reaper.
    pub fn new() -> LocalExecutor {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        LocalExecutor {
            sink: None,
            jobs: Table::default(),
            run: format!("{}-{nanos}", std::process::id()),
            supervisor: None,
            reaper: None,
            exits: None,
            running: HashMap::new(),
            inherited: Arc::new(Inherited::capture()),
            devnull: None,
        }
    }

    /// A local executor whose run is recorded in `registry` (a directory) and watched by a
    /// reaper: `program internal-reaper RUN FILE` (the `repro` binary itself), started in its
    /// own process group before the first job. If the engine dies, the reaper sees its stdin
    /// close and ends every process of the run; either way it removes the run's registry file
    /// when done. If the reaper cannot start, jobs still run, and the registry file lets the
    /// next run end what this one leaves ([`sweep`]).
    pub fn supervised(program: &Path, registry: &Path) -> std::io::Result<LocalExecutor> {
        let mut ex = LocalExecutor::new();
        std::fs::create_dir_all(registry)?;
        let file = registry.join(&ex.run);
        std::fs::write(&file, format!("{}\n", ex.run))?;
        ex.supervisor = Some((program.to_owned(), file));
        Ok(ex)
    }

    fn start_reaper(&mut self) {
        let Some((program, file)) = self.supervisor.take() else {
            return;
        };
        let child = Command::new(&program)
            .arg("internal-reaper")
            .arg(&self.run)
            .arg(&file)
            .env_remove(TOKEN_VAR)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        if let Ok(mut c) = child {
            self.reaper = c.stdin.take();
        }
    }
}

impl Drop for LocalExecutor {
    fn drop(&mut self) {
        // Jobs still running (a panic on the dispatcher's thread): signal them all at once, so
        // that their guards' clean-ups, one after the other, mostly find them gone; reap them.
        if !self.running.is_empty() {
            for job in self.running.values() {
                signal_group(job.child.pid(), libc::SIGTERM);
            }
            // One scan for the whole run's token (a job's is `<run>/<id>/`).
            procs::signal(&format!("{}/", self.run), libc::SIGTERM);
        }
        for (_, job) in self.running.drain() {
            let child = job.child;
            drop(job.guard);
            signal_group(child.pid(), libc::SIGKILL);
            let _ = child.wait();
        }
        // Never started (nothing ran): nobody else removes the registry file.
        if let Some((_, file)) = self.supervisor.take() {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Ends the processes of earlier runs recorded in `registry` whose engine is gone (killed
/// before its reaper could act, or with its reaper), and forgets them. Call it holding the
/// workspace lock, before touching any output. Returns a note per run that left processes.
pub fn sweep(registry: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    let Ok(dir) = std::fs::read_dir(registry) else {
        return notes;
    };
    for entry in dir.flatten() {
        let run = entry.file_name().to_string_lossy().into_owned();
        let engine = run.split('-').next().and_then(|p| p.parse::<i32>().ok());
        let Some(engine) = engine else { continue };
        if crate::cache::atomic::process_alive(engine) && engine != std::process::id() as i32 {
            continue;
        }
        let ended = procs::end_all(&format!("{run}/"), GRACE);
        if ended > 0 {
            notes.push(format!(
                "ended {ended} process(es) left running by an earlier run (engine pid {engine})"
            ));
        }
        let _ = std::fs::remove_file(entry.path());
    }
    notes
}

/// The reaper's body (`repro internal-reaper RUN FILE`): wait for stdin to close, end what
/// still carries the run's token, remove the registry file.
pub fn reap(run: &str, file: &Path) {
    let mut sink = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    procs::end_all(&format!("{run}/"), GRACE);
    let _ = std::fs::remove_file(file);
}

fn signal_group(pgid: i32, signal: i32) {
    // SAFETY: kill(2) with a negative pid signals the child's process group; no memory is
    // touched.
    unsafe { libc::kill(-pgid, signal) };
}

/// SIGTERM to the group and the token's processes now; SIGKILL after the grace period if the
/// job is still known by then.
fn terminate(jobs: &Table, job: JobId, pgid: i32, token: &str) {
    signal_group(pgid, libc::SIGTERM);
    procs::signal(token, libc::SIGTERM);
    let jobs = Arc::clone(jobs);
    let token = token.to_owned();
    std::thread::spawn(move || {
        std::thread::sleep(GRACE);
        // Signalled under the lock: `end` forgets the group under it before reaping the
        // child, so a group id that is signalled here is still the job's.
        let jobs = table(&jobs);
        if let Some(pgid) = jobs.get(&job).and_then(|e| e.pgid) {
            signal_group(pgid, libc::SIGKILL);
            procs::signal(&token, libc::SIGKILL);
        }
    });
}

impl Executor for LocalExecutor {
    fn name(&self) -> &str {
        "local"
    }

    fn start(&mut self, sink: EventSink) -> Result<(), ExecError> {
        let exits = Exits::new().map_err(|e| ExecError::Start {
            executor: "local".into(),
            message: format!("cannot watch child processes: {e}"),
        })?;
        let devnull = File::open("/dev/null").map_err(|e| ExecError::Start {
            executor: "local".into(),
            message: format!("cannot open `/dev/null` for the jobs' stdin: {e}"),
        })?;
        self.devnull = Some(devnull.into());
        self.exits = Some(exits);
        self.sink = Some(sink);
        Ok(())
    }

    fn submit(&mut self, job: JobSpec) -> Result<(), ExecError> {
        let sink = self.sink.clone().ok_or(ExecError::NotStarted)?;
        if self.exits.is_none() {
            return Err(ExecError::NotStarted);
        }
        if self.reaper.is_none() {
            self.start_reaper();
        }
        let token = job_token(&self.run, job.id);
        table(&self.jobs).insert(
            job.id,
            Entry {
                token: token.clone(),
                ..Entry::default()
            },
        );
        let mut job = job;
        job.env.push((TOKEN_VAR.to_owned(), token.clone()));
        let id = job.id;
        let guard = {
            let (jobs, token) = (Arc::clone(&self.jobs), token.clone());
            JobGuard::new(sink.clone(), id).on_drop(move || {
                procs::end_all(&token, GRACE);
                table(&jobs).remove(&id);
            })
        };
        let submitted = Instant::now();
        let Some(stdin) = self.devnull.as_ref().map(|f| f.as_raw_fd()) else {
            return Err(ExecError::NotStarted);
        };
        let (child, mark) = match spawn(&job, stdin, &self.inherited) {
            Ok(spawned) => spawned,
            Err(failure) => {
                table(&self.jobs).remove(&id);
                guard.finish(JobStatus::NotStarted(failure), JobTimes::default());
                return Ok(());
            }
        };
        let pid = child.pid();
        if let Some(e) = table(&self.jobs).get_mut(&id) {
            e.pgid = Some(pid);
        }
        let watched = match &self.exits {
            Some(exits) => exits.watch(pid),
            None => Err(std::io::Error::other("the executor was not started")),
        };
        let watch = match watched {
            Ok(w) => w,
            Err(e) => {
                // Not watched, it would never be reported: end it (it may have begun to run,
                // so it fails rather than not starting), and say why.
                signal_group(pid, libc::SIGKILL);
                let _ = child.wait();
                procs::end_and_confirm(&token, GRACE, mark);
                table(&self.jobs).remove(&id);
                let why = format!("its process could not be watched: {e}");
                guard.finish(
                    JobStatus::Failed(JobFailure::Wait(why)),
                    JobTimes::default(),
                );
                return Ok(());
            }
        };
        let started = Instant::now();
        self.running.insert(
            pid,
            Running {
                id,
                child,
                program: job.argv.first().cloned().unwrap_or_default(),
                watch,
                token,
                mark,
                guard,
                submitted,
                started,
            },
        );
        sink.send(ExecEvent::Started { job: id });
        Ok(())
    }

    fn wait(&mut self, bell: &Doorbell, limit: Option<Duration>) -> Waited {
        let Some(exits) = &self.exits else {
            return Waited::Elsewhere;
        };
        for pid in exits.wait(bell, limit) {
            if let Some(job) = self.running.remove(&pid) {
                end(job, &self.jobs, &self.running);
            }
        }
        Waited::Here
    }

    fn cancel(&mut self, job: JobId) {
        let mut table = table(&self.jobs);
        if let Some(e) = table.get_mut(&job) {
            // A job whose child already exited ended on its own, though `wait` has not reaped
            // it yet: its status stands (a success is not turned into a cancel).
            if !e.cancelled && !e.pgid.is_some_and(has_exited) {
                e.cancelled = true;
                if let Some(pgid) = e.pgid {
                    let token = e.token.clone();
                    drop(table);
                    terminate(&self.jobs, job, pgid, &token);
                }
            }
        }
    }

    fn cancel_all(&mut self) {
        let ids: Vec<JobId> = table(&self.jobs).keys().copied().collect();
        for id in ids {
            self.cancel(id);
        }
    }
}

/// Opens the job's output and spawns its child (stdin from `stdin`); returns it with the mark
/// taken just before.
fn spawn(
    job: &JobSpec,
    stdin: i32,
    inherited: &Arc<Inherited>,
) -> Result<(Spawned, Option<procs::Mark>), StartFailure> {
    let log = open_output(&job.output).map_err(StartFailure::Output)?;
    let out = log.as_ref().map_or(libc::STDERR_FILENO, |f| f.as_raw_fd());
    let program = resolve_program(&job.argv[0], &job.cwd);
    let launch = Launch {
        program: program.as_os_str(),
        args: &job.argv[1..],
        env: &job.env,
        cwd: &job.cwd,
        stdio: [stdin, out, out],
    };
    // The mark narrows the scan for the job's leftovers to the processes created since.
    let mark = procs::Mark::recent();
    let child = procs::count_start(|| super::spawn::spawn(&launch, inherited)).map_err(|e| {
        StartFailure::Spawn {
            program: job.argv[0].clone(),
            reason: e.to_string(),
        }
    })?;
    Ok((child, mark))
}

/// Ends a job whose child has exited (not yet reaped): kills what it left in its group, reaps
/// it, ends what else carries its token, and reports it. Ending leftovers can take the grace
/// period, so a job that left any is finished on a thread of its own.
/// `others` are the executor's other running jobs, by pid: their children carry other tokens,
/// so the scan passes over them.
fn end(job: Running, jobs: &Table, others: &HashMap<i32, Running>) {
    let Running {
        id,
        child,
        program,
        watch,
        token,
        mark,
        guard,
        submitted,
        started,
    } = job;
    let times = JobTimes {
        waited: started - submitted,
        ran: started.elapsed(),
    };
    // The group id is the child's pid, which stays its own until the child is reaped.
    signal_group(child.pid(), libc::SIGKILL);
    // Forgotten before the reap: a cancel's late SIGKILL (`terminate`) must never reach the
    // group id once another process may have it.
    if let Some(e) = table(jobs).get_mut(&id) {
        e.pgid = None;
    }
    let status = match child.wait() {
        Ok(Ended::NotExecuted(e)) => JobStatus::NotStarted(StartFailure::Spawn {
            program,
            reason: e.to_string(),
        }),
        Ok(Ended::Exited(status)) => match (status.code(), status.signal()) {
            (Some(0), _) => JobStatus::Succeeded,
            (Some(c), _) => JobStatus::Failed(JobFailure::Exit(c)),
            (None, Some(s)) => JobStatus::Failed(JobFailure::Signal(s)),
            (None, None) => JobStatus::Failed(JobFailure::Abnormal),
        },
        Err(e) => JobStatus::Failed(JobFailure::Wait(e.to_string())),
    };
    drop(watch);
    let finish = move |jobs: &Table, status: JobStatus| {
        let cancelled = table(jobs).remove(&id).is_some_and(|e| e.cancelled);
        let status = if cancelled {
            JobStatus::Cancelled
        } else {
            status
        };
        guard.finish(status, times);
    };
    // Processes that left the group (`setsid`) still carry the token: end them, and make sure
    // they are gone, before the job counts as ended. When only the engine's own starts moved
    // the fork counter since the mark, the job (reaped) made no process and there is none.
    let alone = mark.is_some_and(|m| m.only_starts_since());
    if alone || procs::find_since_except(&token, mark, |pid| others.contains_key(&pid)).is_empty() {
        finish(jobs, status);
        return;
    }
    let jobs = Arc::clone(jobs);
    let _ = std::thread::Builder::new()
        .name("repro-leftovers".into())
        .spawn(move || {
            let (_, left) = procs::end_and_confirm(&token, GRACE, mark);
            let status = if left.is_empty() {
                status
            } else {
                JobStatus::Failed(JobFailure::Survivors { pids: left })
            };
            finish(&jobs, status);
        });
}

/// The token of job `id` of run `run`: a prefix of no other job's.
fn job_token(run: &str, id: JobId) -> String {
    format!("{run}/{}/", id.0)
}

/// The log file a job's stdout and stderr go to, or `None` for the engine's stderr.
fn open_output(output: &JobOutput) -> Result<Option<File>, String> {
    match output {
        JobOutput::Log(path) => {
            // The directory is made when the log cannot be created (it exists for every log
            // but the first).
            crate::cache::atomic::in_new_dirs(path, || File::create(path))
                .map(Some)
                .map_err(|e| format!("cannot create log `{}`: {e}", path.display()))
        }
        JobOutput::Stderr => Ok(None),
    }
}

/// `argv[0]` with a `/` is relative to the working directory; a bare name goes through `PATH`.
fn resolve_program(arg0: &str, cwd: &std::path::Path) -> std::path::PathBuf {
    if arg0.contains('/') && !arg0.starts_with('/') {
        cwd.join(arg0)
    } else {
        std::path::PathBuf::from(arg0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;
    use crate::exec::JobResources;

    fn job(id: u64, script: &str, dir: &std::path::Path) -> JobSpec {
        JobSpec {
            id: JobId(id),
            name: format!("j{id}"),
            argv: vec!["sh".into(), "-c".into(), script.into()],
            env: vec![("GREETING".into(), "hi".into())],
            cwd: dir.to_owned(),
            output: JobOutput::Log(dir.join(format!("j{id}.log"))),
            resources: JobResources {
                cpus: 1,
                gpus: 0.0,
                devices: String::new(),
            },
            batch: None,
        }
    }

    fn started() -> (LocalExecutor, mpsc::Receiver<ExecEvent>) {
        let (tx, rx) = mpsc::channel();
        let mut ex = LocalExecutor::new();
        ex.start(EventSink::new(move |e| {
            let _ = tx.send(e);
        }))
        .unwrap();
        (ex, rx)
    }

    /// The next event, waiting for it in the executor as the dispatcher does.
    fn next(ex: &mut LocalExecutor, rx: &mpsc::Receiver<ExecEvent>) -> ExecEvent {
        let bell = Doorbell::new().unwrap();
        let t = Instant::now();
        loop {
            if let Ok(e) = rx.try_recv() {
                return e;
            }
            assert!(t.elapsed() < Duration::from_secs(20), "no event");
            assert_eq!(
                ex.wait(&bell, Some(Duration::from_millis(100))),
                Waited::Here
            );
        }
    }

    fn finished(ex: &mut LocalExecutor, rx: &mpsc::Receiver<ExecEvent>) -> (JobId, JobStatus) {
        loop {
            match next(ex, rx) {
                ExecEvent::Finished { job, status, .. } => return (job, status),
                ExecEvent::Started { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn a_jobs_token_is_a_prefix_of_its_own_processes_only() {
        let run = "123-456";
        let one = job_token(run, JobId(1));
        let ten = job_token(run, JobId(10));
        assert!(
            !ten.starts_with(&one),
            "job 1's leftovers scan must not end job 10"
        );
        assert!(one.starts_with(&format!("{run}/")) && ten.starts_with(&format!("{run}/")));
        // Ending job 1's processes leaves job 10's running.
        let spawn = |token: &str| {
            std::process::Command::new("sleep")
                .arg("30")
                .env(TOKEN_VAR, token)
                .spawn()
                .unwrap()
        };
        let run = format!("test-{}-{}", std::process::id(), line!());
        let (mut a, mut b) = (
            spawn(&job_token(&run, JobId(1))),
            spawn(&job_token(&run, JobId(10))),
        );
        procs::wait_until_found(&format!("{run}/"), 2);
        assert_eq!(procs::end_all(&job_token(&run, JobId(1)), GRACE), 1);
        assert_eq!(procs::find(&format!("{run}/")), vec![b.id() as i32]);
        assert_eq!(procs::end_all(&format!("{run}/"), GRACE), 1);
        let _ = (a.wait(), b.wait());
    }

    #[test]
    fn jobs_report_started_then_finished_with_the_exit_status_and_log_their_output() {
        let dir = tempfile::tempdir().unwrap();
        let (mut ex, rx) = started();
        ex.submit(job(1, "echo $GREETING; exit 3", dir.path()))
            .unwrap();
        assert_eq!(next(&mut ex, &rx), ExecEvent::Started { job: JobId(1) });
        assert_eq!(
            finished(&mut ex, &rx),
            (JobId(1), JobStatus::Failed(JobFailure::Exit(3)))
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("j1.log")).unwrap(),
            "hi\n"
        );
        ex.submit(job(2, "true", dir.path())).unwrap();
        assert_eq!(finished(&mut ex, &rx), (JobId(2), JobStatus::Succeeded));
    }

    #[test]
    fn a_cancel_after_the_child_exited_but_before_it_was_reaped_keeps_its_status() {
        let dir = tempfile::tempdir().unwrap();
        let (mut ex, rx) = started();
        ex.submit(job(1, "true", dir.path())).unwrap();
        let pid = table(&ex.jobs).get(&JobId(1)).and_then(|e| e.pgid).unwrap();
        let t = Instant::now();
        while !has_exited(pid) {
            assert!(t.elapsed() < Duration::from_secs(20), "the child exits");
            std::thread::sleep(Duration::from_millis(10));
        }
        // As when a timeout or Ctrl-C comes while the dispatcher is busy elsewhere.
        ex.cancel_all();
        assert_eq!(finished(&mut ex, &rx), (JobId(1), JobStatus::Succeeded));
    }

    #[test]
    fn cancel_all_ends_a_running_job_and_its_children_as_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let (mut ex, rx) = started();
        ex.submit(job(1, "sleep 30 & sleep 30; wait", dir.path()))
            .unwrap();
        assert_eq!(next(&mut ex, &rx), ExecEvent::Started { job: JobId(1) });
        let t = Instant::now();
        ex.cancel_all();
        assert_eq!(finished(&mut ex, &rx), (JobId(1), JobStatus::Cancelled));
        // Not a speed target: the job sleeps 30 s, so ending well before that shows the signal
        // reached the whole group rather than the job running out.
        assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    }

    #[test]
    fn a_panic_on_the_dispatchers_thread_ends_the_running_jobs_and_reports_them_vanished() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = mpsc::channel();
        let mut ex = LocalExecutor::new();
        // The sink panics at the first event (`Started`, sent from `submit` on this thread)
        // while the job's process (and a `setsid` child of it) runs; the unwinding drops the
        // executor.
        let first = std::sync::atomic::AtomicBool::new(true);
        ex.start(EventSink::new(move |e| {
            if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                panic!("injected: the sink fails on {e:?}");
            }
            let _ = tx.send(e);
        }))
        .unwrap();
        let token = format!("{}/1", ex.run);
        let script = job(1, "setsid sleep 30 & sleep 30", dir.path());
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let mut ex = ex;
            ex.submit(script)
        }));
        assert!(unwound.is_err(), "the injected panic");
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(ExecEvent::Vanished { job, reason }) => {
                assert_eq!(job, JobId(1));
                assert!(reason.contains("panicked"), "{reason}");
            }
            other => panic!("expected the job reported vanished, got {other:?}"),
        }
        assert!(procs::find(&token).is_empty(), "its processes were ended");
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "one last event"
        );
    }

    #[test]
    fn a_program_that_does_not_exist_is_not_started() {
        let dir = tempfile::tempdir().unwrap();
        let (mut ex, rx) = started();
        let mut j = job(1, "", dir.path());
        j.argv = vec!["./no-such-program".into()];
        ex.submit(j).unwrap();
        let (_, status) = finished(&mut ex, &rx);
        assert!(
            matches!(&status, JobStatus::NotStarted(StartFailure::Spawn { program, .. }) if program.contains("no-such-program")),
            "{status:?}"
        );
    }
}
