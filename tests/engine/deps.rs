//! Dependency inference from paths: plain paths, directories and globs reach the outputs
//! that produce them, so readers run after writers even in a clean checkout.

use crate::common::Ws;

fn pipeline(dep: &str) -> String {
    format!(
        r#"version: 1
stages:
  gen:
    cmd: "echo gen-${{n}} >> \"$COUNTER\"; sleep 0.2; mkdir -p data/${{n}}/deep; echo ${{n}} > data/${{n}}/deep/v.txt"
    shell: true
    matrix:
      n: [1, 2, 3]
    outs: ["data/${{n}}"]
  sum:
    cmd: "echo sum >> \"$COUNTER\"; cat data/*/deep/v.txt > sum.txt"
    shell: true
    deps: ["{dep}"]
    outs: [sum.txt]
"#
    )
}

/// The reader sees every writer's output on the first run and re-runs when one changes.
fn reader_follows_writers(dep: &str) {
    let ws = Ws::new(&pipeline(dep));
    let out = ws.ok(&["run", "-j", "4"]);
    assert_eq!(
        ws.read("sum.txt"),
        "1\n2\n3\n",
        "dep {dep:?}: the reader ran before its writers:\n{}",
        out.both()
    );
    assert_eq!(ws.ran().last().map(String::as_str), Some("sum"));
    let dag = ws.ok(&["dag", "sum"]).stdout;
    assert!(
        dag.contains("sum <- gen@n=1, gen@n=2, gen@n=3"),
        "dep {dep:?}:\n{dag}"
    );
    ws.write("data/2/deep/v.txt", "two\n");
    ws.ok(&["run"]);
    assert_eq!(
        ws.ran().len(),
        4,
        "a modified output is restored, so the reader stays fresh"
    );
}

#[test]
fn directory_dep_holding_outputs_orders_the_reader() {
    reader_follows_writers("data");
}

#[test]
fn glob_dep_matching_outputs_orders_the_reader() {
    reader_follows_writers("data/*");
}

#[test]
fn glob_dep_inside_output_directories_orders_the_reader() {
    reader_follows_writers("data/*/deep/v.txt");
}

#[test]
fn recursive_glob_dep_orders_the_reader() {
    reader_follows_writers("data/**/v.txt");
}

#[test]
fn glob_dep_holding_outputs_orders_the_reader() {
    let ws = Ws::new(
        r#"version: 1
stages:
  w:
    cmd: "sleep 0.2; echo ${n} > runs/${n}/x.txt"
    shell: true
    matrix:
      n: [a, b]
    outs: ["runs/${n}/x.txt"]
  r:
    cmd: "cat runs/*/x.txt > r.txt"
    shell: true
    deps: ["run?"]
    outs: [r.txt]
"#,
    );
    ws.ok(&["run", "-j", "3"]);
    assert_eq!(ws.read("r.txt"), "a\nb\n");
}

#[test]
fn glob_dep_that_reaches_nothing_is_still_an_error() {
    let ws = Ws::new(&pipeline("other/*/v.txt"));
    let out = ws.code(&["run"], 2);
    assert!(
        out.stderr
            .contains("dependency `other/*/v.txt` of `sum` neither exists nor is produced"),
        "{}",
        out.both()
    );
}
