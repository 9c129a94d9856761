//! Statistics over seeds for one task of "Transformers Learn Faster with Semantic Focus": the
//! `stats` stage, and the summary format and statistical tests that the `table` stage reuses.
//!
//! Flow: [`load`] reads the trainer's runs (`VARIANT/ACTIVATION/SEED/{metrics.json,
//! history.csv}`), [`summary`] aggregates them per (variant, activation) with [`describe`],
//! [`bootstrap`] and [`curves`], and [`output`] writes the [`schema::StatsFile`] as JSON and CSV.
//! [`ranktest`] and [`special`] are the exact rank tests and the t distribution, used here and
//! by the claim verdicts of `table`.

pub mod bootstrap;
pub mod cli;
pub mod curves;
pub mod describe;
pub mod error;
pub mod fixture;
pub mod load;
pub mod output;
pub mod ranktest;
pub mod schema;
pub mod special;
pub mod summary;

pub use error::StatsError;
pub use schema::StatsFile;
