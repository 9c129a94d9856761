//! `repro init [DIR]`: start a workspace: a commented two-stage `pipeline.yaml` that
//! `repro run` runs as it is (`starter.yaml` beside this file, which a test loads and expands)
//! and the `.gitignore` lines for what must not be committed: the engine's `.repro/`, the
//! contents of the content store `cache/`, the site file `repro.local.yaml` and the starter's
//! declared outputs (`data/`, `results/`).
//!
//! How it works: an existing `pipeline.yaml` is never overwritten (the command refuses, exit
//! 2, before writing anything); the file is created with `create_new`, so a race with another
//! writer cannot overwrite it either. An existing `.gitignore` is kept, and only the lines it
//! does not already hold (compared without surrounding spaces) are appended.
//!
//! Limits: equivalent ignore rules written differently (`.repro` for `/.repro/`) are not
//! recognised and are appended again in the canonical form.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::CliError;

/// The starter pipeline.
pub(crate) const STARTER: &str = include_str!("starter.yaml");

/// The `.gitignore` lines `init` makes sure of.
const IGNORES: [&str; 5] = [
    "/.repro/",
    "/cache/*",
    "/repro.local.yaml",
    "/data/",
    "/results/",
];

/// `repro init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The workspace directory (default: the current one); created if missing.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

pub(crate) fn init(cli: &super::Cli, a: &InitArgs) -> Result<(), CliError> {
    if let Some(f) = &cli.file {
        return Err(CliError::User {
            message: format!(
                "`repro init` writes `pipeline.yaml` into a directory; `-f {}` names no directory",
                f.display()
            ),
            hint: Some("name the directory instead: `repro init DIR`".into()),
        });
    }
    let io = |p: &Path, e: std::io::Error| {
        CliError::user(format!("failed to write `{}`: {e}", p.display()))
    };
    // `repro init` names `pipeline.yaml`, not `./pipeline.yaml`.
    let here = a.dir == Path::new(".");
    let in_dir = |name: &str| {
        if here {
            PathBuf::from(name)
        } else {
            a.dir.join(name)
        }
    };
    let pipeline = in_dir("pipeline.yaml");
    if pipeline.exists() {
        return Err(exists(&pipeline));
    }
    std::fs::create_dir_all(&a.dir).map_err(|e| io(&a.dir, e))?;
    let mut f = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&pipeline)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists(&pipeline)),
        Err(e) => return Err(io(&pipeline, e)),
    };
    f.write_all(STARTER.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| io(&pipeline, e))?;
    let gitignore = in_dir(".gitignore");
    let old = match std::fs::read_to_string(&gitignore) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io(&gitignore, e)),
    };
    let (text, added) = with_ignores(&old);
    if added > 0 {
        crate::cache::atomic::write(&gitignore, text.as_bytes()).map_err(|e| io(&gitignore, e))?;
    }
    let _ = writeln!(
        std::io::stderr().lock(),
        "repro: wrote `{}` (stages `generate` and `summarize`, profiles `quick` and `full`) and {} line{} to `{}`\nnext: `repro run`, then commit `pipeline.yaml`, `.gitignore` and `repro.lock`",
        pipeline.display(),
        added,
        if added == 1 { "" } else { "s" },
        gitignore.display()
    );
    Ok(())
}

fn exists(pipeline: &Path) -> CliError {
    CliError::User {
        message: format!(
            "`{}` exists already; refusing to overwrite it",
            pipeline.display()
        ),
        hint: Some(
            "remove it first to start over, or run `repro init` in another directory".into(),
        ),
    }
}

/// `old` (a `.gitignore`'s text) with the missing [`IGNORES`] appended under a comment, and how
/// many were added.
fn with_ignores(old: &str) -> (String, usize) {
    let have: Vec<&str> = old.lines().map(str::trim).collect();
    let missing: Vec<&str> = IGNORES.into_iter().filter(|l| !have.contains(l)).collect();
    if missing.is_empty() {
        return (old.to_owned(), 0);
    }
    let mut text = old.to_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# repro: the engine's state, the cache's contents, this machine's settings and the outputs\n");
    for l in &missing {
        text.push_str(l);
        text.push('\n');
    }
    (text, missing.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_loads_and_expands_in_both_profiles() {
        for (profile, n) in [(None, 2), (Some("full"), 3)] {
            let p = crate::spec::parse(Path::new("pipeline.yaml"), STARTER, profile)
                .unwrap_or_else(|e| panic!("{e}"));
            let g = crate::graph::build(&p).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(g.instances.len(), n, "{profile:?}");
        }
    }

    #[test]
    fn ignores_are_appended_once() {
        let (text, n) = with_ignores("target\n/.repro/");
        assert_eq!(n, 4);
        assert!(text.starts_with("target\n/.repro/\n# repro"), "{text}");
        assert_eq!(text.matches("/.repro/").count(), 1);
        assert_eq!(with_ignores(&text), (text.clone(), 0));
    }
}
