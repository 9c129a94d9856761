//! Turning flags, environment and pipeline into the settings of one run.
//!
//! | setting | from |
//! |---|---|
//! | profile | `--profile`, else the pipeline's default profile (applied at load) |
//! | jobs (CPU slots) | `-j`, else the number of cores |
//! | threads per slot | cores / jobs, at least 1 (`OMP_NUM_THREADS` etc. = this × slots held) |
//! | GPUs | `--gpus` (among the detected ones), else `CUDA_VISIBLE_DEVICES`, else `nvidia-smi -L` |
//! | build command | the pipeline's `build:`, unless `--no-build` |
//! | resources | each stage's `resources:`, with `--set-resources` applied |
//! | packing | stages' `pack:`, unless `--no-pack` or a batch executor |
//! | executor, retries, Slurm site | `--executor`/`--retries`, else `--set-site`, else the environment, else `repro.local.yaml` (`sources`) |

use crate::graph::Instance;
use crate::spec::{Pipeline, Resources};
use crate::workspace::Workspace;

use super::gpus;
use super::overrides::ResourceOverrides;
use super::site::{ExecutorKind, SiteSettings, SlurmSettings};
use super::value::Retries;
use super::SettingsError;

/// The flags of `repro run` that shape a run (clap-free, so that tests and other front ends
/// can build them).
#[derive(Debug, Clone, Default)]
pub struct RunFlags {
    /// `-j`.
    pub jobs: Option<u32>,
    /// `--gpus`.
    pub gpus: Option<String>,
    /// `--keep-going`.
    pub keep_going: bool,
    /// `--no-build`.
    pub no_build: bool,
    /// `--set-resources`, as given.
    pub set_resources: Vec<String>,
    /// `--set-site KEY=VALUE`, as given (in order: a later one wins).
    pub site: Vec<String>,
    /// `--executor`.
    pub executor: Option<String>,
    /// `--retries`.
    pub retries: Option<u32>,
    /// `--no-pack`.
    pub no_pack: bool,
}

