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
//! members are published. The others go through the failure-and-retry policy of
//! `sched/attempt.rs`: they run again alone (without using a retry, each with its own
//! `timeout`) after the pack failed or ran past its limit (the sum of its members' `timeout`s,
//! if all have one), fail when it exited 0 without them, and are skipped after an interrupt. Each member's log
//! receives the pack's output without the lines that other members' ids begin (`ID: ...`).
//!
//! With a batch executor (one that publishes its jobs' results), a pack is one batch job that
//! runs `repro exec --batch` over the pack's members: inside the job the same code forms the
//! same pack on a local executor and publishes each member on its own. The controller writes
//! no manifest; when the job ends it takes in each member's record from the store, and the
//! members without one go through the same policy (run again alone). An instance that an
//! earlier run's job may still be running (the executor's registry names it) never joins a new
//! pack: it runs alone, so that the executor adopts that job instead of submitting it twice.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use repro_manifest::PackManifest;

use crate::exec::slurm::PackedInstance;

use crate::exec::{BatchInfo, JobOutput, JobResources, JobSpec, JobStatus, JobTimes, StartFailure};
use crate::graph::{Graph, Instance};
use crate::settings::RunSettings;
use crate::spec::Resources;
use crate::workspace::{Dirty, PublishError, RunFacts, WorkspaceError};

use super::{DispatchError, Dispatcher, Stop, Work};
use crate::sched::attempt::{show_duration, Attempt, Setback};
use crate::sched::event::Event;
use crate::sched::job::{pack_job, PackCommand};
use crate::sched::lease::Lease;
use crate::sched::manifest::pack_member;

/// What to start next.
pub(super) enum Start {
    /// The runnable at this position, alone.
    Alone(usize),
    /// The runnables at these positions (ascending), as one pack.
    Pack(Vec<usize>),
}

/// A member of a running pack: its attempt and, for a pack run here, its completion marker
/// (absolute).
pub(super) struct Member {
    /// The attempt.
    pub(super) attempt: Attempt,
    /// The file the program creates once this member's outputs are complete (`None`: the pack
    /// runs as a batch job, which publishes its members itself).
    done: Option<PathBuf>,
}

/// The files of a pack run by this dispatcher's executor.
struct PackFiles {
    /// `.repro/packs/<name>`, removed when the pack ends.
    dir: PathBuf,
    /// The pack's own log, copied to every member's log when it ends.
    log: PathBuf,
}

