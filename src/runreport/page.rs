//! The whole page: one self-contained HTML file with its style and a small sorting script
//! inline, nothing fetched (no font, no script, no image from elsewhere), and a
//! Content-Security-Policy `<meta>` that allows only what is inline: `default-src 'none'`,
//! `style-src 'unsafe-inline'` (the style sheet and legend swatches), `img-src data:`, and the
//! script by its SHA-256 hash. Every figure is inline SVG, every tooltip an SVG `<title>`, every
//! disclosure a `<details>`, so the page reads fully without script; the script only lets a
//! reader sort tables marked sortable by clicking a column's header.
//!
//! Order: the header (profile, commit, date, what the run did), the stage-written sections
//! (the pipeline's own findings come first), then the engine's: time (per stage, and a
//! timeline), the stage graph, one row per instance with its details, and provenance.
//!
//! Known limits: a log is shown by its tail and its path (and `repro logs ID`), not linked:
//! the page must stand alone, so it links only inside itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::facts::{InstanceFacts, PageFacts};
use super::html::{duration, elem, esc, human, table, utc};
use super::record::Outcome;
use super::timeline::{self, Span, PALETTE};
use crate::cache::ActionRecord;
use crate::encode::base64;

/// Sorts a `table.sortable` by the clicked header: numbers as numbers, the rest as text; a
/// second click reverses.
const SORT_SCRIPT: &str = r#"document.querySelectorAll("table.sortable th").forEach(function(th){th.tabIndex=0;th.title="click to sort";function go(){var t=th.closest("table"),b=t.tBodies[0],i=th.cellIndex,d=th.getAttribute("data-dir")==="a"?"d":"a";t.querySelectorAll("th").forEach(function(h){h.removeAttribute("data-dir")});th.setAttribute("data-dir",d);function v(r){var s=r.cells[i]?r.cells[i].textContent.trim():"";var n=parseFloat(s);return /^[-+]?[0-9.]/.test(s)&&!isNaN(n)?n:s.toLowerCase()}var rows=Array.prototype.slice.call(b.rows);rows.sort(function(x,y){var p=v(x),q=v(y),c=typeof p===typeof q?(p<q?-1:p>q?1:0):(typeof p==="number"?-1:1);return d==="a"?c:-c});rows.forEach(function(r){b.appendChild(r)})}th.addEventListener("click",go);th.addEventListener("keydown",function(e){if(e.key==="Enter")go()})});"#;

const STYLE: &str = "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1150px;padding:0 18px 60px;color:#1d1d1f;background:#fff}\
h1{font-size:1.6em;margin:.8em 0 .2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}\
.sub{color:#555;margin:.2em 0}nav a{margin-right:1em}\
.strip{display:flex;flex-wrap:wrap;gap:.4em 1.4em;background:#f5f5f7;padding:.6em .9em;border-radius:8px}\
.verdicts{display:flex;flex-wrap:wrap;gap:10px;list-style:none;padding:0}\
.verdict{flex:1 1 220px;border-radius:8px;padding:.6em .8em;border:1px solid #ccc}\
.verdict.good{background:#e3f5e3;border-color:#7bc47b}.verdict.bad{background:#fbe1e1;border-color:#e08a8a}.verdict.neutral{background:#eee;border-color:#bbb}\
.vid{font-weight:700;margin-right:.3em}\
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:.5em 0 1em;font-size:.92em}\
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f5f5f7}\
table.sortable th{cursor:pointer}th[data-dir=a]::after{content:' ▲'}th[data-dir=d]::after{content:' ▼'}\
td{font-variant-numeric:tabular-nums}.caption{font-weight:600;margin-bottom:0}\
figure.chart{display:inline-block;margin:.4em 1em .8em 0;vertical-align:top}\
svg text{font:11px sans-serif;fill:#333}svg .title{font-size:13px;font-weight:600}svg .name{font-weight:700}\
.grid{stroke:#e5e5e5}.frame{fill:none;stroke:#999}\
.legend{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:.2em 1em;font-size:.9em}\
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:-1px}\
details{margin:.3em 0}summary{cursor:pointer}pre{background:#f5f5f7;padding:.5em;overflow-x:auto;font-size:.85em}\
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dt{font-weight:600}dd{margin:0;word-break:break-all}\
.missing{background:#fff4e0;padding:.5em .8em;border-radius:6px}\
.state-fresh{color:#2a7a2a}.state-run,.state-restore{color:#a35a00}";

