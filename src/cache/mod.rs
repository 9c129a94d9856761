//! The content-addressed cache, passive: digests, keys, the object store, action records and
//! atomic publication. It imports nothing outside itself; deciding what is stale, publishing
//! an executed instance and the lock file belong to `workspace`.
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
//! | `code`    | each `code:` entry with its digest (see `code`, `package_files`) | changed code invalidates exactly its stages |
//! | `outs`    | the declared output paths                                   | the record materialises outputs at these paths |
//!
//! Never hashed: mtimes, absolute paths, host names, the time. Moving the checkout or cloning
//! it elsewhere keeps every key.
//!
//! # Layout of the store
//! `cache/VERSION`, `cache/objects/ab/cdef…` (blobs and directory manifests, read-only) and
//! `cache/actions/<key>.json` ([`ActionRecord`]). Every file is published by write-to-temp,
//! fsync, rename; during a run, by write-to-temp and rename, synced by a group commit
//! (`commit.rs`) before `repro.lock` names it. The workspace's other files (`repro.lock`, `.repro/…`) are laid out by
//! `workspace::Layout`.

mod action;
pub mod atomic;
pub mod bounded;
mod code;
mod commit;
mod digest;
mod hash;
mod key;
mod package_files;
mod statcache;
mod store;
mod tagged;

pub use action::{ActionRecord, CheckoutRecord, Platform, ACTION_VERSION};
pub use code::CodeDigester;
pub use digest::{digest_path, PathDigest, Policy, TreeEntry};
pub use hash::{hash_bytes, hash_file_uncached, Digest};
pub use key::{KeyInputs, KEY_VERSION};
pub use statcache::StatCache;
pub use store::{Put, Repaired, Store, StoreError, STORE_VERSION};
pub use tagged::{is_digest, Kind, Tagged};
