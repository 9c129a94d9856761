//! `landscape`: the loss-landscape Lipschitz estimate of SPEC §6 on one trained run (see
//! docs/stages.md). Exit 2 on bad input, 1 on a failure while working.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = landscape::cli::Args::parse();
    match landscape::run::run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(if e.is_user_error() { 2 } else { 1 })
        }
    }
}
