//! Sandboxes: a running sandbox's desk, where the user API leaves its
//! execs and file transfers for the sandbox's worker to pick up, and where
//! its activity is counted for its idle timeout.
//!
//! This module knows nothing of the job manager or the APIs: the manager
//! makes one [`Desk`] per running sandbox, the worker API serves it to the
//! worker, the user API hands it work.
//!
//! # Layout
//! - `desk`: the orders waiting for the worker, uploads, answers, running execs
//! - `chunks`: an answer's body as it arrives, scanned on the way when it is a download
//! - `activity`: what keeps a sandbox from being idle
//! - `error`: [`SandboxError`], why a sandbox operation failed
//! - `stats`: counters every desk adds to, for the metrics page
//! - `collect`: an exec's events gathered into one [`ExecResult`](corral_proto::sandbox::ExecResult)

mod activity;
mod chunks;
mod collect;
mod desk;
mod error;
mod stats;

pub use activity::Busy;
pub use chunks::{Chunks, ReceiveError, receive};
pub use collect::{Collected, collect_exec};
pub use desk::{Desk, DeskError, FileAnswer};
pub use error::SandboxError;
pub use stats::SandboxStats;
