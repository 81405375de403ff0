//! `corral verify`: the sandbox's promises judged on this host, and the
//! gate that keeps jobs from running while they do not hold.
//!
//! The probe job itself runs through the normal job path (see
//! `jobs::verify`); this module judges what it saw, keeps the last report
//! in the data directory and decides whether jobs may run.
//!
//! # Layout
//! - `rows`: the rows judged from the probe's observations and the profile
//! - `row`: what every row is judged against, and how one is written
//! - `limits`, `host`: the rows on limits, and on what of the host a job reaches
//! - `report`: the last report, kept in the data directory
//! - `gate`: jobs wait for the check at start and are refused while it fails

mod gate;
mod host;
mod limits;
mod report;
mod row;
mod rows;
#[cfg(test)]
mod tests;

pub use gate::{Gate, GateState};
pub use report::{load, probe_row, save, unrun};
pub use row::Expected;
pub use rows::judge;
