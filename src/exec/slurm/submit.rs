//! Turning jobs into `sbatch` calls: jobs with the same request and the same dependencies go
//! out together as one job array (throttled with `%N`, chunked to the cluster's array limit);
//! each array task runs `repro exec --batch MANIFEST`, which picks its instance by
//! `SLURM_ARRAY_TASK_ID`. Requests map to `sbatch` options: `cpus` → `--cpus-per-task`,
//! `gpus` → `--gres=gpu:N` (a fraction takes a whole GPU, or GPU shards where the site says
//! so, or nothing on a cluster without GPUs), `mem` → `--mem` in megabytes, `time` → `--time`.

use std::path::Path;

use super::manifest::{BatchManifest, BatchMember};

use super::jobid::SlurmJobId;
use crate::settings::{GpuSharing, SlurmSettings};
use crate::spec::Resources;
use crate::workspace::Layout;

/// What one `sbatch` call submits.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Submission {
    /// Unique name of the submission (its manifest, script and output files; the jobs'
    /// `--comment`).
    pub batch: String,
    /// The request every job of it makes.
    pub request: Resources,
    /// Slurm jobs all of them wait for (`afterok`).
    pub after: Vec<SlurmJobId>,
    /// What each array index runs: one instance, or a pack.
    pub members: Vec<BatchMember>,
}

impl Submission {
    /// Whether it goes out as an array (more than one member).
    pub(super) fn is_array(&self) -> bool {
        self.members.len() > 1
    }

    /// The output file of member `index`, relative to the workspace root.
    pub(super) fn out(&self, layout: &Layout, index: u32) -> String {
        layout.relative(
            &layout
                .slurm_out()
                .join(format!("{}_{index}.out", self.batch)),
        )
    }
}

/// Where the controller's files go and what the jobs run.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The workspace root (`--chdir`).
    pub root: std::path::PathBuf,
    /// The `repro` binary the jobs run.
    pub program: std::path::PathBuf,
    /// The pipeline file.
    pub pipeline: std::path::PathBuf,
    /// The profile, when the pipeline has profiles.
    pub profile: Option<String>,
}

/// Quotes a string for `sh`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Writes the submission's manifest and script under `.repro/slurm/batches`; returns the
/// script's path.
pub(super) fn write_files(
    layout: &Layout,
    paths: &Paths,
    s: &Submission,
) -> std::io::Result<std::path::PathBuf> {
    let batches = layout.slurm().join("batches");
    let manifest = batches.join(format!("{}.json", s.batch));
    let mut bytes = Vec::new();
    BatchManifest {
        members: s.members.clone(),
    }
    .to_writer(&mut bytes)?;
    crate::cache::atomic::write(&manifest, &bytes)?;
    std::fs::create_dir_all(layout.slurm_out())?;
    let script = batches.join(format!("{}.sh", s.batch));
    let text = format!(
        "#!/bin/sh\n# Written by repro: each task of submission {} runs one member of the manifest (an instance or a pack).\nexec {} --file {}{} exec --batch {}\n",
        s.batch,
        quote(&paths.program.to_string_lossy()),
        quote(&paths.pipeline.to_string_lossy()),
        paths
            .profile
            .as_ref()
            .map_or(String::new(), |p| format!(" --profile {}", quote(p))),
        quote(&manifest.to_string_lossy()),
    );
    crate::cache::atomic::write(&script, text.as_bytes())?;
    Ok(script)
}

