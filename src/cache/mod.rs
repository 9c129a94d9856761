//! The content-addressed cache: keys, the object store, action records, `repro.lock`, atomic
//! publication, the workspace lock, and staleness checks.
//!
//! # What enters a key
//!
//! An instance's key is blake3 over the canonical JSON of [`KeyInputs`]; nothing else enters it.
//!
//! | field     | what                                                        | why |
//! |-----------|-------------------------------------------------------------|-----|
//! | `version` | [`KEY_VERSION`]                                             | a new encoding never matches an old key |
//! | `argv`    | the resolved command line                                   | the command is the computation |
//! | `env`     | the stage's `env:` entries, resolved (the allow-list)        | declared environment changes behaviour; the rest of the environment is not hashed |
//! | `params`  | values of declared params and of every `${params.*}` read    | a parameter the stage reads changes its result |
//! | `deps`    | each dep path (globs expanded) with its content digest       | upstream outputs enter by content, so identical outputs cut rebuilds off early |
//! | `code`    | each `code:` entry with its digest (see `code`)              | changed code invalidates exactly its stages |
//! | `outs`    | the declared output paths                                   | the record materialises outputs at these paths |
//!
//! Never hashed: mtimes, absolute paths, host names, the time. Moving the checkout or cloning
//! it elsewhere keeps every key.
//!
//! # Layout
//! `cache/VERSION`, `cache/objects/ab/cdef…` (blobs and directory manifests, read-only),
//! `cache/actions/<key>.json` ([`ActionRecord`]), `.repro/stat-cache`, `.repro/lock`,
//! `.repro/logs/`, and the committed `repro.lock` ([`LockFile`]). Every file is published by
//! write-to-temp, fsync, rename.

mod action;
pub mod atomic;
mod check;
mod code;
mod digest;
mod dirty;
mod key;
mod lockfile;
mod statcache;
mod store;
mod wslock;

pub use action::{ActionRecord, ACTION_VERSION};
pub use check::{CheckError, Checker, State};
pub use code::CodeDigester;
pub use digest::{digest_path, hash_bytes, hash_file_uncached, Digest, PathDigest, TreeEntry};
pub use dirty::{diff, Dirty};
pub use key::{KeyInputs, KEY_VERSION};
pub use lockfile::{LockEntry, LockError, LockFile};
pub use statcache::StatCache;
pub use store::{Store, StoreError, STORE_VERSION};
pub use wslock::WorkspaceLock;
