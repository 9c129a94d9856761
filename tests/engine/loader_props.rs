//! Property tests of the YAML loader, called as a library: arbitrary bytes, mutated valid
//! pipelines and generated pipelines that probe the loader's limits (matrix sizes around the
//! instance limit, `${` and YAML nesting around their depth limits, duplicate keys, reserved
//! outputs, unsafe values) never make `repro::spec::parse` (or the graph built from what it
//! accepts) panic, every error carries a 1-based position inside the text, and nothing over
//! the instance limit is accepted.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

/// A small valid pipeline exercising profiles, matrices, nested interpolation and resources.
const SMALL: &str = r#"version: 1
params:
  lr: {a: 1.0, b: 0.5}
  seeds: [1, 2]
profiles:
  quick:
    default: true
    params:
      seeds: [1]
  full: {description: everything}
stages:
  gen:
    cmd: [gen, --seed, "${seed}", --out, "data/${task}/${seed}"]
    matrix:
      task: [a, b]
      seed: ${params.seeds}
      exclude:
        - {task: b, seed: 2}
    outs: ["data/${task}/${seed}"]
  train:
    cmd: "train --lr ${params.lr.${task}} data/${task}"
    matrix:
      task: [a, b]
    deps: ["data/${task}"]
    code: ["src/*.sh"]
    resources: {gpus: 0.5, cpus: 2}
    env: {MODE: "x$${HOME}"}
    outs: ["runs/${task}.txt"]
  table:
    cmd: "cat runs/*.txt > table.txt"
    shell: true
    deps: ["runs/*.txt"]
    outs: [table.txt]
"#;

/// The paper's real pipeline.
const PAPER: &str = include_str!("../../pipeline.yaml");

/// Fragments that tend to break YAML or the schema when inserted.
const TOKENS: &[&str] = &[
    ":",
    ": ",
    "-",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "${",
    "}",
    "$$",
    "${params.",
    "${task}",
    "${nope}",
    "\n",
    "\n  ",
    "  ",
    "\t",
    "&a ",
    "*a",
    "!!str ",
    "!!binary ",
    "'",
    "\"",
    "#",
    "?",
    "|",
    ">",
    "%",
    "@",
    "`",
    "~",
    "null",
    "[]",
    "{}",
    "0.5",
    "-1",
    "1e309",
    "version",
    "stages",
    "outz",
    "outs",
    "deps",
    "matrix",
    "profiles",
    "default: true",
    "exclude",
    "include",
    "gpus",
    "\u{feff}",
    "\u{0}",
    "é",
    "..",
    "/",
    "**",
    "*",
    "${${${${${${${${${${${${${${${${",
    "}}}}}}}}}}}}}}}}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "- - - - - - - - - - - - - - - - ",
    "\u{7}",
    ".git",
    "cache/",
    "$(touch PWN)",
];

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Indent(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1..12usize).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(a, t)| Edit::Insert(a, t)),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        (any::<usize>(), 0..5usize).prop_map(|(a, n)| Edit::Indent(a, n)),
    ]
}

/// The char boundary at or before `at % (len + 1)`.
fn boundary(text: &str, at: usize) -> usize {
    let mut i = at % (text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, e: &Edit) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    match *e {
        Edit::Delete(a, n) => {
            let start = boundary(text, a);
            let end = boundary(text, start + n);
            if end <= start {
                return text.to_owned();
            }
            format!("{}{}", &text[..start], &text[end..])
        }
        Edit::Insert(a, t) => {
            let at = boundary(text, a);
            format!("{}{}{}", &text[..at], TOKENS[t], &text[at..])
        }
        Edit::DuplicateLine(a) => {
            let i = a % lines.len();
            lines.insert(i, lines[i].clone());
            lines.join("\n")
        }
        Edit::SwapLines(a, b) => {
            let n = lines.len();
            lines.swap(a % n, b % n);
            lines.join("\n")
        }
        Edit::Indent(a, n) => {
            let i = a % lines.len();
            lines[i] = format!("{}{}", " ".repeat(n), lines[i].trim_start());
            lines.join("\n")
        }
    }
}

/// An empty directory to act as the workspace root (deps are checked on disk).
fn root() -> &'static Path {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("loader-props-empty-root");
        std::fs::create_dir_all(&dir).expect("mkdir");
        dir
    })
}

