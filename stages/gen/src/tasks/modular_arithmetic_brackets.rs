//! modular_arithmetic_brackets: `gen(40)` over `+`, `-`, `*` (see `crate::expr`); the label is
//! its value mod 5. Each character is one token.

use common::Example;
use serde_json::{json, Value};

use super::NNCH_LEN;
use crate::draw::Rng;
use crate::expr::{self, Op};
use crate::vocab;

/// Token strings: digits 0-4, operators, brackets, then `PAD`.
pub(super) const VOCAB: &[&str] = &["0", "1", "2", "3", "4", "+", "-", "*", "(", ")", vocab::PAD];

const OPS: [Op; 3] = [Op::Add, Op::Sub, Op::Mul];

/// Draws one example.
pub(super) fn sample(rng: &mut Rng) -> Example {
    let e = expr::generate(rng, NNCH_LEN, &OPS);
    Example {
        tokens: vocab::ids_of_chars(VOCAB, &e.chars),
        label: u32::from(e.value),
    }
}

/// Parameters for `meta.json`.
pub(super) fn params() -> Value {
    json!({
        "length": NNCH_LEN,
        "modulus": expr::MODULUS,
        "operators": ["+", "-", "*"],
        "label": "value of gen(40) mod 5",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_forty_tokens() {
        let mut rng = crate::draw::split_stream(1, "test");
        for _ in 0..100 {
            assert_eq!(sample(&mut rng).tokens.len(), 40);
        }
    }
}
