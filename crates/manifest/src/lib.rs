//! The file the engine writes for a stage program to read: one serde type that both sides use,
//! so that a field renamed on one side cannot silently go missing on the other.
//!
//! - [`PackManifest`]: the engine writes it when several instances of a stage run as one
//!   process (a pack); the stage program (`train --pack MANIFEST`) reads it.
//!
//! Files that only the engine writes and reads (a batch job's manifest) are not here: every
//! change to this crate changes the code key of every stage that depends on it.
//!
//! This is a crate of its own, with no dependency but serde (and `repro-jsonfile`, which reads
//! the file), because both the engine and the stage programs depend on it: the engine must not
//! depend on any stage, and a stage's code key covers its path dependencies, so what a stage
//! depends on should be small and change rarely.
//!
//! Reading is tolerant of fields it does not know (a newer writer may add some) and strict
//! about the ones it needs: a file that is not JSON of the expected shape is a
//! [`ManifestError`] that names the file, the line and column, and serde's account of the
//! field at fault. Writing cannot fail but for I/O.
//!
//! Limits: the format carries no version; the file lives only as long as the process that
//! reads it, so a writer and reader of different versions meet only across an upgrade in the
//! middle of a run.

mod error;
mod pack;

pub use error::{JsonFileError, ManifestError};
pub use pack::{PackManifest, PackMember};
