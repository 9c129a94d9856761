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
    let file = fs::File::open(path)?;
    let len = file.metadata()?.len();
    hash_open_file(path, file, len)
}

/// [`hash_file_uncached`] of a file whose length was just seen (`len`, from a `stat` the caller
/// made): the length decides only how the file is read, which goes to its end in any case.
pub(crate) fn hash_file_of_length(path: &Path, len: u64) -> io::Result<Digest> {
    hash_open_file(path, fs::File::open(path)?, len)
}

/// Hashes `file` (open at `path`), about `len` bytes long; a large one is mapped anew by its
/// path (`update_mmap_rayon` opens it itself). Small files are read with plain
/// `read`s into a buffer of that size: `fs::read` and `read_to_end` first ask for the length
/// and position again, two system calls per file, and every job's outputs and log are hashed
/// on the dispatcher's thread.
fn hash_open_file(path: &Path, mut file: fs::File, len: u64) -> io::Result<Digest> {
    use std::io::Read;
    let mut hasher = blake3::Hasher::new();
    if len >= MMAP_THRESHOLD {
        drop(file);
        hasher.update_mmap_rayon(path)?;
    } else {
        // To the end, whatever the length said: the file may have changed since.
        let mut bytes = vec![0u8; len as usize + 1];
        let mut filled = 0;
        loop {
            if filled == bytes.len() {
                bytes.resize(bytes.len() * 2, 0);
            }
            match file.read(&mut bytes[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        hasher.update(&bytes[..filled]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Hashes bytes.
pub fn hash_bytes(bytes: &[u8]) -> Digest {
    blake3::hash(bytes).to_hex().to_string()
}
