//! Cache keys: blake3 over a canonical, versioned JSON encoding of [`KeyInputs`].
//!
//! serde_json writes struct fields in declaration order and `BTreeMap`s in key order, with no
//! whitespace, so the encoding of equal inputs is byte-identical on every machine.

use std::collections::BTreeMap;

use serde_json::Value;

/// Version of the key encoding; bump it when what enters a key changes meaning.
pub const KEY_VERSION: u32 = 1;

/// Everything that enters an instance's cache key (see the table in `cache`'s module doc).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KeyInputs {
    /// [`KEY_VERSION`].
    pub version: u32,
    /// Resolved argv.
    pub argv: Vec<String>,
    /// The stage's declared environment, resolved.
    pub env: BTreeMap<String, String>,
    /// Declared and referenced parameter values.
    pub params: BTreeMap<String, Value>,
    /// Dependency path (or glob match) to tagged digest (`file:…` / `dir:…`).
    pub deps: BTreeMap<String, String>,
    /// Code entry (package name or glob) to digest.
    pub code: BTreeMap<String, String>,
    /// Output paths, in declaration order.
    pub outs: Vec<String>,
}

impl KeyInputs {
    /// The key: blake3 hex of the canonical encoding.
    pub fn key(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("key inputs serialise");
        blake3::hash(&bytes).to_hex().to_string()
    }

    /// The key with every dependency's digest blanked (paths kept): equal for two runs that
    /// differ only in the bytes of their inputs. `verify --reference` uses it to accept
    /// instances downstream of outputs that agree only within a tolerance.
    pub fn structural_key(&self) -> String {
        let mut s = self.clone();
        for v in s.deps.values_mut() {
            v.clear();
        }
        s.key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> KeyInputs {
        KeyInputs {
            version: KEY_VERSION,
            argv: vec!["gen".into(), "--seed".into(), "1".into()],
            env: BTreeMap::new(),
            params: BTreeMap::from([("lr".into(), serde_json::json!(0.1))]),
            deps: BTreeMap::new(),
            code: BTreeMap::from([("gen".into(), "abc".into())]),
            outs: vec!["data/x".into()],
        }
    }

    #[test]
    fn key_changes_with_every_input_and_only_then() {
        let a = inputs();
        assert_eq!(a.key(), inputs().key());
        let mut b = inputs();
        b.params.insert("lr".into(), serde_json::json!(0.2));
        assert_ne!(a.key(), b.key());
        let mut c = inputs();
        c.code.insert("gen".into(), "abd".into());
        assert_ne!(a.key(), c.key());
        let mut d = inputs();
        d.outs[0] = "data/y".into();
        assert_ne!(a.key(), d.key());
    }
}
