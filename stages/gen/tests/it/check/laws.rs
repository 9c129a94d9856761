//! The exact label distribution each NNCH definition implies, derived separately from the
//! generators (ListOps has no closed form; `None`).
//! - parity, even_pairs, missing_duplicate: fair coins (the label is one uniform bit, or a
//!   parity of uniform bits).
//! - cycle_navigation: the 5-cycle walk of 40 uniform steps, by dynamic programming.
//! - stack_manipulation: P(empty) from the stack-size chain (size `s` uniform in 1..=39, then
//!   40 - s steps: -1 or stay at 0 w.p. 1/3, +1 w.p. 2/3); the rest splits evenly between 0 and
//!   1 because flipping every bit and swapping PUSH0/PUSH1 preserves the law.
//! - modular_arithmetic_brackets: the value law of `gen(L)` by dynamic programming over `L`.
//! - solve_equation: uniform, since each digit is uniform and independent of the expression's
//!   shape and of where `x` goes.

use common::Task;

/// The probability of each class, or `None` where no closed form is known.
pub(crate) fn label_law(task: Task) -> Option<Vec<f64>> {
    match task {
        Task::Listops => None,
        Task::Parity | Task::EvenPairs | Task::MissingDuplicate => Some(vec![0.5, 0.5]),
        Task::CycleNavigation => Some(cycle_walk()),
        Task::StackManipulation => Some(stack_top()),
        Task::ModularArithmeticBrackets => Some(expression_value(40)),
        Task::SolveEquation => Some(vec![0.2; 5]),
    }
}

fn cycle_walk() -> Vec<f64> {
    let mut p = vec![1.0, 0.0, 0.0, 0.0, 0.0];
    for _ in 0..40 {
        let mut next = vec![0.0; 5];
        for (pos, q) in p.iter().enumerate() {
            for step in [4, 0, 1] {
                next[(pos + step) % 5] += q / 3.0;
            }
        }
        p = next;
    }
    p
}

fn stack_top() -> Vec<f64> {
    let mut empty = 0.0;
    for start in 1..=39usize {
        let mut size = vec![0.0; 41];
        size[start] = 1.0;
        for _ in 0..40 - start {
            let mut next = vec![0.0; 41];
            for (k, q) in size.iter().enumerate() {
                next[k.saturating_sub(1)] += q / 3.0;
                if k < 40 {
                    next[k + 1] += 2.0 * q / 3.0;
                }
            }
            size = next;
        }
        empty += size[0] / 39.0;
    }
    vec![(1.0 - empty) / 2.0, (1.0 - empty) / 2.0, empty]
}

fn expression_value(len: usize) -> Vec<f64> {
    let uniform = vec![0.2; 5];
    let mut law: Vec<Vec<f64>> = vec![vec![]; len + 1];
    for l in 1..=len {
        if l <= 4 {
            law[l] = uniform.clone();
            continue;
        }
        let mut p = vec![0.0; 5];
        let splits = (l - 4) as f64;
        for left in 1..=l - 4 {
            let right = l - 3 - left;
            for (a, pa) in law[left].iter().enumerate() {
                for (b, pb) in law[right].iter().enumerate() {
                    let w = pa * pb / splits / 3.0;
                    p[(a + b) % 5] += w;
                    p[(a + 5 - b) % 5] += w;
                    p[(a * b) % 5] += w;
                }
            }
        }
        law[l] = p;
    }
    law[len].clone()
}

#[test]
fn laws_are_distributions() {
    for task in Task::ALL {
        if let Some(p) = label_law(task) {
            assert_eq!(p.len(), task.classes());
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{task}: {p:?}");
        }
    }
}
