//! The manifest of `train --pack MANIFEST`, written by the engine: the type is
//! [`repro_manifest::PackManifest`], which the engine writes and this trainer reads, so the two
//! cannot drift apart (its module documents the format and its errors).
//!
//! What this trainer takes from a member: `instance`, which prefixes every message about it;
//! `cmd`, the exact argv of the member's single run (argv[0] the binary), parsed with the
//! single run's clap [`Args`](crate::cli::Args); and `done`, if given, created once the
//! member's files are complete (the engine publishes the members whose `done` exists even when
//! another member failed). The other fields (`key`, `matrix`, `params`, `env`, `outs`, and any
//! the engine may add later) are not used: like a single run, which never writes its
//! `REPRO_KEY` into an output, a member's files hold no key, so that a re-run with a new key
//! but the same result leaves them byte-identical.
//!
//! A manifest that cannot be read, is not JSON of this shape, or lists no members is a user
//! error (exit 2) and nothing is written.

pub use repro_manifest::{ManifestError, PackManifest, PackMember};

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn the_trainer_reads_what_the_engine_writes_and_ignores_the_key() {
        let text = r#"{"members": [
{"instance":"a","key":"abc","matrix":{"seed":"1"},"params":{"lr":0.1},"env":{},"cmd":["train","--out","x"],"outs":["x"],"done":".repro/packs/p/0.done"},
{"instance":"b","key":null,"cmd":["train"],"future":1}
]}
"#;
        let m = PackManifest::parse(text, Path::new("m.json")).unwrap();
        assert_eq!(m.members.len(), 2);
        assert_eq!(m.members[0].cmd, ["train", "--out", "x"]);
        assert_eq!(
            m.members[0].done.as_deref(),
            Some(Path::new(".repro/packs/p/0.done"))
        );
        assert_eq!(m.members[1].instance, "b");
    }

    #[test]
    fn bad_json_and_empty_manifests_name_the_file() {
        let e = PackManifest::parse(
            "{\"members\": [\n  {\"instance\": 1}]}",
            Path::new("m.json"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("failed to parse manifest `m.json` at 2:"),
            "{e}"
        );
        let e = PackManifest::parse(r#"{"members": []}"#, Path::new("m.json"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "failed to use manifest `m.json`: it lists no members");
    }
}
