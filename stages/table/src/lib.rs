//! The `table` stage of the reproduction of "Transformers Learn Faster with Semantic Focus":
//! from the per-task stats summaries and the probe results it writes the paper's main table
//! (Markdown, CSV, LaTeX), Table 6 beside the paper's values, learning-curve figures, and
//! verdicts on the paper's four claims.
//!
//! Flow: [`input`] reads the files; [`rows`], [`table6`], [`claims`], [`subset`] and
//! [`figures`] build what is shown; [`markdown`], [`latex`] and [`csv_out`] render it with the
//! shared [`format`], and [`page`] writes the sections of the run's report page (`report.json`);
//! [`origin`] names the profile and the instance's cache key in every file; [`output`]
//! publishes everything at once. Numbers quoted from the paper live in [`paper`] only.

pub mod ablation;
pub mod claims;
pub mod cli;
pub mod csv_out;
pub mod error;
pub mod figures;
pub mod format;
pub mod input;
pub mod landscape;
pub mod latex;
pub mod markdown;
pub mod origin;
pub mod output;
pub mod page;
pub mod paper;
pub mod probe;
pub mod rows;
pub mod subset;
pub mod table6;

pub use error::TableError;
