//! stack_manipulation: an initial stack of `s` uniform bits (`s` uniform in `[1, 39]`, listed
//! bottom to top), then `40 - s` actions uniform over `POP`, `PUSH0`, `PUSH1`; `POP` on an empty
//! stack does nothing. The label is the final top bit, or 2 if the stack ends empty.

use common::Example;
use serde_json::{json, Value};

use super::NNCH_LEN;
use crate::draw::{self, Rng};

/// Token strings: the two bits, the three actions, then `PAD`.
pub(super) const VOCAB: &[&str] = &["0", "1", "POP", "PUSH0", "PUSH1", crate::vocab::PAD];

const POP: u32 = 2;
const PUSH0: u32 = 3;
const PUSH1: u32 = 4;
const ACTIONS: [u32; 3] = [POP, PUSH0, PUSH1];
/// Label of an empty final stack.
const EMPTY: u32 = 2;

/// Draws one example: the stack size, its bits bottom to top, then the actions.
pub(super) fn sample(rng: &mut Rng) -> Example {
    let size = draw::inclusive(rng, 1, NNCH_LEN as u32 - 1) as usize;
    let mut tokens: Vec<u32> = (0..size).map(|_| draw::below(rng, 2)).collect();
    let mut stack = tokens.clone();
    for _ in size..NNCH_LEN {
        let action = ACTIONS[draw::index(rng, ACTIONS.len())];
        if action == POP {
            stack.pop();
        } else {
            stack.push(action - PUSH0);
        }
        tokens.push(action);
    }
    Example {
        tokens,
        label: stack.last().copied().unwrap_or(EMPTY),
    }
}

/// Parameters for `meta.json`.
pub(super) fn params() -> Value {
    json!({
        "length": NNCH_LEN,
        "initial_size": [1, NNCH_LEN - 1],
        "actions": ["POP", "PUSH0", "PUSH1"],
        "label": "top bit of the final stack, 2 if empty",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ids_match_the_vocabulary() {
        assert_eq!(VOCAB[POP as usize], "POP");
        assert_eq!(VOCAB[PUSH0 as usize], "PUSH0");
        assert_eq!(VOCAB[PUSH1 as usize], "PUSH1");
    }

    #[test]
    fn bits_come_first_then_at_least_one_action() {
        let mut rng = draw::split_stream(1, "test");
        for _ in 0..200 {
            let ex = sample(&mut rng);
            assert_eq!(ex.tokens.len(), 40);
            let size = ex.tokens.iter().take_while(|&&t| t < 2).count();
            assert!((1..=39).contains(&size));
            assert!(ex.tokens[size..].iter().all(|&t| t >= POP));
        }
    }
}
