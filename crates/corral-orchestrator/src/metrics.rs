//! Prometheus metrics: the types the job manager counts in, and the page
//! rendered from a snapshot of them.
//!
//! A leaf: it imports nothing of the crate. The job manager gathers a
//! [`Snapshot`] (`JobManager::metrics`) and `GET /metrics` renders it.

mod histogram;
mod page;

pub use histogram::{EXEC_BUCKETS, Histogram, HistogramSnapshot};
pub use page::{PoolStats, SandboxMetrics, Snapshot, render};
