//! Outputs of instances that left the graph: a directory dependency must see exactly the
//! declared outputs of the current graph's instances (plus the user's own files), never what an
//! instance no longer in the pipeline left behind (docs/pipeline.md, "Outputs that leave the
//! pipeline").

use crate::common::Ws;

const PIPELINE: &str = r#"version: 1
params:
  seeds: [1, 2, 3]
profiles:
  small:
    params:
      seeds: [1]
stages:
  gen:
    cmd: "echo gen-${seed} >> \"$COUNTER\"; mkdir -p runs/${seed}; echo r${seed} > runs/${seed}/m.txt"
    shell: true
    matrix:
      seed: ${params.seeds}
    outs: ["runs/${seed}"]
  stats:
    cmd: "echo stats >> \"$COUNTER\"; cat runs/*/m.txt > stats.txt"
    shell: true
    deps: [runs]
    outs: [stats.txt]
"#;

const SHRUNK: &str = "seeds: [1, 2]\nprofiles";

/// The key `repro.lock` records for `instance` under `profile`.
fn key_of(ws: &Ws, profile: &str, instance: &str) -> String {
    let lock = ws.read("repro.lock");
    let head = format!("[{profile}] {instance}\n");
    let at = lock
        .find(&head)
        .unwrap_or_else(|| panic!("no {head:?} in:\n{lock}"));
    lock[at + head.len()..]
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("key "))
        .unwrap_or_else(|| panic!("no key after {head:?}"))
        .to_owned()
}

#[test]
fn a_seed_removed_from_the_matrix_is_no_longer_read_by_the_dependent() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    assert_eq!(ws.read("stats.txt"), "r1\nr2\nr3\n");
    ws.edit_pipeline("seeds: [1, 2, 3]\nprofiles", SHRUNK);

    // Before the run: every check says the table would count seed 3.
    let st = ws.code(&["status", "--check"], 1);
    assert!(
        st.stdout.contains("orphan   runs/3: output of an instance no longer in the pipeline, read by `stats`; the next run removes it"),
        "{}",
        st.both()
    );
    assert!(
        st.stdout.contains("run      stats: dep `runs` changed"),
        "the key shown is the one the run will find:\n{}",
        st.both()
    );
    let v = ws.code(&["verify"], 1);
    assert!(v.both().contains("reads `runs/3`"), "{}", v.both());

    let out = ws.ok(&["run"]);
    assert!(
        out.stderr.contains("removed `runs/3`"),
        "the run says what it removed:\n{}",
        out.both()
    );
    assert!(!ws.root.join("runs/3").exists());
    assert_eq!(ws.read("stats.txt"), "r1\nr2\n");
    assert_eq!(ws.count("stats"), 2);
    ws.ok(&["status", "--check"]);
    ws.ok(&["verify"]);

    // A clean checkout of the same pipeline gets the same keys.
    let clean = Ws::new(&PIPELINE.replace("seeds: [1, 2, 3]\nprofiles", SHRUNK));
    clean.ok(&["run"]);
    for id in ["stats", "gen@seed=1", "gen@seed=2"] {
        assert_eq!(
            key_of(&ws, "default", id),
            key_of(&clean, "default", id),
            "{id}"
        );
    }

    // Seed 3 comes back: restored from the cache, not run again.
    ws.edit_pipeline(SHRUNK, "seeds: [1, 2, 3]\nprofiles");
    ws.ok(&["run"]);
    assert_eq!(ws.count("gen-3"), 1);
    assert_eq!(ws.read("stats.txt"), "r1\nr2\nr3\n");
}

#[test]
fn switching_to_a_smaller_profile_hides_the_other_profiles_runs() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    let small = ws.ok(&["run", "-p", "small"]);
    assert!(
        small.stderr.contains("removed `runs/2`"),
        "{}",
        small.both()
    );
    assert_eq!(ws.read("stats.txt"), "r1\n");
    ws.ok(&["status", "--check", "-p", "small"]);
    // Back to the full profile: its runs come back from the cache, nothing is re-run.
    ws.ok(&["run"]);
    assert_eq!(ws.read("stats.txt"), "r1\nr2\nr3\n");
    for seed in ["gen-1", "gen-2", "gen-3"] {
        assert_eq!(ws.count(seed), 1, "{seed}");
    }
    assert_eq!(ws.count("stats"), 2, "the full profile's stats is restored");
}

#[test]
fn a_file_the_user_placed_under_a_dependency_directory_is_an_input_and_is_kept() {
    let ws = Ws::new(PIPELINE);
    ws.write("runs/mine/m.txt", "hand\n");
    ws.ok(&["run"]);
    assert_eq!(ws.read("stats.txt"), "r1\nr2\nr3\nhand\n");
    ws.edit_pipeline("seeds: [1, 2, 3]\nprofiles", SHRUNK);
    ws.ok(&["run"]);
    assert_eq!(ws.read("stats.txt"), "r1\nr2\nhand\n");
    ws.ok(&["gc", "--orphans"]);
    assert_eq!(ws.read("runs/mine/m.txt"), "hand\n", "never removed");
    let st = ws.ok(&["status"]);
    assert!(!st.stdout.contains("orphan"), "{}", st.both());
    // It is an input like any other: changing it re-runs the dependent.
    ws.write("runs/mine/m.txt", "edited\n");
    ws.ok(&["run"]);
    assert_eq!(ws.read("stats.txt"), "r1\nr2\nedited\n");
}

