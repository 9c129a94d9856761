//! The command line of `table` and the run it drives: read, build, render, publish.

use std::path::PathBuf;

use clap::Parser;

use crate::TableError;

/// The paper's results table, Table 6, learning-curve figures and claim verdicts.
#[derive(Debug, Parser)]
#[command(name = "table", version, about)]
pub struct Args {
    /// Directory of stats summaries (`*.json`, one per task).
    #[arg(long)]
    pub stats: PathBuf,
    /// Directory of probe results (`*.json`, one per probed run).
    #[arg(long)]
    pub probes: PathBuf,
    /// Directory of loss-landscape results (`*.json`, one per analysed run); when given, the
    /// report gets a landscape section and `landscape.csv`.
    #[arg(long)]
    pub landscapes: Option<PathBuf>,
    /// Directory of training runs (`TASK/VARIANT/ACTIVATION/SEED/history.csv`); when given,
    /// the report page's curves carry stopped runs forward and show each seed's curve.
    #[arg(long)]
    pub runs: Option<PathBuf>,
    /// Output directory: table.{md,csv,tex}, table6.csv, claims.md, report.json (the report
    /// page's sections), figures/ (and landscape.csv).
    #[arg(long)]
    pub out: PathBuf,
    /// The profile the results belong to, named in every file with the instance's cache key
    /// (`REPRO_KEY`, set by the engine).
    #[arg(long)]
    pub profile: String,
}

/// Runs `table` with parsed arguments; progress goes to stderr.
pub fn run(args: &Args) -> Result<(), TableError> {
    let origin = crate::origin::Origin::from_env(&args.profile)?;
    let inputs = crate::input::read_inputs(&args.stats, &args.probes)?;
    eprintln!(
        "table: {} stats summaries, {} probes",
        inputs.stats.len(),
        inputs.probes.len()
    );
    let landscapes = match &args.landscapes {
        Some(dir) => Some(crate::landscape::read_landscapes(dir)?),
        None => None,
    };
    let subset = crate::subset::describe_subset(&inputs);
    let main = crate::rows::main_table(&inputs);
    let table6 = crate::table6::table6(&inputs);
    let claims = crate::claims::check_claims(&inputs);
    let histories = match &args.runs {
        Some(dir) => Some(crate::page::read_histories(dir, &inputs)?),
        None => None,
    };

    let mut staging = crate::output::Staging::new(&args.out)?;
    let mut figure_files = Vec::new();
    for figure in crate::figures::figures(&inputs, histories.as_ref(), &origin) {
        let stem = format!("figures/curves_{}", figure.activation);
        figure.write_png(&staging.path(&format!("{stem}.png")))?;
        figure.write_svg(&staging.path(&format!("{stem}.svg")))?;
        figure_files.push((
            figure.activation.to_string(),
            format!("{stem}.png"),
            figure.title(),
        ));
    }
    let report = crate::markdown::Report {
        subset: &subset,
        main: &main,
        table6: &table6,
        claims: &claims,
        figures: &figure_files,
        landscapes: landscapes.as_deref(),
    };
    let md = |text: String| origin.stamp_markdown("table", &text);
    staging.write("table.md", &md(crate::markdown::table_md(&report)))?;
    staging.write(
        "claims.md",
        &md(crate::markdown::claims_md(&claims, &subset)),
    )?;
    let csv = |name: &str, text: String| origin.stamp_csv(name, &text);
    staging.write(
        "table.csv",
        &csv("table.csv", crate::csv_out::table_csv(&main))?,
    )?;
    staging.write(
        "table6.csv",
        &csv("table6.csv", crate::csv_out::table6_csv(&table6))?,
    )?;
    if let Some(rows) = &landscapes {
        staging.write(
            "landscape.csv",
            &csv("landscape.csv", crate::landscape::landscape_csv(rows))?,
        )?;
    }
    staging.write(
        "table.tex",
        &origin.stamp_latex("table", &crate::latex::table_tex(&main, &table6)),
    )?;
    let sections = crate::page::page_sections(&crate::page::PageInputs {
        inputs: &inputs,
        main: &main,
        table6: &table6,
        claims: &claims,
        histories: histories.as_ref(),
        origin: &origin,
    });
    let mut json = Vec::new();
    sections
        .to_writer(&mut json)
        .map_err(|e| TableError::write(&args.out.join("report.json"), e))?;
    json.push(b'\n');
    staging.write("report.json", &String::from_utf8_lossy(&json))?;
    staging.publish()?;
    for c in &claims {
        eprintln!("table: {} {}", c.id, c.verdict);
    }
    eprintln!("table: wrote `{}`", args.out.display());
    Ok(())
}
