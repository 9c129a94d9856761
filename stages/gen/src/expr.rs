//! The random bracketed expression `gen(L)` of SPEC §1, shared by modular_arithmetic_brackets
//! and solve_equation: exactly `L` characters over digits `0`-`4`, the allowed binary
//! operators, `-` (unary) and brackets, together with its value mod 5.
//!
//! The recursion, by length:
//! - `L = 1`: a uniform digit `d`; `L = 2`: `-d`; `L = 3`: `(d)`; `L = 4`: `(-d)`;
//! - `L >= 5`: a left length uniform in `[1, L-4]`, the right length `L-3-left`, an operator
//!   uniform over the allowed set, and `(left op right)` with both sides built by `gen`.
//!
//! Draw order inside one node: left length, operator, then the left and right subtrees. The
//! value is computed while building, so no parser is involved (the tests carry an independent
//! one).

use crate::draw::{self, Rng};

/// The modulus of all expression values.
pub(crate) const MODULUS: u8 = 5;

/// A binary operator of `gen(L)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
}

impl Op {
    /// The character the operator is written as.
    pub(crate) fn symbol(self) -> u8 {
        match self {
            Op::Add => b'+',
            Op::Sub => b'-',
            Op::Mul => b'*',
        }
    }

    /// `a op b` mod 5, for `a`, `b` in `0..5`.
    fn apply(self, a: u8, b: u8) -> u8 {
        match self {
            Op::Add => (a + b) % MODULUS,
            Op::Sub => (a + MODULUS - b) % MODULUS,
            Op::Mul => (a * b) % MODULUS,
        }
    }
}

/// A generated expression: its characters (ASCII) and its value mod 5.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Expr {
    /// Exactly the requested number of ASCII characters.
    pub(crate) chars: Vec<u8>,
    /// Value of the expression mod 5, in `0..5`.
    pub(crate) value: u8,
}

/// Draws `gen(len)` with operators from `ops`; `len` must be at least 1, `ops` non-empty.
pub(crate) fn generate(rng: &mut Rng, len: usize, ops: &[Op]) -> Expr {
    let mut chars = Vec::with_capacity(len);
    let value = build(rng, len, ops, &mut chars);
    Expr { chars, value }
}

fn digit(rng: &mut Rng, out: &mut Vec<u8>) -> u8 {
    let d = draw::below(rng, u32::from(MODULUS)) as u8;
    out.push(b'0' + d);
    d
}

fn negate(d: u8) -> u8 {
    (MODULUS - d) % MODULUS
}

fn build(rng: &mut Rng, len: usize, ops: &[Op], out: &mut Vec<u8>) -> u8 {
    match len {
        1 => digit(rng, out),
        2 => {
            out.push(b'-');
            negate(digit(rng, out))
        }
        3 => {
            out.push(b'(');
            let d = digit(rng, out);
            out.push(b')');
            d
        }
        4 => {
            out.extend_from_slice(b"(-");
            let d = digit(rng, out);
            out.push(b')');
            negate(d)
        }
        _ => {
            let left = draw::inclusive(rng, 1, (len - 4) as u32) as usize;
            let right = len - 3 - left;
            let op = ops[draw::index(rng, ops.len())];
            out.push(b'(');
            let a = build(rng, left, ops, out);
            out.push(op.symbol());
            let b = build(rng, right, ops, out);
            out.push(b')');
            op.apply(a, b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Op; 3] = [Op::Add, Op::Sub, Op::Mul];

    #[test]
    fn every_length_is_exact_and_brackets_balance() {
        let mut rng = draw::split_stream(11, "test");
        for len in 1..=60 {
            for _ in 0..20 {
                let e = generate(&mut rng, len, &ALL);
                assert_eq!(e.chars.len(), len);
                assert!(e.value < MODULUS);
                let mut depth = 0i32;
                for &c in &e.chars {
                    depth += match c {
                        b'(' => 1,
                        b')' => -1,
                        _ => 0,
                    };
                    assert!(depth >= 0);
                }
                assert_eq!(depth, 0);
            }
        }
    }

    #[test]
    fn short_forms_follow_the_recursion() {
        let mut rng = draw::split_stream(12, "test");
        for _ in 0..50 {
            let e = generate(&mut rng, 4, &ALL);
            assert_eq!(&e.chars[..2], b"(-");
            assert_eq!(e.chars[3], b')');
            assert_eq!(e.value, negate(e.chars[2] - b'0'));
            let e = generate(&mut rng, 5, &ALL);
            // L = 5 forces left = right = 1: `(d op d)`.
            let [open, a, op, b, close] = e.chars[..] else {
                panic!("{:?}", e.chars)
            };
            assert!(open == b'(' && close == b')' && a.is_ascii_digit() && b.is_ascii_digit());
            assert!(ALL.iter().any(|o| o.symbol() == op));
        }
    }

    #[test]
    fn only_allowed_operators_appear() {
        let mut rng = draw::split_stream(13, "test");
        for _ in 0..200 {
            let e = generate(&mut rng, 38, &[Op::Add, Op::Sub]);
            assert!(!e.chars.contains(&b'*'));
        }
    }

    #[test]
    fn operators_apply_mod_five() {
        assert_eq!(Op::Add.apply(4, 3), 2);
        assert_eq!(Op::Sub.apply(1, 3), 3);
        assert_eq!(Op::Mul.apply(4, 4), 1);
        assert_eq!(negate(0), 0);
        assert_eq!(negate(2), 3);
    }
}
