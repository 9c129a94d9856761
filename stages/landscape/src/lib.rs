//! The `landscape` stage: the loss-landscape Lipschitz estimate of SPEC §6.
//!
//! From a trained run's final weights θ, `directions` draws two random directions per
//! parameter tensor, each scaled to that tensor's norm; `run` evaluates the mean training loss
//! at θ + a·d1 + b·d2 on a G x G grid over [-1, 1]^2; `slopes` turns the grid into the ratios
//! |change of loss| / grid spacing between horizontal and vertical neighbours, which `report`
//! writes as percentiles. Loading the run and the percentile convention are the `probe`
//! stage's.

pub mod cli;
pub mod directions;
pub mod report;
pub mod run;
pub mod slopes;
