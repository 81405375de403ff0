//! The event log: store first, then wake whoever follows the job.
//!
//! Readers never get events pushed to them; they are woken by a per-job
//! `broadcast<()>` and re-read from their last sequence number, so a slow
//! reader that lags loses nothing and a reader that connects late sees
//! everything. While a job has followers, its latest events are also kept
//! in memory (a window bounded by count and by weight, see `window`,
//! filled after the store commits), and reads that fall inside it are
//! served from there: a hundred followers cost the store nothing. Each event there is one
//! [`SharedEvent`], whose JSON is made once, for all its followers. A
//! receiver that only waits to be woken (`EventLog::subscribe`) keeps no
//! window: the window goes with a job's last follower.

mod follow;
mod log;
mod window;

pub use follow::{Follower, Step};
pub use log::EventLog;
pub use window::SharedEvent;
