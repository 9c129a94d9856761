//! `train`: trains one model and writes its learning curve, metrics and weights, or with
//! `--pack MANIFEST` many runs as stacked models (see docs/stages.md). Exit 2 on bad input, 1
//! on a failure while working.

use train::cli::Command;

fn main() -> std::process::ExitCode {
    let args = match Command::parse() {
        Command::Pack(manifest) => return train::pack::run_pack(&manifest),
        Command::Run(args) => args,
    };
    match train::run::run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(if e.is_user_error() { 2 } else { 1 })
        }
    }
}
