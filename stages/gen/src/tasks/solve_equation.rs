//! solve_equation: `e = gen(38)` over `+`, `-`; a start index uniform in `[0, 37]`, stepping
//! forward (wrapping) to the first digit, which is replaced by `x`; then `=` and the value of
//! the original `e` mod 5 are appended (40 tokens). The label is the replaced digit.

use common::Example;
use serde_json::{json, Value};

use super::NNCH_LEN;
use crate::draw::{self, Rng};
use crate::expr::{self, Op};
use crate::vocab;

/// Token strings: digits 0-4, operators, brackets, `x`, `=`, then `PAD`.
pub(super) const VOCAB: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "+",
    "-",
    "(",
    ")",
    "x",
    "=",
    vocab::PAD,
];

const OPS: [Op; 2] = [Op::Add, Op::Sub];
/// Length of the expression before `=` and the value are appended.
const EXPR_LEN: usize = NNCH_LEN - 2;

/// Draws one example: the expression, then the start index of the search for the digit to hide.
pub(super) fn sample(rng: &mut Rng) -> Example {
    let mut e = expr::generate(rng, EXPR_LEN, &OPS);
    let mut at = draw::index(rng, EXPR_LEN);
    while !e.chars[at].is_ascii_digit() {
        at = (at + 1) % EXPR_LEN;
    }
    let hidden = e.chars[at] - b'0';
    e.chars[at] = b'x';
    e.chars.extend_from_slice(&[b'=', b'0' + e.value]);
    Example {
        tokens: vocab::ids_of_chars(VOCAB, &e.chars),
        label: u32::from(hidden),
    }
}

/// Parameters for `meta.json`.
pub(super) fn params() -> Value {
    json!({
        "length": NNCH_LEN,
        "expression_length": EXPR_LEN,
        "modulus": expr::MODULUS,
        "operators": ["+", "-"],
        "label": "the digit of gen(38) replaced by x",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_x_then_equals_and_a_digit() {
        let x = vocab::id_of(VOCAB, "x");
        let eq = vocab::id_of(VOCAB, "=");
        let mut rng = draw::split_stream(1, "test");
        for _ in 0..100 {
            let ex = sample(&mut rng);
            assert_eq!(ex.tokens.len(), 40);
            assert_eq!(ex.tokens.iter().filter(|&&t| t == x).count(), 1);
            assert_eq!(ex.tokens[38], eq);
            assert!(ex.tokens[39] < 5);
        }
    }
}
