//! `repro status`: the counts per stage (fresh, run, restore, running, failed; `overview.rs`),
//! every instance that is not fresh with its reasons (all of them with `--instances`, else when
//! at most 20 are), and a total; `--check` exits 1 when any is stale.

use crate::exec::slurm;
use crate::workspace::{Dirty, Orphan, State};

use super::args::StatusArgs;
use super::load::Loaded;
use super::overview::{self, Class};
use super::page::{outln, Page};
use super::{Cli, CliError};

/// `repro status --json` (its shape is documented in docs/cli.md).
#[derive(serde::Serialize)]
struct StatusDoc<'a> {
    profile: &'a str,
    total: usize,
    stale: usize,
    stages: &'a [overview::StageCounts],
    instances: &'a [Row<'a>],
    orphans: &'a [Orphan],
    #[serde(skip_serializing_if = "Option::is_none")]
    queue_error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote: Option<RemoteDoc<'a>>,
}

/// What `--remote` adds to the JSON.
#[derive(serde::Serialize)]
struct RemoteDoc<'a> {
    url: &'a str,
    instances: &'a [RemoteRow],
}

/// What `status` keeps of an instance's [`State`].
struct Planned {
    fresh: bool,
    restore: bool,
    key: Option<Key>,
    reasons: Vec<Dirty>,
}

/// A cache key held as its 32 bytes (a status of 50,000 instances holds one per instance),
/// written as the hex text it was read from.
struct Key(blake3::Hash);

impl Key {
    /// Every key is blake3 hex (the lock reader checks them), so none is lost here.
    fn of(hex: &str) -> Option<Key> {
        blake3::Hash::from_hex(hex).ok().map(Key)
    }
}

impl serde::Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.to_hex().as_str())
    }
}

impl From<State> for Planned {
    fn from(s: State) -> Planned {
        let (fresh, restore) = (
            matches!(s, State::Fresh { .. }),
            matches!(s, State::Restore { .. }),
        );
        let (key, reasons) = match s {
            State::Fresh { entry, .. } => (Key::of(&entry.key), vec![]),
            State::Restore { key, reasons, .. } => (Key::of(&key), reasons),
            State::Run { inputs, reasons } => (inputs.and_then(|i| Key::of(&i.key())), reasons),
        };
        Planned {
            fresh,
            restore,
            key,
            reasons,
        }
    }
}

#[derive(serde::Serialize)]
struct Row<'a> {
    instance: &'a str,
    state: &'static str,
    key: Option<&'a Key>,
    reasons: &'a [Dirty],
    /// Its batch job, when one is registered: id and Slurm state.
    #[serde(skip_serializing_if = "Option::is_none")]
    job: Option<Box<Job>>,
    /// The local process writing its log now, when a run is running it.
    #[serde(skip_serializing_if = "Option::is_none")]
    running: Option<Running>,
}

/// A local process running an instance: found as the process that holds the instance's log
/// open (instances running inside a pack share the pack's log and are not found this way).
#[derive(serde::Serialize, Clone, Copy)]
pub(crate) struct Running {
    /// The lowest pid holding the log (the job's first process).
    pub(crate) pid: i32,
    /// When the log was created: the attempt's start, in seconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) since: Option<u64>,
}

impl Running {
    /// Each instance of `ids` whose log a local process holds open now.
    pub(crate) fn find<'i>(
        layout: &crate::workspace::Layout,
        ids: impl Iterator<Item = &'i str>,
    ) -> std::collections::HashMap<&'i str, Running> {
        let held = crate::exec::procs::open_files_under(&layout.logs());
        if held.is_empty() {
            return Default::default();
        }
        ids.filter_map(|id| {
            let log = std::fs::canonicalize(layout.log(id)).ok()?;
            let pid = *held.get(&log)?;
            let since = std::fs::metadata(&log)
                .and_then(|m| m.created())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs());
            Some((id, Running { pid, since }))
        })
        .collect()
    }

    /// `running (pid 123, since 14:02:07)`, the time in UTC.
    pub(crate) fn describe(&self) -> String {
        match self.since {
            Some(s) => {
                let day = s % 86_400;
                format!(
                    "running (pid {}, since {:02}:{:02}:{:02} UTC)",
                    self.pid,
                    day / 3600,
                    day % 3600 / 60,
                    day % 60
                )
            }
            None => format!("running (pid {})", self.pid),
        }
    }
}

