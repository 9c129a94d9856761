//! `s3://` remotes against a real S3-compatible server (`s3s-fs`, `scripts/remote-s3.sh`):
//! push from one workspace and pull into a fresh checkout (byte-identical outputs, `status
//! --check` clean, nothing runs); a corrupted or truncated object refused and named; wrong
//! credentials refused by the server's SigV4 check with a clear error, the secret never
//! printed and nothing written; conditional record creation (`If-None-Match: *`); a record
//! compared by its `ETag`; two concurrent pushers.

use std::fs;

use repro::remote::{S3Credentials, S3Endpoint, S3Remote, Transport};
use repro::settings::S3Addressing;

use crate::common::{wait_limited, Ws};
use crate::s3_server::{S3Server, KEY, SECRET};
use crate::server::{
    digest_of, files_under, fresh_copy, lock_key, overwrite, produced, remote_object_with,
};

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
fn s3_push_then_pull_into_a_fresh_checkout_gives_identical_outputs_and_a_clean_status() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    let ws = produced();
    let out = s3.ok(&ws, &["push", "-r", &s3.url]);
    assert!(
        out.stdout.contains("3 of 3 records, 8 of 8 objects"),
        "{}",
        out.both()
    );
    let again = s3.ok(&ws, &["push", "-r", &s3.url]);
    assert!(
        again
            .stdout
            .contains("0 of 3 records, 0 of 8 objects (0 bytes) uploaded"),
        "a no-op push uploads nothing: {}",
        again.both()
    );
    assert!(s3.files().join("VERSION").is_file());

    let copy = fresh_copy(&ws);
    let st = s3.ok(&copy, &["status", "--remote", &s3.url]);
    assert!(
        st.stdout
            .contains("3 of 3 instances in `repro.lock` present"),
        "{}",
        st.both()
    );
    let ran = ws.ran().len();
    let pulled = s3.ok(&copy, &["pull", "-r", &s3.url]);
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
}

#[test]
fn s3_a_corrupted_or_truncated_object_is_refused_and_named() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    let ws = produced();
    s3.ok(&ws, &["push", "-r", &s3.url]);
    let object = remote_object_with(&s3.files(), b"extra-1\n");
    let d = digest_of(&object);
    let key = lock_key(&ws, "gen@n=1");
    let copy = fresh_copy(&ws);
    for (damage, what) in [(&b"extra-7\n"[..], "corrupted"), (&b"ext"[..], "truncated")] {
        overwrite(&object, damage);
        let out = s3.run(&copy, &["pull", "-r", &s3.url]);
        assert_eq!(out.code, 1, "{what}: {}", out.both());
        assert!(
            out.stdout
                .contains(&format!("object `{d}` on the remote is corrupt"))
                && out.stdout.contains("gen@n=1: record"),
            "{what}: {}",
            out.both()
        );
        assert!(
            out.stderr.contains("the workspace is unchanged"),
            "{what}: {}",
            out.both()
        );
        for f in ["data/1", "data/2", "sum.txt"] {
            assert!(!copy.root.join(f).exists(), "{what}: {f} was restored");
        }
        assert!(!copy
            .root
            .join("cache/objects")
            .join(&d[..2])
            .join(&d[2..])
            .exists());
        assert!(!copy.root.join(format!("cache/actions/{key}.json")).exists());
    }
}

#[test]
fn s3_wrong_credentials_are_a_clear_error_naming_the_remote_and_nothing_is_written() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    let ws = produced();
    let wrong = "wrong-secret-d41d8";
    let out = wait_limited(
        s3.command_with(&ws, wrong, &["push", "-r", &s3.url])
            .spawn()
            .unwrap(),
    );
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains(&format!(
            "remote `{}` refused the credentials (HTTP 403)",
            s3.url
        )) && out.stderr.contains("hint: set `AWS_ACCESS_KEY_ID`"),
        "{}",
        out.both()
    );
    assert!(
        !out.both().contains(wrong) && !out.both().contains(SECRET),
        "{}",
        out.both()
    );
    assert!(
        !out.both().contains("X-Amz-Signature"),
        "no signed URL is printed: {}",
        out.both()
    );
    assert!(files_under(&s3.files()).is_empty(), "something was written");
    // A pull with the wrong secret is refused the same way and leaves the workspace alone.
    s3.ok(&ws, &["push", "-r", &s3.url]);
    let copy = fresh_copy(&ws);
    let out = wait_limited(
        s3.command_with(&copy, wrong, &["pull", "-r", &s3.url])
            .spawn()
            .unwrap(),
    );
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(!out.both().contains(wrong), "{}", out.both());
    assert!(copy.objects().is_empty(), "nothing entered the store");
    assert!(!copy.root.join("sum.txt").exists());
}

