//! What a stage may put on a run's report page: [`PageSections`], written by a stage (the
//! paper's table stage writes `results/report.json`) and read and rendered by `repro report`.
//! Content only (text, verdicts, facts, tables, charts as numbers, disclosures), never markup:
//! the engine draws each block itself and escapes every string.
//!
//! A crate of its own, with no dependency but serde (and `repro-jsonfile`, which reads the
//! file), because the engine and a stage both use it: the engine must not depend on any stage,
//! and a stage's code key covers its path dependencies, so this is kept apart from
//! `repro-manifest`, which the training stage builds (a change to the page's format must not
//! change a training run's key).
//!
//! Reading is tolerant of fields it does not know and strict about the ones it needs: a file
//! that is not JSON of the expected shape, or breaks a rule serde cannot check, is a
//! [`SectionsError`] naming the file (and the line and column, or the field path). The format
//! carries a version ([`PAGE_SECTIONS_FORMAT`]), since the file outlives a run.

mod error;
mod page;

pub use error::{JsonFileError, SectionsError};
pub use page::{
    Block, Chart, Fact, Line, PageSections, Point, Section, Table, Tone, Verdict,
    PAGE_SECTIONS_FORMAT,
};
