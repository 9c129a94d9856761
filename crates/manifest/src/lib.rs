//! The files one program writes and another reads: each is one serde type that both sides use,
//! so that a field renamed on one side cannot silently go missing on the other.
//!
//! - [`PackManifest`]: the engine writes it when several instances of a stage run as one
//!   process (a pack); the stage program (`train --pack MANIFEST`) reads it.
//! - [`BatchManifest`]: the Slurm executor writes it for each submission; each array task of
//!   the submission (`repro exec --batch MANIFEST`) reads its member.
//! - [`PageSections`]: a stage writes the sections it adds to the run's report page; `repro
//!   report` reads and renders them (it carries a format version, since it outlives a run).
//!
//! This is a crate of its own, with no dependency but serde, because both the engine and the
//! stage programs depend on it: the engine must not depend on any stage, and a stage's code key
//! covers its path dependencies, so what a stage depends on should be small and change rarely.
//!
//! Reading is tolerant of fields it does not know (a newer writer may add some) and strict
//! about the ones it needs: a file that is not JSON of the expected shape is a
//! [`ManifestError`] that names the file, the line and column, and serde's account of the
//! field at fault. Writing cannot fail but for I/O.
//!
//! Limits: neither format carries a version; both files live only as long as the job that
//! reads them, so a writer and reader of different versions meet only across an upgrade in the
//! middle of a run.

mod batch;
mod error;
mod pack;
mod page;

pub use batch::{BatchManifest, BatchMember};
pub use error::ManifestError;
pub use pack::{PackManifest, PackMember};
pub use page::{
    Block, Chart, Fact, Line, PageSections, Point, Section, Table, Tone, Verdict,
    PAGE_SECTIONS_FORMAT,
};
