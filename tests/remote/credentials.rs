//! Credentials: a server that requires HTTP Basic authentication refuses a wrong password with
//! a clear error that does not print it, and nothing is written; the right one (from the
//! environment or from `~/.netrc`) works.

use crate::common::{command_in, run_limited};
use crate::server::{files_under, produced, Nginx};

#[test]
fn wrong_credentials_are_a_clear_error_and_nothing_is_written() {
    let Some(nginx) = Nginx::start(Some("alice:right-secret")) else {
        return;
    };
    let ws = produced();
    let push = |user: &str, password: &str| {
        let mut c = command_in(&ws.root, &ws.counter, &["push", "-r", &nginx.url]);
        c.env("REPRO_REMOTE_USER", user)
            .env("REPRO_REMOTE_PASSWORD", password);
        run_limited(c)
    };
    let out = push("alice", "wrong-secret");
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("refused the credentials (HTTP 401)")
            && out.stderr.contains("hint: set `REPRO_REMOTE_TOKEN`"),
        "{}",
        out.both()
    );
    assert!(!out.both().contains("wrong-secret"), "{}", out.both());
    assert!(
        files_under(&nginx.files()).is_empty(),
        "something was written"
    );
    // No credentials at all: the same refusal.
    let out = run_limited(command_in(
        &ws.root,
        &ws.counter,
        &["push", "-r", &nginx.url],
    ));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(files_under(&nginx.files()).is_empty());
    // The right password from a netrc file.
    let netrc = ws.tmp().join("netrc");
    std::fs::write(
        &netrc,
        "machine 127.0.0.1 login alice password right-secret\n",
    )
    .unwrap();
    let mut c = command_in(&ws.root, &ws.counter, &["push", "-r", &nginx.url]);
    c.env("NETRC", &netrc);
    let out = run_limited(c);
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(!files_under(&nginx.files()).is_empty());
}
