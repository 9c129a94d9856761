//! `repro run`: bring targets up to date (or `--dry-run`: say what would happen and why).

use crate::report::{JsonReporter, ProgressReporter};
use crate::runreport::Recorder;
use crate::sched::{Event, Reporter};
use crate::settings::{unignored_site_file, ExecutorKind, RunFlags, RunSettings};
use crate::workspace::State;

use super::args::RunArgs;
use super::drive::{dispatch, Mode};
use super::load::Loaded;
use super::overview;
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
        return dry_run(&loaded, &selected, &forced, a, &settings, reporter.as_mut());
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
    if a.remote.is_some() && !a.pull && !a.push {
        return Err(CliError::user(
            "`--remote` names the remote of `--pull` or `--push`; give one of them",
        ));
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
    // With `--push`, a reporter in front of the display hands each published instance to a
    // pushing thread; the remote is opened (and its credentials checked) before anything runs.
    let remote = match a.push {
        true => Some((
            ws.store().clone(),
            super::remote::open(&loaded, a.remote.as_deref(), None)?,
        )),
        false => None,
    };
    let mut pushing = super::pushing::Pushing::start(reporter.as_mut(), remote);
    let mut recorder = Recorder::new(&mut pushing, ws.profile(), std::env::args().collect());
    let tally = dispatch(
        &loaded.graph,
        &mut ws,
        &settings,
        &selected,
        &forced,
        &mut recorder,
        Mode::Controller,
    );
    // Without a page, a no-op keeps the last record (and writes nothing).
    let record = recorder.finish(loaded.pipeline.report.is_some());
    let pushed = pushing.finish();
    let tally = tally?;
    output_ok(reporter.as_ref())?;
    // The page is written after every run that ended, failed or not, so that it never shows
    // an older run's state; a failure to write it fails a run that otherwise succeeded.
    let page = super::report::after_run(&loaded, &ws, record.as_ref());
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
    pushed?;
    page
}

/// `run -n --json`: the last line, after the planned events, even when nothing would run.
#[derive(serde::Serialize)]
struct PlanDoc<'a> {
    /// Always `plan`.
    event: &'static str,
    profile: &'a str,
    selected: usize,
    run: usize,
    restore: usize,
    fresh: usize,
    stages: &'a [overview::StageCounts],
}

/// `--dry-run`: what would run or be restored, and why, and the counts per stage; changes
/// nothing but the stat cache. Instances are listed one by one as `overview.rs` decides.
fn dry_run(
    loaded: &Loaded,
    selected: &[usize],
    forced: &[bool],
    a: &RunArgs,
    settings: &RunSettings,
    reporter: &mut dyn Reporter,
) -> Result<(), CliError> {
    let json = a.json;
    let mut ws = loaded.workspace()?;
    let orphans = ws.orphans(&loaded.graph)?;
    ws.hide_orphans(&orphans);
    let states = ws.plan(&loaded.graph, selected, forced)?;
    let failed = overview::last_failed(
        &ws,
        states
            .iter()
            .any(|(_, s)| !matches!(s, State::Fresh { .. })),
    );
    let running = super::status::Running::find(
        ws.layout(),
        states
            .iter()
            .filter(|(_, s)| !matches!(s, State::Fresh { .. }))
            .map(|(i, _)| loaded.graph.instances[*i].id.as_str()),
    );
    let (mut run, mut restore, mut fresh) = (0, 0, 0);
    let mut to_run = Vec::new();
    let mut classes = Vec::new();
    let mut events = Vec::new();
    for (i, state) in &states {
        let id = loaded.graph.instances[*i].id.clone();
        classes.push((
            *i,
            overview::classify(
                matches!(state, State::Fresh { .. }),
                matches!(state, State::Restore { .. }),
                running.contains_key(id.as_str()),
                failed.contains(&id),
            ),
        ));
        match state {
            State::Fresh { .. } => fresh += 1,
            State::Restore { reasons, .. } => {
                restore += 1;
                events.push(Event::WouldRestore {
                    id,
                    reasons: reasons.clone(),
                });
            }
            State::Run { reasons, .. } => {
                run += 1;
                to_run.push(*i);
                events.push(Event::WouldRun {
                    id,
                    reasons: reasons.clone(),
                });
            }
        }
    }
    let listed = json || overview::list_instances(a.instances, events.len());
    if listed {
        for e in &events {
            reporter.event(e);
        }
    }
    let stages = overview::tally(&loaded.graph, &classes);
    let mut page = Page::default();
    if json {
        let plan = PlanDoc {
            event: "plan",
            profile: ws.profile(),
            selected: run + restore + fresh,
            run,
            restore,
            fresh,
            stages: &stages,
        };
        let line = serde_json::to_string(&plan)
            .map_err(|e| CliError::Internal(format!("cannot encode the plan: {e}")))?;
        outln!(page, "{line}");
    } else {
        if !listed {
            outln!(
                page,
                "{} instances would run or be restored; `repro run -n --instances` lists each with its reasons (or name a stage or instance as a target)",
                events.len()
            );
        }
        for line in overview::table(&stages) {
            outln!(page, "{line}");
        }
        outln!(
            page,
            "{run} to run, {restore} to restore, {fresh} up to date ({} selected)",
            run + restore + fresh
        );
        for line in expected_work(loaded, &ws, selected, &to_run, settings) {
            outln!(page, "{line}");
        }
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

/// `expected  STAGE: N to run, about T of work` per stage with instances to run, then the
/// total and what it takes at the run's parallelism, from earlier durations
/// (`sched/estimate.rs`); nothing when no stage has a recorded run.
fn expected_work(
    loaded: &Loaded,
    ws: &crate::workspace::Workspace<'_>,
    selected: &[usize],
    to_run: &[usize],
    settings: &RunSettings,
) -> Vec<String> {
    use crate::report::human_duration;
    let graph = &loaded.graph;
    if to_run.is_empty() {
        return Vec::new();
    }
    let expected = crate::sched::estimate::expected(graph, ws, selected, settings.pack);
    if expected.is_empty() {
        return Vec::new();
    }
    // Stage name -> (instances to run, seconds of work, of them without an estimate).
    let mut stages: std::collections::BTreeMap<&str, (usize, f64, usize)> = Default::default();
    for &i in to_run {
        let inst = &graph.instances[i];
        let e = stages.entry(inst.stage_name.as_str()).or_default();
        e.0 += 1;
        match expected.get(&inst.id) {
            Some(s) => e.1 += s,
            None => e.2 += 1,
        }
    }
    let mut lines = Vec::new();
    let mut total = 0.0;
    for (stage, (n, seconds, unknown)) in &stages {
        total += seconds;
        let unknown = match unknown {
            0 => String::new(),
            u => format!(" ({u} without an earlier run of their stage to go by)"),
        };
        lines.push(format!(
            "expected  {stage}: {n} to run, about {} of work{unknown}",
            human_duration(*seconds)
        ));
    }
    let parallel = settings.jobs.max(1);
    lines.push(format!(
        "expected  in all: about {} of work, about {} at {parallel} at once (earlier durations; the order of the stages may make it longer)",
        human_duration(total),
        human_duration(total / f64::from(parallel))
    ));
    lines
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
