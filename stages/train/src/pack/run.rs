//! `train --pack MANIFEST` from the manifest to every member's four files.
//!
//! Reads the manifest (a bad one: exit 2, nothing written), chooses the device once, prepares
//! every member as its single run would (`pack::member::prepare`; a member whose arguments or
//! data are bad is reported on stderr, prefixed by its instance name, and left out), groups
//! the members by shape and trains the groups one after the other. Each member's `--out`
//! receives exactly a single run's files: `config.json` at set-up, `history.csv` rewritten
//! after every epoch, then `model.safetensors` and last `metrics.json` when the member stops.
//! Exit status: 0 when every member finished, 1 otherwise, 2 for a bad manifest.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use common::run_output::{history, CurveSummary, Metrics, HISTORY_FILE, METRICS_FILE};

use crate::error::TrainError;
use crate::output::{save_weights, write_atomic};
use crate::pack::manifest::Manifest;
use crate::pack::member::{group, prepare, Member};
use crate::pack::train_loop::{train_group, Reporter};
use crate::run::TORCH_VERSION;
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
        if let Stop::Diverged(epoch) = stop {
            eprintln!(
                "{}: train: loss became NaN in epoch {epoch}; stopped",
                m.instance
            );
        }
        save_weights(&m.vs, &m.out, "model.safetensors")?;
        let curve = CurveSummary::of(&m.history);
        let diverged_epoch = stop.diverged_epoch();
        let metrics = Metrics {
            format: common::run_output::METRICS_FORMAT_VERSION,
            task: m.names.task.to_string(),
            variant: m.names.variant.to_string(),
            activation: m.names.activation.to_string(),
            seed: m.cfg.train.seed,
            epochs: m.cfg.train.epochs,
            convergence_epoch: curve.convergence_epoch,
            best_heldout_acc: curve.best_heldout_acc,
            best_epoch: curve.best_epoch,
            last_heldout_acc: curve.last_heldout_acc,
            last_train_acc: curve.last_train_acc,
            diverged: diverged_epoch.is_some(),
            diverged_epoch,
            device: common_torch::name(self.device),
            torch_version: TORCH_VERSION.to_owned(),
            config: m.cfg.clone(),
        };
        write_atomic(&m.out, METRICS_FILE, metrics.to_json().as_bytes())?;
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
    fn on_epoch(&mut self, m: &Member, seconds: f64) -> Result<(), String> {
        let epochs = m.cfg.train.epochs;
        let r = m.history.last().expect("one row");
        if r.epoch.is_multiple_of((epochs / 100).max(1))
            || r.epoch == 1
            || r.epoch == epochs
            || !r.train_loss.is_finite()
        {
            eprintln!(
                "{}: epoch {}/{}: lr {:.4e} train loss {:.4} acc {:.4} held-out loss {:.4} acc {:.4} ({:.3}s for the stack)",
                m.instance, r.epoch, epochs, r.lr, r.train_loss, r.train_acc, r.heldout_loss, r.heldout_acc, seconds
            );
        }
        write_atomic(&m.out, HISTORY_FILE, history::to_csv(&m.history).as_bytes())
            .map_err(|e| e.to_string())
    }

    fn on_stop(&mut self, m: Member, stop: Stop) {
        match self.finish(&m, stop) {
            Ok(()) => self.finished += 1,
            Err(e) => self.on_fail(m, e.to_string()),
        }
    }

    fn on_fail(&mut self, m: Member, error: String) {
        eprintln!("{}: error: {error}", m.instance);
        self.failed += 1;
    }
}

/// Runs `train --pack manifest` and returns the exit status (see the module doc).
pub fn run_pack(manifest: &Path) -> ExitCode {
    let manifest = match Manifest::read(manifest) {
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
