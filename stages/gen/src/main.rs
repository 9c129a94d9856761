//! The `gen` binary: parses the command line and hands over to [`datagen::run`]. Errors are one
//! line on stderr; user errors exit 2, failures while writing exit 1.

use std::process::ExitCode;

use clap::Parser;
use datagen::{cli, Args};

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) if !err.use_stderr() => {
            // --help and --version.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("gen: error: {}", cli::one_line(&err));
            return ExitCode::from(2);
        }
    };
    match datagen::run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gen: error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
