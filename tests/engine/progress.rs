//! Progress inside long runs: a stage's `progress:` pattern is followed in its log while it
//! runs (alone or as a pack member), the time left comes from earlier durations, `run -n`
//! prints the expected work per stage, and a bad pattern is a located error. Display only: the
//! pattern is never part of a key. During a run, `status` says which instance runs (pid,
//! since) and `logs --follow` prints a running attempt's log as it grows, until it ends.

use crate::common::{lines_with, wait_for, wait_limited, Ws};

const PIPELINE: &str = r#"version: 1
stages:
  fit:
    cmd: "echo start; echo epoch 1/3 loss 0.9; sleep 1.5; echo epoch 2/3 loss 0.5; sleep 0.3; echo ${n} > out/${n}.txt"
    shell: true
    matrix: {n: [a, b]}
    progress: 'epoch (?P<done>\d+)/(?P<total>\d+) loss (?P<loss>\S+)'
    outs: ["out/${n}.txt"]
"#;

fn ws() -> Ws {
    let ws = Ws::new(PIPELINE);
    ws.write("out/.keep", "");
    ws
}

#[test]
fn a_running_instance_shows_what_its_progress_pattern_last_matched() {
    let ws = ws();
    let out = ws.ok(&["run", "-j", "2"]);
    for n in ["a", "b"] {
        let lines = lines_with(&out.stderr, &format!("progress  fit@n={n}: "));
        assert!(
            lines.iter().any(|l| l.ends_with("1/3 loss 0.9")),
            "no progress line for {n}:\n{}",
            out.stderr
        );
    }
}

#[test]
fn the_time_left_comes_from_earlier_runs_and_the_dry_run_totals_it() {
    let ws = ws();
    let first = ws.ok(&["run", "-j", "1"]);
    assert!(
        !first.stderr.contains("earlier runs suggest"),
        "no history yet:\n{}",
        first.stderr
    );
    let second = ws.ok(&["run", "-j", "1", "--force", "fit"]);
    let said = lines_with(&second.stderr, "earlier runs suggest");
    assert_eq!(said.len(), 1, "{}", second.stderr);
    assert!(said[0].contains("of work"), "{}", said[0]);
    // Each run took about 1.8 s: 3.6 s of work on one slot.
    assert!(
        lines_with(&second.stderr, "finished  fit@n=")
            .iter()
            .any(|l| l.contains(" left)")),
        "{}",
        second.stderr
    );
    let dry = ws.ok(&["run", "-n", "--force", "fit"]);
    let total = lines_with(&dry.stdout, "expected  fit: ");
    assert_eq!(total.len(), 1, "{}", dry.stdout);
    assert!(total[0].contains("fit: 2 to run, about"), "{}", total[0]);
}

#[test]
fn the_pattern_is_never_part_of_a_key() {
    let ws = ws();
    ws.ok(&["run", "-j", "2"]);
    ws.edit_pipeline("loss (?P<loss>\\S+)'", "loss'");
    let again = ws.ok(&["run"]);
    assert!(again.stderr.contains("nothing to do"), "{}", again.stderr);
}

#[test]
fn an_invalid_pattern_is_a_located_error() {
    let ws = Ws::new(&PIPELINE.replace("(?P<loss>\\S+)'", "(?P<loss>\\S+'"));
    let out = ws.code(&["run"], 2);
    assert!(
        out.stderr.contains("`pipeline.yaml` at 7:")
            && out.stderr.contains("field `stages.fit.progress`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("not a valid regular expression"),
        "{}",
        out.stderr
    );
}

#[test]
fn during_a_run_status_names_the_running_instance_and_logs_follow_tails_it_to_its_end() {
    let ws = Ws::new(
        r#"version: 1
stages:
  slow:
    cmd: "echo first line; sleep 2; echo last line; echo done > out/x.txt"
    shell: true
    outs: [out/x.txt]
"#,
    );
    ws.write("out/.keep", "");
    let run = ws.command(&["run"]).spawn().unwrap();
    let log = ws.root.join(".repro/logs/slow.log");
    wait_for(60, "the attempt's log", || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("first line"))
    });
    let status = ws.repro(&["status"]);
    let line = lines_with(&status.stdout, "slow:");
    assert!(
        line.len() == 1 && line[0].starts_with("running  slow: (pid ") && line[0].contains(" UTC)"),
        "{}",
        status.both()
    );
    let followed = ws.ok(&["logs", "--follow", "slow"]);
    assert!(
        followed.stdout.contains("first line\n") && followed.stdout.contains("last line\n"),
        "{}",
        followed.both()
    );
    assert!(followed
        .stderr
        .contains("following the attempt running (pid "));
    let run = wait_limited(run);
    assert_eq!(run.code, 0, "{}", run.both());
    let after = ws.ok(&["logs", "-f", "slow"]);
    assert!(
        after.stderr.contains("is not running here now"),
        "{}",
        after.both()
    );
    assert!(!ws.ok(&["status"]).stdout.contains("running (pid"));
}
