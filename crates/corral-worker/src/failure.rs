//! How the worker says it failed: its exit code, an `error` event and a
//! failed completion to the orchestrator, a line on the container's stderr.

use std::io::Write;

use corral_proto::NewEvent;
use corral_proto::worker::{Completion, CompletionStatus};

use crate::client::Client;

/// Exit code when the worker itself cannot run (as `docker run` uses 125).
pub const EXIT_WORKER_FAILED: u8 = 125;

/// Reports a failure as an `error` event and a failed completion.
pub(crate) async fn report_failure(client: &Client, message: &str) {
    let event = NewEvent::error(message);
    if let Err(error) = client.send_events(vec![event]).await {
        complain(&format!("cannot send error event: {error}"));
    }
    let completion = Completion {
        status: CompletionStatus::Failed,
        summary: message.to_owned(),
        exit_code: None,
        reason: Some(message.to_owned()),
    };
    if let Err(error) = client.complete(&completion).await {
        complain(&format!("cannot report completion: {error}"));
    }
}

/// Writes a diagnostic to the container's stderr (Docker's log).
pub(crate) fn complain(message: &str) {
    let _ = writeln!(std::io::stderr(), "corral-worker: {message}");
}