/// A pack's job while it runs (its lease is in the job table).
pub(super) struct PackRun {
    /// Its members, in manifest order.
    pub(super) members: Vec<Member>,
    /// Its manifest folder and log (`None` for a batch job: those are the job's).
    files: Option<PackFiles>,
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

/// The lines of `output` meant for `id`: all but those that belong to another member. A line
/// belongs to the member whose id begins it followed by `:` (`ID: ...`, as `train --pack`
/// prefixes its messages); when several do (`make@seed=a` and `make@seed=a:b`), to the longest.
fn member_output(output: &str, id: &str, ids: &[&str]) -> String {
    let owner = |line: &str| {
        ids.iter()
            .filter(|o| {
                line.strip_prefix(**o)
                    .is_some_and(|rest| rest.starts_with(':'))
            })
            .max_by_key(|o| o.len())
            .copied()
    };
    output
        .lines()
        .filter(|line| owner(line).is_none_or(|o| o == id))
        .fold(String::new(), |mut out, line| {
            out.push_str(line);
            out.push('\n');
            out
        })
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
    /// Removes what packs of an earlier, killed run left in `.repro/packs` (the local
    /// executor's sweep ended their processes before this run started). Only a packing run
    /// does this, and it holds the workspace alone; a failure to remove loses only space.
    /// Neither a batch executor's controller nor a dispatch inside a batch job clears: the
    /// folder then holds the packs of live batch jobs (`repro gc` clears it when none is).
    pub(super) fn clear_stale_packs(&self) {
        if self.settings.pack && !self.settings.in_job && !self.executor.publishes() {
            let _ = crate::cache::atomic::remove_path(&self.ws.layout().packs());
        }
    }

    /// Whether attempt `r` may join a pack in this run.
    fn packs(&self, r: &Attempt) -> bool {
        let inst = &self.graph.instances[r.index];
        !r.alone
            && self.settings.pack
            && inst.pack.as_ref().is_some_and(|p| p.max >= 2)
            && !self.registered.contains(&inst.id)
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
        if self.jobs.slots().cpus_free() == 0 && !self.cpuless {
            // Nothing could fit: spare the scan of every waiting attempt, which the loop
            // would otherwise make after each start while the slots are full.
            return None;
        }
        self.first_start(true).or_else(|| {
            if self.jobs.is_empty() {
                self.first_start(false)
            } else {
                None
            }
        })
    }

    /// [`next_start`](Self::next_start) with or without holding back incomplete groups.
    fn first_start(&self, hold: bool) -> Option<Start> {
        let mut seen: HashSet<&str> = HashSet::new();
        // Requests found not to fit in this scan: the instances of a stage ask alike, and
        // while the slots are full every waiting one is asked.
        let mut refused: Vec<Resources> = Vec::new();
        let mut fits = |request: Resources| {
            if refused.contains(&request) {
                return false;
            }
            let fits = self.jobs.fits(&request);
            if !fits {
                refused.push(request);
            }
            fits
        };
        let now = Instant::now();
        for (pos, r) in self.waiting.iter().enumerate() {
            if !r.due(now) {
                continue; // a retry's back-off is not over
            }
            let inst = &self.graph.instances[r.index];
            if self.packs(r) {
                let template = inst.pack.as_ref().expect("packs() checked");
                if !seen.insert(template.group.as_str()) {
                    continue; // this group was considered at its first runnable
                }
                let positions: Vec<usize> = self
                    .waiting
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
                    if fits(self.settings.pack_slot_request(inst)) {
                        return Some(Start::Pack(positions));
                    }
                    continue;
                }
            }
            if fits(self.settings.slot_request(inst)) {
                return Some(Start::Alone(pos));
            }
        }
        None
    }

    /// Starts the waiting attempts at `positions` (ascending) as one pack.
    pub(super) fn submit_pack(&mut self, positions: Vec<usize>) -> Result<(), DispatchError> {
        let graph = self.graph;
        let mut taken: Vec<Attempt> = positions
            .iter()
            .rev()
            .map(|&pos| self.waiting.take(pos))
            .collect();
        taken.reverse();
        if self.executor.publishes() {
            return self.submit_batch_pack(taken);
        }
        let first = &graph.instances[taken[0].index];
        let template = first.pack.as_ref().expect("a packing stage");
        let request = self
            .settings
            .pack_resources(first)
            .expect("a packing stage has pack resources");
        // The sum, not the longest: a pack may run its members one after another, and one
        // that runs out of time has its unfinished members run alone, each with its own.
        let limit = taken
            .iter()
            .map(|a| graph.instances[a.index].timeout)
            .sum::<Option<std::time::Duration>>();
        let id = self.jobs.next_id();
        let name = pack_name(id, self.settings.in_job);
        let root = self.ws.layout().root().to_owned();
        let dir = self.ws.layout().pack_dir(&name);
        let log = self.ws.layout().log(&format!("{}#{name}", template.group));
        let rel = |p: &Path| {
            p.strip_prefix(&root)
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned()
        };
        let members: Vec<Member> = taken
            .into_iter()
            .enumerate()
            .map(|(n, attempt)| Member {
                done: Some(dir.join(format!("{n}.done"))),
                attempt,
            })
            .collect();
        // The manifest and cleared outputs come before the lease: a failure here holds nothing.
        crate::cache::atomic::remove_path(&dir).map_err(io(&dir))?;
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut lines = Vec::with_capacity(members.len());
        for m in &members {
            let inst = &graph.instances[m.attempt.index];
            self.ws.prepare(inst)?;
            let done = m.done.as_deref().expect("a pack run here has markers");
            lines.push(pack_member(inst, &m.attempt.inputs.key(), &rel(done)));
        }
        let manifest = dir.join("manifest.json");
        PackManifest { members: lines }
            .write(&manifest)
            .map_err(io(&manifest))?;
        let manifest = rel(&manifest);
        let insts: Vec<&Instance> = members
            .iter()
            .map(|m| &graph.instances[m.attempt.index])
            .collect();
        let started: Vec<(usize, String, Vec<Dirty>)> = members
            .iter()
            .map(|m| {
                let id = graph.instances[m.attempt.index].id.clone();
                (m.attempt.index, id, m.attempt.reasons.clone())
            })
            .collect();
        let size = members.len();
        let log_for_watch = log.clone();
        let pack = PackRun {
            members,
            files: Some(PackFiles {
                dir,
                log: log.clone(),
            }),
        };
        let lease = self.lease(id, &request, limit, Work::Pack(pack));
        let job = pack_job(
            PackCommand {
                id,
                name: format!("{name} ({size} members of {})", template.group),
                argv: template.argv_for(&manifest),
                manifest,
                log,
            },
            &insts,
            &lease.grant,
            self.jobs.slots(),
            self.settings,
            self.ws.layout(),
        );
        self.announce_and_submit(
            job,
            started,
            (&lease.device, &lease.slot),
            &template.group,
            &name,
            Some(log_for_watch),
        )
    }

