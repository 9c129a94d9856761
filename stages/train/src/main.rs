//! `train`: trains one model and writes its learning curve, metrics and weights, or with
//! `--pack MANIFEST` many runs as stacked models (see docs/stages.md). Exit 2 on bad input, 1
//! on a failure while working.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match train::pack::pack_argument(&argv) {
        Ok(Some(manifest)) => return train::pack::run_pack(&manifest),
        Ok(None) => {}
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    }
    let args = train::cli::Args::parse();
    match train::run::run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(if e.is_user_error() { 2 } else { 1 })
        }
    }
}
