//! The dispatcher: one loop that owns all scheduling state and all output.
//!
//! It keeps a ready queue over the DAG (an instance becomes ready when its last upstream
//! settles, not when a whole level finishes), evaluates each ready instance against the cache
//! (fresh, restore, or run), hands runnable instances to worker threads as slots free up, and
//! publishes each success (outputs into the store, action record, lock entry) before releasing
//! its dependents. Workers only run commands and send back their result; every event the user
//! sees is emitted here, in one place.
//!
//! Failure stops new work (running jobs finish) unless `keep_going`; dependents of a failure
//! are skipped. Cancellation (Ctrl-C, SIGTERM) terminates running jobs and publishes nothing
//! for them. Limits: the key of an instance is computed on the dispatcher thread; hashing a
//! very large new output delays scheduling by that long.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Instant;

use crate::cache::{
    atomic, digest_path, hash_file_uncached, ActionRecord, CheckError, Checker, Dirty, KeyInputs,
    LockEntry, State, StoreError, ACTION_VERSION,
};
use crate::exec::{Executor, Job, JobResult, Outcome};
use crate::graph::Graph;

use super::event::Event;
use super::slots::{Grant, Slots};

/// Settings of one dispatch.
#[derive(Debug, Clone)]
pub struct Options {
    /// CPU slots.
    pub jobs: u32,
    /// GPU ids.
    pub gpus: Vec<String>,
    /// Go on after a failure.
    pub keep_going: bool,
    /// Threads each CPU slot may use (`OMP_NUM_THREADS` = this times the slots held).
    pub threads_per_slot: usize,
}

/// Receives the dispatcher's events.
pub trait Reporter {
    /// Called for every event, in order, on the dispatcher thread.
    fn event(&mut self, e: &Event);
}

/// Counts at the end of a dispatch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Ran successfully.
    pub ran: usize,
    /// Restored from cache.
    pub restored: usize,
    /// Already fresh.
    pub fresh: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
    /// Stopped by a signal.
    pub interrupted: bool,
}

/// A failure of the engine itself (not of a stage).
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// Checking an instance failed.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Publishing failed.
    #[error("failed to publish `{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The `build` command failed.
    #[error("the pipeline's `build` command `{argv}` failed: {message}")]
    Build {
        /// The command.
        argv: String,
        /// What happened.
        message: String,
    },
}

/// Runs the selected instances.
pub struct Dispatcher<'a, 'p> {
    /// The graph.
    pub graph: &'a Graph,
    /// Checker (owns the lock file being updated).
    pub checker: &'a mut Checker<'p>,
    /// How jobs run.
    pub executor: Arc<dyn Executor>,
    /// Settings.
    pub options: Options,
    /// Set by the signal handler.
    pub cancel: Arc<AtomicBool>,
    /// Build command run once before the first job.
    pub build: Option<Vec<String>>,
}

struct Runnable {
    index: usize,
    inputs: Box<KeyInputs>,
    reasons: Vec<Dirty>,
}