/// Everything the scheduler needs to know about how to run, resolved once.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The lock-file profile name.
    pub profile: String,
    /// CPU slots.
    pub jobs: u32,
    /// Threads each CPU slot may use.
    pub threads_per_slot: usize,
    /// GPU ids to schedule onto (empty: GPU stages run on the CPU).
    pub gpus: Vec<String>,
    /// Go on after a failure.
    pub keep_going: bool,
    /// The build command to run before the first instance that executes, if any.
    pub build: Option<Vec<String>>,
    /// Per-stage resource overrides.
    pub overrides: ResourceOverrides,
    /// Which executor runs the jobs.
    pub executor: ExecutorKind,
    /// Attempts after a failed one, per instance.
    pub retries: u32,
    /// The Slurm site's settings (used with the Slurm executor).
    pub slurm: SlurmSettings,
    /// Whether instances of stages with `pack:` may share a process (not `--no-pack`); with a
    /// batch executor each pack is one batch job.
    pub pack: bool,
    /// This dispatch runs inside a batch job, beside other jobs of the same workspace (packs
    /// then use folders named for the job, and nothing of other jobs is cleared).
    pub in_job: bool,
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl RunSettings {
    /// The settings of `repro run`.
    pub fn resolve(flags: &RunFlags, pipeline: &Pipeline) -> Result<RunSettings, SettingsError> {
        let cores = cores();
        let mut site = SiteSettings::load(&pipeline.root)?;
        for flag in &flags.site {
            site.apply_flag(flag)?;
        }
        if let Some(e) = &flags.executor {
            site.set("--executor", "executor", e)?;
        }
        if let Some(r) = flags.retries {
            site.set("--retries", "retries", &r.to_string())?;
        }
        if flags.jobs == Some(0) {
            return Err(SettingsError::NoJobs);
        }
        let slurm = site.executor == ExecutorKind::Slurm;
        let retries = site.retries.map_or(if slurm { 1 } else { 0 }, Retries::get);
        // With Slurm, `-j` is the most jobs in flight; the cluster grants the resources.
        let jobs = match (flags.jobs, slurm) {
            (Some(j), _) => j,
            (None, true) => site.slurm.max_jobs.get(),
            (None, false) => cores as u32,
        }
        .max(1);
        Ok(RunSettings {
            profile: Workspace::profile_name(pipeline),
            jobs,
            threads_per_slot: (cores / jobs as usize).max(1),
            gpus: match (&flags.gpus, slurm) {
                (_, true) => Vec::new(),
                (Some(list), false) => gpus::choose(list)?,
                (None, false) => gpus::detect(None),
            },
            keep_going: flags.keep_going,
            build: if flags.no_build {
                None
            } else {
                pipeline.build.clone()
            },
            overrides: ResourceOverrides::parse(&flags.set_resources, pipeline)?,
            executor: site.executor,
            retries,
            slurm: site.slurm,
            pack: !flags.no_pack,
            in_job: false,
        })
    }

    /// The settings of `repro exec` (one instance, or inside a batch job one instance or a
    /// pack): one slot that may use every core (inside a Slurm job, the CPUs it was given), the
    /// GPUs the environment gives, the pipeline's build command unless `in_job` (a batch job
    /// runs binaries its controller built), packing only inside a batch job that runs a pack.
    pub fn for_exec(pipeline: &Pipeline, in_job: bool) -> RunSettings {
        let threads = std::env::var("SLURM_CPUS_PER_TASK")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n >= 1)
            .unwrap_or_else(cores);
        RunSettings {
            profile: Workspace::profile_name(pipeline),
            jobs: 1,
            threads_per_slot: threads,
            gpus: gpus::detect(None),
            keep_going: false,
            build: if in_job { None } else { pipeline.build.clone() },
            overrides: ResourceOverrides::default(),
            executor: ExecutorKind::Local,
            retries: 0,
            slurm: SlurmSettings::default(),
            pack: in_job,
            in_job,
        }
    }

    /// What an instance takes from this run's slots: its resources locally; one job of the
    /// `-j` jobs in flight with a batch executor (the cluster grants the real request).
    pub fn slot_request(&self, inst: &Instance) -> Resources {
        match self.executor {
            ExecutorKind::Local => self.resources(inst),
            ExecutorKind::Slurm => Resources {
                cpus: 1,
                ..Resources::default()
            },
        }
    }

    /// What an instance asks for in this run.
    pub fn resources(&self, inst: &Instance) -> Resources {
        self.overrides.apply(&inst.stage_name, &inst.resources)
    }

    /// What a pack of `inst`'s stage takes from this run's slots: its resources locally; one
    /// job of the `-j` jobs in flight with a batch executor.
    pub fn pack_slot_request(&self, inst: &Instance) -> Resources {
        match self.executor {
            ExecutorKind::Local => self.pack_resources(inst).unwrap_or_default(),
            ExecutorKind::Slurm => self.slot_request(inst),
        }
    }

    /// What a pack of `members` asks a batch system for: its stage's pack resources, with a
    /// `time` that covers all its members (the sum of theirs, when each declares one) unless
    /// the pack declares its own.
    pub fn pack_request(&self, members: &[&Instance]) -> Resources {
        let mut r = members
            .first()
            .and_then(|m| self.pack_resources(m))
            .unwrap_or_default();
        if r.time.is_none() {
            r.time = members.iter().map(|m| self.resources(m).time).sum();
        }
        r
    }

    /// What a pack of `inst`'s stage holds in this run (`None`: the stage does not pack).
    pub fn pack_resources(&self, inst: &Instance) -> Option<Resources> {
        let pack = inst.pack.as_ref()?;
        Some(
            self.overrides
                .apply(&format!("{}.pack", inst.stage_name), &pack.resources),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn settings(pipeline: &Pipeline, executor: &str) -> RunSettings {
        let mut s = RunSettings::for_exec(pipeline, false);
        s.executor = executor.parse().expect("an executor");
        s.pack = true;
        s
    }

    fn pipeline_graph(pack_time: &str) -> (Pipeline, crate::graph::Graph) {
        let text = format!(
            r#"version: 1
stages:
  make:
    cmd: [touch, "out/${{seed}}"]
    matrix:
      seed: ["1", "2", "3"]
    outs: ["out/${{seed}}"]
    resources: {{cpus: 2, time: 10m}}
    pack:
      by: [seed]
      cmd: [touch, "${{pack.manifest}}"]
      resources: {{gpus: 1, cpus: 1{pack_time}}}
"#
        );
        let pipeline =
            crate::spec::parse(std::path::Path::new("pipeline.yaml"), &text, None).unwrap();
        let graph = crate::graph::build(&pipeline).unwrap();
        (pipeline, graph)
    }

    #[test]
    fn a_packs_batch_request_covers_all_its_members_time_unless_the_pack_sets_one() {
        let (pipeline, graph) = pipeline_graph("");
        let members: Vec<&Instance> = graph.instances.iter().collect();
        let s = settings(&pipeline, "slurm");
        let r = s.pack_request(&members);
        assert_eq!((r.cpus, r.gpus), (1, 1.0), "the pack's own resources");
        assert_eq!(
            r.time,
            Some(Duration::from_secs(30 * 60)),
            "three members of 10m"
        );
        assert_eq!(
            s.pack_request(&members[..1]).time,
            Some(Duration::from_secs(600))
        );
        let (pipeline, graph) = pipeline_graph(", time: 15m");
        let members: Vec<&Instance> = graph.instances.iter().collect();
        let r = settings(&pipeline, "slurm").pack_request(&members);
        assert_eq!(
            r.time,
            Some(Duration::from_secs(15 * 60)),
            "the pack's own time"
        );
    }

    #[test]
    fn a_pack_takes_its_resources_locally_and_one_job_slot_under_a_batch_executor() {
        let (pipeline, graph) = pipeline_graph("");
        let inst = &graph.instances[0];
        let local = settings(&pipeline, "local").pack_slot_request(inst);
        assert_eq!((local.cpus, local.gpus), (1, 1.0));
        let slurm = settings(&pipeline, "slurm").pack_slot_request(inst);
        assert_eq!((slurm.cpus, slurm.gpus), (1, 0.0));
    }
}
