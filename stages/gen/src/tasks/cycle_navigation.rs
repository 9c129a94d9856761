//! cycle_navigation: 40 moves uniform over {-1, 0, +1}, written as tokens `0`, `1`, `2`; the
//! label is the final position on a cycle of 5 starting at 0, i.e. the sum of moves mod 5 taken
//! non-negative.

use common::Example;
use serde_json::{json, Value};

use super::NNCH_LEN;
use crate::draw::{self, Rng};

/// Token strings: `0` = move -1, `1` = stay, `2` = move +1, then `PAD`.
pub(super) const VOCAB: &[&str] = &["0", "1", "2", crate::vocab::PAD];

const CYCLE: i64 = 5;

/// Draws one example: token `t` is the move `t - 1`.
pub(super) fn sample(rng: &mut Rng) -> Example {
    let tokens: Vec<u32> = (0..NNCH_LEN).map(|_| draw::below(rng, 3)).collect();
    let sum: i64 = tokens.iter().map(|&t| i64::from(t) - 1).sum();
    Example {
        tokens,
        label: sum.rem_euclid(CYCLE) as u32,
    }
}

/// Parameters for `meta.json`.
pub(super) fn params() -> Value {
    json!({
        "length": NNCH_LEN,
        "cycle": CYCLE,
        "moves": { "0": -1, "1": 0, "2": 1 },
        "label": "sum of moves mod 5",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_is_the_walk_position() {
        let mut rng = draw::split_stream(1, "test");
        for _ in 0..100 {
            let ex = sample(&mut rng);
            let mut at = 0i64;
            for &t in &ex.tokens {
                at = (at + i64::from(t) + 4) % 5;
            }
            assert_eq!(ex.label as i64, at);
        }
    }
}
