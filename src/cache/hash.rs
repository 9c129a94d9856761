//! Hashing bytes and files with blake3, to lowercase hex. Large files are memory-mapped and
//! hashed on several threads.

use std::fs;
use std::io;
use std::path::Path;

/// Files at least this large are hashed with mmap + rayon.
const MMAP_THRESHOLD: u64 = 1 << 20;

/// A blake3 digest in lowercase hex.
pub type Digest = String;

/// Hashes the bytes of a file, without the cache.
pub fn hash_file_uncached(path: &Path) -> io::Result<Digest> {
    let len = fs::metadata(path)?.len();
    let mut hasher = blake3::Hasher::new();
    if len >= MMAP_THRESHOLD {
        hasher.update_mmap_rayon(path)?;
    } else {
        hasher.update(&fs::read(path)?);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Hashes bytes.
pub fn hash_bytes(bytes: &[u8]) -> Digest {
    blake3::hash(bytes).to_hex().to_string()
}