impl Dispatcher<'_, '_> {
    /// Dispatches `selected` (topologically ordered, upstream-closed); `forced[i]` forces a run.
    pub fn run(
        &mut self,
        selected: &[usize],
        forced: &[bool],
        reporter: &mut dyn Reporter,
    ) -> Result<Tally, DispatchError> {
        let start = Instant::now();
        let n = self.graph.instances.len();
        let mut in_sel = vec![false; n];
        for &i in selected {
            in_sel[i] = true;
        }
        let mut pending: Vec<usize> = (0..n)
            .map(|i| {
                self.graph.upstream[i]
                    .iter()
                    .filter(|&&u| in_sel[u])
                    .count()
            })
            .collect();
        let mut ready: VecDeque<usize> = selected
            .iter()
            .copied()
            .filter(|&i| pending[i] == 0)
            .collect();
        let mut runnable: VecDeque<Runnable> = VecDeque::new();
        let mut running: HashMap<usize, (Grant, Box<KeyInputs>, String)> = HashMap::new();
        let mut blocked = vec![false; n];
        let mut tally = Tally::default();
        let mut stop = false;
        let mut built = self.build.is_none();
        let mut slots = Slots::new(self.options.jobs, self.options.gpus.clone());
        let mut cpu_fallback_noted = false;
        let (tx, rx) = mpsc::channel::<(usize, JobResult)>();

        reporter.event(&Event::Plan {
            total: selected.len(),
            profile: self.checker.profile.clone(),
        });

        loop {
            if self.cancel.load(Ordering::SeqCst) {
                stop = true;
                tally.interrupted = true;
            }
            // Evaluate ready instances (none once stopping).
            if stop {
                ready.clear();
            }
            while let Some(i) = ready.pop_front() {
                let inst = &self.graph.instances[i];
                match self.checker.evaluate(inst, None, forced[i])? {
                    State::Fresh {
                        key,
                        outs,
                        metrics,
                        skey,
                    } => {
                        self.set_lock(
                            i,
                            LockEntry {
                                key,
                                outs,
                                metrics,
                                skey,
                            },
                        );
                        tally.fresh += 1;
                        reporter.event(&Event::Fresh {
                            id: inst.id.clone(),
                        });
                        settle(self.graph, i, &in_sel, &blocked, &mut pending, &mut ready);
                    }
                    State::Restore {
                        key,
                        record,
                        reasons,
                    } => {
                        let restored = record.outputs.iter().try_for_each(|(path, tagged)| {
                            self.checker.stat.forget(path);
                            self.checker.store.restore(tagged, &self.checker.abs(path))
                        });
                        match restored {
                            Ok(()) => {
                                self.set_lock(
                                    i,
                                    LockEntry {
                                        key,
                                        outs: record.outputs.clone(),
                                        metrics: record.metrics.clone(),
                                        skey: record.inputs.structural_key(),
                                    },
                                );
                                tally.restored += 1;
                                reporter.event(&Event::Restored {
                                    id: inst.id.clone(),
                                });
                                settle(self.graph, i, &in_sel, &blocked, &mut pending, &mut ready);
                            }
                            // A damaged cache entry is not fatal: run the instance again (same
                            // key, so the record's inputs are the current ones).
                            Err(e @ (StoreError::Corrupt { .. } | StoreError::Missing(_))) => {
                                reporter.event(&Event::Note { message: format!("cannot restore `{}` from the cache ({e}); running it instead", inst.id) });
                                runnable.push_back(Runnable {
                                    index: i,
                                    inputs: Box::new(record.inputs.clone()),
                                    reasons,
                                });
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                    State::Run { inputs, reasons } => {
                        let inputs = inputs.expect("ready instances have settled upstream");
                        runnable.push_back(Runnable {
                            index: i,
                            inputs,
                            reasons,
                        });
                    }
                }
            }
            // Start what fits (nothing once stopping).
            if stop {
                runnable.clear();
            }
            while let Some(pos) = runnable
                .iter()
                .position(|r| slots.fits(&self.graph.instances[r.index].resources))
            {
                if !built {
                    self.run_build(reporter)?;
                    built = true;
                }
                let r = runnable.remove(pos).expect("position is valid");
                let inst = &self.graph.instances[r.index];
                let grant = slots.try_take(&inst.resources).expect("checked to fit");
                if inst.resources.gpus > 0.0 && !slots.has_gpus() && !cpu_fallback_noted {
                    cpu_fallback_noted = true;
                    reporter.event(&Event::Note {
                        message: "no GPU found: stages that ask for GPUs run on the CPU".into(),
                    });
                }
                let device = if grant.gpus.is_empty() {
                    "cpu".to_owned()
                } else {
                    format!("cuda:{}", slots.visible_devices(&grant))
                };
                let job = self.prepare(r.index, &r.inputs, &grant, &slots)?;
                reporter.event(&Event::Started {
                    id: inst.id.clone(),
                    reasons: r.reasons,
                    device: device.clone(),
                });
                let exec = Arc::clone(&self.executor);
                let cancel = Arc::clone(&self.cancel);
                let tx = tx.clone();
                let index = r.index;
                std::thread::spawn(move || {
                    let result = exec.run(&job, &cancel);
                    let _ = tx.send((index, result));
                });
                running.insert(r.index, (grant, r.inputs, device));
            }
            if running.is_empty() && (stop || (ready.is_empty() && runnable.is_empty())) {
                break;
            }
            if running.is_empty() && ready.is_empty() {
                // Runnable work that can never fit cannot happen (requests are clamped).
                break;
            }
            // Wait for a job.
            let Ok((i, result)) = rx.recv_timeout(std::time::Duration::from_millis(100)) else {
                continue;
            };
            let (grant, inputs, device) = running.remove(&i).expect("running job");
            slots.release(&grant);
            let inst = &self.graph.instances[i];
            let log = self.log_path(i);
            let failure = match result.outcome {
                Outcome::Success => {
                    match self.publish(i, &inputs, &device, result.duration.as_secs_f64(), &log) {
                        Ok(()) => None,
                        Err(PublishFailure::Stage(msg)) => Some(msg),
                        Err(PublishFailure::Engine(e)) => return Err(e),
                    }
                }
                Outcome::Failed(msg) | Outcome::SpawnError(msg) => Some(msg),
                Outcome::Cancelled => {
                    tally.interrupted = true;
                    stop = true;
                    reporter.event(&Event::Skipped {
                        id: inst.id.clone(),
                        because: "interrupted".into(),
                    });
                    tally.skipped += 1;
                    continue;
                }
            };
            match failure {
                None => {
                    tally.ran += 1;
                    reporter.event(&Event::Finished {
                        id: inst.id.clone(),
                        seconds: result.duration.as_secs_f64(),
                    });
                    settle(self.graph, i, &in_sel, &blocked, &mut pending, &mut ready);
                }
                Some(error) => {
                    tally.failed += 1;
                    reporter.event(&Event::Failed {
                        id: inst.id.clone(),
                        error,
                        log_tail: tail(&log, 20),
                        log: log.display().to_string(),
                    });
                    block_downstream(self.graph, i, &in_sel, &mut blocked);
                    if !self.options.keep_going {
                        stop = true;
                    }
                }
            }
        }
        // Everything selected that neither settled nor failed was skipped.
        let done = tally.ran + tally.restored + tally.fresh + tally.failed + tally.skipped;
        if done < selected.len() {
            for &i in selected {
                if blocked[i] {
                    reporter.event(&Event::Skipped {
                        id: self.graph.instances[i].id.clone(),
                        because: "an upstream instance failed".into(),
                    });
                }
            }
            tally.skipped =
                selected.len() - (tally.ran + tally.restored + tally.fresh + tally.failed);
        }
        reporter.event(&Event::Summary {
            ran: tally.ran,
            restored: tally.restored,
            fresh: tally.fresh,
            failed: tally.failed,
            skipped: tally.skipped,
            interrupted: tally.interrupted,
            seconds: start.elapsed().as_secs_f64(),
        });
        Ok(tally)
    }

    fn set_lock(&mut self, i: usize, entry: LockEntry) {
        let id = self.graph.instances[i].id.clone();
        self.checker
            .lock
            .entries
            .insert((self.checker.profile.clone(), id), entry);
    }

    fn log_path(&self, i: usize) -> PathBuf {
        crate::exec::log_path(&self.checker.root, &self.graph.instances[i].id)
    }

    fn run_build(&self, reporter: &mut dyn Reporter) -> Result<(), DispatchError> {
        let Some(argv) = &self.build else {
            return Ok(());
        };
        reporter.event(&Event::Build { argv: argv.clone() });
        let shown = argv.join(" ");
        let status = std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(&self.checker.root)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::inherit())
            .stderr(std::process::Stdio::inherit())
            .status()
            .map_err(|e| DispatchError::Build {
                argv: shown.clone(),
                message: e.to_string(),
            })?;
        if !status.success() {
            return Err(DispatchError::Build {
                argv: shown,
                message: status.to_string(),
            });
        }
        Ok(())
    }

    /// Clears stale outputs, creates parent directories and builds the job.
    fn prepare(
        &self,
        i: usize,
        inputs: &KeyInputs,
        grant: &Grant,
        slots: &Slots,
    ) -> Result<Job, DispatchError> {
        let inst = &self.graph.instances[i];
        for o in &inst.outs {
            let abs = self.checker.abs(o);
            atomic::remove_path(&abs).map_err(|source| DispatchError::Io {
                path: abs.clone(),
                source,
            })?;
            self.checker.stat.forget(o);
            if let Some(parent) = abs.parent() {
                std::fs::create_dir_all(parent).map_err(|source| DispatchError::Io {
                    path: parent.to_owned(),
                    source,
                })?;
            }
        }
        let threads = (self.options.threads_per_slot * grant.cpus as usize)
            .max(1)
            .to_string();
        let mut env: Vec<(String, String)> = inst
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for var in [
            "OMP_NUM_THREADS",
            "MKL_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "RAYON_NUM_THREADS",
            "REPRO_THREADS",
        ] {
            env.push((var.to_owned(), threads.clone()));
        }
        env.push((
            "CUDA_VISIBLE_DEVICES".to_owned(),
            slots.visible_devices(grant),
        ));
        env.push(("REPRO_KEY".to_owned(), inputs.key()));
        env.push(("REPRO_INSTANCE".to_owned(), inst.id.clone()));
        env.push((
            "REPRO_PARAMS".to_owned(),
            serde_json::to_string(&inst.params).expect("params serialise"),
        ));
        Ok(Job {
            id: inst.id.clone(),
            argv: inst.argv.clone(),
            env,
            cwd: self.checker.root.clone(),
            log: self.log_path(i),
        })
    }

    /// Stores outputs and log, writes the action record, updates the lock entry.
    fn publish(
        &mut self,
        i: usize,
        inputs: &KeyInputs,
        device: &str,
        seconds: f64,
        log: &std::path::Path,
    ) -> Result<(), PublishFailure> {
        let inst = &self.graph.instances[i];
        let root = self.checker.root.clone();
        let mut outputs = BTreeMap::new();
        for o in &inst.outs {
            self.checker.stat.forget(o);
            let d = digest_path(&root, o, &self.checker.stat)
                .map_err(|source| {
                    PublishFailure::Engine(DispatchError::Io {
                        path: root.join(o),
                        source,
                    })
                })?
                .ok_or_else(|| {
                    PublishFailure::Stage(format!("declared output `{o}` was not produced"))
                })?;
            self.checker
                .store
                .put_path(&root.join(o), &d)
                .map_err(|e| PublishFailure::Engine(e.into()))?;
            outputs.insert(o.clone(), d.tagged());
        }
        let metrics = match &inst.metrics {
            Some(m) => read_metrics(&root, m).map_err(PublishFailure::Stage)?,
            None => BTreeMap::new(),
        };
        let log_digest = hash_file_uncached(log).unwrap_or_default();
        if !log_digest.is_empty() {
            self.checker
                .store
                .put_file(log, &log_digest)
                .map_err(|e| PublishFailure::Engine(e.into()))?;
        }
        let key = inputs.key();
        let record = ActionRecord {
            format: ACTION_VERSION,
            key: key.clone(),
            instance: inst.id.clone(),
            inputs: inputs.clone(),
            outputs: outputs.clone(),
            metrics: metrics.clone(),
            exit_status: 0,
            duration_s: seconds,
            host: hostname(),
            device: device.to_owned(),
            log: log_digest,
            finished_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        let path = self.checker.store.action_path(&key);
        record
            .write(&path)
            .map_err(|source| PublishFailure::Engine(DispatchError::Io { path, source }))?;
        self.set_lock(
            i,
            LockEntry {
                key,
                outs: outputs,
                metrics,
                skey: inputs.structural_key(),
            },
        );
        Ok(())
    }
}

enum PublishFailure {
    /// The stage misbehaved (e.g. a missing output): a stage failure.
    Stage(String),
    /// The engine failed.
    Engine(DispatchError),
}

/// Reads the declared metric fields (numbers; `null` and absent fields are left out).
fn read_metrics(
    root: &std::path::Path,
    m: &crate::graph::Metrics,
) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    for f in &m.files {
        let text = std::fs::read_to_string(root.join(f))
            .map_err(|e| format!("cannot read metrics file `{f}`: {e}"))?;
        let doc: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("metrics file `{f}` is not JSON: {e}"))?;
        for field in &m.fields {
            let mut cur = Some(&doc);
            for part in field.split('.') {
                cur = cur.and_then(|v| v.get(part));
            }
            match cur {
                Some(serde_json::Value::Number(n)) => {
                    out.insert(format!("{f}#{field}"), n.as_f64().unwrap_or(f64::NAN));
                }
                Some(serde_json::Value::Bool(b)) => {
                    out.insert(format!("{f}#{field}"), if *b { 1.0 } else { 0.0 });
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

fn settle(
    graph: &Graph,
    i: usize,
    in_sel: &[bool],
    blocked: &[bool],
    pending: &mut [usize],
    ready: &mut VecDeque<usize>,
) {
    for &d in &graph.downstream[i] {
        if in_sel[d] {
            pending[d] -= 1;
            if pending[d] == 0 && !blocked[d] {
                ready.push_back(d);
            }
        }
    }
}

fn block_downstream(graph: &Graph, i: usize, in_sel: &[bool], blocked: &mut [bool]) {
    let mut stack = vec![i];
    while let Some(x) = stack.pop() {
        for &d in &graph.downstream[x] {
            if in_sel[d] && !blocked[d] {
                blocked[d] = true;
                stack.push(d);
            }
        }
    }
}

fn tail(path: &std::path::Path, n: usize) -> Vec<String> {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The host name, for action records (never part of a key).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}
