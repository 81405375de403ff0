//! The job manager: queue, start, watch, end and clean up every job.
//!
//! It owns each job's life from `queued` to a terminal state. The state is
//! decided here from what the runtime reports (exit code, OOM flag, timeout,
//! cancellation), never from what the worker claims.
//!
//! # Layout
//! - `manager`: the [`JobManager`] and what it holds; each operation is a file beside it
//! - `error`: [`JobError`]
//! - `validate`: a [`JobSpec`](corral_proto::JobSpec) becomes a checked job or a 400 naming the field
//! - `create`, `cancel`, `prompt`: the user-facing operations; `list`: job
//!   listings and event pages, their filters, limits and cursors
//! - `scheduler`: the FIFO queue under `max_concurrent_jobs`
//! - `setup`: what a job's socket is provisioned with: grants, model proxy, egress, leak detector
//! - `run`: one job's life, from claim to its recorded end: its sandbox
//!   acquired (cold, warm or re-adopted), watched, torn down, judged
//! - `project`, `git_hold`: what of the host a job gets, and keeping jobs
//!   out of a repository while corral's git runs in it
//! - `outcome`: how a container's exit becomes a terminal state
//! - `pool`: the warm pool, containers started ahead of demand; `warm`: what it holds
//! - `recover`: what a restart finds left over
//! - `reap`: containers and review files nothing owns any more
//! - `review`: a branch job's change: diff, apply, discard
//! - `stats`: the manager's counters gathered for the metrics page
//! - `verify`: the sandbox check, a probe job judged on this host
//! - `sandbox`: sandboxes, jobs that stay up: made, found running, given execs and files

mod cancel;
mod create;
mod error;
#[cfg(fuzzing)]
pub mod fuzzing;
mod git_hold;
mod list;
mod manager;
mod outcome;
mod pool;
mod project;
mod prompt;
mod reap;
mod recover;
mod review;
mod run;
mod sandbox;
mod scheduler;
mod setup;
mod stats;
mod validate;
mod verify;
mod warm;

pub use crate::metrics::PoolStats;

pub use error::JobError;
pub use list::{JobQuery, MAX_EVENTS_PAGE, MAX_JOBS_PAGE};
pub use manager::JobManager;
pub use sandbox::{Download, ExecOutcome, Incoming};