/// The slowest case so far, in microseconds (reported when it grows past 100 ms).
static SLOWEST_US: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Runs [`check_untimed`] and, when `REPRO_FUZZ_LIMIT_MS` is set (the reliability suite),
/// fails a case that takes longer: a loader that needs seconds for a small file is a hang
/// waiting for a bigger one. Every new slowest case past 100 ms is printed.
fn check(text: &str) -> Result<(), TestCaseError> {
    let t = std::time::Instant::now();
    let result = check_untimed(text);
    let us = t.elapsed().as_micros() as u64;
    let before = SLOWEST_US.fetch_max(us, std::sync::atomic::Ordering::Relaxed);
    if us > before && us > 100_000 {
        eprintln!(
            "loader_props: slowest case so far {:.3} s ({} bytes)",
            us as f64 / 1e6,
            text.len()
        );
    }
    if let Some(limit) = std::env::var("REPRO_FUZZ_LIMIT_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        prop_assert!(
            us <= limit * 1000,
            "a case took {:.3} s (limit {limit} ms): {:?}",
            us as f64 / 1e6,
            &text[..text.len().min(300)]
        );
    }
    result
}

/// Loads `text` under every profile choice; checks positions of errors and, for accepted
/// pipelines of reasonable size, builds the graph.
fn check_untimed(text: &str) -> Result<(), TestCaseError> {
    let file = root().join("pipeline.yaml");
    let max_line = text.split('\n').count() + 1;
    for profile in [None, Some("quick"), Some("full"), Some("nope")] {
        match repro::spec::parse(&file, text, profile) {
            Err(e) => {
                let shown = e.to_string();
                prop_assert!(
                    e.pos.line >= 1 && e.pos.col >= 1,
                    "position {:?} in {shown}",
                    e.pos
                );
                prop_assert!(
                    e.pos.line <= max_line,
                    "line {} past the end ({max_line} lines): {shown}",
                    e.pos.line
                );
                prop_assert!(shown.starts_with('`'), "{shown}");
                let _ = e.hint();
            }
            Ok(p) => {
                let size: usize = p
                    .stages
                    .iter()
                    .map(|s| {
                        s.dims.iter().map(|(_, v)| v.len()).product::<usize>() + s.include.len()
                    })
                    .sum();
                if size <= 2_000 {
                    if let Err(e) = repro::graph::build(&p) {
                        prop_assert!(
                            e.pos.line >= 1 && e.pos.col >= 1 && e.pos.line <= max_line,
                            "position {:?} in {e}",
                            e.pos
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// Values of the generated pipelines: safe, or breaking one rule or another.
const VALUES: &[&str] = &[
    "plain",
    "band5+G1",
    "a b",
    "a\\nb",
    "a\\u0007b",
    "$(touch PWN)",
    "a'b",
    "x/y",
    "",
];

/// Outputs of the generated pipelines: plain, reserved, or too long.
const OUTS: &[&str] = &[
    "out",
    ".git",
    "cache/objects",
    ".repro/lock",
    "repro.lock",
    "pipeline.yaml",
    "Cache",
    "out/${params.v}",
    "out-${params.v}",
];

/// Knobs of one generated pipeline.
#[derive(Debug, Clone)]
struct Gen {
    dims: Vec<usize>,
    nest: usize,
    yaml_depth: usize,
    duplicate: bool,
    shell: bool,
    value: usize,
    out: usize,
    long_name: bool,
}

fn gen() -> impl Strategy<Value = Gen> {
    (
        proptest::collection::vec(1..12usize, 0..7),
        28..36usize,
        56..70usize,
        any::<bool>(),
        any::<bool>(),
        0..VALUES.len(),
        0..OUTS.len(),
        proptest::bool::weighted(0.1),
    )
        .prop_map(
            |(dims, nest, yaml_depth, duplicate, shell, value, out, long_name)| Gen {
                dims,
                nest,
                yaml_depth,
                duplicate,
                shell,
                value,
                out,
                long_name,
            },
        )
}

/// The text of a generated pipeline.
fn generated(g: &Gen) -> String {
    let mut text = String::from("version: 1\nparams:\n");
    text.push_str(&format!("  v: \"{}\"\n", VALUES[g.value]));
    // Nested YAML: `params.deep` is `g.yaml_depth - 1` sequences inside the top mapping and
    // `params`.
    let n = g.yaml_depth.saturating_sub(2);
    text.push_str(&format!("  deep: {}x{}\n", "[".repeat(n), "]".repeat(n)));
    text.push_str("profiles:\n  quick: {default: true}\n  full: {}\nstages:\n");
    // `${${...t}}` resolves to `t` at any depth, through the dimension `t: [t]`.
    let nested = format!("{}t{}", "${".repeat(g.nest), "}".repeat(g.nest));
    let mut dims = String::from("      t: [t]\n");
    let mut refs = String::new();
    for (d, &size) in g.dims.iter().enumerate() {
        let values: Vec<String> = (0..size).map(|i| format!("v{i}")).collect();
        dims.push_str(&format!("      d{d}: [{}]\n", values.join(", ")));
        refs.push_str(&format!("-${{d{d}}}"));
    }
    let out = if g.long_name {
        "x".repeat(256)
    } else {
        OUTS[g.out].to_owned()
    };
    let stage = |name: &str| {
        let cmd = if g.shell {
            format!(
                "    cmd: \"echo ${{params.v}} {nested} > {out}/{name}{refs}\"\n    shell: true\n"
            )
        } else {
            format!("    cmd: [echo, \"${{params.v}}\", \"{nested}\"]\n")
        };
        format!("  {name}:\n{cmd}    matrix:\n{dims}    outs: [\"{out}/{name}{refs}\"]\n")
    };
    text.push_str(&stage("s"));
    text.push_str(&stage(if g.duplicate { "s" } else { "u" }));
    text
}

/// [`check`], plus: an accepted pipeline never exceeds the instance limit.
fn check_generated(text: &str) -> Result<(), TestCaseError> {
    check(text)?;
    let file = root().join("pipeline.yaml");
    if let Ok(p) = repro::spec::parse(&file, text, None) {
        let size: u64 = p
            .stages
            .iter()
            .map(|s| s.dims.iter().map(|(_, v)| v.len() as u64).product::<u64>())
            .sum();
        prop_assert!(
            size <= repro::spec::rules::MAX_INSTANCES,
            "{size} instances accepted"
        );
    }
    Ok(())
}

/// 512 cases per property, or `PROPTEST_CASES` when set (for a longer hunt).
fn config() -> ProptestConfig {
    let base = ProptestConfig::default();
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        base.cases
    } else {
        512
    };
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..base
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn yaml_like_token_soup_never_panics(tokens in proptest::collection::vec(0..TOKENS.len(), 0..80)) {
        let text: String = tokens.iter().map(|&t| TOKENS[t]).collect();
        check(&text)?;
    }

    #[test]
    fn mutated_small_pipeline_never_panics(edits in proptest::collection::vec(edit(), 1..6)) {
        let text = edits.iter().fold(SMALL.to_owned(), |t, e| apply(&t, e));
        check(&text)?;
    }

    #[test]
    fn generated_pipelines_at_the_limits_never_panic(g in gen()) {
        check_generated(&generated(&g))?;
    }

    #[test]
    fn mutated_paper_pipeline_never_panics(edits in proptest::collection::vec(edit(), 1..4)) {
        let text = edits.iter().fold(PAPER.to_owned(), |t, e| apply(&t, e));
        check(&text)?;
    }
}

#[test]
fn the_unmutated_fixtures_load() {
    let file = root().join("pipeline.yaml");
    let small = repro::spec::parse(&file, SMALL, None).expect("SMALL is valid");
    assert_eq!(small.profile.as_deref(), Some("quick"));
    assert!(repro::spec::parse(&file, PAPER, Some("paper")).is_ok());
}

#[test]
fn a_generated_pipeline_within_the_limits_loads_and_builds() {
    let file = root().join("pipeline.yaml");
    let g = Gen {
        dims: vec![3, 4],
        nest: 32,
        yaml_depth: 64,
        duplicate: false,
        shell: true,
        value: 1,
        out: 0,
        long_name: false,
    };
    let p = repro::spec::parse(&file, &generated(&g), None).expect("within every limit");
    let graph = repro::graph::build(&p).expect("builds");
    assert_eq!(graph.instances.len(), 2 * 12);
    // One step past each limit is refused.
    for over in [
        Gen {
            nest: 33,
            ..g.clone()
        },
        Gen {
            yaml_depth: 65,
            ..g.clone()
        },
        Gen {
            dims: vec![10, 10, 10, 10, 6],
            ..g.clone()
        },
        Gen {
            duplicate: true,
            ..g.clone()
        },
        Gen {
            value: 5,
            ..g.clone()
        },
        Gen {
            out: 1,
            ..g.clone()
        },
        Gen {
            long_name: true,
            ..g.clone()
        },
    ] {
        let text = generated(&over);
        let refused = repro::spec::parse(&file, &text, None)
            .and_then(|p| repro::graph::build(&p).map(|_| ()));
        assert!(refused.is_err(), "{over:?} was accepted");
    }
}
