//! The rendered form of a checked claim, as `markdown` prints it: the statement, the rule, the
//! verdict, a summary, the tables of comparisons and the scope line.

use super::scope::Scope;
use crate::claims::model::Verdict;

/// A table of the comparisons behind a claim.
#[derive(Clone, Debug)]
pub struct ClaimTable {
    /// Column headers.
    pub header: Vec<&'static str>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

/// A checked claim.
#[derive(Clone, Debug)]
pub struct Claim {
    /// `C1` .. `C4`.
    pub id: &'static str,
    /// The claim as the paper states it.
    pub statement: &'static str,
    /// The decision rule applied.
    pub rule: String,
    /// The overall verdict.
    pub verdict: Verdict,
    /// Why the verdict is "inconclusive", in words (`None` for a conclusive verdict).
    pub reason: Option<String>,
    /// The numbers behind the verdict, in a sentence or two.
    pub summary: String,
    /// The comparisons.
    pub tables: Vec<ClaimTable>,
    /// What the data showed and what it cannot show, a line each.
    pub scope: Scope,
}
