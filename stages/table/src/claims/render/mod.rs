//! Rendering of the checked claims: each claim's typed result becomes a [`Claim`] of table
//! cells and prose, which `markdown` prints. Nothing here decides a verdict; the rules live in
//! the check modules beside this one, which never import it.

mod cells;
mod claim;
pub(crate) mod convergence;
pub(crate) mod local;
pub(crate) mod noninferiority;
pub(crate) mod parity;
pub(crate) mod scope;

pub use claim::{Claim, ClaimTable};
pub use scope::Scope;
