//! The command line of `gen` (see `docs/stages.md`) and the run it drives:
//! validate the arguments, make sure `--out` is writable before spending time on generation,
//! generate, write `train.csv`, `heldout.csv`, for ListOps `test.csv`, and `meta.json`, and
//! report a one-line summary on stderr.
//!
//! Validation happens here rather than in clap so that every refusal is one line naming the
//! flag; clap only checks presence and number syntax, and [`one_line`] flattens its messages.
//! Numeric flags accept a leading `-` so that `--train -3` is reported as a bad `--train` value
//! rather than as an unknown flag `-3`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::Task;

use crate::{dataset, GenError};

/// Examples in the ListOps test split when `--test` is not given.
const DEFAULT_TEST: usize = 2000;
/// Largest split accepted: splits are built in memory (a ListOps example takes about 2.4 KB),
/// and the paper needs 5,000.
const MAX_SPLIT: usize = 10_000_000;

/// `gen --task TASK --seed SEED --train N --heldout M [--test K] --out DIR`
#[derive(Debug, clap::Parser)]
#[command(
    name = "gen",
    about = "Generate one task's data set: train, held-out (and ListOps test) splits plus meta.json."
)]
pub struct Args {
    /// Task name, e.g. `listops`, `parity`, `solve_equation`.
    #[arg(long)]
    pub task: String,
    /// Seed; each split draws from its own stream derived from it.
    #[arg(long, allow_negative_numbers = true)]
    pub seed: u64,
    /// Number of training examples.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub train: usize,
    /// Number of held-out examples.
    #[arg(long, value_name = "M", allow_negative_numbers = true)]
    pub heldout: usize,
    /// Number of test examples (ListOps only; default 2000).
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub test: Option<usize>,
    /// Output directory, created if missing.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Runs `gen` with parsed arguments: validates, generates and writes the data set.
pub fn run(args: &Args) -> Result<(), GenError> {
    let start = Instant::now();
    let task: Task = args.task.parse().map_err(GenError::Task)?;
    let sizes = split_sizes(task, args)?;
    prepare_out_dir(&args.out)?;
    let data = dataset::generate(task, args.seed, &sizes);
    for split in &data.splits {
        let path = args.out.join(format!("{}.csv", split.name));
        common::data::write_split(&path, &split.examples).map_err(GenError::Write)?;
    }
    data.meta.write(&args.out).map_err(GenError::Write)?;
    let counts: Vec<String> = data
        .splits
        .iter()
        .map(|s| format!("{} {}", s.name, s.examples.len()))
        .collect();
    eprintln!(
        "gen: {task} seed {}: {} (max_len {}, {} duplicates rejected) -> {} in {:.2} s",
        args.seed,
        counts.join(", "),
        data.meta.max_len,
        data.duplicates_rejected,
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The splits to draw, in order, after checking every size.
fn split_sizes(task: Task, args: &Args) -> Result<Vec<(&'static str, usize)>, GenError> {
    let positive = |flag: &'static str, n: usize| {
        if n == 0 || n > MAX_SPLIT {
            return Err(GenError::BadArg {
                flag,
                value: n.to_string(),
                reason: format!("must be at least 1 and at most {MAX_SPLIT}"),
            });
        }
        Ok(n)
    };
    let mut sizes = vec![
        ("train", positive("train", args.train)?),
        ("heldout", positive("heldout", args.heldout)?),
    ];
    match (task, args.test) {
        (Task::Listops, test) => {
            sizes.push(("test", positive("test", test.unwrap_or(DEFAULT_TEST))?))
        }
        (_, None) => {}
        (_, Some(n)) => {
            return Err(GenError::BadArg {
                flag: "test",
                value: n.to_string(),
                reason: format!("only listops has a test split, not `{task}`"),
            })
        }
    }
    Ok(sizes)
}

/// Creates `dir` and checks that a file can be created in it, before any generation.
fn prepare_out_dir(dir: &Path) -> Result<(), GenError> {
    let fail = |source| GenError::OutDir {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    // train.csv is written first anyway; creating it now proves the directory is writable.
    std::fs::File::create(dir.join("train.csv")).map_err(fail)?;
    Ok(())
}

/// Flattens a clap error to one line without the usage and help hints, e.g.
/// ``invalid value 'x' for '--seed <SEED>': invalid digit found in string``.
pub fn one_line(err: &clap::Error) -> String {
    let text = err.to_string();
    let kept: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .collect();
    let joined = kept.join(" ");
    joined.strip_prefix("error: ").unwrap_or(&joined).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(task: &str, test: Option<usize>) -> Args {
        Args {
            task: task.to_owned(),
            seed: 1,
            train: 5,
            heldout: 3,
            test,
            out: PathBuf::from("unused"),
        }
    }

    #[test]
    fn listops_gets_a_default_test_split_and_others_refuse_one() {
        let sizes = split_sizes(Task::Listops, &args("listops", None)).unwrap();
        assert_eq!(sizes, vec![("train", 5), ("heldout", 3), ("test", 2000)]);
        let err = split_sizes(Task::Parity, &args("parity", Some(4)))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`--test`") && err.contains("parity"), "{err}");
    }

    #[test]
    fn zero_sizes_name_the_flag() {
        let mut a = args("parity", None);
        a.heldout = 0;
        let err = split_sizes(Task::Parity, &a).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("`--heldout`"), "{err}");
        a.heldout = MAX_SPLIT + 1;
        assert!(split_sizes(Task::Parity, &a).is_err());
    }

    #[test]
    fn clap_errors_flatten_to_one_line() {
        let err = Args::try_parse_from(["gen", "--task", "parity"]).unwrap_err();
        let line = one_line(&err);
        assert!(!line.contains('\n') && line.contains("--seed"), "{line}");
    }
}
