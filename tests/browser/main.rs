//! The report page in a real browser: headless Chromium from Debian (installed by
//! `scripts/browser.sh` when absent) opens the page from an empty folder holding only the page,
//! with every host name mapped to nothing and a proxy that leads nowhere, and writes a network
//! log. The checks: the DOM after load holds what the page promises (a verdict per verdict
//! item, a row per instance, an SVG per chart), no `src`, `href` or `url()` that is not `data:`
//! or `#...`, no request in the network log, no Content-Security-Policy violation on the
//! console, the sorting script ran (the policy allows it by hash), and a screenshot (PNG) that
//! is not blank.
//!
//! Two tests: one on a small pipeline of shell stages built here (always), one on the page of
//! the workspace's smoke profile (`results/smoke/report.html` after `repro run all --profile smoke`,
//! or `REPRO_REPORT_PAGE`; ignored by default, run by `make test-browser` and CI after the
//! profile). Without a browser that can be installed, or without that page,
//! a test says it is skipped and why; with `CI` set it fails instead.

// Shared with the engine tests, which use more of it.
#[allow(dead_code)]
#[path = "../support/process.rs"]
mod process;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);

/// Skips (returns `None` after saying why) or, under CI, fails.
fn skip(why: &str) -> Option<PathBuf> {
    if std::env::var_os("CI").is_some() {
        panic!("CI is set, so this test may not be skipped: {why}");
    }
    eprintln!("SKIPPED: {why}");
    None
}

/// The browser, installed by the project's script when absent.
fn browser() -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/browser.sh");
    let child = Command::new(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start scripts/browser.sh");
    let out = process::wait_within(child, Duration::from_secs(600));
    let path = out.stdout.trim();
    if out.code != 0 || path.is_empty() {
        return skip(&format!(
            "no headless Chromium and scripts/browser.sh could not install one: {}",
            out.stderr.trim()
        ));
    }
    Some(PathBuf::from(path))
}

/// What the browser saw.
struct Opened {
    dom: String,
    console: String,
    netlog: String,
    png: Vec<u8>,
}

/// Opens `page` from a fresh folder that holds only a copy of it.
fn open(browser: &Path, page: &Path) -> Opened {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = dir.path().join("site");
    fs::create_dir_all(&site).expect("mkdir");
    let copy = site.join("report.html");
    fs::copy(page, &copy).expect("copy the page");
    let url = format!("file://{}", copy.display());
    let netlog = dir.path().join("net.json");
    let shot = dir.path().join("shot.png");
    let profile = dir.path().join("profile");
    let base = |c: &mut Command| {
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    };
    let mut dump = Command::new(browser);
    base(&mut dump);
    dump.arg(format!("--log-net-log={}", netlog.display()))
        .arg("--dump-dom")
        .arg(&url);
    let dom = process::wait_within(dump.spawn().expect("start the browser"), LIMIT);
    assert_eq!(dom.code, 0, "the browser failed:\n{}", dom.both());
    let mut snap = Command::new(browser);
    base(&mut snap);
    snap.arg(format!("--screenshot={}", shot.display()))
        .arg(&url);
    let s = process::wait_within(snap.spawn().expect("start the browser"), LIMIT);
    assert_eq!(s.code, 0, "the screenshot failed:\n{}", s.both());
    let leftovers: Vec<_> = fs::read_dir(&site)
        .expect("read site")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "the folder holds only the page: {leftovers:?}"
    );
    Opened {
        dom: dom.stdout,
        console: format!("{}{}", dom.stderr, s.stderr),
        netlog: fs::read_to_string(&netlog).expect("the network log"),
        png: fs::read(&shot).expect("the screenshot"),
    }
}

/// Every value of `attr="..."` in the DOM.
fn attribute_values<'a>(dom: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!(" {attr}=\"");
    let mut out = Vec::new();
    let mut rest = dom;
    while let Some(i) = rest.find(&needle) {
        let after = &rest[i + needle.len()..];
        let end = after.find('"').unwrap_or(after.len());
        out.push(&after[..end]);
        rest = &after[end..];
    }
    out
}

