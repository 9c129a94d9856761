//! Packs: ready instances of a stage with `pack:` that differ only in its `by` dimensions run
//! as one process, started with the pack's command.
//!
//! Caching stays per instance. Only runnable instances join a pack (a fresh or restorable one
//! never does), each member keeps its own key, and each is published on its own when the
//! process ends, so keys and records do not depend on packing.
//!
//! Forming: a group's runnable instances are taken together, up to `max`. A group smaller
//! than `max` waits while some of its members still wait for their upstream, unless nothing
//! else could start or run (so the training runs of a grid start together once their data
//! exists); a group of one runs alone, with the stage's own command, and so does every
//! instance of a stage whose `max` is 1. Failed attempts are retried alone.
//!
//! The manifest (`.repro/packs/<job>/manifest.json`, one member per line) lists, per member,
//! its instance id, key, matrix, parameters, environment, own command, outputs, and `done`: a
//! file the program creates once that member's outputs are complete. When the process ends,
//! a member is complete if the process exited with 0, or if its `done` file exists; complete
//! members are published, the others are run again alone (after an interrupt: skipped). Each
//! member's log receives the pack's whole output.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::cache::KeyInputs;
use crate::exec::{JobStatus, JobTimes};
use crate::graph::{Graph, Instance};
use crate::settings::RunSettings;
use crate::workspace::{Dirty, PublishError, RunFacts, WorkspaceError};

use super::{DispatchError, Dispatcher, Runnable, Stop, Work};
use crate::sched::event::Event;
use crate::sched::job::pack_job;
use crate::sched::slots::Grant;

/// What to start next.
pub(super) enum Start {
    /// The runnable at this position, alone.
    Alone(usize),
    /// The runnables at these positions (ascending), as one pack.
    Pack(Vec<usize>),
}

/// A member of a running pack.
pub(super) struct Member {
    pub(super) index: usize,
    inputs: Box<KeyInputs>,
    reasons: Vec<Dirty>,
    attempt: u32,
    /// Its completion marker (absolute).
    done: PathBuf,
}

/// A pack's job while it runs.
pub(super) struct Running {
    pub(super) members: Vec<Member>,
    pub(super) grant: Grant,
    device: String,
    /// `.repro/packs/<job>`, removed when the pack ends.
    dir: PathBuf,
    /// The pack's own log, copied to every member's log when it ends.
    log: PathBuf,
}

/// The selected instances of packing stages by group (empty when packing is off).
pub(super) fn groups(
    graph: &Graph,
    selected: &[usize],
    settings: &RunSettings,
) -> HashMap<String, Vec<usize>> {
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    if !settings.pack {
        return groups;
    }
    for &i in selected {
        if let Some(p) = &graph.instances[i].pack {
            groups.entry(p.group.clone()).or_default().push(i);
        }
    }
    groups
}

/// One manifest line for a member.
fn member_line(inst: &Instance, key: &str, done: &str) -> String {
    serde_json::json!({
        "instance": inst.id,
        "key": key,
        "matrix": inst.matrix,
        "params": inst.params,
        "env": inst.env,
        "cmd": inst.argv,
        "outs": inst.outs,
        "done": done,
    })
    .to_string()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DispatchError + '_ {
    move |source| {
        DispatchError::Workspace(WorkspaceError::Io {
            path: path.to_owned(),
            source,
        })
    }
}

impl Dispatcher<'_, '_> {
    /// Whether runnable `r` may join a pack in this run.
    fn packs(&self, r: &Runnable) -> bool {
        !r.solo
            && r.attempt == 0
            && self.settings.pack
            && self.graph.instances[r.index]
                .pack
                .as_ref()
                .is_some_and(|p| p.max >= 2)
    }

    /// Whether some selected member of `group` still waits for its upstream.
    fn group_waiting(&self, group: &str) -> bool {
        self.groups
            .get(group)
            .is_some_and(|members| members.iter().any(|&m| self.queue.is_waiting(m)))
    }

