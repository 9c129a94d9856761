//! Seed derivation: every random stream of a stage is derived from the run's seed and a name, so
//! that streams never overlap (the training split and the held-out split of one seed are drawn
//! from different streams) and the result does not depend on the order in which streams are used.

/// Derives a 64-bit seed for the stream `name` from `base`, via blake3 over a fixed encoding.
/// Stable across machines, platforms and releases of this crate.
pub fn derive(base: u64, name: &str) -> u64 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"repro-seed-v1\0");
    hasher.update(&base.to_le_bytes());
    hasher.update(name.as_bytes());
    let bytes = hasher.finalize();
    u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_and_are_stable() {
        assert_ne!(derive(1, "train"), derive(1, "heldout"));
        assert_ne!(derive(1, "train"), derive(2, "train"));
        assert_eq!(derive(1, "train"), derive(1, "train"));
    }
}
