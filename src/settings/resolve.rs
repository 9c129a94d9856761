//! Turning flags, environment and pipeline into the settings of one run.
//!
//! | setting | from |
//! |---|---|
//! | profile | `--profile`, else the pipeline's default profile (applied at load) |
//! | jobs (CPU slots) | `-j`, else the number of cores |
//! | threads per slot | cores / jobs, at least 1 (`OMP_NUM_THREADS` etc. = this × slots held) |
//! | GPUs | `--gpus`, else `CUDA_VISIBLE_DEVICES`, else `nvidia-smi -L` |
//! | build command | the pipeline's `build:`, unless `--no-build` |
//! | resources | each stage's `resources:`, with `--set-resources` applied |

use crate::graph::Instance;
use crate::spec::{Pipeline, Resources};
use crate::workspace::Workspace;

use super::gpus;
use super::overrides::ResourceOverrides;
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
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl RunSettings {
    /// The settings of `repro run`.
    pub fn resolve(flags: &RunFlags, pipeline: &Pipeline) -> Result<RunSettings, SettingsError> {
        let cores = cores();
        let jobs = flags.jobs.unwrap_or(cores as u32).max(1);
        Ok(RunSettings {
            profile: Workspace::profile_name(pipeline),
            jobs,
            threads_per_slot: (cores / jobs as usize).max(1),
            gpus: gpus::detect(flags.gpus.as_deref()),
            keep_going: flags.keep_going,
            build: if flags.no_build {
                None
            } else {
                pipeline.build.clone()
            },
            overrides: ResourceOverrides::parse(&flags.set_resources, pipeline)?,
        })
    }

    /// The settings of `repro exec` (one instance, the unit a batch job runs): one slot that
    /// may use every core, the GPUs the environment gives, the pipeline's build command.
    pub fn for_exec(pipeline: &Pipeline) -> RunSettings {
        RunSettings {
            profile: Workspace::profile_name(pipeline),
            jobs: 1,
            threads_per_slot: cores(),
            gpus: gpus::detect(None),
            keep_going: false,
            build: pipeline.build.clone(),
            overrides: ResourceOverrides::default(),
        }
    }

    /// What an instance asks for in this run.
    pub fn resources(&self, inst: &Instance) -> Resources {
        self.overrides.apply(&inst.stage_name, &inst.resources)
    }
}
