//! The run record: what the latest `repro run` of a profile did, instance by instance (ran,
//! restored, fresh, failed, skipped), when each executed instance started and ended relative to
//! the run's start, on which device and holding which slots (`cpu 2`, `gpu 0 · cpu 1`, or the
//! batch executor's name); with the command line and the run's start and end.
//!
//! [`Recorder`] builds it from the dispatcher's events, as a [`Reporter`] placed in front of
//! the progress display (every event is passed on unchanged). The record lives in
//! `.repro/last-run/<profile>.json` (`Layout::last_run`), outside every cached output: it holds
//! wall times. The page reads it for the time section and the timeline; without one (a
//! workspace whose results were only restored) the page says so and uses the action records.
//!
//! A run that found every instance up to date (a no-op) in a pipeline without a page writes no
//! record: the last record stays that of the last run that did something, and such a no-op
//! writes nothing at all. With a page, the no-op is recorded, since the page reports the run
//! that wrote it. The recorder keeps fresh instances as a list of ids until the end, so that a
//! no-op of a wide pipeline does not build a map it then throws away.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::sched::{Event, Reporter};

/// Version of the run record's format; bump when a field changes meaning.
pub const RUN_RECORD_FORMAT: u32 = 1;

/// What a run did with one instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Executed and published.
    Ran,
    /// Restored from the cache without running.
    Restored,
    /// Already up to date.
    Fresh,
    /// Executed and failed.
    Failed,
    /// Not run (an upstream failed, or the run stopped).
    Skipped,
}

/// One instance of a run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InstanceRun {
    /// What happened.
    pub outcome: Outcome,
    /// `cpu` or the GPU ids given, when it executed.
    #[serde(default)]
    pub device: Option<String>,
    /// The slots it held, when it executed (absent from records written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    /// Seconds after the run's start when it started, when it executed.
    #[serde(default)]
    pub start_s: Option<f64>,
    /// Seconds after the run's start when it ended, when it executed.
    #[serde(default)]
    pub end_s: Option<f64>,
}

/// The record of one `repro run`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunRecord {
    /// [`RUN_RECORD_FORMAT`].
    pub format: u32,
    /// The profile's name in `repro.lock`.
    pub profile: String,
    /// The command line, as given.
    pub argv: Vec<String>,
    /// Seconds since the Unix epoch when the run started.
    pub started_at: u64,
    /// Wall seconds from start to end.
    pub seconds: f64,
    /// Whether it was interrupted.
    pub interrupted: bool,
    /// Instance id to what happened to it.
    pub instances: BTreeMap<String, InstanceRun>,
}

impl RunRecord {
    /// Reads a record; `Ok(None)` when absent or of another format.
    pub fn read(path: &Path) -> std::io::Result<Option<RunRecord>> {
        match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<RunRecord>(&bytes) {
                Ok(r) if r.format == RUN_RECORD_FORMAT => Ok(Some(r)),
                Ok(_) => Ok(None),
                Err(e) => Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("`{}`: {e}", path.display()),
                )),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes the record atomically, creating its folder.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        bytes.push(b'\n');
        crate::cache::atomic::write(path, &bytes)
    }
}

/// Passes every event on to `inner` and records what it says about each instance.
pub struct Recorder<'a> {
    inner: &'a mut dyn Reporter,
    clock: Instant,
    record: RunRecord,
    /// Instances found fresh, in the order seen (kept apart: most of a wide no-op).
    fresh: Vec<String>,
}

impl<'a> Recorder<'a> {
    /// A recorder in front of `inner`, for a run of `profile` started by `argv`, starting now.
    pub fn new(inner: &'a mut dyn Reporter, profile: &str, argv: Vec<String>) -> Recorder<'a> {
        let started_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Recorder {
            inner,
            clock: Instant::now(),
            record: RunRecord {
                format: RUN_RECORD_FORMAT,
                profile: profile.to_owned(),
                argv,
                started_at,
                seconds: 0.0,
                interrupted: false,
                instances: BTreeMap::new(),
            },
            fresh: Vec::new(),
        }
    }

    /// The record so far, with its duration set to now; `None` when the run did nothing (every
    /// instance it saw was fresh and it was not interrupted) unless `keep_no_op`, which leaves
    /// the last record as it is.
    pub fn finish(mut self, keep_no_op: bool) -> Option<RunRecord> {
        if self.record.instances.is_empty() && !self.record.interrupted && !keep_no_op {
            return None;
        }
        self.record.seconds = self.clock.elapsed().as_secs_f64();
        for id in self.fresh {
            self.record.instances.entry(id).or_insert(InstanceRun {
                outcome: Outcome::Fresh,
                device: None,
                slot: None,
                start_s: None,
                end_s: None,
            });
        }
        Some(self.record)
    }

    fn set(&mut self, id: &str, outcome: Outcome) {
        let now = self.clock.elapsed().as_secs_f64();
        let e = self
            .record
            .instances
            .entry(id.to_owned())
            .or_insert(InstanceRun {
                outcome,
                device: None,
                slot: None,
                start_s: None,
                end_s: None,
            });
        e.outcome = outcome;
        if matches!(outcome, Outcome::Ran | Outcome::Failed) && e.start_s.is_some() {
            e.end_s = Some(now);
        }
    }
}

impl Reporter for Recorder<'_> {
    fn event(&mut self, e: &Event) {
        match e {
            Event::Started {
                id, device, slot, ..
            } => {
                let now = self.clock.elapsed().as_secs_f64();
                // A retried attempt starts again: its times are the last attempt's.
                self.record.instances.insert(
                    id.clone(),
                    InstanceRun {
                        outcome: Outcome::Failed,
                        device: Some(device.clone()),
                        slot: (!slot.is_empty()).then(|| slot.clone()),
                        start_s: Some(now),
                        end_s: None,
                    },
                );
            }
            // Timed by when its job ended: it is published (and reported) later.
            Event::Finished { id, ended, .. } => {
                let end = ended.saturating_duration_since(self.clock).as_secs_f64();
                self.set(id, Outcome::Ran);
                if let Some(e) = self.record.instances.get_mut(id.as_str()) {
                    if e.start_s.is_some() {
                        e.end_s = Some(end);
                    }
                }
            }
            Event::Failed { id, .. } => self.set(id, Outcome::Failed),
            Event::Restored { id } => self.set(id, Outcome::Restored),
            Event::Fresh { id } => self.fresh.push(id.clone()),
            Event::Skipped { id, .. } => self.set(id, Outcome::Skipped),
            Event::Summary { interrupted, .. } => self.record.interrupted = *interrupted,
            _ => {}
        }
        self.inner.event(e);
    }