/// The server's `s3://repro/cache/` as a transport, signing with the tests' credentials.
fn remote_of(s3: &S3Server) -> S3Remote {
    let endpoint = S3Endpoint {
        endpoint: s3.endpoint.clone(),
        region: "us-east-1".into(),
        addressing: S3Addressing::Path,
    };
    let creds = S3Credentials {
        key: KEY.into(),
        secret: SECRET.into(),
        token: None,
    };
    S3Remote::new("repro", "cache/", &endpoint, Some(&creds), 2).unwrap()
}

#[test]
fn s3_a_record_is_created_only_where_none_is() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    let remote = remote_of(&s3);
    assert!(!remote.exists("actions/k.json").unwrap());
    assert_eq!(remote.read("actions/k.json", 64).unwrap(), None);
    assert!(remote.create("actions/k.json", b"first").unwrap());
    assert!(
        !remote.create("actions/k.json", b"second").unwrap(),
        "the server refused the second conditional write"
    );
    assert_eq!(
        remote.read("actions/k.json", 64).unwrap().as_deref(),
        Some(&b"first"[..])
    );
    assert!(remote.exists("actions/k.json").unwrap());
    let e = remote.read("actions/k.json", 2).unwrap_err().to_string();
    assert!(e.contains("larger than 2 bytes"), "{e}");
    assert_eq!(remote.requests(), 7);
}

#[test]
fn s3_a_remote_record_equal_to_the_local_one_is_recognised_by_its_etag_alone() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    let remote = remote_of(&s3);
    assert_eq!(remote.holds("actions/k.json", b"record", 64).unwrap(), None);
    assert!(remote.create("actions/k.json", b"record").unwrap());
    let before = remote.requests();
    assert_eq!(
        remote.holds("actions/k.json", b"record", 64).unwrap(),
        Some(true)
    );
    assert_eq!(remote.requests() - before, 1, "one HEAD, no GET");
    // Another record under the key: the ETag differs, the body is read and compared.
    let before = remote.requests();
    assert_eq!(
        remote.holds("actions/k.json", b"forged", 64).unwrap(),
        Some(false)
    );
    assert_eq!(remote.requests() - before, 2, "a HEAD, then a GET");
}

#[test]
fn s3_two_concurrent_pushers_leave_a_remote_that_pulls_cleanly() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    let a = produced();
    // The second pusher has the same keys with records of its own (new times), and one
    // instance more: the extra file `data/3`.
    let b = produced();
    b.edit_pipeline("n: [1, 2]", "n: [1, 2, 3]");
    b.ok(&["run"]);
    let spawn = |ws: &Ws| {
        s3.command_with(ws, SECRET, &["push", "-j", "4", "-r", &s3.url])
            .spawn()
            .unwrap()
    };
    let (pa, pb) = (spawn(&a), spawn(&b));
    let (oa, ob) = (wait_limited(pa), wait_limited(pb));
    assert_eq!(oa.code, 0, "{}", oa.both());
    assert_eq!(ob.code, 0, "{}", ob.both());
    for ws in [&a, &b] {
        let copy = fresh_copy(ws);
        s3.ok(&copy, &["pull", "-r", &s3.url]);
        copy.ok(&["status", "--check"]);
        assert_same_outputs(ws, &copy);
    }
    let key = lock_key(&a, "sum");
    assert!(s3.files().join(format!("actions/{key}.json")).is_file());
}
