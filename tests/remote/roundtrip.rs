//! Push from one workspace, pull into a fresh checkout: outputs byte-identical, nothing runs,
//! `status --check` clean; a no-op push uploads nothing; concurrent pushers; a different record
//! for a key is never overwritten; the remote chosen from `repro.local.yaml` and `REPRO_REMOTE`.

use std::fs;

use crate::common::{command_in, run_limited, wait_limited, Ws};
use crate::server::{files_under, fresh_copy, lock_key, produced, Nginx};

fn assert_same_outputs(a: &Ws, b: &Ws) {
    for f in [
        "data/1/v.txt",
        "data/1/w.txt",
        "data/2/v.txt",
        "data/2/w.txt",
        "sum.txt",
    ] {
        assert_eq!(
            fs::read(a.root.join(f)).unwrap(),
            fs::read(b.root.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn push_then_pull_into_a_fresh_checkout_gives_identical_outputs_and_a_clean_status() {
    let Some(nginx) = Nginx::start(None) else {
        return;
    };
    let ws = produced();
    let out = ws.ok(&["push", "-r", &nginx.url]);
    assert!(
        out.stdout.contains("3 of 3 records, 8 of 8 objects"),
        "{}",
        out.both()
    );
    let before = nginx.requests();
    let again = ws.ok(&["push", "-r", &nginx.url]);
    assert!(
        again
            .stdout
            .contains("0 of 3 records, 0 of 8 objects (0 bytes) uploaded"),
        "a no-op push uploads nothing: {}",
        again.both()
    );
    let puts = fs::read_to_string(nginx.files().join("../../access.log"))
        .unwrap()
        .lines()
        .skip(before)
        .filter(|l| l.contains("\"PUT "))
        .count();
    assert_eq!(puts, 0, "a no-op push sends no PUT");

    let copy = fresh_copy(&ws);
    let st = copy.ok(&["status", "--remote", &nginx.url]);
    assert!(
        st.stdout
            .contains("3 of 3 instances in `repro.lock` present"),
        "{}",
        st.both()
    );
    let ran = ws.ran().len();
    let pulled = copy.ok(&["pull", "-r", &nginx.url]);
    assert!(
        pulled.stdout.contains("3 records (0 already here) of 3")
            && pulled.stdout.contains("restored 3 instance(s)"),
        "{}",
        pulled.both()
    );
    copy.ok(&["status", "--check"]);
    copy.ok(&["verify"]);
    assert_same_outputs(&ws, &copy);
    assert_eq!(ws.ran().len(), ran, "nothing ran in the fresh checkout");
    // Pulling again finds everything here and changes nothing.
    let again = copy.ok(&["pull", "-r", &nginx.url]);
    assert!(
        again.stdout.contains("0 records (3 already here) of 3"),
        "{}",
        again.both()
    );
    let nothing_left = files_under(&nginx.files())
        .into_iter()
        .filter(|f| f.contains(".tmp"))
        .count();
    assert_eq!(nothing_left, 0);
}

#[test]
fn a_file_remote_named_in_the_site_file_round_trips_and_keeps_a_different_record() {
    let ws = produced();
    let remote = ws.tmp().join("shared-remote");
    ws.write(
        "repro.local.yaml",
        &format!(
            "remote:\n  default: lab\n  named:\n    lab: file://{}\n",
            remote.display()
        ),
    );
    ws.ok(&["push"]);
    let key = lock_key(&ws, "sum");
    let record = remote.join(format!("actions/{key}.json"));
    let first = fs::read(&record).unwrap();
    // A forced re-run writes another record (new times) for the same key.
    ws.ok(&["run", "--force", "sum"]);
    let out = ws.ok(&["push"]);
    assert!(
        out.stderr
            .contains("sum: the remote already holds a different record for key")
            && out.stderr.contains("not overwritten"),
        "{}",
        out.both()
    );
    assert_eq!(fs::read(&record).unwrap(), first, "the record was kept");

    let copy = fresh_copy(&ws);
    let mut pull = command_in(&copy.root, &copy.counter, &["pull"]);
    pull.env("REPRO_REMOTE", format!("file://{}", remote.display()));
    let out = run_limited(pull);
    assert_eq!(out.code, 0, "{}", out.both());
    copy.ok(&["status", "--check"]);
    assert_same_outputs(&ws, &copy);
}

#[test]
fn two_concurrent_pushers_leave_a_remote_that_pulls_cleanly() {
    let Some(nginx) = Nginx::start(None) else {
        return;
    };
    let a = produced();
    // The second pusher has the same keys with records of its own (new times), and one
    // instance more: the extra file `data/3`.
    let b = produced();
    b.edit_pipeline("n: [1, 2]", "n: [1, 2, 3]");
    b.ok(&["run"]);
    let spawn = |ws: &Ws| {
        command_in(
            &ws.root,
            &ws.counter,
            &["push", "-j", "4", "-r", &nginx.url],
        )
        .spawn()
        .unwrap()
    };
    let (pa, pb) = (spawn(&a), spawn(&b));
    let (oa, ob) = (wait_limited(pa), wait_limited(pb));
    assert_eq!(oa.code, 0, "{}", oa.both());
    assert_eq!(ob.code, 0, "{}", ob.both());
    for ws in [&a, &b] {
        let copy = fresh_copy(ws);
        copy.ok(&["pull", "-r", &nginx.url]);
        copy.ok(&["status", "--check"]);
        assert_same_outputs(ws, &copy);
    }
}