    fn output_error(&self) -> Option<String> {
        self.inner.output_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Count(usize);
    impl Reporter for Count {
        fn event(&mut self, _: &Event) {
            self.0 += 1;
        }
    }

    #[test]
    fn every_event_is_passed_on_and_each_instance_keeps_its_last_outcome() {
        let mut inner = Count::default();
        let mut r = Recorder::new(&mut inner, "smoke", vec!["repro".into(), "run".into()]);
        let started = |id: &str| Event::Started {
            id: id.into(),
            reasons: vec![],
            device: "cpu".into(),
            slot: "cpu 1".into(),
            watch: None,
        };
        r.event(&started("a"));
        r.event(&Event::Failed {
            id: "a".into(),
            error: "x".into(),
            log_tail: vec![],
            log: String::new(),
        });
        r.event(&started("a"));
        let ended = Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(30));
        r.event(&Event::Finished {
            id: "a".into(),
            seconds: 0.0,
            key: None,
            ended,
        });
        r.event(&Event::Restored { id: "b".into() });
        r.event(&Event::Fresh { id: "c".into() });
        let rec = r.finish(false).expect("the run did something");
        assert_eq!(inner.0, 6);
        let a = &rec.instances["a"];
        assert_eq!(a.outcome, Outcome::Ran);
        assert_eq!(a.device.as_deref(), Some("cpu"));
        assert_eq!(
            a.slot.as_deref(),
            Some("cpu 1"),
            "the slot of its last attempt"
        );
        assert!(a.start_s.is_some() && a.end_s >= a.start_s);
        assert!(
            a.end_s.unwrap() + 0.025 < rec.seconds,
            "timed by when its job ended, not by the later event"
        );
        assert_eq!(rec.instances["b"].outcome, Outcome::Restored);
        assert_eq!(rec.instances["b"].start_s, None);
        assert_eq!(rec.instances["c"].outcome, Outcome::Fresh);
    }

    #[test]
    fn a_record_reads_back_as_written_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("last-run").join("p.json");
        assert_eq!(RunRecord::read(&path).unwrap(), None);
        let mut inner = Count::default();
        let mut r = Recorder::new(&mut inner, "p", vec!["repro".into()]);
        r.event(&Event::Restored { id: "x".into() });
        r.event(&Event::Fresh { id: "y".into() });
        let rec = r.finish(false).expect("the run restored one");
        rec.write(&path).unwrap();
        assert_eq!(RunRecord::read(&path).unwrap(), Some(rec));
    }

    #[test]
    fn a_run_that_found_everything_fresh_leaves_no_record() {
        let mut inner = Count::default();
        let mut r = Recorder::new(&mut inner, "p", vec!["repro".into()]);
        r.event(&Event::Fresh { id: "x".into() });
        r.event(&Event::Fresh { id: "y".into() });
        assert_eq!(r.finish(false), None);
        assert_eq!(inner.0, 2, "the events still reach the display");
        let mut inner = Count::default();
        let mut r = Recorder::new(&mut inner, "p", vec!["repro".into()]);
        r.event(&Event::Fresh { id: "x".into() });
        let kept = r.finish(true).expect("kept for a page");
        assert_eq!(kept.instances["x"].outcome, Outcome::Fresh);
        let mut inner = Count::default();
        let mut r = Recorder::new(&mut inner, "p", vec!["repro".into()]);
        r.event(&Event::Fresh { id: "x".into() });
        r.event(&Event::Summary {
            ran: 0,
            restored: 0,
            fresh: 1,
            failed: 0,
            skipped: 0,
            unchanged: 0,
            kept: 0,
            interrupted: true,
            seconds: 0.0,
        });
        assert!(r.finish(false).is_some(), "an interrupted run is recorded");
    }
}