    /// Reports each member of a pack as started (on `device`, holding `slot`) and the pack as
    /// formed, then submits its job; a refused submission retires the job.
    fn announce_and_submit(
        &mut self,
        job: JobSpec,
        started: Vec<(usize, String, Vec<Dirty>)>,
        (device, slot): (&str, &str),
        group: &str,
        name: &str,
        log: Option<std::path::PathBuf>,
    ) -> Result<(), DispatchError> {
        let size = started.len();
        self.expect_durations();
        for (i, id, reasons) in started {
            let watch = log
                .clone()
                .and_then(|log| self.watch(i, log, Some(id.clone())));
            self.reporter.event(&Event::Started {
                id,
                reasons,
                device: device.to_owned(),
                slot: slot.to_owned(),
                watch,
            });
        }
        self.reporter.event(&Event::Note {
            message: format!("{size} instances of `{group}` run as one pack ({name})"),
        });
        let id = job.id;
        if let Err(e) = self.executor.submit(job) {
            self.jobs.retire(id);
            return Err(e.into());
        }
        Ok(())
    }

    /// A pack's process ended: publish its complete members; for the others, the
    /// failure-and-retry policy decides (see the module doc), or they are skipped after an
    /// interrupt.
    pub(super) fn on_pack_end(
        &mut self,
        pack: PackRun,
        lease: Lease,
        status: JobStatus,
        times: JobTimes,
    ) -> Result<(), DispatchError> {
        if pack.files.is_none() {
            return self.on_batch_pack_end(pack, status, times);
        }
        let size = pack.members.len();
        // What the members it did not finish get; `None`: it succeeded, so every member is
        // complete whatever its marker says.
        let unfinished = match &status {
            JobStatus::Succeeded => None,
            _ if lease.timed_out => Some(Unfinished::Retry(Setback::PackEnded {
                size,
                why: format!(
                    "it ran past {} (the sum of its members' `timeout`s) and was ended",
                    show_duration(lease.limit.unwrap_or_default())
                ),
            })),
            JobStatus::Cancelled => Some(Unfinished::Skip),
            JobStatus::Failed(_) | JobStatus::NotStarted(_) => {
                Some(Unfinished::Retry(Setback::PackEnded {
                    size,
                    why: status.why().lines().next().unwrap_or_default().to_owned(),
                }))
            }
        };
        // Read the markers before `close_pack` removes them.
        let complete: Vec<bool> = pack
            .members
            .iter()
            .map(|m| unfinished.is_none() || m.done.as_deref().is_some_and(Path::exists))
            .collect();
        self.close_pack(&pack);
        let graph = self.graph;
        let mut interrupted = false;
        for (m, complete) in pack.members.into_iter().zip(complete) {
            let i = m.attempt.index;
            let inst = &graph.instances[i];
            let setback = match (complete, &unfinished) {
                (true, _) | (false, None) => {
                    let facts = RunFacts {
                        device: lease.device.clone(),
                        slot: lease.slot.clone(),
                        seconds: times.ran.as_secs_f64(),
                    };
                    match self.ws.publish(inst, &m.attempt.inputs, &facts) {
                        Ok(()) => {
                            self.ran(i, facts.seconds, std::time::Instant::now());
                            continue;
                        }
                        // The program said it was done: running it again would hide its fault.
                        Err(PublishError::Stage(why)) => Setback::Unusable(why),
                        Err(PublishError::Engine(e)) => return Err(e.into()),
                    }
                }
                (false, Some(Unfinished::Skip)) => {
                    interrupted = true;
                    self.skip_interrupted(i);
                    continue;
                }
                (false, Some(Unfinished::Retry(setback))) => setback.clone(),
            };
            self.after_setback(m.attempt, setback);
        }
        if interrupted {
            self.stop_with(Stop::Failure);
        }
        Ok(())
    }

