//! One job's life on the runtime, read top to bottom in `flow`: its leak
//! detector, then its sandbox acquired, watched and torn down whatever
//! happened, then its end recorded.
//!
//! # Layout
//! - `flow`: from claim to the recorded end; a branch job's work brought back
//! - `acquire`: the job's [`Sandbox`](acquire::Sandbox): its project held, its
//!   session set up, its socket opened and its container started cold, taken
//!   warm from the pool, or re-adopted after a restart; recorded running
//! - `watch`: the container's exit, the timeout, a cancel or shutdown, whichever comes first
//! - `settle`: a warm start's pool refill and rename, put off until the worker first reported
//! - `teardown`: the container removed and the socket closed, handing back the worker's report

mod acquire;
mod flow;
mod session;
mod settle;
mod teardown;
mod watch;

pub(super) use acquire::Start;
pub use watch::CONTAINER_LOST;