    /// The first thing that can start now, in runnable order: an instance alone, or a pack.
    /// A group smaller than its `max` is held back while some of its members wait for their
    /// upstream, unless nothing else could start or run (that would stall the run).
    pub(super) fn next_start(&self) -> Option<Start> {
        self.first_start(true).or_else(|| {
            if self.running.is_empty() {
                self.first_start(false)
            } else {
                None
            }
        })
    }

    /// [`next_start`](Self::next_start) with or without holding back incomplete groups.
    fn first_start(&self, hold: bool) -> Option<Start> {
        let mut seen: HashSet<&str> = HashSet::new();
        for (pos, r) in self.runnable.iter().enumerate() {
            let inst = &self.graph.instances[r.index];
            if self.packs(r) {
                let template = inst.pack.as_ref().expect("packs() checked");
                if !seen.insert(template.group.as_str()) {
                    continue; // this group was considered at its first runnable
                }
                let positions: Vec<usize> = self
                    .runnable
                    .iter()
                    .enumerate()
                    .skip(pos)
                    .filter(|(_, o)| {
                        self.packs(o)
                            && self.graph.instances[o.index]
                                .pack
                                .as_ref()
                                .is_some_and(|p| p.group == template.group)
                    })
                    .map(|(p, _)| p)
                    .take(template.max)
                    .collect();
                if hold && positions.len() < template.max && self.group_waiting(&template.group) {
                    continue; // more members are coming
                }
                if positions.len() >= 2 {
                    let request = self
                        .settings
                        .pack_resources(inst)
                        .expect("a packing stage has pack resources");
                    if self.slots.fits(&request) {
                        return Some(Start::Pack(positions));
                    }
                    continue;
                }
            }
            if self.slots.fits(&self.settings.slot_request(inst)) {
                return Some(Start::Alone(pos));
            }
        }
        None
    }

    /// Starts the runnables at `positions` (ascending) as one pack.
    pub(super) fn submit_pack(&mut self, positions: Vec<usize>) -> Result<(), DispatchError> {
        let graph = self.graph;
        let mut taken: Vec<Runnable> = Vec::with_capacity(positions.len());
        for &pos in positions.iter().rev() {
            taken.push(self.runnable.remove(pos).expect("position is valid"));
        }
        taken.reverse();
        let first = &graph.instances[taken[0].index];
        let template = first.pack.as_ref().expect("a packing stage");
        let request = self
            .settings
            .pack_resources(first)
            .expect("a packing stage has pack resources");
        let grant = self.slots.try_take(&request).expect("checked to fit");
        let device = if grant.gpus.is_empty() {
            "cpu".to_owned()
        } else {
            format!("cuda:{}", self.slots.visible_devices(&grant))
        };
        let id = self.job_id();
        let name = format!("pack-{}", id.0);
        let layout = self.ws.layout();
        let dir = layout.pack_dir(&name);
        let rel = |p: &Path| {
            p.strip_prefix(layout.root())
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned()
        };
        let result = (|| -> Result<Vec<Member>, DispatchError> {
            crate::cache::atomic::remove_path(&dir).map_err(io(&dir))?;
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            let mut lines = Vec::with_capacity(taken.len());
            let mut members = Vec::with_capacity(taken.len());
            for (n, r) in taken.iter().enumerate() {
                let inst = &graph.instances[r.index];
                self.ws.prepare(inst)?;
                let done = dir.join(format!("{n}.done"));
                lines.push(member_line(inst, &r.inputs.key(), &rel(&done)));
                members.push(Member {
                    index: r.index,
                    inputs: r.inputs.clone(),
                    reasons: r.reasons.clone(),
                    attempt: r.attempt,
                    done,
                });
            }
            let manifest = dir.join("manifest.json");
            let text = format!("{{\"members\": [\n{}\n]}}\n", lines.join(",\n"));
            std::fs::write(&manifest, text).map_err(io(&manifest))?;
            Ok(members)
        })();
        let members = match result {
            Ok(m) => m,
            Err(e) => {
                self.slots.release(&grant);
                return Err(e);
            }
        };
        let manifest = rel(&dir.join("manifest.json"));
        let log = self.ws.layout().log(&format!("{}#{name}", template.group));
        let insts: Vec<&Instance> = members.iter().map(|m| &graph.instances[m.index]).collect();
        let job = pack_job(
            id,
            format!("{name} ({} members of {})", members.len(), template.group),
            template.argv_for(&manifest),
            &insts,
            &manifest,
            &grant,
            &self.slots,
            self.settings,
            log.clone(),
            self.ws.layout().root(),
        );
        for (m, r) in members.iter().zip(&taken) {
            self.reporter.event(&Event::Started {
                id: graph.instances[m.index].id.clone(),
                reasons: r.reasons.clone(),
                device: device.clone(),
            });
        }
        self.reporter.event(&Event::Note {
            message: format!(
                "{} instances of `{}` run as one pack ({name})",
                members.len(),
                template.group
            ),
        });
        if let Err(e) = self.executor.submit(job) {
            self.slots.release(&grant);
            return Err(e.into());
        }
        self.running.insert(
            id,
            Work::Pack(Running {
                members,
                grant,
                device,
                dir,
                log,
            }),
        );
        Ok(())
    }

