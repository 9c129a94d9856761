//! Turning a runnable instance and its grant into the job an executor runs: the command, the
//! stage's declared environment, thread limits sized to the CPU slots held, the devices
//! granted, and the `REPRO_*` variables that tell a stage who it is.

use crate::cache::KeyInputs;
use crate::exec::{JobId, JobOutput, JobResources, JobSpec};
use crate::graph::Instance;
use crate::settings::RunSettings;
use crate::workspace::Layout;

use super::slots::{Grant, Slots};

/// Thread-count variables set to the threads a job may use.
const THREAD_VARS: [&str; 5] = [
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "RAYON_NUM_THREADS",
    "REPRO_THREADS",
];

/// The thread-count variables for a job that may use `threads` threads (at least 1).
pub(crate) fn thread_env(threads: usize) -> Vec<(String, String)> {
    let threads = threads.max(1).to_string();
    THREAD_VARS
        .iter()
        .map(|v| ((*v).to_owned(), threads.clone()))
        .collect()
}

/// The variables a grant sets: thread limits sized to its CPU slots, and its devices.
fn grant_env(grant: &Grant, slots: &Slots, settings: &RunSettings) -> Vec<(String, String)> {
    let mut env = thread_env(settings.threads_per_slot * grant.cpus as usize);
    env.push((
        "CUDA_VISIBLE_DEVICES".to_owned(),
        slots.visible_devices(grant),
    ));
    env
}

/// The job for one instance.
pub(crate) fn instance_job(
    id: JobId,
    inst: &Instance,
    inputs: &KeyInputs,
    grant: &Grant,
    slots: &Slots,
    settings: &RunSettings,
    layout: &Layout,
) -> JobSpec {
    let devices = slots.visible_devices(grant);
    let key = inputs.key();
    let mut env: Vec<(String, String)> = inst
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    env.extend(grant_env(grant, slots, settings));
    env.push(("REPRO_KEY".to_owned(), key.clone()));
    env.push(("REPRO_INSTANCE".to_owned(), inst.id.clone()));
    env.push((
        "REPRO_PARAMS".to_owned(),
        serde_json::to_string(&inst.params).expect("params serialise"),
    ));
    JobSpec {
        id,
        name: inst.id.clone(),
        argv: inst.argv.clone(),
        env,
        cwd: layout.root().to_owned(),
        output: JobOutput::Log(layout.log(&inst.id)),
        resources: JobResources {
            cpus: grant.cpus,
            gpus: grant.gpus.iter().map(|(_, s)| s).sum(),
            devices,
        },
        batch: Some(crate::exec::BatchInfo {
            instance: inst.id.clone(),
            key: Some(key),
            packed_with: Vec::new(),
            request: settings.resources(inst),
            after: Vec::new(),
        }),
    }
}

/// What a pack's job runs: its id, name, command, manifest path (workspace-relative) and log.
pub(crate) struct PackCommand {
    /// The job's handle.
    pub(crate) id: JobId,
    /// For messages.
    pub(crate) name: String,
    /// The pack's command, manifest path filled in.
    pub(crate) argv: Vec<String>,
    /// The manifest, as the command was given it.
    pub(crate) manifest: String,
    /// Where the pack's output goes.
    pub(crate) log: std::path::PathBuf,
}

/// The job for a pack (local executors only): its command, the members' declared environment
/// where they all agree (each member's own is in the manifest), the grant's variables, and
/// `REPRO_PACK`, the manifest's path.
pub(crate) fn pack_job(
    cmd: PackCommand,
    members: &[&Instance],
    grant: &Grant,
    slots: &Slots,
    settings: &RunSettings,
    layout: &Layout,
) -> JobSpec {
    let mut env: Vec<(String, String)> = members[0]
        .env
        .iter()
        .filter(|(k, v)| members.iter().all(|m| m.env.get(*k) == Some(*v)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    env.extend(grant_env(grant, slots, settings));
    env.push(("REPRO_PACK".to_owned(), cmd.manifest));
    JobSpec {
        id: cmd.id,
        name: cmd.name,
        argv: cmd.argv,
        env,
        cwd: layout.root().to_owned(),
        output: JobOutput::Log(cmd.log),
        resources: JobResources {
            cpus: grant.cpus,
            gpus: grant.gpus.iter().map(|(_, s)| s).sum(),
            devices: slots.visible_devices(grant),
        },
        batch: None,
    }
}

/// The job for an instance submitted ahead of its upstream (`--detach`): a batch executor
/// runs `repro exec` for it and asks for `settings.resources(inst)`; `key` is `None` when an
/// upstream job has not run yet, and `after` names the jobs it waits for.
pub fn detached_job(
    id: JobId,
    inst: &Instance,
    key: Option<String>,
    after: Vec<JobId>,
    settings: &RunSettings,
    layout: &Layout,
) -> JobSpec {
    let request = settings.resources(inst);
    JobSpec {
        id,
        name: inst.id.clone(),
        argv: inst.argv.clone(),
        env: Vec::new(),
        cwd: layout.root().to_owned(),
        output: JobOutput::Log(layout.log(&inst.id)),
        resources: JobResources {
            cpus: request.cpus,
            gpus: request.gpus,
            devices: String::new(),
        },
        batch: Some(crate::exec::BatchInfo {
            instance: inst.id.clone(),
            key,
            packed_with: Vec::new(),
            request,
            after,
        }),
    }
}

/// The job for a pack submitted ahead of its upstream (`--detach`): one batch job that runs
/// `members` (instances of one pack group, each with its key when known now) as one process,
/// asking for the pack's request ([`RunSettings::pack_request`]).
pub fn detached_pack_job(
    id: JobId,
    members: &[(&Instance, Option<String>)],
    after: Vec<JobId>,
    settings: &RunSettings,
    layout: &Layout,
) -> JobSpec {
    let insts: Vec<&Instance> = members.iter().map(|(i, _)| *i).collect();
    let request = settings.pack_request(&insts);
    let (first, first_key) = &members[0];
    JobSpec {
        id,
        name: format!("pack of {} ({} members)", first.id, members.len()),
        argv: Vec::new(),
        env: Vec::new(),
        cwd: layout.root().to_owned(),
        output: JobOutput::Stderr,
        resources: JobResources {
            cpus: request.cpus,
            gpus: request.gpus,
            devices: String::new(),
        },
        batch: Some(crate::exec::BatchInfo {
            instance: first.id.clone(),
            key: first_key.clone(),
            packed_with: members[1..]
                .iter()
                .map(|(inst, key)| crate::exec::slurm::PackedInstance {
                    instance: inst.id.clone(),
                    key: key.clone(),
                })
                .collect(),
            request,
            after,
        }),
    }
}

/// The job for the pipeline's `build:` command: in the workspace root, output to stderr.
pub(crate) fn build_job(id: JobId, argv: &[String], layout: &Layout) -> JobSpec {
    JobSpec {
        id,
        name: "build".to_owned(),
        argv: argv.to_vec(),
        env: Vec::new(),
        cwd: layout.root().to_owned(),
        output: JobOutput::Stderr,
        resources: JobResources {
            cpus: 0,
            gpus: 0.0,
            devices: String::new(),
        },
        batch: None,
    }
}
