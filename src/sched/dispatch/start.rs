//! The dispatcher's step 2: starting what fits. The pipeline's `build:` command goes first,
//! once, as a job of its own; then waiting attempts start in queue order, alone or as a pack
//! (`pack.rs` decides which), each taking its lease as it is submitted.

use crate::exec::JobId;
use crate::spec::Resources;

use super::pack::Start;
use super::{Build, DispatchError, Dispatcher, Work};
use crate::sched::attempt::Attempt;
use crate::sched::event::{Event, Watch};
use crate::sched::job::{build_job, instance_job};
use crate::sched::lease::Lease;
use crate::sched::slots::{Grant, Slots};

impl Dispatcher<'_, '_> {
    /// Step 2: submit what fits, the build command first; then let the executor send what
    /// it holds (a batch executor submits a round's jobs together).
    pub(super) fn start_runnable(&mut self) -> Result<(), DispatchError> {
        let result = self.submit_fitting();
        self.executor.flush();
        result
    }

    fn submit_fitting(&mut self) -> Result<(), DispatchError> {
        while let Some(start) = self.next_start() {
            match &self.build {
                Build::Pending(argv) => {
                    let argv = argv.clone();
                    self.reporter.event(&Event::Build { argv: argv.clone() });
                    let id = self.jobs.next_id();
                    self.executor
                        .submit(build_job(id, &argv, self.ws.layout()))?;
                    // A lease of no slot and no limit: the build waits for nothing and
                    // nothing waits for its slots.
                    let nothing = crate::spec::Resources {
                        gpus: 0.0,
                        cpus: 0,
                        mem: None,
                        time: None,
                    };
                    let build = |_: &crate::sched::slots::Grant, _: &crate::sched::slots::Slots| {
                        ("build".to_owned(), "build".to_owned())
                    };
                    self.jobs.hold(id, &nothing, None, build, Work::Build);
                    self.build = Build::Running;
                    return Ok(());
                }
                Build::Running => return Ok(()),
                Build::Done => {}
            }
            match start {
                Start::Alone(pos) => {
                    let attempt = self.waiting.take(pos);
                    self.submit_alone(attempt)?;
                }
                Start::Pack(positions) => self.submit_pack(positions)?,
            }
        }
        Ok(())
    }

    fn submit_alone(&mut self, attempt: Attempt) -> Result<(), DispatchError> {
        let graph = self.graph;
        let inst = &graph.instances[attempt.index];
        let request = self.settings.slot_request(inst);
        let id = self.jobs.next_id();
        let reasons = attempt.reasons.clone();
        let inputs = attempt.inputs.clone();
        let attempt_index = attempt.index;
        // An earlier run's job that this run may adopt may be a pack's, running other
        // members first: the job keeps each member's `timeout` itself.
        let limit = if self.registered.contains(&inst.id) {
            None
        } else {
            inst.timeout
        };
        let lease = self.lease(id, &request, limit, Work::Instance(attempt));
        // A job that publishes itself clears its own outputs when it starts (it may be a job
        // adopted from an earlier run, still writing them).
        if !self.executor.publishes() {
            if let Err(e) = self.ws.prepare(inst) {
                self.jobs.retire(id);
                return Err(e.into());
            }
        }
        let job = instance_job(
            id,
            inst,
            &inputs,
            &lease.grant,
            self.jobs.slots(),
            self.settings,
            self.ws.layout(),
        );
        self.expect_durations();
        let watch = self.watch(attempt_index, self.ws.layout().log(&inst.id), None);
        self.reporter.event(&Event::Started {
            id: inst.id.clone(),
            reasons,
            device: lease.device,
            slot: lease.slot,
            watch,
        });
        if let Err(e) = self.executor.submit(job) {
            self.jobs.retire(id);
            return Err(e.into());
        }
        Ok(())
    }

    /// Enters job `id` for `work`, leasing `request` (it must fit) until `limit`, and returns
    /// the lease; its device is where the job runs: the batch executor, `cpu` or
    /// `cuda:<devices>`. Notes once that GPU requests run on the CPU.
    pub(super) fn lease(
        &mut self,
        id: JobId,
        request: &Resources,
        limit: Option<std::time::Duration>,
        work: Work,
    ) -> Lease {
        if request.gpus > 0.0 && !self.jobs.slots().has_gpus() && !self.cpu_fallback_noted {
            self.cpu_fallback_noted = true;
            self.reporter.event(&Event::Note {
                message: "no GPU found: stages that ask for GPUs run on the CPU".into(),
            });
        }
        let batch = self
            .executor
            .publishes()
            .then(|| self.executor.name().to_owned());
        // A batch job's slot is its executor: which node or job ran it is the executor's.
        let device = |grant: &Grant, slots: &Slots| match batch {
            Some(name) => (name.clone(), name),
            None if grant.gpus.is_empty() => ("cpu".to_owned(), slots.slot_label(grant)),
            None => (
                format!("cuda:{}", slots.visible_devices(grant)),
                slots.slot_label(grant),
            ),
        };
        self.jobs.hold(id, request, limit, device, work).clone()
    }
}

impl Dispatcher<'_, '_> {
    /// How the live view follows instance `i` through `log` (lines prefixed with `member: `
    /// in a pack's log), when its stage declares `progress:`.
    pub(super) fn watch(
        &self,
        i: usize,
        log: std::path::PathBuf,
        member: Option<String>,
    ) -> Option<Watch> {
        let stage = &self.ws.pipeline().stages[self.graph.instances[i].stage];
        stage.progress.clone().map(|pattern| Watch {
            log,
            pattern,
            member,
        })
    }

    /// Before the first instance starts: reports how long the selected instances not yet
    /// found fresh or restored took before (see `sched/estimate.rs`), once per run.
    pub(super) fn expect_durations(&mut self) {
        if self.expected_sent {
            return;
        }
        self.expected_sent = true;
        let left: Vec<usize> = self
            .selected
            .iter()
            .copied()
            .filter(|&i| !self.settled[i])
            .collect();
        let expected =
            crate::sched::estimate::expected(self.graph, self.ws, &left, self.settings.pack);
        self.reporter.event(&Event::Expected {
            total_s: expected.values().sum(),
            unknown: left.len() - expected.len(),
            parallel: self.jobs.slots().cpu_total() as usize,
            by_id: expected,
        });
    }
}
