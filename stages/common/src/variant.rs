//! Attention variants (SPEC §3): `full`, `topkK`, and the input-agnostic `bandK` / `blocK`
//! patterns with optional global tokens (`+G1`, `+G3`).
//!
//! The string form is the one used in paths, instance names and the paper's legends:
//! `full`, `topk5`, `band9`, `bloc5+G3`.

use std::fmt;
use std::str::FromStr;

use crate::CommonError;

/// One attention variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Every query attends to every key.
    Full,
    /// Each query keeps its `k` largest logits, recomputed at every forward pass.
    Topk {
        /// Keys kept per query.
        k: usize,
    },
    /// Each query attends to exactly `k` neighbouring keys, window shifted at the edges.
    Band {
        /// Window size.
        k: usize,
        /// Number of learnable global tokens appended after the padding (0, 1 or 3).
        globals: usize,
    },
    /// Non-overlapping diagonal blocks of size `k`.
    Bloc {
        /// Block size.
        k: usize,
        /// Number of learnable global tokens appended after the padding (0, 1 or 3).
        globals: usize,
    },
}

impl Variant {
    /// The fifteen variants the paper trains per task, in its order.
    pub fn paper_grid() -> Vec<Variant> {
        let mut v = vec![Variant::Full];
        for k in [5, 9] {
            v.push(Variant::Band { k, globals: 0 });
        }
        for k in [5, 9] {
            v.push(Variant::Bloc { k, globals: 0 });
        }
        for k in [5, 9] {
            for globals in [1, 3] {
                v.push(Variant::Band { k, globals });
            }
        }
        for k in [5, 9] {
            for globals in [1, 3] {
                v.push(Variant::Bloc { k, globals });
            }
        }
        v.push(Variant::Topk { k: 5 });
        v.push(Variant::Topk { k: 9 });
        v
    }

    /// The `k` that sequences are padded to a multiple of (1 for full attention).
    pub fn pad_multiple(self) -> usize {
        match self {
            Variant::Full => 1,
            Variant::Topk { k } | Variant::Band { k, .. } | Variant::Bloc { k, .. } => k,
        }
    }

    /// Number of global tokens appended after the padding.
    pub fn globals(self) -> usize {
        match self {
            Variant::Band { globals, .. } | Variant::Bloc { globals, .. } => globals,
            _ => 0,
        }
    }

    /// Length after right-padding `max_len` to a multiple of `k`, before global tokens.
    pub fn padded_len(self, max_len: usize) -> usize {
        max_len.div_ceil(self.pad_multiple()) * self.pad_multiple()
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Variant::Full => write!(f, "full"),
            Variant::Topk { k } => write!(f, "topk{k}"),
            Variant::Band { k, globals: 0 } => write!(f, "band{k}"),
            Variant::Band { k, globals } => write!(f, "band{k}+G{globals}"),
            Variant::Bloc { k, globals: 0 } => write!(f, "bloc{k}"),
            Variant::Bloc { k, globals } => write!(f, "bloc{k}+G{globals}"),
        }
    }
}

impl FromStr for Variant {
    type Err = CommonError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || CommonError::BadVariant(s.to_owned());
        if s == "full" {
            return Ok(Variant::Full);
        }
        let (head, globals) = match s.split_once("+G") {
            Some((head, g)) => (head, g.parse::<usize>().map_err(|_| bad())?),
            None => (s, 0),
        };
        let number = |prefix: &str| -> Option<usize> {
            head.strip_prefix(prefix)?
                .parse::<usize>()
                .ok()
                .filter(|k| *k >= 1)
        };
        if globals > 16 {
            return Err(bad());
        }
        if let Some(k) = number("topk") {
            if globals != 0 || s.contains('+') {
                return Err(bad());
            }
            return Ok(Variant::Topk { k });
        }
        if let Some(k) = number("band") {
            return Ok(Variant::Band { k, globals });
        }
        if let Some(k) = number("bloc") {
            return Ok(Variant::Bloc { k, globals });
        }
        Err(bad())
    }
}

impl serde::Serialize for Variant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Variant {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_grid_has_fifteen_distinct_variants_that_round_trip() {
        let grid = Variant::paper_grid();
        assert_eq!(grid.len(), 15);
        for v in &grid {
            assert_eq!(v.to_string().parse::<Variant>().unwrap(), *v);
        }
        let names: std::collections::HashSet<_> = grid.iter().map(|v| v.to_string()).collect();
        assert_eq!(names.len(), 15);
        assert!(names.contains("bloc9+G3"));
    }

    #[test]
    fn malformed_variants_are_rejected() {
        for bad in [
            "", "top5", "topk", "topk0", "topk5+G1", "band5+G", "band5+Gx", "fullx", "bloc-1",
        ] {
            assert!(bad.parse::<Variant>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn padding_rounds_up_to_a_multiple_of_k() {
        assert_eq!(Variant::Topk { k: 9 }.padded_len(40), 45);
        assert_eq!(Variant::Band { k: 5, globals: 1 }.padded_len(40), 40);
        assert_eq!(Variant::Full.padded_len(599), 599);
    }
}
