//! `repro completions SHELL`: prints the shell's completion script for every command and flag
//! (generated from the clap definitions by `clap_complete`, so it never lags behind them).
//! README.md says where each shell expects the script.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::args::Cli;
use super::CliError;

/// `repro completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    pub shell: Shell,
}

/// The command line without its hidden commands: the generators would offer them too.
fn visible() -> clap::Command {
    let full = Cli::command();
    let mut cmd = clap::Command::new("repro")
        .version(env!("CARGO_PKG_VERSION"))
        .args(full.get_arguments().cloned())
        .subcommand_required(true);
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    cmd.subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned())
}

pub(crate) fn completions(a: &CompletionsArgs) -> Result<(), CliError> {
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut visible(), "repro", &mut script);
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::Internal(format!("cannot write to stdout: {e}")))
}
