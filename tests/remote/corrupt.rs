//! What a pull refuses: a corrupted object, a truncated one (served with 200), a record whose
//! inputs do not hash to its key or whose outputs are not the lock's, a record whose
//! objects are missing on the remote. Each is named, the command exits 1, nothing of the
//! damaged instance enters the store and the workspace is left as it was.

use std::fs;

use crate::common::Ws;
use crate::server::{
    digest_of, fresh_copy, lock_key, overwrite, produced, remote_object_with, Nginx,
};

/// Pulls `copy` from `url`, expecting exit 1 and that `needle` is said; returns stdout.
fn refused(copy: &Ws, url: &str, needle: &str) -> String {
    let out = copy.code(&["pull", "-r", url], 1);
    assert!(out.stdout.contains(needle), "{}", out.both());
    assert!(
        out.stderr.contains("the workspace is unchanged"),
        "{}",
        out.both()
    );
    for f in ["data/1", "data/2", "sum.txt"] {
        assert!(!copy.root.join(f).exists(), "{f} was restored");
    }
    out.stdout
}

#[test]
fn a_corrupted_object_on_the_server_is_refused_and_named() {
    let Some(nginx) = Nginx::start(None) else {
        return;
    };
    let ws = produced();
    ws.ok(&["push", "-r", &nginx.url]);
    let object = remote_object_with(&nginx.files(), b"1\n");
    overwrite(&object, b"7\n");
    let d = digest_of(&object);
    let copy = fresh_copy(&ws);
    let out = refused(
        &copy,
        &nginx.url,
        &format!("object `{d}` on the remote is corrupt"),
    );
    assert!(out.contains("gen@n=1: record"), "{out}");
    assert!(!copy
        .root
        .join("cache/objects")
        .join(&d[..2])
        .join(&d[2..])
        .exists());
    let key = lock_key(&ws, "gen@n=1");
    assert!(!copy.root.join(format!("cache/actions/{key}.json")).exists());
    // The instance that did not need it came through whole; a rerun of pull names the same.
    let key2 = lock_key(&ws, "gen@n=2");
    assert!(copy
        .root
        .join(format!("cache/actions/{key2}.json"))
        .exists());
    refused(
        &copy,
        &nginx.url,
        &format!("object `{d}` on the remote is corrupt"),
    );
}

#[test]
fn a_truncated_object_served_with_200_is_refused() {
    let Some(nginx) = Nginx::start(None) else {
        return;
    };
    let ws = produced();
    ws.ok(&["push", "-r", &nginx.url]);
    let object = remote_object_with(&nginx.files(), b"1\n2\n");
    overwrite(&object, b"1\n");
    let d = digest_of(&object);
    let copy = fresh_copy(&ws);
    let out = refused(
        &copy,
        &nginx.url,
        &format!("object `{d}` on the remote is corrupt (2 bytes"),
    );
    assert!(out.contains("sum: record"), "{out}");
}

#[test]
fn a_record_whose_objects_are_missing_on_the_remote_is_never_used() {
    let Some(nginx) = Nginx::start(None) else {
        return;
    };
    let ws = produced();
    ws.ok(&["push", "-r", &nginx.url]);
    let object = remote_object_with(&nginx.files(), b"extra-2\n");
    fs::remove_file(&object).unwrap();
    let d = digest_of(&object);
    let copy = fresh_copy(&ws);
    refused(
        &copy,
        &nginx.url,
        &format!("object `{d}` is missing on the remote"),
    );
    let key = lock_key(&ws, "gen@n=2");
    assert!(!copy.root.join(format!("cache/actions/{key}.json")).exists());
    // Without its record, the instance runs rather than being restored half.
    let before = copy.count("gen-2");
    copy.ok(&["run"]);
    assert_eq!(copy.count("gen-2"), before + 1, "gen@n=2 ran");
    assert_eq!(copy.read("data/2/w.txt"), "extra-2\n");
}

#[test]
fn a_record_whose_inputs_do_not_hash_to_its_key_or_whose_outputs_differ_is_refused() {
    let ws = crate::server::produced();
    let remote = ws.tmp().join("remote");
    let url = format!("file://{}", remote.display());
    ws.ok(&["push", "-r", &url]);
    let edit = |id: &str, change: &dyn Fn(&mut serde_json::Value)| {
        let path = remote.join(format!("actions/{}.json", lock_key(&ws, id)));
        let mut doc: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        change(&mut doc);
        overwrite(&path, &serde_json::to_vec_pretty(&doc).unwrap());
    };
    // Another command under the same key: its inputs no longer hash to it.
    edit("gen@n=1", &|d| d["inputs"]["argv"][0] = "forged".into());
    // The same key, but outputs other than the lock's.
    edit("gen@n=2", &|d| {
        let dir = d["outputs"]["data/2"].as_str().unwrap().to_owned();
        d["outputs"]["data/2"] = format!("dir:{}", "0".repeat(64).as_str()).into();
        assert_ne!(dir, d["outputs"]["data/2"]);
    });
    let copy = fresh_copy(&ws);
    let out = refused(&copy, &url, "gen@n=1: the remote's record");
    assert!(out.contains("has inputs that hash to"), "{out}");
    assert!(
        out.contains("gen@n=2: the remote's record")
            && out.contains("has outputs whose digests differ from `repro.lock`'s"),
        "{out}"
    );
    for id in ["gen@n=1", "gen@n=2"] {
        let key = lock_key(&ws, id);
        assert!(!copy.root.join(format!("cache/actions/{key}.json")).exists());
    }
}
