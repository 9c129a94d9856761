//! `train --pack MANIFEST` from the manifest to every member's four files.
//!
//! Reads the manifest (a bad one: exit 2, nothing written), chooses the device once, prepares
//! every member as its single run would (`pack::member::prepare`; a member whose arguments or
//! data are bad is reported on stderr, prefixed by its instance name, and left out), groups
//! the members by shape and trains the groups one after the other. Each member's `--out`
//! receives exactly a single run's files, written by the single run's own code: `config.json`
//! at set-up (`setup`), `history.csv` rewritten after every epoch, then `model.safetensors` and
//! last `metrics.json` when the member stops (`record`); its progress lines are the single
//! run's (`progress`), prefixed by its instance name and timed by the stack's epoch.
//! Exit status: 0 when every member finished, 1 otherwise, 2 for a bad manifest.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::error::TrainError;
use crate::pack::manifest::PackManifest;
use crate::pack::member::{group, prepare, Member};
use crate::pack::train_loop::{train_group, Reporter};
use crate::progress::{diverged_line, epoch_line, Timing};
use crate::record::{run_metrics, write_final, write_history};
use crate::stopping::Stop;

/// Writes the members' files as the loop reports them, and counts the finished ones.
struct Files {
    device: tch::Device,
    started: Instant,
    finished: usize,
    failed: usize,
}

impl Files {
    fn finish(&self, m: &Member, stop: Stop) -> Result<(), TrainError> {
        if let Some(epoch) = stop.diverged_epoch() {
            eprintln!("{}: {}", m.instance, diverged_line(epoch));
        }
        let metrics = run_metrics(m.names, &m.cfg, &m.history, stop, self.device);
        write_final(&m.out, &m.vs, &metrics)?;
        if let Some(done) = &m.done {
            std::fs::write(done, b"").map_err(|source| TrainError::Write {
                path: done.clone(),
                source,
            })?;
        }
        eprintln!(
            "{}: train: {} epochs, finished after {:.3}s of the pack's wall time",
            m.instance,
            m.history.len(),
            self.started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

impl Reporter for Files {
    fn on_epoch(&mut self, m: &Member, seconds: f64) -> Result<(), TrainError> {
        let line = m
            .history
            .last()
            .and_then(|r| epoch_line(r, m.cfg.train.epochs, seconds, Timing::Stack));
        if let Some(line) = line {
            eprintln!("{}: {line}", m.instance);
        }
        write_history(&m.out, &m.history)
    }

    fn on_stop(&mut self, m: Member, stop: Stop) {
        match self.finish(&m, stop) {
            Ok(()) => self.finished += 1,
            Err(e) => self.on_fail(m, e),
        }
    }

    fn on_fail(&mut self, m: Member, error: TrainError) {
        eprintln!("{}: error: {error}", m.instance);
        self.failed += 1;
    }
}

/// Runs `train --pack manifest` and returns the exit status (see the module doc).
pub fn run_pack(manifest: &Path) -> ExitCode {
    let manifest = match PackManifest::read(manifest) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let device = match common_torch::choose() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {}", TrainError::Device(e));
            return ExitCode::from(2);
        }
    };
    let mut files = Files {
        device,
        started: Instant::now(),
        finished: 0,
        failed: 0,
    };
    let mut members = Vec::new();
    for entry in &manifest.members {
        match prepare(entry, device) {
            Ok(m) => members.push(m),
            Err(e) => {
                eprintln!("{}: error: {e}", entry.instance);
                files.failed += 1;
            }
        }
    }
    let groups = group(members);
    eprintln!(
        "train --pack: {} members in {} stacks on {} ({} left out)",
        groups.iter().map(Vec::len).sum::<usize>(),
        groups.len(),
        common_torch::name(device),
        files.failed
    );
    for g in groups {
        let first = &g[0].cfg;
        eprintln!(
            "train --pack: stack of {} ({} {} blocks, length {}, {} train / {} held-out)",
            g.len(),
            first.train.task,
            first.model.blocks,
            first.model.seq_len(),
            g[0].train.len(),
            g[0].heldout.len()
        );
        train_group(g, &mut files);
    }
    eprintln!(
        "train --pack: {} finished, {} failed in {:.3}s wall time",
        files.finished,
        files.failed,
        files.started.elapsed().as_secs_f64()
    );
    if files.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
