//! The executor's shell without a Slurm: stand-in `squeue` scripts in a folder the runner is
//! pointed at. The transitions themselves are tested in `fsm.rs`; here, where the commands run.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{state_dir, Entry, Paths, Registry, SlurmExecutor};
use crate::exec::event::EventSink;
use crate::exec::Executor;
use crate::settings::SlurmSettings;

/// Writes an executable `name` script with `body` into `dir`.
fn stand_in(dir: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn start_leaves_the_first_squeue_to_the_executors_thread() {
    let ws = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let go = ws.path().join("go");
    // `squeue` answers only once the test says so: run on the caller's thread, it would hold
    // `start` until it timed out, and the survey would get no answer.
    stand_in(
        bin.path(),
        "squeue",
        &format!(
            "while [ ! -e '{}' ]; do sleep 0.02; done\necho '7|FAILED|NonZeroExitCode|b1'",
            go.display()
        ),
    );
    let registry = Registry::new(&state_dir(ws.path()));
    registry
        .put(&Entry {
            instance: "a".into(),
            key: Some("k".into()),
            job: Some(super::SlurmJobId::job(7)),
            batch: "b1".into(),
            index: 0,
            out: ".repro/slurm/out/b1_0.out".into(),
            submitted: 1,
            pack: Vec::new(),
        })
        .unwrap();
    let cfg = SlurmSettings {
        command_timeout: crate::settings::HumanDuration::from_secs(1),
        ..SlurmSettings::default()
    };
    let paths = Paths {
        root: ws.path().to_owned(),
        program: "repro".into(),
        pipeline: "pipeline.yaml".into(),
        profile: None,
    };
    let mut exec = SlurmExecutor::new(cfg, paths, Arc::new(|_: &str| false));
    Arc::get_mut(&mut exec.ctx)
        .expect("not shared yet")
        .runner
        .dir = Some(bin.path().to_owned());
    exec.start(EventSink::new(|_| {})).unwrap();
    std::fs::write(&go, "").unwrap();
    // The thread's survey sees job 7 failed and moves its entry to `done/`.
    let deadline = Instant::now() + Duration::from_secs(30);
    while registry.get("a").is_some() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(registry.get("a"), None, "the survey never answered");
    assert!(registry.last_done("a").is_some());
    assert_eq!(
        exec.counts()
            .squeue
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}
