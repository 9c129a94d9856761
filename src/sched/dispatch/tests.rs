//! The dispatcher driven by a scripted fake executor: no processes, so every ordering and
//! every silence is chosen by the test. The fake "runs" `[touch, PATH]` commands by creating
//! the file, so published outputs are real files in a temporary workspace.

use crate::sched::Sender;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::exec::{EventSink, ExecEvent, JobFailure, JobId, JobSpec, JobStatus, JobTimes};
use crate::sched::{Event, Inbox, Message, Reporter};
use crate::settings::ResourceOverrides;

const PIPELINE: &str = r#"version: 1
stages:
  a:
    cmd: [touch, "out/a-${n}"]
    matrix:
      n: ["1", "2", "3"]
    outs: ["out/a-${n}"]
  b:
    cmd: [touch, out/b]
    deps: [out/a-1, out/a-2, out/a-3]
    outs: [out/b]
"#;

/// What the fake does with a job.
#[derive(Debug, Clone, PartialEq)]
enum Act {
    /// Start, create the output, finish with success.
    Succeed,
    /// Start and fail with this reason.
    Fail(&'static str),
    /// Keep it until `release_after` jobs are held, then finish them all, newest first.
    Hold,
    /// Never say anything about it.
    Silent,
    /// Report it lost.
    Vanish,
    /// Fail the first time it is submitted, succeed after.
    FailOnce,
}

#[derive(Default)]
struct Fake {
    sink: Option<EventSink>,
    script: HashMap<String, Act>,
    release_after: usize,
    held: Vec<JobSpec>,
    /// `submit NAME` and `cancel_all`, in order.
    log: Arc<Mutex<Vec<String>>>,
    /// Whether `cancel_all` ends held jobs with `Cancelled`.
    confirm_cancel: bool,
    /// Send an interrupt when this job is submitted.
    interrupt_on: Option<(String, Sender)>,
    /// Claim that jobs publish their own results (as a batch executor's do).
    publishes: bool,
    /// The executor's own silence limit (as a batch executor declares one).
    limit: Option<Duration>,
    /// Fail at `start` (a thread that could not be created).
    fail_start: bool,
    /// Wait for jobs on the dispatcher's thread (as the local executor does): events are held
    /// until the next `wait`, which otherwise blocks until the doorbell rings.
    waits_here: bool,
    /// Events held for the next `wait`.
    deferred: Mutex<Vec<ExecEvent>>,
}

impl Fake {
    fn send(&self, e: ExecEvent) {
        if self.waits_here {
            self.deferred.lock().unwrap().push(e);
        } else {
            self.sink.as_ref().expect("started").send(e);
        }
    }

    fn succeed(&self, job: &JobSpec) {
        assert_eq!(job.argv[0], "touch");
        let path = job.cwd.join(&job.argv[1]);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &job.name).unwrap();
        self.send(ExecEvent::Finished {
            job: job.id,
            status: JobStatus::Succeeded,
            times: JobTimes::default(),
        });
    }
}

impl Executor for Fake {
    fn name(&self) -> &str {
        "fake"
    }

    fn start(&mut self, sink: EventSink) -> Result<(), ExecError> {
        if self.fail_start {
            return Err(ExecError::Start {
                executor: "fake".into(),
                message: "no thread".into(),
            });
        }
        self.sink = Some(sink);
        Ok(())
    }

    fn silence_limit(&self) -> Option<Duration> {
        self.limit
    }

    fn submit(&mut self, job: JobSpec) -> Result<(), ExecError> {
        self.log
            .lock()
            .unwrap()
            .push(format!("submit {}", job.name));
        if let Some((name, tx)) = &self.interrupt_on {
            if *name == job.name {
                tx.send(Message::Interrupt).unwrap();
            }
        }
        let mut act = self.script.get(&job.name).cloned().unwrap_or(Act::Succeed);
        if act == Act::FailOnce {
            self.script.insert(job.name.clone(), Act::Succeed);
            act = Act::Fail("node failure");
        }
        if act != Act::Silent {
            self.send(ExecEvent::Started { job: job.id });
        }
        match act {
            Act::Succeed | Act::FailOnce => self.succeed(&job),
            Act::Fail(reason) => self.send(ExecEvent::Finished {
                job: job.id,
                status: JobStatus::Failed(JobFailure::Reported(reason.into())),
                times: JobTimes::default(),
            }),
            Act::Hold => {
                self.held.push(job);
                if self.held.len() == self.release_after {
                    let held: Vec<JobSpec> = self.held.drain(..).rev().collect();
                    for j in &held {
                        self.succeed(j);
                    }
                }
            }
            Act::Silent => self.held.push(job),
            Act::Vanish => self.send(ExecEvent::Vanished {
                job: job.id,
                reason: "not in squeue".into(),
            }),
        }
        Ok(())
    }

