//! `stats --task TASK --runs DIR --out-json FILE --out-csv FILE`: statistics over seeds.
//! Exit status: 0 on success, 2 for bad input (missing or malformed file), 1 for a failure while
//! writing.

use clap::Parser;

fn main() {
    let args = stats::cli::Args::parse();
    if let Err(err) = stats::cli::run(&args) {
        eprintln!("error: {err}");
        std::process::exit(err.exit_code());
    }
}