    /// Gives every member its share of the pack's output as its log, and removes the pack's
    /// directory and log: called once per pack, however it ended.
    pub(super) fn close_pack(&self, pack: &PackRun) {
        let Some(files) = &pack.files else {
            return; // a batch job's: the job wrote its members' logs
        };
        let graph = self.graph;
        let bytes = std::fs::read(&files.log).unwrap_or_default();
        let output = String::from_utf8_lossy(&bytes);
        let ids: Vec<&str> = pack
            .members
            .iter()
            .map(|m| graph.instances[m.attempt.index].id.as_str())
            .collect();
        for id in &ids {
            let text = format!(
                "(ran in a pack of {}; the pack's output without its other members' lines follows)\n{}",
                ids.len(),
                member_output(&output, id, &ids)
            );
            // A log that cannot be written loses only the log.
            let _ = crate::cache::atomic::write(&self.ws.layout().log(id), text.as_bytes());
        }
        let _ = std::fs::remove_file(&files.log);
        let _ = crate::cache::atomic::remove_path(&files.dir);
    }

    /// Starts `taken` (two or more attempts of one pack group) as one batch job, which runs
    /// and publishes them itself (`repro exec --batch`). It holds one of the run's job slots;
    /// the cluster grants what the pack asks for ([`RunSettings::pack_request`]). No time
    /// limit is kept here: the job enforces each member's `timeout` itself, and the cluster
    /// the pack's `time`.
    fn submit_batch_pack(&mut self, taken: Vec<Attempt>) -> Result<(), DispatchError> {
        let graph = self.graph;
        let insts: Vec<&Instance> = taken.iter().map(|a| &graph.instances[a.index]).collect();
        let first = insts[0];
        let template = first.pack.as_ref().expect("a packing stage");
        let request = self.settings.pack_request(&insts);
        let id = self.jobs.next_id();
        let size = taken.len();
        let name = format!("pack-{} ({size} members of {})", id.0, template.group);
        let batch = BatchInfo {
            instance: first.id.clone(),
            key: Some(taken[0].inputs.key()),
            packed_with: taken[1..]
                .iter()
                .map(|a| PackedInstance {
                    instance: graph.instances[a.index].id.clone(),
                    key: Some(a.inputs.key()),
                })
                .collect(),
            request,
            after: Vec::new(),
        };
        let started: Vec<(usize, String, Vec<Dirty>)> = taken
            .iter()
            .map(|a| {
                (
                    a.index,
                    graph.instances[a.index].id.clone(),
                    a.reasons.clone(),
                )
            })
            .collect();
        let pack = PackRun {
            members: taken
                .into_iter()
                .map(|attempt| Member {
                    attempt,
                    done: None,
                })
                .collect(),
            files: None,
        };
        let slot = self.settings.pack_slot_request(first);
        let lease = self.lease(id, &slot, None, Work::Pack(pack));
        let job = JobSpec {
            id,
            name: name.clone(),
            argv: template.argv.clone(),
            env: Vec::new(),
            cwd: self.ws.layout().root().to_owned(),
            output: JobOutput::Stderr,
            resources: JobResources {
                cpus: request.cpus,
                gpus: request.gpus,
                devices: String::new(),
            },
            batch: Some(batch),
        };
        self.announce_and_submit(
            job,
            started,
            (&lease.device, &lease.slot),
            &template.group,
            &name,
            None,
        )
    }

