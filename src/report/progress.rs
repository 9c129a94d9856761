//! Human progress on stderr. On a terminal: an indicatif bar with done/cached/running/failed
//! counts, elapsed time and the time left, and one line per running instance with what its
//! `progress:` pattern last matched (`watch.rs`). Otherwise: one plain line per started,
//! finished, restored or failed instance (fresh instances are only counted), the time left on
//! each finished line, and a `progress` line per instance at most every 30 s, so CI logs read
//! well without colour. The time left comes from earlier durations (`eta.rs`) once known.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::eta::{human, TimeLeft};
use super::watch::{Show, Watcher};
use crate::sched::{Event, Reporter};

/// The stderr progress display.
pub struct ProgressReporter {
    live: Option<Live>,
    total: usize,
    done: usize,
    cached: usize,
    failed: usize,
    running: usize,
    start: Instant,
    verbose_fresh: bool,
    stdout_error: Option<String>,
    watcher: Watcher,
    left: TimeLeft,
}

struct Live {
    multi: MultiProgress,
    main: ProgressBar,
    jobs: HashMap<String, ProgressBar>,
}

impl ProgressReporter {
    /// A reporter that draws a live display when stderr is a terminal.
    pub fn new() -> ProgressReporter {
        let live = std::io::stderr().is_terminal().then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let main = multi.add(ProgressBar::new(0));
            main.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
                    .expect("template")
                    .progress_chars("=> "),
            );
            Live {
                multi,
                main,
                jobs: HashMap::new(),
            }
        });
        ProgressReporter {
            live,
            total: 0,
            done: 0,
            cached: 0,
            failed: 0,
            running: 0,
            start: Instant::now(),
            verbose_fresh: false,
            stdout_error: None,
            watcher: Watcher::new(),
            left: TimeLeft::default(),
        }
    }

    /// `about 12m left` (`at least` when some instance has no estimate), once estimates exist.
    fn time_left(&self) -> Option<String> {
        let l = self.left.left(Instant::now(), &self.watcher.latest())?;
        if l.seconds < 1.0 && !l.lower_bound {
            return None;
        }
        let bound = if l.lower_bound { "at least " } else { "about " };
        Some(format!("{bound}{} left", human(l.seconds)))
    }

    /// `id` needs nothing more from the display.
    fn settle(&mut self, id: &str) {
        self.watcher.forget(id);
        self.left.settled(id);
    }

    fn counts(&self) -> String {
        format!(
            "done {} cached {} running {} failed {}",
            self.done, self.cached, self.running, self.failed
        )
    }

    /// A progress line on stderr: best effort (a full or closed stderr loses progress only).
    fn line(&self, text: String) {
        match &self.live {
            Some(l) => l.multi.suspend(|| err_line(&text)),
            None => err_line(&text),
        }
    }

    /// A data line on stdout (dry runs); the first failure is kept for `output_error`.
    fn data_line(&mut self, text: String) {
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
            self.stdout_error.get_or_insert_with(|| e.to_string());
        }
    }

    fn tick(&mut self) {
        if let Some(l) = &self.live {
            l.main
                .set_position((self.done + self.cached + self.failed) as u64);
            let left = self
                .time_left()
                .map(|t| format!(", {t}"))
                .unwrap_or_default();
            l.main.set_message(format!("{}{left}", self.counts()));
        }
    }

    fn prefix(&self) -> String {
        let width = self.total.to_string().len();
        format!(
            "[{:>width$}/{}]",
            self.done + self.cached + self.failed,
            self.total
        )
    }
}

