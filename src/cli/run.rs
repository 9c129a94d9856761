//! `repro run`: bring targets up to date (or `--dry-run`: say what would happen and why).

use crate::report::{JsonReporter, ProgressReporter};
use crate::runreport::Recorder;
use crate::sched::{Event, Reporter};
use crate::settings::{unignored_site_file, ExecutorKind, RunFlags, RunSettings};
use crate::workspace::State;

use super::args::RunArgs;
use super::drive::{dispatch, Mode};
use super::load::Loaded;
use super::page::{outln, Page};
use super::{Cli, CliError};

pub(crate) fn run(cli: &Cli, a: &RunArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let settings = RunSettings::resolve(
        &RunFlags {
            jobs: a.jobs,
            gpus: a.gpus.clone(),
            keep_going: a.keep_going,
            no_build: a.no_build,
            set_resources: a.set_resources.clone(),
            site: a.set_site.clone(),
            executor: a.executor.clone(),
            retries: a.retries,
            no_pack: a.no_pack,
        },
        &loaded.pipeline,
    )
    .map_err(|e| CliError::User {
        hint: e.hint(),
        message: e.to_string(),
    })?;
    let targets = loaded.targets(&a.targets)?;
    let selected = loaded.graph.closure(&targets);
    let mut forced = vec![false; loaded.graph.instances.len()];
    if a.force {
        for &t in &targets {
            forced[t] = true;
        }
    }
    let mut reporter: Box<dyn Reporter> = if a.json {
        Box::new(JsonReporter::default())
    } else {
        Box::new(ProgressReporter::new())
    };
    if let Some(message) = unignored_site_file(&loaded.pipeline.root) {
        reporter.event(&Event::Note { message });
    }
    if a.dry_run {
        return dry_run(&loaded, &selected, &forced, a.json, reporter.as_mut());
    }

    check_pack_max(&loaded, &settings, &selected)?;
    let mut ws = loaded.workspace_exclusive()?;
    super::load::clear_orphans(&mut ws, &loaded.graph, &settings)?;
    if a.detach {
        return super::detach::detach(
            &loaded,
            &mut ws,
            &settings,
            &selected,
            &forced,
            reporter.as_mut(),
        );
    }
    if a.pull {
        super::prefetch::pull_before_run(
            &loaded,
            &mut ws,
            &selected,
            &forced,
            a.remote.as_deref(),
        )?;
    }
    let mut recorder = Recorder::new(reporter.as_mut(), ws.profile(), std::env::args().collect());
    let tally = dispatch(
        &loaded.graph,
        &mut ws,
        &settings,
        &selected,
        &forced,
        &mut recorder,
        Mode::Controller,
    )?;
    let record = recorder.finish();
    output_ok(reporter.as_ref())?;
    // The page is written after every run that ended, failed or not, so that it never shows
    // an older run's state; a failure to write it fails a run that otherwise succeeded.
    let page = super::report::after_run(&loaded, &ws, &record);
    if tally.interrupted {
        return Err(CliError::Interrupted(
            "interrupted; completed instances were published and a new run resumes".into(),
        ));
    }
    if tally.failed > 0 {
        return Err(CliError::Failed(format!(
            "{} instance(s) failed",
            tally.failed
        )));
    }
    page
}

/// `--dry-run`: what would run or be restored, and why; changes nothing but the stat cache.
fn dry_run(
    loaded: &Loaded,
    selected: &[usize],
    forced: &[bool],
    json: bool,
    reporter: &mut dyn Reporter,
) -> Result<(), CliError> {
    let mut ws = loaded.workspace()?;
    let orphans = ws.orphans(&loaded.graph)?;
    ws.hide_orphans(&orphans);
    let states = ws.plan(&loaded.graph, selected, forced)?;
    let (mut run, mut restore, mut fresh) = (0, 0, 0);
    for (i, state) in states {
        let id = loaded.graph.instances[i].id.clone();
        match state {
            State::Fresh { .. } => fresh += 1,
            State::Restore { reasons, .. } => {
                restore += 1;
                reporter.event(&Event::WouldRestore { id, reasons });
            }
            State::Run { reasons, .. } => {
                run += 1;
                reporter.event(&Event::WouldRun { id, reasons });
            }
        }
    }
    let mut page = Page::default();
    if !json {
        outln!(
            page,
            "{run} to run, {restore} to restore, {fresh} up to date ({} selected)",
            run + restore + fresh
        );
    }
    for o in orphans.iter().filter(|o| !o.read_by.is_empty()) {
        if !json {
            let what = if o.engine_bytes {
                "would remove"
            } else {
                "would refuse to start over"
            };
            outln!(
                page,
                "{what} `{}`: an output of an instance no longer in the pipeline, read by `{}`",
                o.path,
                o.read_by[0]
            );
        }
    }
    let _ = ws.save_stat_cache();
    super::load::show_notes(&ws);
    output_ok(reporter)?;
    page.print()
}

/// A reporter that could not write its output (a full disk behind `--json > file`) makes the
/// command fail: events must not be lost silently.
fn output_ok(reporter: &dyn Reporter) -> Result<(), CliError> {
    match reporter.output_error() {
        Some(e) => Err(CliError::Internal(format!(
            "cannot write the run's events to stdout: {e}"
        ))),
        None => Ok(()),
    }
}

/// With a batch executor, refuses a packing stage whose pack `max` exceeds the site's
/// `slurm.pack_max`, before anything is submitted or recorded: one job would hold more runs
/// than the site allows.
fn check_pack_max(
    loaded: &Loaded,
    settings: &RunSettings,
    selected: &[usize],
) -> Result<(), CliError> {
    let Some(limit) = settings.slurm.pack_max.map(|m| m.get() as usize) else {
        return Ok(());
    };
    if settings.executor != ExecutorKind::Slurm || !settings.pack {
        return Ok(());
    }
    let over = selected.iter().find_map(|&i| {
        let inst = &loaded.graph.instances[i];
        inst.pack
            .as_ref()
            .filter(|p| p.max > limit)
            .map(|p| (inst, p.max))
    });
    let Some((inst, max)) = over else {
        return Ok(());
    };
    let field = format!("stages.{}.pack.max", inst.stage_name);
    let pos = loaded.pipeline.positions.get(&field);
    Err(CliError::User {
        message: format!(
            "{}:{}:{}: `{field}` is {max} for `{}`, more than the site allows one batch job to pack (`slurm.pack_max` = {limit}); nothing was submitted",
            loaded.pipeline.file.display(),
            pos.line,
            pos.col,
            inst.id
        ),
        hint: Some(format!(
            "lower `{field}` (a profile may set it), raise `slurm.pack_max` in repro.local.yaml, or run with `--no-pack`"
        )),
    })
}
