//! `repro report` and the page `repro run` writes at its end: the page is written after the
//! run, never as an output (a second run is a no-op that rewrites it, keys unchanged), names
//! every instance, embeds the stage-written sections escaped, says which sections file is
//! missing, and is refused where it would be a stage's output.

use crate::common::Ws;

const PIPELINE: &str = r#"version: 1
report:
  out: results/report.html
  sections: [results/sections.json]
  versions: {shell: [sh, -c, "echo shell 9.9"]}
stages:
  make:
    cmd: "echo ${n} > out/${n}.txt; echo made-${n}-log-line"
    shell: true
    matrix: {n: [1, 2]}
    outs: ["out/${n}.txt"]
  sum:
    cmd: "mkdir -p results && cp sections.json results/sections.json"
    shell: true
    deps: [out/1.txt, out/2.txt, sections.json]
    outs: [results/sections.json]
"#;

const SECTIONS: &str = r#"{"format": 1, "sections": [{"id": "f", "title": "Findings <b>",
  "blocks": [{"kind": "verdicts", "items": [{"id": "H1", "verdict": "held", "tone": "good",
  "sentence": "<script>alert(1)</script>"}]}]}]}"#;

fn ws() -> Ws {
    let ws = Ws::new(PIPELINE);
    ws.write("out/.keep", "");
    ws.write("sections.json", SECTIONS);
    ws
}

#[test]
fn run_writes_the_page_after_the_run_and_never_as_an_output() {
    let ws = ws();
    let out = ws.ok(&["run"]);
    assert!(
        out.stderr.contains("wrote `./results/report.html`"),
        "{}",
        out.both()
    );
    let page = ws.read("results/report.html");
    for id in ["make@n=1", "make@n=2", "sum"] {
        assert!(page.contains(&format!("data-instance=\"{id}\"")), "{id}");
    }
    assert!(page.contains("Content-Security-Policy"));
    assert!(
        page.contains("made-2-log-line"),
        "the log tail is on the page"
    );
    assert!(
        page.contains("shell 9.9"),
        "the declared version is on the page"
    );
    assert!(page.contains("data-verdict=\"H1\""));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<script>alert"));
    let lock = ws.read("repro.lock");
    assert!(!lock.contains("report.html"), "the page is no output");
    // A no-op run keeps every key and rewrites the page from the new run record.
    let again = ws.ok(&["run"]);
    assert!(
        again.stderr.contains("all 3 instances are up to date"),
        "{}",
        again.both()
    );
    assert_eq!(ws.read("repro.lock"), lock);
    let page2 = ws.read("results/report.html");
    assert!(
        page2.contains("3 fresh"),
        "the header says what this run did"
    );
    // `repro report` alone writes it too, from the same record.
    std::fs::remove_file(ws.root.join("results/report.html")).unwrap();
    ws.ok(&["report"]);
    assert!(ws
        .read("results/report.html")
        .contains("data-instance=\"sum\""));
}

#[test]
fn a_missing_sections_file_is_named_on_the_page() {
    let ws = ws();
    ws.ok(&["run", "make@n=1"]);
    let page = ws.read("results/report.html");
    assert!(
        page.contains("Missing section: results/sections.json"),
        "{page}"
    );
    assert!(page.contains("has not run"));
}

#[test]
fn report_without_a_declaration_is_a_user_error_with_a_hint() {
    let ws = Ws::new("version: 1\nstages:\n  a:\n    cmd: \"echo > a.txt\"\n    shell: true\n    outs: [a.txt]\n");
    let out = ws.code(&["report"], 2);
    assert!(
        out.stderr.contains("declares no `report:`"),
        "{}",
        out.both()
    );
    assert!(out.stderr.contains("hint:"));
    // A run without a declaration writes no page and says nothing about one.
    let run = ws.ok(&["run"]);
    assert!(!run.stderr.contains("report.html"));
}

#[test]
fn a_page_inside_a_stage_output_is_refused() {
    let ws = ws();
    ws.edit_pipeline("out: results/report.html", "out: out/1.txt/report.html");
    let out = ws.code(&["report"], 2);
    assert!(
        out.stderr.contains("an output of `make@n=1`"),
        "{}",
        out.both()
    );
}

#[test]
fn a_bad_report_declaration_is_located() {
    let ws = ws();
    ws.edit_pipeline("out: results/report.html", "out: ../report.html");
    let out = ws.code(&["status"], 2);
    assert!(out.stderr.contains("report.out"), "{}", out.both());
    assert!(
        out.stderr.contains("pipeline.yaml` at 3:"),
        "{}",
        out.both()
    );
}

const PER_PROFILE: &str = r#"version: 1
params:
  results: results
profiles:
  other:
    params:
      results: results/other
report:
  out: ${params.results}/report.html
  sections: ["${params.results}/sections.json"]
stages:
  sum:
    cmd: "mkdir -p ${params.results} && cp sections.json ${params.results}/sections.json"
    shell: true
    deps: [sections.json]
    outs: ["${params.results}/sections.json"]
"#;

#[test]
fn the_page_and_its_sections_go_where_the_profiles_params_say() {
    let ws = Ws::new(PER_PROFILE);
    ws.write("sections.json", SECTIONS);
    let other = ws.ok(&["run", "-p", "other"]);
    assert!(
        other.stderr.contains("wrote `./results/other/report.html`"),
        "{}",
        other.both()
    );
    assert!(ws
        .read("results/other/report.html")
        .contains("data-verdict=\"H1\""));
    ws.ok(&["run"]);
    assert!(ws
        .read("results/report.html")
        .contains("data-verdict=\"H1\""));
    assert!(
        ws.root.join("results/other/report.html").exists(),
        "the other profile's page is left where it was"
    );
}

