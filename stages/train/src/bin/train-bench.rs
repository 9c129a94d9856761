//! `train-bench`: times training steps and whole epochs (see `train::bench`); prints one JSON
//! object on stdout.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = train::bench::BenchArgs::parse();
    match train::bench::run_cli(&args) {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string(&report).expect("report serialises")
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(if e.is_user_error() { 2 } else { 1 })
        }
    }
}
