//! Moving the checkout: keys hold no absolute paths and no mtimes, so a copy of the whole
//! workspace at another path (new inodes, new mtimes) is entirely fresh.

use std::path::Path;
use std::process::Command;

use crate::common::{command_in, run_limited, Ws};

const PIPELINE: &str = r#"version: 1
stages:
  gen:
    cmd: "echo gen-${n} >> \"$COUNTER\"; mkdir -p data/${n}; echo ${n} > data/${n}/v.txt"
    shell: true
    matrix:
      n: [1, 2]
    code: ["tools/*.sh"]
    outs: ["data/${n}"]
  sum:
    cmd: "echo sum >> \"$COUNTER\"; sh tools/sum.sh > sum.txt"
    shell: true
    deps: [data]
    code: ["tools/*.sh"]
    outs: [sum.txt]
"#;

fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-R")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn copied_checkout_at_another_path_is_fresh() {
    let ws = Ws::new(PIPELINE);
    ws.write("tools/sum.sh", "cat data/*/v.txt\n");
    ws.ok(&["run"]);
    let elsewhere = ws.tmp().join("deeper/moved-ws");
    std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
    // Make sure mtimes differ from the originals.
    std::thread::sleep(std::time::Duration::from_millis(20));
    copy_tree(&ws.root, &elsewhere);

    let st = run_limited(command_in(&elsewhere, &ws.counter, &["status", "--check"]));
    assert_eq!(st.code, 0, "{}", st.both());
    let run = run_limited(command_in(&elsewhere, &ws.counter, &["run"]));
    assert!(
        run.stderr
            .contains("nothing to do: all 3 instances are up to date"),
        "{}",
        run.both()
    );
    let v = run_limited(command_in(&elsewhere, &ws.counter, &["verify"]));
    assert_eq!(v.code, 0, "{}", v.both());
    assert_eq!(ws.ran().len(), 3, "nothing ran in the copy");
    let lock_a = ws.read("repro.lock");
    let lock_b = std::fs::read_to_string(elsewhere.join("repro.lock")).unwrap();
    assert_eq!(lock_a, lock_b);
    assert!(
        !lock_a.contains(ws.tmp().to_str().unwrap()),
        "repro.lock holds an absolute path"
    );
}

#[test]
fn a_fresh_clone_with_only_the_lock_and_the_cache_restores_everything() {
    let ws = Ws::new(PIPELINE);
    ws.write("tools/sum.sh", "cat data/*/v.txt\n");
    ws.ok(&["run"]);
    let clone = ws.tmp().join("clone");
    std::fs::create_dir_all(&clone).unwrap();
    for f in ["pipeline.yaml", "repro.lock", "tools", "cache"] {
        copy_tree(&ws.root.join(f), &clone.join(f));
    }
    let run = run_limited(command_in(&clone, &ws.counter, &["run"]));
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stderr.contains("0 ran, 3 restored"), "{}", run.both());
    assert_eq!(
        std::fs::read_to_string(clone.join("sum.txt")).unwrap(),
        "1\n2\n"
    );
    assert_eq!(ws.ran().len(), 3);
}
