//! Profiles: parameter and matrix overlays, and one `repro.lock` holding every profile's
//! entries, so that switching profiles never invalidates another profile's results.

use crate::common::Ws;

const PIPELINE: &str = r#"version: 1
params:
  size: 100
  tasks: [a, b, c]
profiles:
  quick:
    default: true
    params:
      size: 5
      tasks: [a]
  full:
    description: every task
stages:
  gen:
    cmd: "echo gen-${task}-${params.size} >> \"$COUNTER\"; echo ${params.size} > out/${task}.txt"
    shell: true
    matrix:
      task: ${params.tasks}
    outs: ["out/${task}.txt"]
"#;

#[test]
fn default_profile_applies_its_overlay() {
    let ws = Ws::new(PIPELINE);
    let out = ws.ok(&["run"]);
    assert!(
        out.stderr
            .contains("1 instances selected (profile `quick`)"),
        "{}",
        out.both()
    );
    assert_eq!(ws.ran(), ["gen-a-5"]);
}

#[test]
fn switching_profiles_keeps_each_profiles_lock_entries() {
    let ws = Ws::new(PIPELINE);
    ws.ok(&["run"]);
    let full = ws.ok(&["run", "-p", "full"]);
    assert!(
        full.stderr
            .contains("3 instances selected (profile `full`)"),
        "{}",
        full.both()
    );
    let mut ran = ws.ran()[1..].to_vec();
    ran.sort();
    assert_eq!(ran, ["gen-a-100", "gen-b-100", "gen-c-100"]);
    let lock = ws.read("repro.lock");
    assert!(
        lock.contains("[quick] gen@task=a\n") && lock.contains("[full] gen@task=c\n"),
        "{lock}"
    );
    // Back to quick: its output was overwritten by `full`, so it is restored, not re-run.
    let quick = ws.ok(&["run"]);
    assert!(
        quick.stderr.contains("0 ran, 1 restored"),
        "{}",
        quick.both()
    );
    assert_eq!(ws.ran().len(), 4);
    ws.code(&["status", "--check", "-p", "full"], 1);
    let st = ws.code(&["status", "-p", "full"], 0);
    assert!(
        st.stdout.contains(
            "restore  gen@task=a: output `out/a.txt` holds the result of profile `quick`, not this profile's"
        ),
        "{}",
        st.both()
    );
    // `verify` says the same in words instead of a bare digest mismatch.
    let v = ws.code(&["verify", "-p", "full"], 1);
    assert!(
        v.stdout.contains(
            "workspace output `out/a.txt` holds the result of profile `quick`, not of profile `full` (`repro run -p full` restores"
        ),
        "{}",
        v.both()
    );
}

const SKIPPING: &str = r#"version: 1
profiles:
  small:
    default: true
    skip: [extra]
  everything:
    description: all stages
stages:
  base:
    cmd: "echo base >> \"$COUNTER\"; echo b > base.txt"
    shell: true
    outs: [base.txt]
  extra:
    cmd: "echo extra >> \"$COUNTER\"; cat base.txt > extra.txt"
    shell: true
    deps: [base.txt]
    outs: [extra.txt]
"#;

#[test]
fn a_profile_can_skip_stages_that_then_do_not_exist_under_it() {
    let ws = Ws::new(SKIPPING);
    let out = ws.ok(&["run"]);
    assert!(
        out.stderr
            .contains("1 instances selected (profile `small`)"),
        "{}",
        out.both()
    );
    assert_eq!(ws.ran(), ["base"]);
    assert!(!ws.read("repro.lock").contains("[small] extra"));
    // A skipped stage cannot be named as a target either.
    let err = ws.code(&["run", "extra"], 2);
    assert!(err.stderr.contains("extra"), "{}", err.both());
    // Another profile still has it.
    ws.ok(&["run", "-p", "everything"]);
    assert_eq!(ws.ran(), ["base", "extra"], "base is shared, not re-run");
}

#[test]
fn skipping_an_undefined_stage_is_located() {
    let ws = Ws::new(&SKIPPING.replace("skip: [extra]", "skip: [extra, nope]"));
    let err = ws.code(&["status"], 2);
    assert!(
        err.stderr.contains("`pipeline.yaml` at 5:19, field `profiles.small.skip[1]`: the profile skips stage `nope`, which is not defined (stages: base, extra)"),
        "{}",
        err.both()
    );
}

#[test]
fn a_stage_that_needs_a_skipped_stage_is_refused() {
    let ws = Ws::new(&SKIPPING.replace("skip: [extra]", "skip: [base]"));
    let err = ws.code(&["status"], 2);
    assert!(
        err.stderr.contains(
            "dependency `base.txt` of `extra` neither exists nor is produced by any stage"
        ),
        "{}",
        err.both()
    );
}