#[derive(serde::Serialize, Clone)]
struct Job {
    id: String,
    state: String,
    reason: String,
    /// How many instances the job runs, when it runs a pack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pack: Option<usize>,
}

pub(crate) fn status(cli: &Cli, a: &StatusArgs) -> Result<(), CliError> {
    let loaded = Loaded::load(cli)?;
    let targets = loaded.targets(&a.targets)?;
    let selected = loaded.graph.closure(&targets);
    let mut ws = loaded.workspace()?;
    let forced = vec![false; loaded.graph.instances.len()];
    // Orphans that the next run removes are left out of the keys shown: the keys it will find.
    let orphans = ws.orphans(&loaded.graph)?;
    ws.hide_orphans(&orphans);
    // Each state is cut down to what the rows show as it is decided.
    let mut states: Vec<(usize, Planned)> = Vec::with_capacity(selected.len());
    ws.plan_each(&loaded.graph, &selected, &forced, |i, s| {
        states.push((i, Planned::from(s)));
    })?;
    let _ = ws.save_stat_cache();
    super::load::show_notes(&ws);
    // Jobs submitted to a batch system (`--detach`, or a run that was stopped): one query.
    let mut jobs: std::collections::HashMap<String, Job> = std::collections::HashMap::new();
    let mut queue_error = None;
    match slurm::registered_jobs(&loaded.pipeline.root, std::time::Duration::from_secs(30)) {
        Ok(found) => {
            for (e, seen) in found {
                let (state, reason) = match seen {
                    Some(s) => (s.state, s.reason),
                    None => ("GONE".to_owned(), "not in squeue".to_owned()),
                };
                let id = e.job.map_or_else(|| "?".into(), |id| id.to_string());
                let pack = (!e.pack.is_empty()).then_some(e.pack.len());
                jobs.insert(
                    e.instance,
                    Job {
                        id,
                        state,
                        reason,
                        pack,
                    },
                );
            }
        }
        Err(e) => queue_error = Some(e.to_string()),
    }
    let running = Running::find(
        ws.layout(),
        states
            .iter()
            .filter(|(_, s)| !s.fresh)
            .map(|(i, _)| loaded.graph.instances[*i].id.as_str()),
    );
    let failed = overview::last_failed(&ws, states.iter().any(|(_, s)| !s.fresh));
    let mut rows = Vec::new();
    let mut classes = Vec::new();
    for (i, s) in &states {
        let i = *i;
        let instance = &loaded.graph.instances[i].id;
        let run = running.get(instance.as_str()).copied();
        let class =
            overview::classify(s.fresh, s.restore, run.is_some(), failed.contains(instance));
        classes.push((i, class));
        rows.push(Row {
            instance,
            state: class.label(),
            key: s.key.as_ref(),
            reasons: &s.reasons,
            job: jobs.get(instance).cloned().map(Box::new),
            running: run,
        });
    }
    let remote = match &a.remote {
        Some(flag) => Some(remote_rows(&loaded, &ws, &a.targets, flag)?),
        None => None,
    };
    let stages = overview::tally(&loaded.graph, &classes);
    let mut page = Page::default();
    let stale = classes.iter().filter(|(_, c)| *c != Class::Fresh).count();
    let read_orphans = orphans.iter().filter(|o| !o.read_by.is_empty()).count();
    if a.json {
        let doc = StatusDoc {
            profile: ws.profile(),
            total: rows.len(),
            stale,
            stages: &stages,
            instances: &rows,
            orphans: &orphans,
            queue_error: queue_error.as_deref(),
            remote: remote.as_ref().map(|r| RemoteDoc {
                url: &r.url,
                instances: &r.rows,
            }),
        };
        page.json(&doc)?;
    } else {
        let mut queued = std::collections::BTreeMap::<&str, usize>::new();
        let listed = overview::list_instances(a.instances, stale);
        for r in rows.iter().filter(|r| r.state != "fresh") {
            let mut why: Vec<String> = r.reasons.iter().map(|d| d.to_string()).collect();
            if let Some(j) = &r.job {
                *queued.entry(j.state.as_str()).or_default() += 1;
                let pack = j.pack.map_or(String::new(), |n| format!(", a pack of {n}"));
                why.push(format!(
                    "Slurm job {} {} ({}{pack})",
                    j.id, j.state, j.reason
                ));
            }
            if let Some(run) = &r.running {
                why.insert(0, run.describe().trim_start_matches("running ").to_owned());
            }
            if listed {
                outln!(page, "{:<8} {}: {}", r.state, r.instance, why.join("; "));
            }
        }
        if !listed {
            outln!(
                page,
                "{stale} instances are not fresh; `repro status --instances` lists each with its reasons (or name a stage or instance as a target)"
            );
        }
        for line in overview::table(&stages) {
            outln!(page, "{line}");
        }
        if !queued.is_empty() {
            let parts: Vec<String> = queued.iter().map(|(s, n)| format!("{n} {s}")).collect();
            outln!(page, "batch jobs of stale instances: {}", parts.join(", "));
        }
        if let Some(e) = &queue_error {
            outln!(page, "batch jobs: cannot ask Slurm ({e})");
        }
        for line in orphan_lines(&orphans) {
            outln!(page, "{line}");
        }
        if let Some(r) = &remote {
            for row in r.rows.iter().filter(|row| row.state != "present") {
                outln!(page, "remote   {}: {}", row.instance, row.state);
            }
            let present = r.rows.iter().filter(|row| row.state == "present").count();
            outln!(
                page,
                "remote {}: {present} of {} instances in `repro.lock` present",
                r.label,
                r.rows.len()
            );
        }
        if stale == 0 {
            outln!(
                page,
                "all {} instances up to date (profile `{}`)",
                rows.len(),
                ws.profile()
            );
        } else {
            outln!(
                page,
                "{stale} of {} instances stale (profile `{}`)",
                rows.len(),
                ws.profile()
            );
        }
    }
    page.print()?;
    if a.check && stale > 0 {
        return Err(CliError::Failed(format!("{stale} instance(s) stale")));
    }
    if a.check && read_orphans > 0 {
        return Err(CliError::Failed(format!(
            "{read_orphans} orphaned output(s) would be read by the pipeline"
        )));
    }
    Ok(())
}

