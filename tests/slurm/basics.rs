//! The plain path through Slurm: a fan-out and fan-in gives the same keys and outputs as the
//! local executor, a second run submits nothing, `--detach` leaves jobs that finish on their
//! own, and each workspace's jobs carry a name of their own.

use crate::common::{assert_has, Ws};

/// Four `gen` instances (one job array) and `sum`, which reads all their outputs.
pub(crate) const FAN: &str = r#"version: 1
stages:
  gen:
    cmd: "echo gen-${n} >> \"$COUNTER\"; echo gen-${n} > out/g${n}.txt"
    shell: true
    matrix:
      n: [1, 2, 3, 4]
    outs: ["out/g${n}.txt"]
  sum:
    cmd: "echo sum >> \"$COUNTER\"; cat out/g*.txt > sum.txt"
    shell: true
    deps: [out]
    outs: [sum.txt]
"#;

/// The outputs of [`FAN`], by path.
fn fan_outputs(ws: &Ws) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = (1..=4)
        .map(|n| format!("out/g{n}.txt"))
        .chain(["sum.txt".to_owned()])
        .map(|p| {
            let text = ws.read(&p);
            (p, text)
        })
        .collect();
    v.sort();
    v
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn fan_out_and_fan_in_match_the_local_executor() {
    let local = Ws::new(FAN);
    local.ok(&["run", "--executor", "local"]);
    let ws = Ws::new(FAN);
    let out = ws.ok(&["run", "--executor", "slurm"]);
    assert_has(&out, "5 ran");
    assert_eq!(ws.lock_keys().len(), 5, "{}", ws.read("repro.lock"));
    assert_eq!(ws.lock_keys(), local.lock_keys(), "keys differ from local");
    assert_eq!(fan_outputs(&ws), fan_outputs(&local));
    assert_eq!(ws.read("sum.txt"), "gen-1\ngen-2\ngen-3\ngen-4\n");
    let mut ran = ws.ran();
    ran.sort();
    assert_eq!(ran, ["gen-1", "gen-2", "gen-3", "gen-4", "sum"]);
    // One array for `gen`, one job for `sum`.
    assert_eq!(ws.submissions().len(), 2, "{:?}", ws.jobs());
    assert!(ws.slurm_files("jobs").is_empty(), "every job was handled");
    ws.ok(&["status", "--check"]);

    let batches = ws.slurm_files("batches");
    let again = ws.ok(&["run", "--executor", "slurm"]);
    assert_has(&again, "nothing to do");
    assert_eq!(ws.slurm_files("batches"), batches, "a second run submitted");
    assert_eq!(ws.submissions().len(), 2);
    assert_eq!(ws.ran().len(), 5);
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn each_workspace_gets_its_own_job_name() {
    let pipeline = "version: 1\nstages:\n  one:\n    cmd: \"echo 1 > one.txt\"\n    shell: true\n    outs: [one.txt]\n";
    let (a, b) = (Ws::new(pipeline), Ws::new(pipeline));
    a.ok(&["run", "--executor", "slurm"]);
    b.ok(&["run", "--executor", "slurm"]);
    let (ja, jb) = (a.jobs(), b.jobs());
    assert_eq!((ja.len(), jb.len()), (1, 1), "{ja:?} {jb:?}");
    // `repro` finds its jobs by name: a name shared with another workspace makes each run
    // see (and a `scancel --name` hit) the other's jobs.
    assert_ne!(
        ja[0].name, jb[0].name,
        "two workspaces share the job name {}",
        ja[0].name
    );
    assert_eq!(ja[0].name, repro::exec::slurm::job_name(&a.root));
}

#[test]
#[ignore = "needs a running Slurm (make test-slurm)"]
fn detached_jobs_finish_and_a_later_run_has_nothing_to_do() {
    let ws = Ws::new(FAN);
    let out = ws.ok(&["run", "--executor", "slurm", "--detach"]);
    assert_has(&out, "detached: 5 job(s) submitted in 2 sbatch call(s)");
    assert_eq!(ws.submissions().len(), 2, "{:?}", ws.jobs());
    // The detached jobs write no lock entries; `status` sees their published records.
    crate::common::wait_for(90, "`status --check` to pass", || {
        ws.repro(&["status", "--check"]).code == 0
    });
    assert_eq!(ws.read("sum.txt"), "gen-1\ngen-2\ngen-3\ngen-4\n");
    assert_eq!(ws.records(), 5);
    let batches = ws.slurm_files("batches");
    let again = ws.ok(&["run", "--executor", "slurm"]);
    assert_has(&again, "nothing to do");
    assert_eq!(ws.slurm_files("batches"), batches, "a later run submitted");
    assert_eq!(ws.ran().len(), 5, "{:?}", ws.ran());
}
