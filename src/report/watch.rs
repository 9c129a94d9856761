//! Following running instances' logs for the lines their stage's `progress:` pattern matches,
//! on a thread of its own (twice a second), so that the dispatcher never reads a log.
//!
//! What it found is shown where the display is: the instance's line of the live view on a
//! terminal, or a plain `progress` line on stderr otherwise, at most once per
//! [`PLAIN_EVERY`] per instance and only when it changed (CI logs stay short).

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;

use crate::sched::Watch;
use crate::spec::progress::ProgressLine;

/// How often logs are read.
const EVERY: Duration = Duration::from_millis(500);

/// The shortest interval between two plain progress lines of one instance.
pub(crate) const PLAIN_EVERY: Duration = Duration::from_secs(30);

/// The most bytes read from one log per turn (a flood of output is skipped, not parsed).
const MAX_READ: u64 = 1 << 20;

/// Where an instance's progress is shown.
pub(crate) enum Show {
    /// Its line of the live view: `label` then the progress.
    Bar { bar: ProgressBar, label: String },
    /// Plain lines on stderr.
    Plain,
}

struct Followed {
    watch: Watch,
    show: Show,
    offset: u64,
    partial: Vec<u8>,
    latest: Option<ProgressLine>,
    printed: Option<(String, Instant)>,
}

/// The following thread and what it knows.
pub(crate) struct Watcher {
    followed: Arc<Mutex<HashMap<String, Followed>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// A watcher following nothing yet (its thread starts with the first instance).
    pub(crate) fn new() -> Watcher {
        Watcher {
            followed: Arc::default(),
            stop: Arc::default(),
            thread: None,
        }
    }

    /// Follows instance `id` through `watch`, showing its progress through `show`.
    pub(crate) fn follow(&mut self, id: &str, watch: Watch, show: Show) {
        self.lock().insert(
            id.to_owned(),
            Followed {
                watch,
                show,
                offset: 0,
                partial: Vec::new(),
                latest: None,
                printed: None,
            },
        );
        if self.thread.is_none() {
            let followed = Arc::clone(&self.followed);
            let stop = Arc::clone(&self.stop);
            self.thread = std::thread::Builder::new()
                .name("repro-progress".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EVERY);
                        let mut map = followed.lock().unwrap_or_else(PoisonError::into_inner);
                        for (id, f) in map.iter_mut() {
                            f.read_new();
                            f.show(id);
                        }
                    }
                })
                .ok();
        }
    }

    /// Stops following `id`.
    pub(crate) fn forget(&mut self, id: &str) {
        self.lock().remove(id);
    }

    /// The latest progress of each followed instance that reported one.
    pub(crate) fn latest(&self) -> HashMap<String, ProgressLine> {
        self.lock()
            .iter()
            .filter_map(|(id, f)| f.latest.clone().map(|l| (id.clone(), l)))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Followed>> {
        self.followed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Followed {
    /// Reads what the log gained since the last turn and keeps the last matching line. A log
    /// that shrank (rewritten by a new attempt) is read again from its start.
    fn read_new(&mut self) {
        let Ok(mut file) = File::open(&self.watch.log) else {
            return;
        };
        let len = file.metadata().map_or(0, |m| m.len());
        if len < self.offset {
            self.offset = 0;
            self.partial.clear();
        }
        if len == self.offset {
            return;
        }
        if len - self.offset > MAX_READ {
            // Too much at once: skip to the last MAX_READ bytes, from a line's start.
            self.offset = len - MAX_READ;
            self.partial.clear();
            self.partial.push(b'\0');
        }
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(self.offset)).is_err()
            || file.take(MAX_READ).read_to_end(&mut bytes).is_err()
        {
            return;
        }
        self.offset += bytes.len() as u64;
        self.partial.extend_from_slice(&bytes);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return;
        };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        for line in String::from_utf8_lossy(&complete).lines() {
            if line.starts_with('\0') {
                continue; // the cut line after a skip
            }
            let line = match &self.watch.member {
                Some(id) => match line
                    .strip_prefix(id.as_str())
                    .and_then(|r| r.strip_prefix(": "))
                {
                    Some(rest) => rest,
                    None => continue,
                },
                None => line,
            };
            if let Some(p) = self.watch.pattern.read(line) {
                self.latest = Some(p);
            }
        }
    }

    fn show(&mut self, id: &str) {
        let Some(latest) = &self.latest else {
            return;
        };
        match &self.show {
            Show::Bar { bar, label } => bar.set_message(format!("{label} {}", latest.text)),
            Show::Plain => {
                let due = self
                    .printed
                    .as_ref()
                    .is_none_or(|(text, at)| *text != latest.text && at.elapsed() >= PLAIN_EVERY);
                if due {
                    super::progress::err_line(&format!("progress  {id}: {}", latest.text));
                    self.printed = Some((latest.text.clone(), Instant::now()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::progress::ProgressPattern;
    use std::io::Write;

    fn followed(log: &std::path::Path, member: Option<&str>) -> Followed {
        Followed {
            watch: Watch {
                log: log.to_owned(),
                pattern: ProgressPattern::parse(r"epoch (?P<done>\d+)/(?P<total>\d+)").unwrap(),
                member: member.map(str::to_owned),
            },
            show: Show::Plain,
            offset: 0,
            partial: Vec::new(),
            latest: None,
            printed: None,
        }
    }

    #[test]
    fn the_last_complete_matching_line_wins_and_partial_lines_wait() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.log");
        let mut f = File::create(&log).unwrap();
        write!(f, "start\nepoch 1/10: x\nepoch 2/10: y\nepoch 3/1").unwrap();
        let mut w = followed(&log, None);
        w.read_new();
        assert_eq!(w.latest.as_ref().unwrap().text, "2/10");
        writeln!(f, "0: z").unwrap();
        w.read_new();
        assert_eq!(w.latest.as_ref().unwrap().text, "3/10");
    }

    #[test]
    fn a_pack_member_reads_only_its_own_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("p.log");
        std::fs::write(
            &log,
            "t@s=a: epoch 4/9: x\nt@s=a:b: epoch 7/9: x\nt@s=b: epoch 5/9: x\n",
        )
        .unwrap();
        let mut w = followed(&log, Some("t@s=a"));
        w.read_new();
        assert_eq!(w.latest.unwrap().text, "4/9");
    }

    #[test]
    fn a_log_that_shrank_is_read_again_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.log");
        std::fs::write(&log, "epoch 8/10: old attempt, a long line\n").unwrap();
        let mut w = followed(&log, None);
        w.read_new();
        std::fs::write(&log, "epoch 1/10\n").unwrap();
        w.read_new();
        assert_eq!(w.latest.unwrap().text, "1/10");
    }
}