/// What `status` says of orphaned outputs: each one that an instance would read, with what the
/// next run does about it, then a count of the others.
fn orphan_lines(orphans: &[Orphan]) -> Vec<String> {
    let mut lines = Vec::new();
    for o in orphans.iter().filter(|o| !o.read_by.is_empty()) {
        let fate = if o.engine_bytes {
            "the next run removes it (the cache keeps it)"
        } else {
            "it differs from what repro wrote, so the next run refuses to start until it is moved or deleted"
        };
        lines.push(format!(
            "orphan   {}: output of an instance no longer in the pipeline, read by `{}`; {fate}",
            o.path, o.read_by[0]
        ));
    }
    let unread = orphans.iter().filter(|o| o.read_by.is_empty()).count();
    if unread > 0 {
        lines.push(format!(
            "{unread} output(s) of instances not in this pipeline (another profile, or an earlier version) are kept, read by nothing; `repro gc --orphans` removes them"
        ));
    }
    lines
}

/// One instance's state on the remote: `present` (its record and the object of each output),
/// `absent`, or `unlocked` (no `repro.lock` entry to look for).
#[derive(serde::Serialize)]
struct RemoteRow {
    instance: String,
    state: &'static str,
}

struct RemoteRows {
    /// As printed (with the remote's name, if chosen by name).
    label: String,
    url: String,
    rows: Vec<RemoteRow>,
}

/// What the remote named by `flag` (empty: the default) holds of the targets' lock entries.
fn remote_rows(
    loaded: &Loaded,
    ws: &crate::workspace::Workspace<'_>,
    targets: &[String],
    flag: &str,
) -> Result<RemoteRows, CliError> {
    let remote = super::remote::open(loaded, Some(flag), None)?;
    let super::remote::Locked { found, unlocked } = super::remote::locked(loaded, ws, targets)?;
    let t = remote.transport.as_ref();
    let answers = crate::remote::in_parallel(remote.connections, &found, |(_, e)| {
        crate::remote::on_remote(t, &e.key, e.outs.values())
    });
    let mut rows = Vec::new();
    for ((id, _), r) in found.iter().zip(answers) {
        let state = if r? { "present" } else { "absent" };
        rows.push(RemoteRow {
            instance: id.clone(),
            state,
        });
    }
    rows.extend(unlocked.into_iter().map(|instance| RemoteRow {
        instance,
        state: "unlocked",
    }));
    Ok(RemoteRows {
        label: remote.label,
        url: remote.url,
        rows,
    })
}
