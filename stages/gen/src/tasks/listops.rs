//! listops: Long Range Arena's ListOps trees, kept when their length is strictly between 500 and
//! 600 tokens; the label is the value of the expression.
//!
//! `tree(depth)`, root depth 1: below depth 10 draw `r` uniform in `[0, 1)`, at depth 10 `r = 1`;
//! `r > 0.25` gives a leaf digit uniform in 0..9, otherwise `n` uniform in `[2, 10]` children at
//! depth + 1 and an operator uniform over MIN, MAX, MED (median, the two middle values averaged
//! and truncated), SM (sum mod 10). Serialised as `[OP a1 ... an ]`. Draw order in a node: `r`,
//! then the digit, or `n`, the operator and the children.
//!
//! Rejection is cheap because building stops as soon as the tree cannot fit: a running lower
//! bound on the final length (every token written or committed, plus one per child not yet
//! built) is checked each time a node becomes internal, and the draw is abandoned once it
//! exceeds 599. The next attempt starts from fresh random words, so the kept trees follow the
//! generator's law conditioned on the length window, exactly as with full builds.

use common::Example;
use serde_json::{json, Value};

use crate::draw::{self, Rng};
use crate::vocab;

/// Token strings: digits 0-9 (ids 0-9), the four operators, `]`, then `PAD`.
pub(super) const VOCAB: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "[MIN",
    "[MAX",
    "[MED",
    "[SM",
    "]",
    vocab::PAD,
];

const MAX_DEPTH: u32 = 10;
/// A node is a leaf when `r` exceeds this.
const LEAF_ABOVE: f64 = 0.25;
const MIN_ARGS: u32 = 2;
const MAX_ARGS: usize = 10;
/// Kept lengths are strictly between these.
const LEN_ABOVE: usize = 500;
const LEN_BELOW: usize = 600;
const FIRST_OP: u32 = 10;
const CLOSE: u32 = 14;

/// The four list operators, in vocabulary order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListOp {
    Min,
    Max,
    Med,
    Sm,
}

impl ListOp {
    const ALL: [ListOp; 4] = [ListOp::Min, ListOp::Max, ListOp::Med, ListOp::Sm];

    fn token(self) -> u32 {
        FIRST_OP + self as u32
    }

    /// The operator's value on `args` (digits; reordered in place by MED).
    fn apply(self, args: &mut [u8]) -> u8 {
        match self {
            ListOp::Min => *args.iter().min().expect("at least two arguments"),
            ListOp::Max => *args.iter().max().expect("at least two arguments"),
            ListOp::Med => {
                args.sort_unstable();
                let mid = args.len() / 2;
                if args.len() % 2 == 1 {
                    args[mid]
                } else {
                    (args[mid - 1] + args[mid]) / 2
                }
            }
            ListOp::Sm => (args.iter().map(|&a| u32::from(a)).sum::<u32>() % 10) as u8,
        }
    }
}

/// The tree was abandoned because it cannot end shorter than [`LEN_BELOW`].
struct TooLong;

/// Draws trees until one has a length in the window; returns it with its value.
pub(super) fn sample(rng: &mut Rng) -> Example {
    let mut tokens = Vec::with_capacity(LEN_BELOW);
    loop {
        tokens.clear();
        let mut bound = 1;
        if let Ok(value) = node(rng, 1, &mut tokens, &mut bound) {
            if tokens.len() > LEN_ABOVE {
                return Example {
                    tokens,
                    label: u32::from(value),
                };
            }
        }
    }
}

/// Builds one subtree at `depth`, appending its tokens to `out`. `bound` is the lower bound on
/// the whole tree's final length described in the module doc.
fn node(rng: &mut Rng, depth: u32, out: &mut Vec<u32>, bound: &mut usize) -> Result<u8, TooLong> {
    let r = if depth < MAX_DEPTH {
        draw::unit(rng)
    } else {
        1.0
    };
    if r > LEAF_ABOVE {
        let digit = draw::below(rng, 10);
        out.push(digit);
        return Ok(digit as u8);
    }
    let n = draw::inclusive(rng, MIN_ARGS, MAX_ARGS as u32) as usize;
    // This node grows from one placeholder to its operator, `]` and n child placeholders.
    *bound += n + 1;
    if *bound >= LEN_BELOW {
        return Err(TooLong);
    }
    let op = ListOp::ALL[draw::index(rng, ListOp::ALL.len())];
    out.push(op.token());
    let mut args = [0u8; MAX_ARGS];
    for arg in &mut args[..n] {
        *arg = node(rng, depth + 1, out, bound)?;
    }
    out.push(CLOSE);
    Ok(op.apply(&mut args[..n]))
}

/// Parameters for `meta.json`.
pub(super) fn params() -> Value {
    json!({
        "max_depth": MAX_DEPTH,
        "leaf_if_r_above": LEAF_ABOVE,
        "args": [MIN_ARGS, MAX_ARGS],
        "operators": ["MIN", "MAX", "MED", "SM"],
        "median": "two middle values averaged, truncated",
        "length_exclusive": [LEN_ABOVE, LEN_BELOW],
        "label": "value of the expression",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_tokens_match_the_vocabulary() {
        assert_eq!(VOCAB[ListOp::Min.token() as usize], "[MIN");
        assert_eq!(VOCAB[ListOp::Sm.token() as usize], "[SM");
        assert_eq!(VOCAB[CLOSE as usize], "]");
    }

    #[test]
    fn median_of_an_even_count_averages_and_truncates() {
        assert_eq!(ListOp::Med.apply(&mut [4, 1]), 2);
        assert_eq!(ListOp::Med.apply(&mut [9, 3, 4, 6]), 5);
        assert_eq!(ListOp::Med.apply(&mut [7, 0, 9]), 7);
        assert_eq!(ListOp::Sm.apply(&mut [9, 9, 5]), 3);
        assert_eq!(ListOp::Min.apply(&mut [3, 1, 2]), 1);
        assert_eq!(ListOp::Max.apply(&mut [3, 1, 2]), 3);
    }

    #[test]
    fn kept_trees_lie_in_the_length_window_and_are_balanced() {
        let mut rng = draw::split_stream(1, "test");
        for _ in 0..20 {
            let ex = sample(&mut rng);
            assert!(
                (501..=599).contains(&ex.tokens.len()),
                "{}",
                ex.tokens.len()
            );
            let opens = ex
                .tokens
                .iter()
                .filter(|&&t| (FIRST_OP..CLOSE).contains(&t))
                .count();
            assert_eq!(opens, ex.tokens.iter().filter(|&&t| t == CLOSE).count());
        }
    }

    #[test]
    fn the_bound_equals_the_length_of_a_finished_tree() {
        let mut rng = draw::split_stream(2, "test");
        let mut finished = 0;
        while finished < 500 {
            let mut out = Vec::new();
            let mut bound = 1;
            if node(&mut rng, 1, &mut out, &mut bound).is_ok() {
                assert_eq!(bound, out.len());
                finished += 1;
            }
        }
    }
}
