//! `table --stats DIR --probes DIR --out DIR`: the results table, figures and claim verdicts.
//! Exit status: 0 on success, 2 for bad input (missing or malformed file), 1 for a failure while
//! writing.

use clap::Parser;

fn main() {
    let args = table::cli::Args::parse();
    if let Err(err) = table::cli::run(&args) {
        eprintln!("error: {err}");
        std::process::exit(err.exit_code());
    }
}