/// `H:MM:SS`, rounded up to whole seconds.
fn slurm_time(d: std::time::Duration) -> String {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The `sbatch` arguments of one submission.
pub(super) fn sbatch_args(
    cfg: &SlurmSettings,
    job_name: &str,
    paths: &Paths,
    layout: &Layout,
    script: &Path,
    s: &Submission,
) -> Vec<String> {
    let r = &s.request;
    let mut a = vec![
        "--parsable".to_owned(),
        format!("--job-name={job_name}"),
        format!("--comment={}", s.batch),
        format!("--chdir={}", paths.root.display()),
        format!("--cpus-per-task={}", r.cpus.max(1)),
    ];
    // `%` starts a filename pattern for Slurm (`%j`, `%a`): a literal one is written `%%`.
    let out = layout.slurm_out().display().to_string().replace('%', "%%");
    if s.is_array() {
        let throttle = cfg.throttle.unwrap_or(cfg.max_jobs);
        a.push(format!("--array=0-{}%{throttle}", s.members.len() - 1));
        a.push(format!("--output={out}/{}_%a.out", s.batch));
    } else {
        a.push(format!("--output={out}/{}_0.out", s.batch));
    }
    if r.gpus > 0.0 && cfg.gpu_sharing != GpuSharing::None {
        if r.gpus < 1.0 && cfg.gpu_sharing == GpuSharing::Shard {
            let shards = (r.gpus * f64::from(cfg.shards_per_gpu.get()))
                .ceil()
                .max(1.0) as u64;
            a.push(format!("--gres=shard:{shards}"));
        } else {
            a.push(format!("--gres=gpu:{}", r.gpus.ceil() as u64));
        }
    }
    if let Some(m) = r.mem {
        a.push(format!("--mem={}M", m.div_ceil(1 << 20)));
    }
    if let Some(t) = r.time {
        a.push(format!("--time={}", slurm_time(t)));
    }
    for (flag, v) in [
        ("--partition", &cfg.partition),
        ("--account", &cfg.account),
        ("--qos", &cfg.qos),
    ] {
        if let Some(v) = v {
            a.push(format!("{flag}={v}"));
        }
    }
    if !s.after.is_empty() {
        a.push(format!("--dependency=afterok:{}", after_list(&s.after)));
        a.push("--kill-on-invalid-dep=yes".to_owned());
    }
    a.extend(cfg.sbatch_args.iter().cloned());
    a.push(script.display().to_string());
    a
}

/// Job ids joined with `:`, as `--dependency=afterok:` lists them.
pub(super) fn after_list(ids: &[SlurmJobId]) -> String {
    ids.iter()
        .map(SlurmJobId::to_string)
        .collect::<Vec<_>>()
        .join(":")
}

/// Splits `n` members into chunks of at most `max`.
pub(super) fn chunks(n: usize, max: usize) -> Vec<std::ops::Range<usize>> {
    let max = max.max(1);
    (0..n).step_by(max).map(|s| s..(s + max).min(n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Positive;
    use std::time::Duration;

    fn paths() -> Paths {
        Paths {
            root: "/ws".into(),
            program: "/ws/target/release/repro".into(),
            pipeline: "/ws/pipeline.yaml".into(),
            profile: Some("smoke".into()),
        }
    }

    #[test]
    fn requests_map_to_sbatch_options() {
        let cfg = SlurmSettings {
            partition: Some("gpu".into()),
            sbatch_args: "--constraint=a100".parse().unwrap(),
            throttle: Positive::new(8),
            ..SlurmSettings::default()
        };
        let s = Submission {
            batch: "b7".into(),
            request: Resources {
                cpus: 2,
                gpus: 0.25,
                mem: Some(3 << 30),
                time: Some(Duration::from_secs(5400)),
            },
            after: vec![SlurmJobId::job(41), SlurmJobId::job(42)],
            members: vec![
                BatchMember::alone("a".into(), None),
                BatchMember::alone("b".into(), Some("k".into())),
            ],
        };
        let ws = Layout::new(Path::new("/ws"));
        let a = sbatch_args(&cfg, "repro-x", &paths(), &ws, Path::new("/ws/s.sh"), &s);
        for want in [
            "--cpus-per-task=2",
            "--gres=gpu:1",
            "--mem=3072M",
            "--time=1:30:00",
            "--array=0-1%8",
            "--partition=gpu",
            "--dependency=afterok:41:42",
            "--comment=b7",
            "--constraint=a100",
            "--output=/ws/.repro/slurm/out/b7_%a.out",
        ] {
            assert!(a.contains(&want.to_owned()), "{want} missing from {a:?}");
        }
        assert_eq!(a.last().unwrap(), "/ws/s.sh");
        let shard = SlurmSettings {
            gpu_sharing: GpuSharing::Shard,
            ..SlurmSettings::default()
        };
        let a = sbatch_args(&shard, "r", &paths(), &ws, Path::new("s"), &s);
        assert!(a.contains(&"--gres=shard:4".to_owned()), "{a:?}");
        let mut odd = paths();
        odd.root = "/w/100%".into();
        let a = sbatch_args(
            &shard,
            "r",
            &odd,
            &Layout::new(&odd.root),
            Path::new("s"),
            &s,
        );
        assert!(
            a.contains(&"--output=/w/100%%/.repro/slurm/out/b7_%a.out".to_owned()),
            "{a:?}"
        );
        assert_eq!(chunks(5, 2), vec![0..2, 2..4, 4..5]);
    }

    #[test]
    fn scripts_quote_paths() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = paths();
        p.pipeline = "/w s/it's.yaml".into();
        let s = Submission {
            batch: "b1".into(),
            request: Resources::default(),
            after: vec![],
            members: vec![BatchMember::alone("a".into(), None)],
        };
        let script = write_files(&Layout::new(dir.path()), &p, &s).unwrap();
        assert!(script.starts_with(dir.path().join(".repro/slurm/batches")));
        assert_eq!(
            s.out(&Layout::new(dir.path()), 0),
            ".repro/slurm/out/b1_0.out"
        );
        let text = std::fs::read_to_string(script).unwrap();
        assert!(text.contains(r"'/w s/it'\''s.yaml'"), "{text}");
    }
}