/// What every page must satisfy, whatever its content.
fn check_offline(o: &Opened) {
    assert!(
        o.dom.contains("</html>"),
        "no DOM came back:\n{}",
        o.console
    );
    for attr in ["src", "href", "xlink:href", "action", "poster", "srcset"] {
        for v in attribute_values(&o.dom, attr) {
            assert!(
                v.starts_with('#') || v.starts_with("data:"),
                "`{attr}=\"{v}\"` points outside the page"
            );
        }
    }
    let mut rest = o.dom.as_str();
    while let Some(i) = rest.find("url(") {
        let arg = rest[i + 4..].trim_start_matches(['"', '\'']);
        assert!(
            arg.starts_with('#') || arg.starts_with("data:"),
            "`url({})` points outside the page",
            &arg[..arg.len().min(40)]
        );
        rest = &rest[i + 4..];
    }
    let netlog = o.netlog.replace("\"url\":\"", " url=\"");
    let requests: Vec<&str> = attribute_values(&netlog, "url")
        .into_iter()
        .filter(|u| !u.starts_with("file:") && !u.starts_with("data:"))
        .collect();
    assert!(requests.is_empty(), "the page made requests: {requests:?}");
    assert!(
        !o.console.contains("Content Security Policy"),
        "the console reports a policy violation:\n{}",
        o.console
            .lines()
            .filter(|l| l.contains("Content Security Policy"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        o.dom.contains("tabindex=\"0\""),
        "the sorting script did not run (is its hash in the policy?)"
    );
    check_not_blank(&o.png);
}

/// The screenshot decodes and at least 2% of its pixels differ from the background.
fn check_not_blank(png_bytes: &[u8]) {
    let decoder = png::Decoder::new(png_bytes);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let px = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(px).collect();
    let background = pixels[0];
    let differ = pixels.iter().filter(|p| *p != &background).count();
    let share = differ as f64 / pixels.len() as f64;
    assert!(
        share > 0.02,
        "the screenshot is blank: {:.2}% of pixels differ from the background",
        share * 100.0
    );
}

fn count(dom: &str, needle: &str) -> usize {
    dom.matches(needle).count()
}

#[test]
fn small_pipeline_page_reads_offline_in_a_real_browser() {
    let Some(browser) = browser() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("ws");
    fs::create_dir_all(root.join("out")).expect("mkdir");
    let sections = r##"{"format":1,"sections":[{"id":"findings","title":"Findings","blocks":[
{"kind":"verdicts","items":[{"id":"H1","verdict":"held","tone":"good","sentence":"It <held>."},
{"id":"H2","verdict":"undecided","tone":"neutral","sentence":"Too few seeds."}]},
{"kind":"table","header":["a","b"],"rows":[["2","x"],["10","y"]],"sortable":true},
{"kind":"chart","title":"acc","x_label":"epoch","y_label":"acc","y_range":[0,1],"lines":[
{"name":"m","colour":"#d62728","points":[{"x":1,"y":0.5,"lo":0.4,"hi":0.6},{"x":2,"y":0.7,"lo":0.6,"hi":0.8}]}]},
{"kind":"details","summary":"per seed","blocks":[{"kind":"chart","title":"seeds","x_label":"epoch","y_label":"acc",
"lines":[{"name":"s1","colour":"#000000","faint":true,"points":[{"x":1,"y":0.2},{"x":2,"y":0.3}]}]}]}]}]}"##;
    fs::write(root.join("sections.json"), sections).expect("write");
    fs::write(
        root.join("pipeline.yaml"),
        "version: 1\nreport:\n  out: results/report.html\n  sections: [results/sections.json]\n\
         stages:\n  make:\n    cmd: \"echo ${n} > out/${n}.txt\"\n    shell: true\n    matrix: {n: [1, 2, 3]}\n    outs: [\"out/${n}.txt\"]\n\
         \x20 sum:\n    cmd: \"mkdir -p results && cp sections.json results/sections.json\"\n    shell: true\n    deps: [out/1.txt, out/2.txt, out/3.txt, sections.json]\n    outs: [results/sections.json]\n",
    )
    .expect("write");
    let run = Command::new(env!("CARGO_BIN_EXE_repro"))
        .args(["run", "-j", "2"])
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start repro");
    let out = process::wait_within(run, LIMIT);
    assert_eq!(out.code, 0, "{}", out.both());
    let o = open(&browser, &root.join("results/report.html"));
    check_offline(&o);
    assert_eq!(count(&o.dom, "data-verdict=\""), 2);
    assert_eq!(count(&o.dom, "data-instance=\""), 4);
    assert_eq!(count(&o.dom, "<svg class=\"chart\""), 2);
    assert_eq!(count(&o.dom, "<g class=\"stage\""), 2);
    assert!(o.dom.contains("It &lt;held&gt;."));
}

/// Instances of `profile` recorded in the lock file at `lock`.
fn lock_instances(lock: &str, profile: &str) -> usize {
    let prefix = format!("[{profile}] ");
    lock.lines().filter(|l| l.starts_with(&prefix)).count()
}

#[test]
#[ignore = "needs the smoke profile's page: `make test-browser` runs the profile, then this"]
fn smoke_profile_page_reads_offline_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::env::var_os("REPRO_REPORT_PAGE")
        .map_or_else(|| root.join("results/smoke/report.html"), PathBuf::from);
    if !page.exists() {
        skip(&format!(
            "`{}` does not exist: run `target/release/repro run all --profile smoke` first",
            page.display()
        ));
        return;
    }
    let Some(browser) = browser() else { return };
    let o = open(&browser, &page);
    check_offline(&o);
    let profile = attribute_values(&o.dom, "data-profile")
        .first()
        .map(|s| (*s).to_owned())
        .expect("the page names its profile");
    assert_eq!(profile, "smoke", "the page is not the smoke profile's");
    for c in ["C1", "C2", "C3", "C4"] {
        assert_eq!(
            count(&o.dom, &format!("data-verdict=\"{c}\"")),
            1,
            "one verdict for {c}"
        );
    }
    let lock = fs::read_to_string(root.join("repro.lock")).expect("repro.lock");
    let expected = lock_instances(&lock, &profile);
    assert!(expected > 0);
    assert_eq!(
        count(&o.dom, "data-instance=\""),
        expected,
        "a row per instance"
    );
    // Every chart of the table stage's sections is an SVG on the page.
    let sections = fs::read_to_string(page.with_file_name("report.json")).expect("report.json");
    let charts = sections.matches("\"kind\": \"chart\"").count();
    assert!(charts > 0);
    assert_eq!(
        count(&o.dom, "<svg class=\"chart\""),
        charts,
        "an SVG per chart"
    );
}
