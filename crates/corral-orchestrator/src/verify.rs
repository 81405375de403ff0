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
//! - `gate`: jobs wait for the check at start and are refused while it fails

mod gate;
mod host;
mod limits;
mod row;
mod rows;

use std::path::Path;

use corral_proto::verify::VerifyReport;

pub use gate::{Gate, GateState};
pub use row::Expected;
pub use rows::judge;

/// File in the data directory holding the last report, for `corral doctor`.
pub const VERIFY_FILE: &str = "verify.json";

/// Keeps `report` as the last one (written whole, then renamed into place).
///
/// # Errors
/// When the file cannot be written.
pub fn save(data_dir: &Path, report: &VerifyReport) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    let temporary = data_dir.join(format!("{VERIFY_FILE}.tmp"));
    std::fs::write(&temporary, text)?;
    std::fs::rename(temporary, data_dir.join(VERIFY_FILE))
}

/// The row saying the probe job itself did not succeed.
pub fn probe_row(state: &str, reason: Option<&str>) -> corral_proto::verify::VerifyRow {
    corral_proto::verify::VerifyRow {
        promise: "the probe job ran to its end".to_owned(),
        expected: "succeeded".to_owned(),
        observed: format!("{state}: {}", reason.unwrap_or("no reason given")),
        ok: false,
    }
}

/// A report for a check that could not run at all (`message` says why).
pub fn unrun(isolation: corral_proto::IsolationLevel, message: &str) -> VerifyReport {
    VerifyReport {
        isolation,
        job_id: None,
        checked_at: time::OffsetDateTime::now_utc(),
        passed: false,
        rows: vec![corral_proto::verify::VerifyRow {
            promise: "the probe job ran".to_owned(),
            expected: "a probe job created and run".to_owned(),
            observed: message.to_owned(),
            ok: false,
        }],
    }
}

/// The last report kept in `data_dir`, if any can be read.
pub fn load(data_dir: &Path) -> Option<VerifyReport> {
    let text = std::fs::read_to_string(data_dir.join(VERIFY_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests;
