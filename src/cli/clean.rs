//! `repro clean [TARGETS] [-n]`: delete the declared outputs of the profile's instances (those
//! the targets select, all by default) from the workspace. The cache keeps every result, so
//! `repro run` afterwards restores them instead of running anything; `-n` lists what would go.
//! The rules (which paths may go) live in `workspace::clean`. Like a local run, it holds the
//! workspace lock and refuses while batch jobs of the workspace may still write
//! (`writers::exclude_batch_jobs`).

use clap::Args;

use super::load::Loaded;
use super::page::{outln, Page};
use super::{Cli, CliError};

/// `repro clean`.
#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Targets (default: all), e.g. `train@task=listops`; only their own outputs go, not
    /// those of their upstream instances.
    pub targets: Vec<String>,
    /// Only list what would be deleted.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
}

pub(crate) fn clean(cli: &Cli, a: &CleanArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let chosen = loaded.targets(&a.targets)?;
    let outs = chosen
        .iter()
        .flat_map(|&i| loaded.graph.instances[i].outs.iter().map(String::as_str));
    let mut ws = if a.dry_run {
        loaded.workspace()?
    } else {
        let mut ws = loaded.workspace_exclusive()?;
        // A batch job (of a detached or killed Slurm run) may be writing these outputs.
        let settings = crate::settings::RunSettings::for_exec(&loaded.pipeline, false);
        super::writers::exclude_batch_jobs(&mut ws, settings.slurm.command_timeout.get())?;
        ws
    };
    let paths = ws.clean_plan(outs).map_err(|e| CliError::User {
        message: e.to_string(),
        hint: Some(
            "declare outputs as plain paths inside the workspace, outside `cache/` and `.repro/`"
                .into(),
        ),
    })?;
    if !a.dry_run {
        ws.clean(&paths)?;
    }
    let mut page = Page::default();
    for p in &paths {
        outln!(
            page,
            "{}{p}",
            if a.dry_run {
                "would delete "
            } else {
                "deleted "
            }
        );
    }
    page.print()?;
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr().lock(),
        "repro: {} {} output{} of profile `{}`{}",
        if a.dry_run { "would delete" } else { "deleted" },
        paths.len(),
        if paths.len() == 1 { "" } else { "s" },
        ws.profile(),
        if a.dry_run || paths.is_empty() {
            ""
        } else {
            "; the cache keeps them (`repro run` restores them)"
        }
    );
    Ok(())
}
