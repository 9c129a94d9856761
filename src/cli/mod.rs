//! The command line: clap types, one file per command, and the mapping of failures to exit
//! codes (2: user error such as bad YAML or a bad target; 1: a stage failed or something is
//! stale/mismatched for `--check`/`verify`; 3: an internal failure of the engine; 130: the run
//! was interrupted by SIGINT or SIGTERM, as shells report Ctrl-C; the signal handler does not
//! tell the two apart, so SIGTERM gives 130 too, not 143). Commands
//! only parse, resolve and print: the rules live in `workspace`, `settings` and `sched`.

mod args;
mod audit;
mod clean;
mod completions;
mod dag;
mod detach;
mod drive;
mod exec;
mod gc;
mod init;
mod load;
mod logs;
mod metrics;
mod overview;
mod page;
mod params;
mod prefetch;
mod profiles;
mod pull;
mod push;
mod pushing;
mod remote;
mod report;
mod revlock;
mod run;
mod show;
mod status;
mod table;
mod verify;
mod writers;

pub use args::{Cli, Command};

use clap::Parser;

/// How a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The user's input is wrong (exit 2).
    #[error("{message}")]
    User {
        /// The message.
        message: String,
        /// A fix, when known.
        hint: Option<String>,
    },
    /// A stage failed, or a check found a problem (exit 1); details were already printed.
    #[error("{0}")]
    Failed(String),
    /// The engine failed (exit 3).
    #[error("{0}")]
    Internal(String),
    /// The run was interrupted (Ctrl-C or SIGTERM; exit 130).
    #[error("{0}")]
    Interrupted(String),
}

/// The exit code of an interrupted run: 128 + SIGINT, what a shell reports after Ctrl-C.
pub const INTERRUPTED: i32 = 130;

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::User { .. } => 2,
            CliError::Failed(_) => 1,
            CliError::Internal(_) => 3,
            CliError::Interrupted(_) => INTERRUPTED,
        }
    }

    pub(crate) fn user(message: impl Into<String>) -> CliError {
        CliError::User {
            message: message.into(),
            hint: None,
        }
    }
}

impl From<crate::spec::SpecError> for CliError {
    fn from(e: crate::spec::SpecError) -> Self {
        CliError::User {
            hint: e.hint(),
            message: e.to_string(),
        }
    }
}

impl From<crate::remote::RemoteError> for CliError {
    fn from(e: crate::remote::RemoteError) -> Self {
        if e.is_user_error() {
            CliError::User {
                hint: e.hint(),
                message: e.to_string(),
            }
        } else {
            CliError::Failed(e.to_string())
        }
    }
}

impl From<crate::workspace::CheckError> for CliError {
    fn from(e: crate::workspace::CheckError) -> Self {
        match e {
            crate::workspace::CheckError::Spec(s) => s.into(),
            other => CliError::Internal(other.to_string()),
        }
    }
}

/// Parses `std::env::args` and runs the command; returns the exit code.
pub fn main() -> i32 {
    // Die quietly on a closed pipe (`repro status | head`) like other Unix tools, instead of
    // panicking on the failed write.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread is started.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => 0,
        Err(e) => {
            // Best effort: with stderr gone, the exit code is all that is left to say.
            use std::io::Write;
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "error: {e}");
            if let CliError::User { hint: Some(h), .. } = &e {
                let _ = writeln!(err, "hint: {h}");
            }
            e.exit_code()
        }
    }
}

fn dispatch(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Run(a) => run::run(&cli, a),
        Command::Status(a) => status::status(&cli, a),
        Command::Verify(a) => verify::verify(&cli, a),
        Command::Dag(a) => dag::dag(&cli, a),
        Command::Show(a) => show::show(&cli, a),
        Command::Logs(a) => logs::logs(&cli, a),
        Command::Gc(a) => gc::gc(&cli, a),
        Command::Report => report::report(&cli),
        Command::Exec(a) => exec::exec(&cli, a),
        Command::Push(a) => push::push(&cli, a),
        Command::Pull(a) => pull::pull(&cli, a),
        Command::Audit(a) => audit::audit(&cli, a),
        Command::Params(a) => params::params(&cli, a),
        Command::Metrics(a) => metrics::metrics(&cli, a),
        Command::Init(a) => init::init(&cli, a),
        Command::Clean(a) => clean::clean(&cli, a),
        Command::Profiles { json } => profiles::profiles(&cli, *json),
        Command::Completions(a) => completions::completions(a),
        Command::InternalReaper { run, file } => {
            crate::exec::reap(run, file);
            Ok(())
        }
    }
}