    fn cancel(&mut self, _job: JobId) {}

    fn wait(&mut self, bell: &crate::exec::Doorbell, limit: Option<Duration>) -> Waited {
        if !self.waits_here {
            return Waited::Elsewhere;
        }
        let held: Vec<ExecEvent> = std::mem::take(&mut *self.deferred.lock().unwrap());
        if !held.is_empty() {
            for e in held {
                self.sink.as_ref().expect("started").send(e);
            }
            return Waited::Here;
        }
        // At most 20 s: a bell that never rings fails the test instead of hanging it.
        let ms = limit.map_or(20_000, |d| d.as_millis().min(20_000) as i32);
        let mut p = libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&std::os::fd::AsFd::as_fd(bell)),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd.
        if unsafe { libc::poll(&mut p, 1, ms) } == 1 {
            bell.drain();
        }
        Waited::Here
    }

    fn publishes(&self) -> bool {
        self.publishes
    }

    fn cancel_all(&mut self) {
        self.log.lock().unwrap().push("cancel_all".into());
        if self.confirm_cancel {
            for j in std::mem::take(&mut self.held) {
                self.send(ExecEvent::Finished {
                    job: j.id,
                    status: JobStatus::Cancelled,
                    times: JobTimes::default(),
                });
            }
        }
    }
}

#[derive(Default)]
struct Events(Vec<Event>);

impl Reporter for Events {
    fn event(&mut self, e: &Event) {
        self.0.push(e.clone());
    }
}

impl Events {
    fn failed(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter_map(|e| match e {
                Event::Failed { id, error, .. } => Some((id.clone(), error.clone())),
                _ => None,
            })
            .collect()
    }

    fn skipped(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter_map(|e| match e {
                Event::Skipped { id, because } => Some((id.clone(), because.clone())),
                _ => None,
            })
            .collect()
    }
}

fn settings(jobs: u32, keep_going: bool, build: Option<Vec<String>>) -> RunSettings {
    RunSettings {
        profile: "default".into(),
        jobs,
        threads_per_slot: 1,
        gpus: Vec::new(),
        keep_going,
        build,
        overrides: ResourceOverrides::default(),
        executor: crate::settings::ExecutorKind::Local,
        retries: 0,
        slurm: crate::settings::SlurmSettings::default(),
        pack: true,
        in_job: false,
    }
}

/// What one scripted dispatch did.
struct Outcome {
    result: Result<Tally, DispatchError>,
    events: Events,
    log: Vec<String>,
    /// Instances with a lock entry afterwards.
    locked: Vec<String>,
    root: tempfile::TempDir,
}

fn dispatch(fake: Fake, settings: &RunSettings, patience: Patience, inbox: &Inbox) -> Outcome {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("pipeline.yaml");
    std::fs::write(&file, PIPELINE).unwrap();
    let pipeline = crate::spec::load(&file, None).unwrap();
    let graph = crate::graph::build(&pipeline).unwrap();
    let mut ws = Workspace::open(&pipeline, &graph).unwrap();
    let log = Arc::clone(&fake.log);
    let mut fake = fake;
    let mut events = Events::default();
    let selected = graph.closure(&(0..graph.instances.len()).collect::<Vec<_>>());
    let forced = vec![false; graph.instances.len()];
    let result = Dispatcher::new(&graph, &mut ws, &mut fake, settings, &mut events)
        .with_patience(patience)
        .run(&selected, &forced, inbox);
    let locked = graph
        .instances
        .iter()
        .filter(|i| ws.lock_entry(&i.id).is_some())
        .map(|i| i.id.clone())
        .collect();
    let log = log.lock().unwrap().clone();
    Outcome {
        result,
        events,
        log,
        locked,
        root,
    }
}

fn script(pairs: &[(&str, Act)]) -> HashMap<String, Act> {
    pairs
        .iter()
        .map(|(n, a)| ((*n).to_owned(), a.clone()))
        .collect()
}

const QUICK: Patience = Patience {
    cancel_wait: Duration::from_millis(200),
    silence: None,
};

