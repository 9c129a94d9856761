//! parity: 40 uniform bits; the label is the number of ones mod 2.

use common::Example;
use serde_json::{json, Value};

use super::NNCH_LEN;
use crate::draw::{self, Rng};

/// Token strings: the two bits, then `PAD`.
pub(super) const VOCAB: &[&str] = &["0", "1", crate::vocab::PAD];

/// Draws one example: bit `b` is token id `b`.
pub(super) fn sample(rng: &mut Rng) -> Example {
    let tokens: Vec<u32> = (0..NNCH_LEN).map(|_| draw::below(rng, 2)).collect();
    let ones: u32 = tokens.iter().sum();
    Example {
        tokens,
        label: ones % 2,
    }
}

/// Parameters for `meta.json`.
pub(super) fn params() -> Value {
    json!({ "length": NNCH_LEN, "label": "number of ones mod 2" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_is_the_parity_of_the_ones() {
        let mut rng = draw::split_stream(1, "test");
        for _ in 0..100 {
            let ex = sample(&mut rng);
            assert_eq!(ex.tokens.len(), 40);
            assert_eq!(
                ex.label,
                ex.tokens.iter().filter(|&&t| t == 1).count() as u32 % 2
            );
        }
    }
}