    /// A pack's batch job ended: each member whose record the job published is taken in
    /// (whatever Slurm said of the job); the others go through the failure-and-retry policy:
    /// run again alone after a failed or lost job, fail when the submission was refused (it
    /// would be refused again) or the job claimed success without them, skipped after an
    /// interrupt.
    fn on_batch_pack_end(
        &mut self,
        pack: PackRun,
        status: JobStatus,
        times: JobTimes,
    ) -> Result<(), DispatchError> {
        let size = pack.members.len();
        let mut interrupted = false;
        for m in pack.members {
            let i = m.attempt.index;
            let why = match self.adopt(i, &m.attempt.inputs)? {
                None => {
                    self.ran(i, times.ran.as_secs_f64(), std::time::Instant::now());
                    continue;
                }
                Some(why) => why,
            };
            let setback = match &status {
                JobStatus::Succeeded => Setback::Unusable(why),
                JobStatus::Cancelled => {
                    interrupted = true;
                    self.skip_interrupted(i);
                    continue;
                }
                JobStatus::NotStarted(f @ StartFailure::Refused(_)) => {
                    Setback::NotStarted(f.to_string())
                }
                JobStatus::NotStarted(_) | JobStatus::Failed(_) => Setback::PackEnded {
                    size,
                    why: status.why(),
                },
            };
            self.after_setback(m.attempt, setback);
        }
        if interrupted {
            self.stop_with(Stop::Failure);
        }
        Ok(())
    }
}

/// The name of a pack's folder under `.repro/packs` and of its log: `pack-<job>`, and inside a
/// batch job, where other jobs' dispatchers share the folder, `pack-<batch job>-<job>` (the
/// batch system's job id, else the process id).
fn pack_name(id: crate::exec::JobId, in_job: bool) -> String {
    if !in_job {
        return format!("pack-{}", id.0);
    }
    let owner = std::env::var("SLURM_JOB_ID")
        .ok()
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or_else(|| format!("p{}", std::process::id()));
    format!("pack-{owner}-{}", id.0)
}

/// What a local pack's end means for the members it did not finish.
enum Unfinished {
    /// It was interrupted: they are skipped.
    Skip,
    /// It failed, was not started or ran out of time: the failure-and-retry policy decides.
    Retry(Setback),
}

#[cfg(test)]
mod tests {
    use super::member_output;

    #[test]
    fn a_member_log_drops_only_the_other_members_lines() {
        let out = "pack: 2 members\na@x: epoch 1\nb@x: epoch 1\na@xy: epoch 1\nplain line\n";
        let ids = ["a@x", "b@x", "a@xy"];
        assert_eq!(
            member_output(out, "a@x", &ids),
            "pack: 2 members\na@x: epoch 1\nplain line\n"
        );
        assert_eq!(
            member_output(out, "a@xy", &ids),
            "pack: 2 members\na@xy: epoch 1\nplain line\n"
        );
        // One id a prefix of another, followed by `:`: each keeps its own lines.
        let out = "make@seed=a: one\nmake@seed=a:b: two\n";
        let ids = ["make@seed=a", "make@seed=a:b"];
        assert_eq!(
            member_output(out, "make@seed=a", &ids),
            "make@seed=a: one\n"
        );
        assert_eq!(
            member_output(out, "make@seed=a:b", &ids),
            "make@seed=a:b: two\n"
        );
    }
}