impl Default for ProgressReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter for ProgressReporter {
    fn event(&mut self, e: &Event) {
        match e {
            Event::Plan { total, profile } => {
                self.total = *total;
                self.start = Instant::now();
                if let Some(l) = &self.live {
                    l.main.set_length(*total as u64);
                    l.main.enable_steady_tick(Duration::from_millis(200));
                }
                self.line(format!(
                    "repro: {total} instances selected (profile `{profile}`)"
                ));
            }
            Event::Note { message } => self.line(format!("repro: note: {message}")),
            Event::Build { argv } => self.line(format!("repro: building: {}", argv.join(" "))),
            Event::Fresh { id } => {
                self.cached += 1;
                self.settle(id);
                if self.verbose_fresh {
                    self.line(format!("{} fresh     {id}", self.prefix()));
                }
            }
            Event::Restored { id } => {
                self.cached += 1;
                self.settle(id);
                self.line(format!("{} restored  {id}", self.prefix()));
            }
            Event::Started {
                id,
                reasons,
                device,
                watch,
                ..
            } => {
                self.running += 1;
                self.left.started(id, Instant::now());
                let why = reasons.first().map(|r| r.to_string()).unwrap_or_default();
                let show = match &mut self.live {
                    Some(l) => {
                        let pb = l.multi.add(ProgressBar::new_spinner());
                        pb.set_style(
                            ProgressStyle::with_template("  {spinner} {elapsed:>4} {msg}")
                                .expect("template"),
                        );
                        pb.set_message(format!("{id} [{device}] ({why})"));
                        pb.enable_steady_tick(Duration::from_millis(200));
                        l.jobs.insert(id.clone(), pb.clone());
                        Show::Bar {
                            bar: pb,
                            label: format!("{id} [{device}]"),
                        }
                    }
                    None => {
                        err_line(&format!(
                            "{} started   {id} [{device}] ({why})",
                            self.prefix()
                        ));
                        Show::Plain
                    }
                };
                if let Some(w) = watch {
                    self.watcher.follow(id, w.clone(), show);
                }
            }
            Event::Expected {
                total_s,
                unknown,
                parallel,
                by_id,
            } => {
                self.left.expected(by_id, *unknown, *parallel);
                if !by_id.is_empty() {
                    let unknown = match unknown {
                        0 => String::new(),
                        n => format!(" ({n} without an earlier run to go by)"),
                    };
                    let left = self
                        .time_left()
                        .map(|t| format!("; {t} with {parallel} at a time"))
                        .unwrap_or_default();
                    self.line(format!(
                        "repro: earlier runs suggest {} of work{unknown}{left}",
                        human(*total_s)
                    ));
                }
            }
            Event::Finished { id, seconds, .. } => {
                self.running -= 1;
                self.done += 1;
                self.settle(id);
                if let Some(pb) = self.live.as_mut().and_then(|l| l.jobs.remove(id)) {
                    pb.finish_and_clear();
                }
                let left = match (&self.live, self.time_left()) {
                    (None, Some(t)) => format!(" ({t})"),
                    _ => String::new(),
                };
                self.line(format!(
                    "{} finished  {id} in {seconds:.1}s{left}",
                    self.prefix()
                ));
            }
            Event::Failed {
                id,
                error,
                log_tail,
                log,
            } => {
                self.running = self.running.saturating_sub(1);
                self.failed += 1;
                self.settle(id);
                if let Some(pb) = self.live.as_mut().and_then(|l| l.jobs.remove(id)) {
                    pb.finish_and_clear();
                }
                let mut text = format!("{} FAILED    {id}: {error}\n  log: {log}", self.prefix());
                for l in log_tail {
                    text.push_str("\n  | ");
                    text.push_str(l);
                }
                self.line(text);
            }
            Event::Skipped { id, because } => {
                self.settle(id);
                if let Some(pb) = self.live.as_mut().and_then(|l| l.jobs.remove(id)) {
                    pb.finish_and_clear();
                    self.running = self.running.saturating_sub(1);
                }
                self.line(format!("skipped {id}: {because}"));
            }
            Event::WouldRun { id, reasons } => {
                let why: Vec<String> = reasons.iter().map(|r| r.to_string()).collect();
                self.data_line(format!("would run      {id}: {}", why.join("; ")));
            }
            Event::WouldRestore { id, reasons } => {
                let why: Vec<String> = reasons.iter().map(|r| r.to_string()).collect();
                self.data_line(format!("would restore  {id}: {}", why.join("; ")));
            }
            Event::Summary {
                ran,
                restored,
                fresh,
                failed,
                skipped,
                unchanged,
                kept,
                interrupted,
                seconds,
            } => {
                if let Some(l) = &self.live {
                    l.main.finish_and_clear();
                }
                let head = if *interrupted {
                    "repro: interrupted"
                } else {
                    "repro"
                };
                if *ran == 0 && *restored == 0 && *failed == 0 && !interrupted {
                    err_line(&format!("{head}: nothing to do: all {fresh} instances are up to date ({seconds:.2}s)"));
                } else {
                    err_line(&format!(
                        "{head}: {ran} ran, {restored} restored, {fresh} fresh, {failed} failed, {skipped} skipped ({:.1}s)",
                        seconds.max(self.start.elapsed().as_secs_f64())
                    ));
                }
                if *unchanged > 0 || *kept > 0 {
                    err_line(&format!(
                        "repro: early cutoff: {unchanged} ran with outputs identical to their last run, {kept} dependents kept without running"
                    ));
                }
            }
        }
        self.tick();
    }

    fn output_error(&self) -> Option<String> {
        self.stdout_error.clone()
    }
}

/// A line on stderr, best effort, in one `write` (`writeln!` on the unbuffered stderr made
/// two: the text, then the newline).
pub(crate) fn err_line(text: &str) {
    let _ = std::io::stderr().write_all(format!("{text}\n").as_bytes());
}
