//! The last sandbox report: kept in the data directory, read back, and the
//! rows a probe job that did not run makes.

use std::path::Path;

use corral_proto::verify::VerifyReport;

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
        engine: None,
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
