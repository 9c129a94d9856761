//! Drives the real `table` binary over synthetic studies in temporary folders.

mod support;

use common::{Activation, Task, PAPER_SEEDS};
use support::*;

#[test]
fn quick_study_writes_every_output_and_reproduces_the_claims() {
    let study = quick_study();
    let out = study.run_table();
    assert_eq!(out.code, 0, "{}", out.stderr);
    for file in [
        "table.md",
        "table.csv",
        "table.tex",
        "table6.csv",
        "claims.md",
        "figures/curves_relu.png",
        "figures/curves_relu.svg",
    ] {
        assert!(study.out_dir().join(file).is_file(), "{file} missing");
    }
    assert!(!study.out_dir().join("figures/curves_gelu.png").exists());
    let leftovers: Vec<_> = std::fs::read_dir(study.out_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "staging directory left behind");

    let claims = study.read("claims.md");
    for id in ["C1", "C2", "C3", "C4"] {
        assert!(
            claims.contains(&format!("- {id}: **reproduced**")),
            "{id}:\n{claims}"
        );
    }
    // Five seeds all faster: exact one-sided signed-rank p = 1/32.
    assert!(
        claims.contains(
            "| `even_pairs` | relu | topk5 | signed-rank, 5 pairs (0 tied) | W+ = 0 | 0.0312 |"
        ),
        "{claims}"
    );
    assert!(claims.contains("8.83×"));
    insta::assert_snapshot!("quick_study_claims_md", claims);

    let md = study.read("table.md");
    assert!(
        md.contains(&claims_section(&claims)),
        "table.md lacks the claims of claims.md"
    );
    assert!(md.contains("![learning curves, relu](figures/curves_relu.png)"));

    let png = std::fs::read(study.out_dir().join("figures/curves_relu.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = study.read("figures/curves_relu.svg");
    assert!(svg.starts_with("<svg") && svg.contains("even_pairs: training loss"));
}

/// The claims part of claims.md (from the first claim heading), with headings one level deeper
/// as table.md nests them.
fn claims_section(claims: &str) -> String {
    let start = claims.find("## C1").unwrap();
    claims[start..].replace("## C", "### C")
}

#[test]
fn table_md_snapshot() {
    let study = quick_study();
    let out = study.run_table();
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("quick_study_table_md", study.read("table.md"));
}

#[test]
fn table_outputs_name_the_runs_behind_each_row_and_their_profile_and_key() {
    let study = quick_study();
    assert_eq!(study.run_table().code, 0);
    let csv = study.read("table.csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let topk = rows
        .iter()
        .find(|r| &r[col("task")] == "even_pairs" && &r[col("variant")] == "topk5")
        .unwrap();
    assert_eq!(&topk[col("status")], "ok");
    let seeds: Vec<&str> = topk[col("seeds")].split(' ').collect();
    assert_eq!(seeds.len(), 5);
    assert!(
        seeds.contains(&PAPER_SEEDS[0].to_string().as_str()),
        "{seeds:?}"
    );
    assert_eq!(&topk[col("seeds_run")], "5");
    // listops was not run: one row saying so, with no numbers.
    let listops = rows.iter().find(|r| &r[col("task")] == "listops").unwrap();
    assert_eq!(&listops[col("status")], "not run");
    assert_eq!(&listops[col("conv_epoch_mean")], "");

    let t6 = study.read("table6.csv");
    assert!(
        t6.contains(&format!(
            "even_pairs,ours,topk5,sep,p25,0.02,{0},smoke,table-key\n",
            PAPER_SEEDS[0]
        )),
        "{t6}"
    );
    assert!(
        t6.contains("listops,paper,full,delta,p75,8.61,140439608,smoke,table-key\n"),
        "{t6}"
    );
    // Every file names the profile and the table instance's own key (`REPRO_KEY`, a function
    // of its inputs), never an upstream's key: the bytes stay a function of the instance's key.
    assert!(
        t6.lines()
            .all(|l| l.ends_with(",smoke,table-key") || l.ends_with(",profile,table_key")),
        "{t6}"
    );
    assert_eq!(&topk[col("profile")], "smoke");
    assert_eq!(&topk[col("table_key")], "table-key");
    for name in ["table.md", "claims.md", "table.tex", "report.json"] {
        let text = study.read(name);
        assert!(
            text.contains("smoke") && text.contains("table-key"),
            "`{name}` does not name its profile and key: {text}"
        );
        assert!(
            !text.contains("cache_key"),
            "`{name}` holds an upstream key"
        );
    }
    let svg = study.read("figures/curves_relu.svg");
    assert!(
        svg.contains("profile smoke · table key table-key"),
        "the figure's footer"
    );
}

#[test]
fn a_rerun_under_the_same_key_writes_the_same_bytes() {
    let study = quick_study();
    let names = [
        "table.md",
        "claims.md",
        "table.csv",
        "table6.csv",
        "table.tex",
        "report.json",
        "figures/curves_relu.svg",
        "figures/curves_relu.png",
    ];
    assert_eq!(study.run_table().code, 0);
    let first: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(study.out_dir().join(n)).unwrap())
        .collect();
    assert_eq!(study.run_table().code, 0);
    for (n, bytes) in names.iter().zip(&first) {
        assert_eq!(
            &std::fs::read(study.out_dir().join(n)).unwrap(),
            bytes,
            "`{n}` differs between two runs under one key"
        );
    }
}

#[test]
fn tasks_and_probes_not_run_are_marked_not_run() {
    let study = quick_study();
    assert_eq!(study.run_table().code, 0);
    let md = study.read("table.md");
    assert!(
        md.contains("| `listops` | – | – | not run | – | – |"),
        "{md}"
    );
    assert!(
        md.contains("| `listops` | ours (not run) | not run | not run | not run | not run |"),
        "{md}"
    );
    assert!(
        md.contains("| `listops` | paper (seed 140439608) | 8.61 / 18.5 / 29.4 / 87.8 |"),
        "{md}"
    );
    assert!(
        md.contains("Tasks with runs: `parity`, `even_pairs`, `missing_duplicate` (3 of 8)"),
        "{md}"
    );
    assert!(md.contains("Not run for any task: activations gelu, mish; variants of the paper's grid band9, bloc9,"), "{md}");
    let claims = study.read("claims.md");
    assert!(claims.contains("| `listops` | not run | – |"), "{claims}");
    let tex = study.read("table.tex");
    assert!(
        tex.contains("\\toprule") && tex.contains("listops & -- & -- & not run & -- & -- \\\\"),
        "{tex}"
    );
    assert!(
        tex.contains("even\\_pairs & full & 5 & 21.4 $\\pm$ 2.3 (5/5) & 1 (ref.) &"),
        "{tex}"
    );
}

#[test]
fn a_variant_missing_for_one_task_is_not_run_beside_the_others() {
    let study = Study::new();
    let relu = Activation::Relu;
    let c = |v: &[usize]| v.iter().map(|e| Some(*e)).collect::<Vec<_>>();
    study.task(
        Task::EvenPairs,
        relu,
        20,
        &[
            arm(FULL, &c(&[10, 12, 11]), 0.9),
            arm(TOPK5, &c(&[4, 5, 3]), 0.9),
        ],
    );
    study.task(
        Task::Listops,
        relu,
        20,
        &[
            arm(FULL, &c(&[15, 16, 14]), 0.7),
            arm(BAND5, &c(&[15, 17, 16]), 0.7),
        ],
    );
    assert_eq!(study.run_table().code, 0);
    let md = study.read("table.md");
    assert!(md.contains("|  | topk5 | 0 | not run | – | – |"), "{md}");
    assert!(md.contains("|  | band5 | 0 | not run | – | – |"), "{md}");
    // Three seeds cannot reach alpha = 0.05 in a one-sided signed-rank test (smallest p = 1/8).
    let claims = study.read("claims.md");
    assert!(claims.contains("- C1: **inconclusive**"), "{claims}");
    assert!(claims.contains("| 0.1250 | 0.1250 |"), "{claims}");
    assert!(claims.contains("- C4: **inconclusive**"), "{claims}");
    insta::assert_snapshot!("variant_missing_claims_md", claims);
}

#[test]
fn three_seeds_per_task_fall_back_on_the_pooled_test() {
    // The quick profile's shape: two tasks, three seeds, full, band5, bloc5, topk5.
    let study = Study::new();
    let relu = Activation::Relu;
    let c = |v: &[usize]| v.iter().map(|e| Some(*e)).collect::<Vec<_>>();
    for task in [Task::EvenPairs, Task::MissingDuplicate] {
        study.task(
            task,
            relu,
            30,
            &[
                arm(FULL, &c(&[20, 22, 19]), 0.9),
                arm(BAND5, &c(&[22, 21, 24]), 0.9),
                arm(BLOC5, &c(&[21, 25, 23]), 0.9),
                arm(TOPK5, &c(&[5, 6, 4]), 0.9),
            ],
        );
    }
    let out = study.run_table();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let claims = study.read("claims.md");
    // Per task the smallest attainable p is 1/8; pooled over six (task, seed) pairs it is 1/64.
    assert!(claims.contains("- C1: **reproduced**"), "{claims}");
    assert!(
        claims.contains(
            "Pooled over tasks: 6 (task, seed) pairs over 2 tasks, 0 tied, W+ = 0, p = 0.0156"
        ),
        "{claims}"
    );
    assert!(claims.contains("Verdict from the pooled test"), "{claims}");
    assert!(claims.contains("- C2: **reproduced**"), "{claims}");
    assert!(
        claims.contains("| relu | band5 | 2 | 0 | 2 | 0.9531 | not faster on the pooled test |"),
        "{claims}"
    );
    insta::assert_snapshot!("three_seeds_claims_md", claims);
}

#[test]
fn contrary_data_are_not_reproduced() {
    let study = Study::new();
    let relu = Activation::Relu;
    let c = |v: &[usize]| v.iter().map(|e| Some(*e)).collect::<Vec<_>>();
    study.task(
        Task::EvenPairs,
        relu,
        40,
        &[
            arm(FULL, &c(&[10, 12, 11, 13, 9]), 0.95),
            arm(BAND5, &c(&[4, 5, 3, 6, 4]), 0.95),
            arm(TOPK5, &c(&[20, 22, 25, 21, 24]), 0.80),
        ],
    );
    study.task(
        Task::Parity,
        relu,
        40,
        &[
            arm(FULL, &c(&[10, 12, 11, 13, 9]), 0.75),
            arm(TOPK5, &c(&[10, 12, 11, 13, 9]), 0.50),
        ],
    );
    let out = study.run_table();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let claims = study.read("claims.md");
    for id in ["C1", "C2", "C3", "C4"] {
        assert!(
            claims.contains(&format!("- {id}: **not reproduced**")),
            "{id}:\n{claims}"
        );
    }
    assert!(
        claims.contains("Consistently faster: band5 (relu)."),
        "{claims}"
    );
    insta::assert_snapshot!("contrary_claims_md", claims);
}

#[test]
fn empty_inputs_give_an_all_not_run_report() {
    let study = Study::new();
    let out = study.run_table();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let md = study.read("table.md");
    assert!(
        md.contains("No task was run.") && md.contains("No figures: no runs."),
        "{md}"
    );
    let claims = study.read("claims.md");
    assert_eq!(claims.matches("**inconclusive**").count(), 4, "{claims}");
    insta::assert_snapshot!("empty_claims_md", claims);
}

fn assert_input_error(study: &Study, needles: &[&str]) {
    let out = study.run_table();
    assert_eq!(out.code, 2, "{}", out.stderr);
    for needle in needles {
        assert!(
            out.stderr.contains(needle),
            "`{needle}` not in: {}",
            out.stderr
        );
    }
    assert!(
        !study.out_dir().join("table.md").exists(),
        "output written despite the error"
    );
}

#[test]
fn malformed_probe_names_the_file_and_field() {
    let study = quick_study();
    std::fs::write(
        study.probes_dir().join("broken.json"),
        "{\"task\": \"parity\", \"variant\": \"full\",\n \"seed\": 1}\n",
    )
    .unwrap();
    assert_input_error(&study, &["broken.json", "line 2", "missing field `delta`"]);
}

#[test]
fn malformed_stats_names_the_file() {
    let study = quick_study();
    let path = study.stats_dir().join("parity.json");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "\"seeds_run\": 5",
        "\"seeds_run\": \"five\"",
        1,
    );
    std::fs::write(&path, text).unwrap();
    assert_input_error(&study, &["parity.json", "line", "expected usize"]);
}

#[test]
fn two_summaries_of_one_task_are_rejected() {
    let study = quick_study();
    std::fs::copy(
        study.stats_dir().join("parity.json"),
        study.stats_dir().join("parity-again.json"),
    )
    .unwrap();
    assert_input_error(
        &study,
        &["parity-again.json", "parity.json", "task `parity`"],
    );
}

#[test]
fn missing_input_directory_is_an_input_error() {
    let study = Study::new();
    std::fs::remove_dir(study.probes_dir()).unwrap();
    assert_input_error(&study, &["failed to read", "probes"]);
}

#[test]
fn each_verdict_line_says_what_the_data_showed_and_what_it_cannot_show() {
    let c = |v: &[Option<usize>]| v.to_vec();
    // The default profile's shape: one task, full and topk5, five seeds.
    let censored = Study::new();
    censored.task(
        Task::EvenPairs,
        Activation::Relu,
        60,
        &[
            arm(FULL, &c(&[Some(43), Some(39), None, Some(39), None]), 0.9),
            arm(
                TOPK5,
                &c(&[Some(8), Some(9), Some(5), Some(6), Some(4)]),
                1.0,
            ),
        ],
    );
    assert_eq!(censored.run_table().code, 0);
    let claims = censored.read("claims.md");
    let line = |id: &str| {
        claims
            .lines()
            .find(|l| l.starts_with(&format!("- {id}: **")))
            .unwrap_or_else(|| panic!("{id}:\n{claims}"))
            .to_owned()
    };
    let c1 = line("C1");
    assert!(c1.contains("Showed: `even_pairs`: topk5 converged in 6.4 epochs on 5/5 seeds, full converged in 40.3 epochs on 3/5 seeds, speedup "), "{c1}");
    assert!(
        c1.contains("Cannot show: `listops`, `parity`, `missing_duplicate`,"),
        "{c1}"
    );
    assert!(
        c1.contains(
            "full did not converge on 2 of 5 seeds of `even_pairs`, so that speedup is censored"
        ),
        "{c1}"
    );
    assert!(line("C2").contains("Showed: nothing: no band or block variant was compared with full. Cannot show: no band or block variant was run."));
    let c3 = line("C3");
    assert!(
        c3.contains("Showed: `even_pairs`: best held-out accuracy topk5 99.9%, full 90.0%."),
        "{c3}"
    );
    assert!(line("C4").contains("Showed: nothing: `parity` was not run."));
    insta::assert_snapshot!("censored_claims_md", claims);

    // Every seed converged and a band variant ran: no censoring clause, the missing band/bloc
    // variants are named.
    let converged = Study::new();
    converged.task(
        Task::EvenPairs,
        Activation::Relu,
        100,
        &[
            arm(
                FULL,
                &c(&[Some(43), Some(39), Some(74), Some(39), Some(84)]),
                1.0,
            ),
            arm(
                TOPK5,
                &c(&[Some(8), Some(9), Some(5), Some(6), Some(4)]),
                1.0,
            ),
            arm(BAND5, &c(&[None, None, None, None, None]), 0.5),
        ],
    );
    assert_eq!(converged.run_table().code, 0);
    let claims = converged.read("claims.md");
    let c1 = claims.lines().find(|l| l.starts_with("- C1: **")).unwrap();
    assert!(!c1.contains("did not converge"), "{c1}");
    let c2 = claims.lines().find(|l| l.starts_with("- C2: **")).unwrap();
    assert!(c2.contains("`even_pairs` band5 (relu) never converged (5 seeds), full converged in 55.8 epochs on 5/5 seeds"), "{c2}");
    assert!(
        c2.contains("variants band9, bloc5, bloc9, band5+G1,"),
        "{c2}"
    );
    insta::assert_snapshot!("converged_claims_md", claims);
}

/// Pins every byte of `claims.md` on a study that takes the branches the other studies do not:
/// two activations and two topk variants (secondary rows), seeds not shared (Mann-Whitney and
/// Welch), a single seed (too few values for a bound), topk without full (on a task and on
/// parity), a band variant faster only on the pooled test and a bloc variant left undetermined.
#[test]
fn claims_md_snapshot_of_rarely_taken_branches() {
    let study = Study::new();
    let (relu, gelu) = (Activation::Relu, Activation::Gelu);
    let c = |v: &[usize]| v.iter().map(|e| Some(*e)).collect::<Vec<_>>();
    let topk3 = common::Variant::Topk { k: 3 };
    study.task(
        Task::EvenPairs,
        relu,
        30,
        &[
            arm(FULL, &c(&[20, 22, 19, 25, 21]), 0.95),
            arm(BAND5, &c(&[10, 11, 9]), 0.93),
            arm(BLOC5, &c(&[25, 24, 26]), 0.92),
            arm(topk3, &c(&[21, 20, 22, 24, 23]), 0.90),
            arm(TOPK5, &c(&[5, 6, 4, 7, 5]), 0.96),
        ],
    );
    study.task(
        Task::EvenPairs,
        gelu,
        30,
        &[
            arm(FULL, &c(&[21, 23, 20, 24, 22]), 0.94),
            arm(TOPK5, &c(&[6, 7, 5, 8, 6]), 0.95),
        ],
    );
    study.task(
        Task::MissingDuplicate,
        relu,
        40,
        &[
            arm(FULL, &c(&[30, 31, 32]), 0.90),
            arm(BAND5, &c(&[12, 13, 11]), 0.88),
            arm_from(3, TOPK5, &c(&[8, 9, 10]), 0.91),
        ],
    );
    study.task(
        Task::CycleNavigation,
        relu,
        20,
        &[arm(FULL, &c(&[15]), 0.80), arm(TOPK5, &c(&[6]), 0.79)],
    );
    study.task(Task::Listops, relu, 20, &[arm(TOPK5, &c(&[5, 6, 4]), 0.6)]);
    study.task(
        Task::Parity,
        relu,
        50,
        &[arm(TOPK5, &c(&[12, 15, 11]), 0.5)],
    );
    study.task(
        Task::Parity,
        gelu,
        50,
        &[
            arm(FULL, &c(&[40, 45, 38]), 0.62),
            arm(TOPK5, &c(&[13, 14, 12]), 0.5),
        ],
    );
    let out = study.run_table();
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("rare_branches_claims_md", study.read("claims.md"));
}