#[test]
fn an_orphan_that_differs_from_what_repro_wrote_stops_the_run_and_is_kept() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    ws.write("runs/3/m.txt", "edited by hand\n");
    ws.edit_pipeline("seeds: [1, 2, 3]\nprofiles", SHRUNK);
    let out = ws.code(&["run"], 2);
    assert!(
        out.stderr.contains("`runs/3` (read by `stats`)") && out.stderr.contains("rm -r runs/3"),
        "names the path and the way out:\n{}",
        out.both()
    );
    assert_eq!(ws.read("runs/3/m.txt"), "edited by hand\n");
    assert_eq!(ws.count("stats"), 1, "nothing ran");
    let dry: serde_json::Value =
        serde_json::from_str(&ws.ok(&["gc", "-n", "--orphans", "--json"]).stdout).unwrap();
    assert_eq!(
        (&dry["orphans_kept"], &dry["dry_run"]),
        (&serde_json::json!(["runs/3"]), &serde_json::json!(true)),
        "{dry}"
    );
    let gc = ws.ok(&["gc", "--orphans"]);
    assert!(
        gc.stdout.contains("kept orphaned output `runs/3`"),
        "{}",
        gc.both()
    );
    std::fs::remove_dir_all(ws.root.join("runs/3")).expect("rm");
    ws.ok(&["run"]);
    assert_eq!(ws.read("stats.txt"), "r1\nr2\n");
}

#[test]
fn what_a_failed_attempt_left_is_never_read_once_its_instance_left() {
    // Seed 3 fails after writing half its output: the bytes were never published, so they are
    // not repro's to remove, but the dependent must not read them either.
    let ws = Ws::new(&PIPELINE.replace(
        "echo r${seed} > runs/${seed}/m.txt\"",
        "echo r${seed} > runs/${seed}/m.txt; test ${seed} != 3\"",
    ));
    ws.code(&["run", "--keep-going"], 1);
    assert!(
        ws.root.join("runs/3/m.txt").exists(),
        "the attempt left its file"
    );
    ws.edit_pipeline("seeds: [1, 2, 3]\nprofiles", SHRUNK);
    let out = ws.code(&["run"], 2);
    assert!(out.stderr.contains("`runs/3`"), "{}", out.both());
    assert_eq!(ws.count("stats"), 0);
}

#[test]
fn gc_removes_orphans_nothing_reads_only_when_asked() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    // Without `stats`, nothing reads the runs: seed 3 stays until gc is asked to remove it.
    let text = ws.read("pipeline.yaml");
    let cut = text.find("  stats:").expect("stats");
    ws.write(
        "pipeline.yaml",
        &text[..cut].replace("seeds: [1, 2, 3]\nprofiles", SHRUNK),
    );
    ws.ok(&["run"]);
    assert!(ws.root.join("runs/3/m.txt").exists());
    let st = ws.ok(&["status"]);
    assert!(
        st.stdout
            .contains("2 output(s) of instances not in this pipeline"),
        "runs/3 and stats.txt:\n{}",
        st.both()
    );
    ws.ok(&["gc"]);
    assert!(
        ws.root.join("runs/3/m.txt").exists(),
        "plain gc leaves the workspace alone"
    );
    let dry: serde_json::Value =
        serde_json::from_str(&ws.ok(&["gc", "-n", "--orphans", "--json"]).stdout).unwrap();
    assert!(
        dry["orphans_removed"]
            .as_array()
            .is_some_and(|a| a.contains(&serde_json::json!("runs/3"))),
        "{dry}"
    );
    assert!(ws.root.join("runs/3/m.txt").exists(), "-n removed nothing");
    let gc = ws.ok(&["gc", "--orphans"]);
    assert!(
        gc.stdout.contains("removed orphaned output `runs/3`"),
        "{}",
        gc.both()
    );
    assert!(!ws.root.join("runs/3").exists());
    assert!(!ws.root.join("stats.txt").exists());
}

#[test]
fn a_local_run_that_refuses_for_live_batch_jobs_sweeps_nothing_first() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    ws.edit_pipeline("seeds: [1, 2, 3]\nprofiles", SHRUNK);
    // A batch job of this workspace holds the writers' lock shared while it runs.
    let lock = std::fs::File::create(ws.root.join(".repro/writers.lock")).unwrap();
    lock.lock_shared().unwrap();
    let out = ws.code(&["run"], 2);
    assert!(out.stderr.contains(".repro/writers.lock"), "{}", out.both());
    assert!(
        ws.root.join("runs/3/m.txt").exists(),
        "the orphan was removed by a run that then refused:\n{}",
        out.both()
    );
    drop(lock);
    let out = ws.ok(&["run"]);
    assert!(out.stderr.contains("removed `runs/3`"), "{}", out.both());
    assert!(!ws.root.join("runs/3").exists());
}
