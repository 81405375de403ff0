//! What every row is judged against ([`Expected`]) and how one row is
//! written: shared by the profile rows (`rows`), the limit rows (`limits`)
//! and the host rows (`host`).

use std::path::Path;

use corral_proto::verify::VerifyRow;
use corral_proto::worker::JOB_HOME;

/// What the probe job must show on this server.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The probe job's limits.
    pub limits: &'a corral_proto::Limits,
    /// Whether it ran under gVisor.
    pub gvisor: bool,
    /// The worker binary on the host.
    pub worker_bin: &'a Path,
    /// The data directory as configured and canonical: every job's socket
    /// directory is under it.
    pub data_dirs: [&'a Path; 2],
    /// Whether the probe job had no egress allowlist.
    pub no_egress: bool,
    /// Connections a host loopback listener the probe was told of accepted.
    pub host_connections: usize,
}

/// A row.
pub(super) fn row(
    promise: &str,
    expected: &str,
    observed: impl Into<String>,
    ok: bool,
) -> VerifyRow {
    VerifyRow {
        promise: promise.to_owned(),
        expected: expected.to_owned(),
        observed: observed.into(),
        ok,
    }
}

/// `yes`, `no` or `?`.
pub(super) fn shown(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

/// The home directory's tmpfs.
pub(super) const HOME: &str = JOB_HOME;