/// Runs `git` in `root`, failing the test when it fails.
fn git(root: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(root)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn records_name_the_slot_each_instance_held_and_the_commit_it_ran_at() {
    let ws = ws();
    git(&ws.root, &["init", "-q"]);
    git(&ws.root, &["add", "pipeline.yaml", "sections.json"]);
    git(&ws.root, &["commit", "-qm", "start"]);
    let head = git(&ws.root, &["rev-parse", "HEAD"]);
    ws.ok(&["run", "-j", "2"]);
    // The run record: each executed instance with the numbered CPU slot it held.
    let record: serde_json::Value =
        serde_json::from_str(&ws.read(".repro/last-run/default.json")).unwrap();
    let mut slots = Vec::new();
    for id in ["make@n=1", "make@n=2", "sum"] {
        let slot = record["instances"][id]["slot"].as_str().unwrap_or_default();
        assert!(slot == "cpu 0" || slot == "cpu 1", "{id}: {record}");
        slots.push(slot.to_owned());
    }
    // The action record (repro show): the same slot, and the commit, never in the key.
    let show = ws.ok(&["show", "sum"]).stdout;
    assert!(
        show.contains(&format!("  slot    {}\n", slots[2])),
        "{show}"
    );
    assert!(show.contains(&format!("  commit  {head}\n")), "{show}");
    // The page: one timeline lane per slot used, and the commit in the run's details.
    let page = ws.read("results/report.html");
    for s in &slots {
        assert!(page.contains(&format!(">{s}</text>")), "lane {s}");
    }
    // Once in the provenance (the checkout now), once in each instance's details.
    assert_eq!(
        page.matches(&format!("<dt>commit</dt><dd>{head}</dd>"))
            .count(),
        4,
        "commit in the details"
    );
    // A tracked file changed: a run that executes says so; the key does not change with it.
    let lock = ws.read("repro.lock");
    ws.write("sections.json", &SECTIONS.replace("held", "kept"));
    ws.ok(&["run", "sum"]);
    let show = ws.ok(&["show", "sum"]).stdout;
    assert!(
        show.contains(&format!("  commit  {head} (tracked files modified)\n")),
        "{show}"
    );
    assert_ne!(ws.read("repro.lock"), lock, "sections.json is a dep");
    let make_key = |lock: &str| {
        lock.lines()
            .skip_while(|l| !l.contains("make@n=1"))
            .find(|l| l.contains("key"))
            .map(str::to_owned)
    };
    assert_eq!(make_key(&ws.read("repro.lock")), make_key(&lock));
}

#[test]
fn outside_a_git_checkout_the_commit_is_said_to_be_not_recorded() {
    let ws = ws();
    ws.ok(&["run"]);
    let show = ws.ok(&["show", "sum"]).stdout;
    assert!(show.contains("  commit  not recorded\n"), "{show}");
}

/// The table stages write `params.profile` into every result file: a profile that forgot to
/// set it would label its results with the top-level default. They also write their own key
/// (`REPRO_KEY`), which is honest only because no stage reads their outputs (a key in an
/// output read downstream would defeat early cutoff): checked here too.
#[test]
fn every_profile_of_the_papers_pipeline_names_itself_in_params_profile() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pipeline.yaml");
    let default = repro::spec::load(&file, None).expect("the paper's pipeline loads");
    assert!(default.profiles.len() >= 2, "{:?}", default.profiles);
    for name in &default.profiles {
        let p = repro::spec::load(&file, Some(name)).expect("each profile loads");
        assert_eq!(
            p.params.get("profile").and_then(|v| v.as_str()),
            Some(name.as_str()),
            "profile `{name}`"
        );
        let graph = repro::graph::build(&p).expect("each profile builds");
        for (j, ups) in graph.upstream.iter().enumerate() {
            for &i in ups {
                let stage = &graph.instances[i].stage_name;
                assert!(
                    stage != "table" && stage != "ablation_table",
                    "`{}` reads the outputs of `{}`, which name their key",
                    graph.instances[j].id,
                    graph.instances[i].id
                );
            }
        }
    }
}

/// The declared version commands run once for the action records, while the run's first jobs
/// run, and once for the page; every record carries their answer. A no-op run starts no job
/// and runs them only for the page it rewrites.
#[test]
fn every_record_carries_the_versions_and_a_no_op_runs_them_only_for_the_page() {
    let ws = Ws::new(
        r#"version: 1
report:
  out: report.html
  versions: {tool: [sh, -c, "echo run >> gathered.txt; echo tool 1.0"]}
stages:
  make:
    cmd: "echo ${n} > out/${n}.txt"
    shell: true
    matrix: {n: [1, 2, 3, 4, 5, 6]}
    outs: ["out/${n}.txt"]
"#,
    );
    ws.write("out/.keep", "");
    ws.ok(&["run", "-j", "2"]);
    assert_eq!(
        ws.read("gathered.txt"),
        "run\nrun\n",
        "the records' and the page's"
    );
    let records: Vec<serde_json::Value> = std::fs::read_dir(ws.root.join("cache/actions"))
        .unwrap()
        .map(|e| {
            serde_json::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap()
        })
        .collect();
    assert_eq!(records.len(), 6);
    for r in &records {
        assert_eq!(r["platform"]["versions"]["tool"], "tool 1.0", "{r}");
    }
    let again = ws.ok(&["run"]);
    assert!(again.stderr.contains("up to date"), "{}", again.both());
    assert_eq!(
        ws.read("gathered.txt"),
        "run\nrun\nrun\n",
        "the page's alone"
    );
}
