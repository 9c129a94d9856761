//! even_pairs: 40 uniform bits; the label is the number of adjacent unequal pairs mod 2, which
//! equals whether the first and last bits differ.

use common::Example;
use serde_json::{json, Value};

use super::NNCH_LEN;
use crate::draw::{self, Rng};

/// Token strings: the two bits, then `PAD`.
pub(super) const VOCAB: &[&str] = &["0", "1", crate::vocab::PAD];

/// Draws one example: bit `b` is token id `b`.
pub(super) fn sample(rng: &mut Rng) -> Example {
    let tokens: Vec<u32> = (0..NNCH_LEN).map(|_| draw::below(rng, 2)).collect();
    let changes = tokens.windows(2).filter(|w| w[0] != w[1]).count() as u32;
    Example {
        tokens,
        label: changes % 2,
    }
}

/// Parameters for `meta.json`.
pub(super) fn params() -> Value {
    json!({ "length": NNCH_LEN, "label": "number of adjacent unequal pairs mod 2" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_says_whether_the_ends_differ() {
        let mut rng = draw::split_stream(1, "test");
        for _ in 0..100 {
            let ex = sample(&mut rng);
            assert_eq!(ex.label, u32::from(ex.tokens[0] != ex.tokens[39]));
        }
    }
}