    /// A pack's process ended: publish its complete members, run the others again alone.
    pub(super) fn on_pack_end(
        &mut self,
        pack: Running,
        status: JobStatus,
        times: JobTimes,
    ) -> Result<(), DispatchError> {
        self.slots.release(&pack.grant);
        let graph = self.graph;
        let size = pack.members.len();
        let output = std::fs::read(&pack.log).unwrap_or_default();
        let mut interrupted = false;
        for m in pack.members {
            let inst = &graph.instances[m.index];
            let log = self.ws.layout().log(&inst.id);
            let mut text = format!("(ran in a pack of {size}; the pack's whole output follows)\n")
                .into_bytes();
            text.extend_from_slice(&output);
            // A log that cannot be written loses only the log.
            let _ = crate::cache::atomic::write(&log, &text);
            let complete = status == JobStatus::Succeeded || m.done.exists();
            let why = if complete {
                let facts = RunFacts {
                    device: pack.device.clone(),
                    seconds: times.ran.as_secs_f64(),
                };
                match self.ws.publish(inst, &m.inputs, &facts) {
                    Ok(()) => {
                        self.ran(m.index, facts.seconds);
                        continue;
                    }
                    Err(PublishError::Stage(why)) => why,
                    Err(PublishError::Engine(e)) => return Err(e.into()),
                }
            } else {
                match &status {
                    JobStatus::Cancelled => {
                        interrupted = true;
                        self.tally.interrupted = true;
                        self.tally.skipped += 1;
                        self.reporter.event(&Event::Skipped {
                            id: inst.id.clone(),
                            because: "interrupted".into(),
                        });
                        continue;
                    }
                    JobStatus::Failed(w) | JobStatus::NotStarted(w) => format!(
                        "its pack of {size} ended before finishing it: {}",
                        w.lines().next().unwrap_or_default()
                    ),
                    JobStatus::Succeeded => unreachable!("a succeeded pack completes every member"),
                }
            };
            if self.stop.is_none() {
                self.reporter.event(&Event::Note {
                    message: format!("`{}`: {why}; running it alone", inst.id),
                });
                self.runnable.push_front(Runnable {
                    index: m.index,
                    inputs: m.inputs,
                    reasons: m.reasons,
                    attempt: m.attempt,
                    solo: true,
                });
            } else {
                self.fail(m.index, why);
            }
        }
        if interrupted {
            self.stop_with(Stop::Failure);
        }
        let _ = std::fs::remove_file(&pack.log);
        let _ = crate::cache::atomic::remove_path(&pack.dir);
        Ok(())
    }
}