#[test]
fn a_failure_blocks_its_dependents_and_stops_new_work() {
    let fake = Fake {
        script: script(&[("a@n=2", Act::Fail("exit status 3"))]),
        ..Fake::default()
    };
    let o = dispatch(
        fake,
        &settings(1, false, None),
        QUICK,
        &Inbox::new().unwrap(),
    );
    let t = o.result.unwrap();
    assert_eq!((t.ran, t.failed, t.skipped), (1, 1, 2), "{t:?}");
    // Instances start in the order listed: a@n=1, a@n=2, a@n=3.
    assert_eq!(
        o.log,
        ["submit a@n=1", "submit a@n=2"],
        "a@n=3 never starts"
    );
    assert_eq!(
        o.events.failed(),
        [("a@n=2".into(), "exit status 3".into())]
    );
    assert_eq!(o.locked, ["a@n=1"], "nothing is published for the failure");
    assert!(o
        .events
        .skipped()
        .contains(&("b".into(), "an upstream instance failed".into())));
}

#[test]
fn keep_going_runs_independent_work_after_a_failure() {
    let fake = Fake {
        script: script(&[("a@n=2", Act::Fail("exit status 3"))]),
        ..Fake::default()
    };
    let o = dispatch(
        fake,
        &settings(1, true, None),
        QUICK,
        &Inbox::new().unwrap(),
    );
    let t = o.result.unwrap();
    assert_eq!((t.ran, t.failed, t.skipped), (2, 1, 1), "{t:?}");
    assert_eq!(o.locked, ["a@n=1", "a@n=3"]);
}

#[test]
fn out_of_order_completion_releases_a_dependent_only_after_its_last_upstream() {
    let fake = Fake {
        script: script(&[
            ("a@n=1", Act::Hold),
            ("a@n=2", Act::Hold),
            ("a@n=3", Act::Hold),
        ]),
        release_after: 3,
        ..Fake::default()
    };
    let o = dispatch(
        fake,
        &settings(3, false, None),
        QUICK,
        &Inbox::new().unwrap(),
    );
    let t = o.result.unwrap();
    assert_eq!((t.ran, t.failed, t.skipped), (4, 0, 0), "{t:?}");
    assert_eq!(
        o.log,
        ["submit a@n=1", "submit a@n=2", "submit a@n=3", "submit b"]
    );
    let finished: Vec<&str> = o
        .events
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Finished { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        finished,
        ["a@n=3", "a@n=2", "a@n=1", "b"],
        "reverse of submission"
    );
    assert_eq!(o.locked.len(), 4);
    assert!(o.root.path().join("out/b").exists());
}

#[test]
fn an_interrupt_cancels_every_running_job_and_publishes_none_of_them() {
    let inbox = Inbox::new().unwrap();
    let fake = Fake {
        script: script(&[("a@n=1", Act::Silent), ("a@n=2", Act::Silent)]),
        confirm_cancel: true,
        interrupt_on: Some(("a@n=2".into(), inbox.sender())),
        ..Fake::default()
    };
    let o = dispatch(fake, &settings(2, false, None), QUICK, &inbox);
    let t = o.result.unwrap();
    assert!(t.interrupted);
    assert_eq!((t.ran, t.failed, t.skipped), (0, 0, 4), "{t:?}");
    assert_eq!(o.log, ["submit a@n=1", "submit a@n=2", "cancel_all"]);
    assert!(o.locked.is_empty());
    let interrupted = o
        .events
        .skipped()
        .into_iter()
        .filter(|(_, why)| why == "interrupted")
        .count();
    assert_eq!(interrupted, 2, "both running jobs confirmed cancelled");
}

#[test]
fn an_executor_that_waits_on_the_dispatchers_thread_has_its_jobs_run_and_published() {
    let fake = Fake {
        waits_here: true,
        ..Fake::default()
    };
    let o = dispatch(
        fake,
        &settings(2, false, None),
        QUICK,
        &Inbox::new().unwrap(),
    );
    let t = o.result.unwrap();
    assert_eq!((t.ran, t.failed), (4, 0), "{t:?}");
    assert_eq!(o.locked.len(), 4);
}

