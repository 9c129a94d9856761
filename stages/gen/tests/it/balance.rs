//! Label balance against the exact laws of `check::laws`.
//!
//! Each NNCH task gets a 20,000-example training split. A class of probability `p` then has a
//! count with binomial standard deviation `sqrt(n p (1 - p))` (at most 71, i.e. 0.35 points);
//! the test fails beyond 5 standard deviations, which an unbiased generator exceeds with
//! probability below 1e-6 per class, while a bias of 2 points in any class is caught. ListOps
//! has no closed form: every class must occur in the shared sample. Observed frequencies are
//! printed (`--nocapture`) for the record.

use common::Task;

use crate::check::laws::label_law;
use crate::support::{generate, read, sample};

const DRAWS: usize = 20_000;
const SIGMAS: f64 = 5.0;

fn frequencies(labels: impl Iterator<Item = u32>, classes: usize) -> Vec<usize> {
    let mut counts = vec![0; classes];
    for l in labels {
        counts[l as usize] += 1;
    }
    counts
}

#[test]
fn nnch_labels_follow_their_laws() {
    for task in Task::ALL.into_iter().filter(|t| *t != Task::Listops) {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), task, 1234, DRAWS, 1, 1);
        let data = read(dir.path());
        let counts = frequencies(
            data.splits
                .iter()
                .find(|(n, _)| n == "train")
                .unwrap()
                .1
                .iter()
                .map(|e| e.label),
            task.classes(),
        );
        let law = label_law(task).expect("NNCH law");
        let n = DRAWS as f64;
        let observed: Vec<String> = counts
            .iter()
            .map(|&c| format!("{:.4}", c as f64 / n))
            .collect();
        let expected: Vec<String> = law.iter().map(|p| format!("{p:.4}")).collect();
        eprintln!(
            "{task}: observed [{}] expected [{}]",
            observed.join(", "),
            expected.join(", ")
        );
        for (class, (&c, &p)) in counts.iter().zip(&law).enumerate() {
            let sd = (n * p * (1.0 - p)).sqrt();
            assert!(
                (c as f64 - n * p).abs() <= SIGMAS * sd + 1.0,
                "{task} class {class}: {c} of {DRAWS}, expected {:.1}",
                n * p
            );
        }
    }
}

#[test]
fn listops_uses_every_class() {
    let data = sample(Task::Listops);
    let counts = frequencies(data.examples().map(|e| e.label), 10);
    let total: usize = counts.iter().sum();
    let observed: Vec<String> = counts
        .iter()
        .map(|&c| format!("{:.3}", c as f64 / total as f64))
        .collect();
    eprintln!("listops: observed [{}] over {total}", observed.join(", "));
    assert!(counts.iter().all(|&c| c > 0), "{counts:?}");
}
