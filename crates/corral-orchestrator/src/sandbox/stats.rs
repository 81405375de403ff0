//! Sandbox counters for the metrics page, shared by every desk.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::metrics::{EXEC_BUCKETS, Histogram};

/// What sandboxes did since the server started.
#[derive(Debug)]
pub struct SandboxStats {
    /// Execs handed out.
    pub execs: AtomicU64,
    /// How long each ended exec ran.
    pub exec_seconds: Histogram,
    /// Bytes uploaded into sandboxes.
    pub bytes_in: AtomicU64,
    /// Bytes downloaded from sandboxes.
    pub bytes_out: AtomicU64,
    /// Bytes of snapshots kept (sealed, deflated).
    pub snapshot_bytes: AtomicU64,
}

impl Default for SandboxStats {
    fn default() -> Self {
        Self {
            execs: AtomicU64::new(0),
            exec_seconds: Histogram::with_buckets(&EXEC_BUCKETS),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            snapshot_bytes: AtomicU64::new(0),
        }
    }
}

impl SandboxStats {
    /// Counts `bytes` moved in (`true`) or out.
    pub fn moved(&self, bytes: usize, inward: bool) {
        let counter = if inward {
            &self.bytes_in
        } else {
            &self.bytes_out
        };
        counter.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}