#[test]
fn a_message_sent_while_the_executor_waits_on_the_dispatchers_thread_rings_it_awake() {
    let inbox = Inbox::new().unwrap();
    let tx = inbox.sender();
    // Sent from another thread while both jobs are silent: only the doorbell can end the
    // executor's wait (it has no limit, and nothing of its own to report).
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        tx.send(Message::Interrupt).unwrap();
    });
    let fake = Fake {
        script: script(&[("a@n=1", Act::Silent), ("a@n=2", Act::Silent)]),
        confirm_cancel: true,
        waits_here: true,
        ..Fake::default()
    };
    let started = std::time::Instant::now();
    let o = dispatch(fake, &settings(2, false, None), QUICK, &inbox);
    interrupter.join().unwrap();
    let t = o.result.unwrap();
    assert!(t.interrupted);
    assert_eq!(o.log, ["submit a@n=1", "submit a@n=2", "cancel_all"]);
    // Not a speed target: without the ring, the wait would have lasted its 20 s cap.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn an_interrupt_the_executor_never_confirms_ends_after_the_cancel_wait() {
    let inbox = Inbox::new().unwrap();
    let fake = Fake {
        script: script(&[("a@n=3", Act::Silent)]),
        interrupt_on: Some(("a@n=3".into(), inbox.sender())),
        ..Fake::default()
    };
    let o = dispatch(fake, &settings(1, false, None), QUICK, &inbox);
    let t = o.result.unwrap();
    assert!(t.interrupted);
    let skipped = o.events.skipped();
    assert!(
        skipped
            .iter()
            .any(|(id, why)| id == "a@n=3" && why.contains("did not confirm")),
        "{skipped:?}"
    );
}

#[test]
fn an_executor_that_reports_nothing_fails_its_jobs_after_the_silence_limit() {
    let fake = Fake {
        script: script(&[("a@n=1", Act::Silent), ("a@n=2", Act::Silent)]),
        ..Fake::default()
    };
    let patience = Patience {
        silence: Some(Duration::from_millis(100)),
        ..QUICK
    };
    let o = dispatch(
        fake,
        &settings(2, false, None),
        patience,
        &Inbox::new().unwrap(),
    );
    let t = o.result.unwrap();
    assert_eq!((t.ran, t.failed), (0, 2), "{t:?}");
    assert!(o.log.contains(&"cancel_all".to_owned()));
    assert!(o
        .events
        .failed()
        .iter()
        .all(|(_, e)| e.contains("`fake` executor reported nothing")));
    assert!(o.locked.is_empty());
}

#[test]
fn a_batch_executors_own_silence_limit_applies_without_a_patience_setting() {
    let fake = Fake {
        script: script(&[("a@n=1", Act::Silent), ("a@n=2", Act::Silent)]),
        limit: Some(Duration::from_millis(100)),
        ..Fake::default()
    };
    // QUICK sets no silence limit: the executor's own one must end the wait.
    let o = dispatch(
        fake,
        &settings(2, false, None),
        QUICK,
        &Inbox::new().unwrap(),
    );
    let t = o.result.unwrap();
    assert_eq!((t.ran, t.failed), (0, 2), "{t:?}");
    assert!(o
        .events
        .failed()
        .iter()
        .all(|(_, e)| e.contains("`fake` executor reported nothing")));
}

#[test]
fn an_executor_that_cannot_start_is_an_error_and_nothing_is_submitted() {
    let fake = Fake {
        fail_start: true,
        ..Fake::default()
    };
    let o = dispatch(
        fake,
        &settings(2, false, None),
        QUICK,
        &Inbox::new().unwrap(),
    );
    match o.result {
        Err(DispatchError::Executor(e)) => {
            assert!(
                e.to_string()
                    .contains("failed to start the `fake` executor"),
                "{e}"
            )
        }
        other => panic!("expected a start error, got {:?}", other.map(|_| ())),
    }
    assert!(o.log.is_empty(), "{:?}", o.log);
}

#[test]
fn a_vanished_job_is_a_failure_with_the_executors_reason() {
    let fake = Fake {
        script: script(&[("a@n=3", Act::Vanish)]),
        ..Fake::default()
    };
    let o = dispatch(
        fake,
        &settings(1, false, None),
        QUICK,
        &Inbox::new().unwrap(),
    );
    let t = o.result.unwrap();
    assert_eq!(t.failed, 1);
    assert_eq!(
        o.events.failed(),
        [(
            "a@n=3".into(),
            "the executor lost the job: not in squeue".into()
        )]
    );
}

#[test]
fn the_build_command_runs_through_the_executor_before_the_first_instance() {
    let build = Some(vec!["touch".to_owned(), "built".to_owned()]);
    let o = dispatch(
        Fake::default(),
        &settings(2, false, build),
        QUICK,
        &Inbox::new().unwrap(),
    );
    assert_eq!(o.result.unwrap().ran, 4);
    assert_eq!(o.log[0], "submit build");
    assert_eq!(o.log.iter().filter(|l| *l == "submit build").count(), 1);
    assert!(o.root.path().join("built").exists());
}

