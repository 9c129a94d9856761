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
    /// Whether instances of stages with `pack:` may share a process (not `--no-pack`; local
    /// executor only).
    pub pack: bool,
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
            pack: !flags.no_pack && !slurm,
        })
    }

    /// The settings of `repro exec` (one instance, the unit a batch job runs): one slot that
    /// may use every core (inside a Slurm job, the CPUs it was given), the GPUs the
    /// environment gives, the pipeline's build command unless `build` is false (a batch job
    /// runs binaries its controller built).
    pub fn for_exec(pipeline: &Pipeline, build: bool) -> RunSettings {
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
            build: if build { pipeline.build.clone() } else { None },
            overrides: ResourceOverrides::default(),
            executor: ExecutorKind::Local,
            retries: 0,
            slurm: SlurmSettings::default(),
            pack: false,
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

    /// What a pack of `inst`'s stage holds in this run (`None`: the stage does not pack).
    pub fn pack_resources(&self, inst: &Instance) -> Option<Resources> {
        let pack = inst.pack.as_ref()?;
        Some(
            self.overrides
                .apply(&format!("{}.pack", inst.stage_name), &pack.resources),
        )
    }
}
