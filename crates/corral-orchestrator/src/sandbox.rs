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

/// What a task that did not finish did, in words: never its panic's
/// message, which may quote text from inside the sandbox (a user's 502
/// carries it).
pub fn task_failure(error: &tokio::task::JoinError) -> &'static str {
    if error.is_panic() {
        "it panicked"
    } else {
        "it was cancelled"
    }
}

#[cfg(test)]
mod tests {
    /// A task's panic is told as a panic, its message left out.
    #[tokio::test]
    async fn a_task_failure_never_quotes_the_panic() {
        let error = tokio::task::spawn_blocking(|| panic!("sk-from-inside-the-sandbox"))
            .await
            .expect_err("it panicked");
        assert_eq!(super::task_failure(&error), "it panicked");
        assert!(
            error.to_string().contains("sk-from-inside"),
            "what it replaces"
        );
        // A database task's panic, as the store reports it, in words and
        // in its debug form.
        let error = tokio::task::spawn_blocking(|| panic!("sk-from-inside-the-sandbox"))
            .await
            .expect_err("it panicked");
        let stored = crate::store::StoreError::from(error);
        let told = format!("{stored} {stored:?}");
        assert!(!told.contains("sk-from-inside"), "{told}");
        assert!(told.contains("it panicked"), "{told}");
    }
}