/// The page's Content-Security-Policy.
pub(crate) fn policy() -> String {
    let hash = base64(&Sha256::digest(SORT_SCRIPT.as_bytes()));
    format!("default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'")
}

/// Renders the page.
pub(crate) fn render(f: &PageFacts) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let title = format!("Run report: {}", f.profile);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"{}\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body data-profile=\"{}\">",
        esc(&policy()),
        esc(&title),
        esc(&f.profile)
    );
    header(&mut out, f, &title);
    for s in &f.sections {
        match &s.content {
            Ok(sections) => {
                for sec in &sections.sections {
                    super::blocks::section(&mut out, sec);
                }
            }
            Err(why) => {
                out.push_str("<section>");
                elem(&mut out, "h2", "", &format!("Missing section: {}", s.path));
                elem(&mut out, "p", "class=\"missing\"", why);
                out.push_str("</section>");
            }
        }
    }
    time(&mut out, f);
    graph(&mut out, f);
    runs(&mut out, f);
    provenance(&mut out, f);
    let _ = writeln!(out, "<script>{SORT_SCRIPT}</script></body></html>");
    out
}

fn header(out: &mut String, f: &PageFacts, title: &str) {
    elem(out, "h1", "", title);
    if let Some(d) = &f.description {
        elem(out, "p", "class=\"sub\"", d);
    }
    let commit = match &f.checkout.commit {
        Ok(c) => format!(
            "{}{}",
            &c[..c.len().min(12)],
            match f.checkout.dirty {
                Some(true) => " (dirty: tracked files differ)",
                Some(false) => " (clean)",
                None => "",
            }
        ),
        Err(_) => "unknown (not a git checkout)".to_owned(),
    };
    out.push_str("<div class=\"strip\">");
    for (label, value) in [
        ("profile", f.profile.clone()),
        ("commit", commit),
        ("page written", utc(f.written_at)),
        ("run", run_line(f)),
    ] {
        let _ = write!(
            out,
            "<span><strong>{}</strong> {}</span>",
            esc(label),
            esc(&value)
        );
    }
    out.push_str("</div><nav>");
    for s in f.sections.iter().filter_map(|s| s.content.as_ref().ok()) {
        for sec in &s.sections {
            let _ = write!(
                out,
                "<a href=\"#s-{}\">{}</a>",
                esc(&sec.id),
                esc(&sec.title)
            );
        }
    }
    out.push_str("<a href=\"#time\">Time</a><a href=\"#graph\">Pipeline</a><a href=\"#runs\">Runs</a><a href=\"#provenance\">Provenance</a></nav>");
}

fn run_line(f: &PageFacts) -> String {
    let Some(r) = &f.run else {
        return "no `repro run` of this profile recorded in this workspace".to_owned();
    };
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for i in r.instances.values() {
        *counts.entry(outcome_label(i.outcome)).or_default() += 1;
    }
    let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    format!(
        "started {}, {}, {}{}",
        utc(r.started_at),
        duration(r.seconds),
        parts.join(", "),
        if r.interrupted { ", interrupted" } else { "" }
    )
}

fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Ran => "ran",
        Outcome::Restored => "restored",
        Outcome::Fresh => "fresh",
        Outcome::Failed => "failed",
        Outcome::Skipped => "skipped",
    }
}

