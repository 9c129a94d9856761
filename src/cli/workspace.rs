//! Loading what every command needs: the pipeline, its graph, the store, the lock file and a
//! checker, plus target resolution. Run settings are resolved here, once.

use std::path::Path;

use crate::cache::{Checker, CodeDigester, LockFile, StatCache, Store};
use crate::graph::{self, Graph};
use crate::spec::{self, Pipeline};

use super::{Cli, CliError};

/// The loaded workspace.
pub(crate) struct Workspace {
    pub(crate) pipeline: Pipeline,
    pub(crate) graph: Graph,
}

impl Workspace {
    pub(crate) fn load(cli: &Cli) -> Result<Workspace, CliError> {
        let pipeline = spec::load(&cli.file, cli.profile.as_deref())?;
        let graph = graph::build(&pipeline)?;
        Ok(Workspace { pipeline, graph })
    }

    pub(crate) fn root(&self) -> &Path {
        &self.pipeline.root
    }

    /// A checker over this workspace (opening the store and reading the lock file).
    pub(crate) fn checker(&self) -> Result<Checker<'_>, CliError> {
        let root = self.root().to_path_buf();
        let store =
            Store::open(&root.join("cache")).map_err(|e| CliError::Internal(e.to_string()))?;
        let lock =
            LockFile::read(&root.join("repro.lock")).map_err(|e| CliError::user(e.to_string()))?;
        let code = CodeDigester::new(&root).map_err(CliError::user)?;
        Ok(Checker {
            pipeline: &self.pipeline,
            stat: StatCache::load(&Checker::stat_cache_path(&root)),
            root,
            store,
            code,
            lock,
            profile: Checker::profile_name(&self.pipeline),
        })
    }

    /// Selected instances (without upstream), topologically ordered; empty targets mean all.
    pub(crate) fn targets(&self, targets: &[String]) -> Result<Vec<usize>, CliError> {
        let all = ["all".to_owned()];
        let targets = if targets.is_empty() {
            &all[..]
        } else {
            targets
        };
        graph::select(&self.graph, targets).map_err(|e| CliError::User {
            message: e.to_string(),
            hint: Some("list instances with `repro dag`".into()),
        })
    }

    /// Exactly one instance named by `pattern`.
    pub(crate) fn one(&self, pattern: &str) -> Result<usize, CliError> {
        if let Some(i) = self.graph.index_of(pattern) {
            return Ok(i);
        }
        let found = self.targets(&[pattern.to_owned()])?;
        match found.as_slice() {
            [i] => Ok(*i),
            many => Err(CliError::User {
                message: format!("`{pattern}` matches {} instances, expected one", many.len()),
                hint: Some(format!(
                    "for example `{}`",
                    self.graph.instances[many[0]].id
                )),
            }),
        }
    }
}

/// Saves the stat cache and the lock file after a command that changed them.
pub(crate) fn save(checker: &Checker<'_>) -> Result<(), CliError> {
    checker
        .stat
        .save(&Checker::stat_cache_path(&checker.root))
        .map_err(|e| CliError::Internal(format!("cannot save the stat cache: {e}")))?;
    checker
        .lock
        .write(&checker.root.join("repro.lock"))
        .map_err(|e| CliError::Internal(format!("cannot write `repro.lock`: {e}")))
}

/// Runs `selected` with the local executor, cancelling on Ctrl-C or SIGTERM, then saves the
/// stat cache and the lock entries of whatever completed (even when the run failed).
pub(crate) fn dispatch(
    ws: &Workspace,
    checker: &mut Checker<'_>,
    options: crate::sched::Options,
    selected: &[usize],
    forced: &[bool],
    reporter: &mut dyn crate::sched::Reporter,
) -> Result<crate::sched::Tally, CliError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = Arc::clone(&cancel);
        // Only one handler per process; a second dispatch in the same process keeps the first.
        let _ = ctrlc::set_handler(move || cancel.store(true, Ordering::SeqCst));
    }
    let mut dispatcher = crate::sched::Dispatcher {
        graph: &ws.graph,
        checker,
        executor: Arc::new(crate::exec::LocalExecutor),
        options,
        cancel,
        build: ws.pipeline.build.clone(),
    };
    let result = dispatcher.run(selected, forced, reporter);
    save(checker)?;
    result.map_err(|e| match e {
        e @ crate::sched::DispatchError::Build { .. } => CliError::Failed(e.to_string()),
        e => CliError::Internal(e.to_string()),
    })
}
