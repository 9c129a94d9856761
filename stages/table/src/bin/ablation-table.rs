//! `ablation-table`: the ListOps ablation table (see `table::ablation` and docs/stages.md).
//! Exit 2 on bad input, 1 on a failure while writing.

use std::path::PathBuf;

use clap::Parser;

/// Renders the ListOps ablation table from the per-setting stats summaries.
#[derive(Debug, Parser)]
#[command(name = "ablation-table", version, about)]
struct Args {
    /// Directory of stats summaries, one `SETTING.json` per ablation setting.
    #[arg(long)]
    stats: PathBuf,
    /// Directory of the ablation runs (`SETTING/listops/VARIANT/ACTIVATION/SEED/`).
    #[arg(long)]
    runs: PathBuf,
    /// Output directory: ablations.md and ablations.csv.
    #[arg(long)]
    out: PathBuf,
    /// The profile the results belong to, named in both files with the instance's cache key
    /// (`REPRO_KEY`, set by the engine).
    #[arg(long)]
    profile: String,
}

fn main() {
    let args = Args::parse();
    let result = (|| {
        let origin = table::origin::Origin::from_env(&args.profile)?;
        let rows = table::ablation::read_ablations(&args.stats, &args.runs)?;
        let mut staging = table::output::Staging::new(&args.out)?;
        staging.write(
            "ablations.md",
            &origin.stamp_markdown("ablation-table", &table::ablation::ablations_md(&rows)),
        )?;
        staging.write(
            "ablations.csv",
            &origin.stamp_csv("ablations.csv", &table::ablation::ablations_csv(&rows))?,
        )?;
        staging.publish()?;
        eprintln!(
            "ablation-table: {} settings -> `{}`",
            rows.len(),
            args.out.display()
        );
        Ok::<(), table::TableError>(())
    })();
    if let Err(err) = result {
        eprintln!("error: {err}");
        std::process::exit(err.exit_code());
    }
}
