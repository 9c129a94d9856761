//! missing_duplicate: 20 uniform bits `s`, the sequence `s‖s`, one uniformly chosen position of
//! the 40 replaced by `MISSING`; the label is the bit that was replaced.

use common::Example;
use serde_json::{json, Value};

use super::NNCH_LEN;
use crate::draw::{self, Rng};

/// Token strings: the two bits, `MISSING`, then `PAD`.
pub(super) const VOCAB: &[&str] = &["0", "1", "MISSING", crate::vocab::PAD];

const MISSING: u32 = 2;

/// Draws one example: the 20 bits, the copy, then the position to hide.
pub(super) fn sample(rng: &mut Rng) -> Example {
    let half: Vec<u32> = (0..NNCH_LEN / 2).map(|_| draw::below(rng, 2)).collect();
    let mut tokens = [half.as_slice(), half.as_slice()].concat();
    let position = draw::index(rng, NNCH_LEN);
    let label = std::mem::replace(&mut tokens[position], MISSING);
    Example { tokens, label }
}

/// Parameters for `meta.json`.
pub(super) fn params() -> Value {
    json!({
        "length": NNCH_LEN,
        "half_length": NNCH_LEN / 2,
        "label": "the bit replaced by MISSING in s||s",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_position_is_missing_and_its_twin_holds_the_label() {
        assert_eq!(VOCAB[MISSING as usize], "MISSING");
        let mut rng = draw::split_stream(1, "test");
        for _ in 0..100 {
            let ex = sample(&mut rng);
            let at = ex.tokens.iter().position(|&t| t == MISSING).unwrap();
            assert_eq!(ex.tokens.iter().filter(|&&t| t == MISSING).count(), 1);
            assert_eq!(ex.tokens[(at + 20) % 40], ex.label);
        }
    }
}
