//! Reading a small file that someone else named (a site file through `REPRO_CONFIG`, a batch
//! job's manifest): only a regular file, and only up to a size limit, so that a name that
//! points at a device (`/dev/zero`), a named pipe or a huge file is refused at once instead of
//! hanging the engine or filling its memory.
//!
//! The file is opened without blocking (`O_NONBLOCK`: opening a named pipe for reading would
//! otherwise wait for a writer), then its type is read from the open file, so no other file
//! can be swapped in between the check and the read. At most `limit + 1` bytes are read.
//!
//! Limits: the limit is on bytes, not lines; a file growing while it is read is cut at the
//! limit and refused.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The limit for a settings file or a manifest: far above any real one.
pub const SMALL_FILE_LIMIT: u64 = 1 << 20;

/// Why a small file cannot be read; reads after "failed to read `PATH`: ".
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// It could not be opened or read.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// It is not a regular file.
    #[error("it is {0}, not a regular file")]
    NotAFile(&'static str),
    /// It is larger than the limit.
    #[error("it is larger than {0} bytes")]
    TooLarge(u64),
    /// It is not UTF-8 text.
    #[error("it is not UTF-8 text")]
    NotText,
}

impl ReadError {
    /// Whether the file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

/// The text of the regular file `path`, at most `limit` bytes.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    check_regular(&file)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotText)
}

fn check_regular(file: &File) -> Result<(), ReadError> {
    let t = file.metadata()?.file_type();
    let what = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    };
    Err(ReadError::NotAFile(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_regular_file_within_the_limit_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, "abc").unwrap();
        assert_eq!(read_text(&small, 3).unwrap(), "abc");
        assert_eq!(
            read_text(&small, 2).unwrap_err().to_string(),
            "it is larger than 2 bytes"
        );
        let e = read_text(Path::new("/dev/zero"), 10).unwrap_err();
        assert_eq!(e.to_string(), "it is a device, not a regular file");
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Opening a named pipe for reading blocks until a writer comes; this must not.
        let e = read_text(&fifo, 10).unwrap_err();
        assert_eq!(e.to_string(), "it is a named pipe, not a regular file");
        assert!(read_text(dir.path(), 10)
            .unwrap_err()
            .to_string()
            .contains("a directory"));
        let missing = read_text(&dir.path().join("none"), 10).unwrap_err();
        assert!(missing.is_not_found());
        std::fs::write(&small, [0xff, 0xfe]).unwrap();
        assert_eq!(
            read_text(&small, 10).unwrap_err().to_string(),
            "it is not UTF-8 text"
        );
    }
}