#[test]
fn an_executor_silent_while_the_build_runs_is_a_silence_error_not_a_build_failure() {
    let fake = Fake {
        script: script(&[("build", Act::Silent)]),
        ..Fake::default()
    };
    let patience = Patience {
        silence: Some(Duration::from_millis(100)),
        ..QUICK
    };
    let build = Some(vec!["touch".to_owned(), "built".to_owned()]);
    let o = dispatch(
        fake,
        &settings(2, false, build),
        patience,
        &Inbox::new().unwrap(),
    );
    match o.result {
        Err(e @ DispatchError::Silent { .. }) => assert_eq!(
            e.to_string(),
            "the `fake` executor reported nothing for 0s while the pipeline's `build` command ran"
        ),
        other => panic!("expected a silence error, got {:?}", other.map(|_| ())),
    }
    assert_eq!(o.log[..2], ["submit build", "cancel_all"]);
    assert!(
        !o.log.iter().any(|l| l.starts_with("submit a")),
        "{:?}",
        o.log
    );
}

#[test]
fn a_failed_build_is_an_error_and_no_instance_starts() {
    let fake = Fake {
        script: script(&[("build", Act::Fail("exit status 2"))]),
        ..Fake::default()
    };
    let build = Some(vec!["touch".to_owned(), "built".to_owned()]);
    let o = dispatch(
        fake,
        &settings(2, false, build),
        QUICK,
        &Inbox::new().unwrap(),
    );
    match o.result {
        Err(DispatchError::Build { argv, message }) => {
            assert_eq!(argv, "touch built");
            assert_eq!(message, "exit status 2");
        }
        other => panic!("expected a build error, got {other:?}"),
    }
    assert_eq!(
        o.log,
        ["submit build", "cancel_all"],
        "an engine error cancels whatever might still run"
    );
}

#[test]
fn a_fresh_workspace_dispatches_nothing() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("pipeline.yaml");
    std::fs::write(&file, PIPELINE).unwrap();
    let pipeline = crate::spec::load(&file, None).unwrap();
    let graph = crate::graph::build(&pipeline).unwrap();
    let selected: Vec<usize> = graph.order.clone();
    let forced = vec![false; graph.instances.len()];
    let s = settings(2, false, None);
    for round in 0..2 {
        let mut ws = Workspace::open(&pipeline, &graph).unwrap();
        let mut fake = Fake::default();
        let log = Arc::clone(&fake.log);
        let mut events = Events::default();
        let t = Dispatcher::new(&graph, &mut ws, &mut fake, &s, &mut events)
            .run(&selected, &forced, &Inbox::new().unwrap())
            .unwrap();
        ws.save().unwrap();
        let submitted = log.lock().unwrap().len();
        if round == 0 {
            assert_eq!((t.ran, submitted), (4, 4));
        } else {
            assert_eq!(
                (t.fresh, t.ran, submitted),
                (4, 0, 0),
                "second round is a no-op"
            );
        }
    }
    assert!(Path::new(&root.path().join("repro.lock")).exists());
}

#[test]
fn a_failed_job_is_retried_up_to_the_limit() {
    let fake = Fake {
        script: script(&[("a@n=2", Act::FailOnce)]),
        ..Fake::default()
    };
    let mut s = settings(1, false, None);
    s.retries = 1;
    let o = dispatch(fake, &s, QUICK, &Inbox::new().unwrap());
    let t = o.result.unwrap();
    assert_eq!((t.ran, t.failed, t.skipped), (4, 0, 0), "{t:?}");
    assert_eq!(
        o.log.iter().filter(|l| *l == "submit a@n=2").count(),
        2,
        "{:?}",
        o.log
    );
    assert!(o.events.0.iter().any(|e| matches!(e,
        Event::Note { message } if message.contains("retrying, attempt 2 of 2") && message.contains("node failure"))));

    // Without retries the same failure stands.
    let fake = Fake {
        script: script(&[("a@n=2", Act::FailOnce)]),
        ..Fake::default()
    };
    let o = dispatch(
        fake,
        &settings(1, false, None),
        QUICK,
        &Inbox::new().unwrap(),
    );
    assert_eq!(o.result.unwrap().failed, 1);
}

#[test]
fn a_publishing_executor_success_without_a_record_is_a_failure() {
    // The fake's jobs write their outputs but publish no record: with an executor whose jobs
    // publish themselves, "succeeded" alone must not make an instance done.
    let fake = Fake {
        publishes: true,
        ..Fake::default()
    };
    let o = dispatch(
        fake,
        &settings(3, true, None),
        QUICK,
        &Inbox::new().unwrap(),
    );
    let t = o.result.unwrap();
    assert_eq!((t.ran, t.failed), (0, 3), "{t:?}");
    assert!(o
        .events
        .failed()
        .iter()
        .all(|(_, why)| why.contains("is not in the store")));
    assert!(o.locked.is_empty(), "nothing published, nothing locked");
}