/// Per stage: what the latest run executed, restored or found fresh, and the time it took.
fn time(out: &mut String, f: &PageFacts) {
    out.push_str("<section id=\"time\"><h2>Time</h2>");
    if f.run.is_none() {
        elem(out, "p", "class=\"missing\"", "No `repro run` of this profile is recorded in this workspace: the times below are those of the action records (when each result was first computed), and the timeline places them on their own clocks.");
    }
    elem(out, "p", "", "Per stage, in the latest run: instances executed (and their wall time), restored from the cache and already fresh; CPU and GPU time are wall time times the slots each instance asks for (the members of a pack are counted one by one, though the pack holds its own slots). \"Recorded time\" is what the kept (restored or fresh) instances took when they were computed.");
    let mut by_stage: BTreeMap<&str, [f64; 8]> = BTreeMap::new();
    for i in &f.instances {
        let e = by_stage.entry(i.stage.as_str()).or_default();
        e[0] += 1.0;
        let secs = i
            .last
            .as_ref()
            .and_then(|l| Some(l.end_s? - l.start_s?))
            .or(i.record.as_ref().map(|r| r.duration_s))
            .unwrap_or(0.0);
        match i.last.as_ref().map(|l| l.outcome) {
            Some(Outcome::Ran) => {
                e[1] += 1.0;
                e[2] += secs;
                e[5] += secs * f64::from(i.cpus);
                let on_gpu = i
                    .last
                    .as_ref()
                    .and_then(|l| l.device.as_deref())
                    .is_some_and(|d| d != "cpu");
                if on_gpu {
                    e[6] += secs * i.gpus;
                }
            }
            Some(Outcome::Restored) => {
                e[3] += 1.0;
                e[7] += i.record.as_ref().map_or(0.0, |r| r.duration_s);
            }
            Some(Outcome::Fresh) => {
                e[4] += 1.0;
                e[7] += i.record.as_ref().map_or(0.0, |r| r.duration_s);
            }
            _ => {}
        }
    }
    let rows: Vec<(String, Vec<String>)> = by_stage
        .iter()
        .map(|(s, e)| {
            (
                String::new(),
                vec![
                    (*s).to_owned(),
                    format!("{}", e[0] as usize),
                    format!("{}", e[1] as usize),
                    format!("{:.1}", e[2]),
                    format!("{}", e[3] as usize),
                    format!("{}", e[4] as usize),
                    format!("{:.1}", e[5]),
                    format!("{:.1}", e[6]),
                    format!("{:.1}", e[7]),
                ],
            )
        })
        .collect();
    table(
        out,
        "class=\"data sortable\" id=\"stage-times\"",
        &[
            "stage",
            "instances",
            "executed",
            "executed wall s",
            "restored",
            "fresh",
            "CPU s",
            "GPU s",
            "recorded time of kept, s",
        ],
        &rows,
    );
    out.push_str("<h3>Timeline</h3>");
    let stages: Vec<&str> = by_stage.keys().copied().collect();
    let spans = spans(f, &stages);
    if spans.is_empty() {
        elem(
            out,
            "p",
            "",
            "Nothing executed in the latest run: every instance was restored or fresh.",
        );
    } else {
        elem(out, "p", "", "One bar per executed instance (hover for its id, slot, device, start and duration), from the start of the first one (a build before it is not drawn). One lane per slot the scheduler granted: its CPU slot and GPU (`cpu 2`, `gpu 0 · cpu 1`), or the batch executor (`slurm`, with a numbered lane for each job running at the same time); a run recorded before slots were, only by device.");
        timeline::render(out, &spans);
        out.push_str("<ul class=\"legend\">");
        for (i, s) in stages.iter().enumerate() {
            let _ = write!(
                out,
                "<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>",
                PALETTE[i % PALETTE.len()],
                esc(s)
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
}

/// The timeline's bars: from the run record when there is one, else from the action records
/// (each placed at its finish time minus its duration, relative to the earliest).
fn spans(f: &PageFacts, stages: &[&str]) -> Vec<Span> {
    let stage_index = |s: &str| stages.iter().position(|x| *x == s).unwrap_or(0);
    if f.run.is_some() {
        return f
            .instances
            .iter()
            .filter_map(|i| {
                let l = i.last.as_ref()?;
                Some(Span {
                    id: i.id.clone(),
                    stage: stage_index(&i.stage),
                    device: l.device.clone().unwrap_or_else(|| "cpu".into()),
                    slot: l.slot.clone(),
                    start: l.start_s?,
                    end: l.end_s?,
                })
            })
            .collect();
    }
    let recs: Vec<(&InstanceFacts, f64, f64, &ActionRecord)> = f
        .instances
        .iter()
        .filter_map(|i| {
            let r = i.record.as_ref()?;
            let end = r.finished_at as f64;
            Some((i, end - r.duration_s, end, r))
        })
        .collect();
    let t0 = recs.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    recs.into_iter()
        .map(|(i, s, e, r)| Span {
            id: i.id.clone(),
            stage: stage_index(&i.stage),
            device: r.device.clone(),
            slot: r.slot.clone(),
            start: s - t0,
            end: e - t0,
        })
        .collect()
}

fn graph(out: &mut String, f: &PageFacts) {
    out.push_str("<section id=\"graph\"><h2>Pipeline</h2>");
    elem(out, "p", "", "One box per stage with its instance count and how many are fresh now (as `repro status` sees the workspace): green all fresh, amber some stale, red none fresh. Arrows follow dependencies between stages.");
    super::stagegraph::render(out, &f.stages, &f.edges);
    out.push_str("</section>");
}

fn runs(out: &mut String, f: &PageFacts) {
    out.push_str("<section id=\"runs\"><h2>Runs</h2>");
    elem(out, "p", "", "One row per instance of the profile: its state now, what the latest run did with it, its device and duration from its action record, and its key in repro.lock. Its configuration, full key and the tail of its log are in the details below the table.");
    let rows: Vec<(String, Vec<String>)> = f
        .instances
        .iter()
        .map(|i| {
            let r = i.record.as_ref();
            (
                format!(
                    "data-instance=\"{}\" class=\"state-{}\"",
                    esc(&i.id),
                    i.state
                ),
                vec![
                    i.id.clone(),
                    i.stage.clone(),
                    i.state.to_owned(),
                    i.last
                        .as_ref()
                        .map_or("—".into(), |l| outcome_label(l.outcome).to_owned()),
                    r.map_or("—".into(), |r| r.device.clone()),
                    r.map_or("—".into(), |r| format!("{:.2}", r.duration_s)),
                    i.key
                        .as_ref()
                        .map_or("not recorded".into(), |k| k[..k.len().min(16)].to_owned()),
                ],
            )
        })
        .collect();
    table(
        out,
        "class=\"data sortable\" id=\"runs-table\"",
        &[
            "instance",
            "stage",
            "state now",
            "latest run",
            "device",
            "duration s",
            "key",
        ],
        &rows,
    );
    out.push_str("<h3>Each run</h3>");
    let collapsed = f.instances.len() > DETAIL_LIMIT;
    if collapsed {
        elem(out, "p", "", &format!("This profile has {} instances, more than {DETAIL_LIMIT}: to bound the page, details (configuration, full key, log tail) are shown only for instances whose latest run failed; `repro show ID` and `repro logs ID` give them for any other.", f.instances.len()));
    }
    for i in &f.instances {
        let failed = i
            .last
            .as_ref()
            .is_some_and(|l| l.outcome == Outcome::Failed);
        if !collapsed || failed {
            run_details(out, i);
        }
    }
    out.push_str("</section>");
}

/// Above this many instances, per-instance details are kept only for failed runs
/// (`sizebound` pins the page size this gives the paper profile).
pub(crate) const DETAIL_LIMIT: usize = 500;

fn run_details(out: &mut String, i: &InstanceFacts) {
    out.push_str("<details class=\"run\">");
    elem(out, "summary", "", &i.id);
    out.push_str("<dl class=\"facts\">");
    let mut fact = |k: &str, v: String| {
        elem(out, "dt", "", k);
        elem(out, "dd", "", &v);
    };
    for (k, v) in &i.matrix {
        fact(k, v.clone());
    }
    for (k, v) in &i.params {
        fact(&format!("params.{k}"), v.to_string());
    }
    fact(
        "key",
        i.key.clone().unwrap_or_else(|| "not recorded".into()),
    );
    if let Some(r) = &i.record {
        fact("device", format!("{} on {}", r.device, r.host));
        if let Some(slot) = &r.slot {
            fact("slot", slot.clone());
        }
        fact(
            "commit",
            r.checkout.as_ref().map_or_else(
                || "not recorded (not a git checkout, or an older record)".to_owned(),
                ToString::to_string,
            ),
        );
        fact("duration", duration(r.duration_s));
        fact("finished", utc(r.finished_at));
        for (m, v) in &r.metrics {
            fact(m, human(*v));
        }
    }
    fact(
        "full log",
        format!(
            "`repro logs {}` ({}; the store keeps the recorded run's log)",
            i.id, i.log_path
        ),
    );
    out.push_str("</dl>");
    if !i.log_tail.is_empty() {
        elem(out, "pre", "", &i.log_tail.join("\n"));
    }
    out.push_str("</details>");
}

fn provenance(out: &mut String, f: &PageFacts) {
    out.push_str("<section id=\"provenance\"><h2>Provenance</h2><dl class=\"facts\">");
    let mut fact = |k: &str, v: String| {
        elem(out, "dt", "", k);
        elem(out, "dd", "", &v);
    };
    fact("profile", f.profile.clone());
    if let Some(r) = &f.run {
        fact("command", shell_words(&r.argv));
    }
    fact("page written by", shell_words(&f.page_argv));
    fact(
        "commit",
        match &f.checkout.commit {
            Ok(c) => c.clone(),
            Err(e) => format!("unknown: {e}"),
        },
    );
    fact(
        "checkout",
        match f.checkout.dirty {
            Some(true) => "dirty: tracked files differ from the commit".into(),
            Some(false) => "clean".into(),
            None => "unknown".into(),
        },
    );
    fact("repro", f.repro_version.to_owned());
    for (label, v) in &f.versions {
        fact(
            label,
            match v {
                Ok(s) => s.clone(),
                Err(e) => format!("unavailable: {e}"),
            },
        );
    }
    out.push_str("</dl>");
    // Code keys: per stage, each code entry's digest, from the records (one per stage and entry).
    let mut code: BTreeMap<(String, String), String> = BTreeMap::new();
    for i in &f.instances {
        if let Some(r) = &i.record {
            for (entry, digest) in &r.inputs.code {
                code.entry((i.stage.clone(), entry.clone()))
                    .or_insert_with(|| digest.clone());
            }
        }
    }
    out.push_str("<h3>Code keys</h3>");
    let rows: Vec<(String, Vec<String>)> = code
        .into_iter()
        .map(|((s, e), d)| (String::new(), vec![s, e, d]))
        .collect();
    if rows.is_empty() {
        elem(
            out,
            "p",
            "",
            "No stage declares `code:`, or no record of one is in the store.",
        );
    } else {
        table(out, "class=\"data\"", &["stage", "code", "digest"], &rows);
    }
    elem(out, "p", "", "repro.lock keys: the key column of the runs table (the full key in each run's details); `repro show INSTANCE` prints what entered one.");
    out.push_str("</section>");
}

/// Words joined with spaces, each quoted when a shell would split or expand it.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=,:@+%".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_exactly_the_inline_script() {
        let p = policy();
        assert!(p.starts_with("default-src 'none';"));
        let hash = base64(&Sha256::digest(SORT_SCRIPT.as_bytes()));
        assert!(p.contains(&format!("script-src 'sha256-{hash}'")));
        assert!(!p.contains("unsafe-eval"));
        assert!(
            SORT_SCRIPT.len() < 2048,
            "the script stays small: {}",
            SORT_SCRIPT.len()
        );
    }

    #[test]
    fn commands_are_shown_as_a_shell_would_take_them() {
        let argv: Vec<String> = ["repro", "run", "all", "--profile", "my profile", "it's"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            shell_words(&argv),
            "repro run all --profile 'my profile' 'it'\\''s'"
        );
    }
}
