//! What every user-API handler can reach.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::jobs::JobManager;
use crate::token::Token;

/// Shared state of the user API; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Creates, lists, cancels jobs; holds the store and the event log.
    pub jobs: JobManager,
    /// The token every protected request must present.
    pub api_token: Arc<Token>,
    /// The token `/mcp` takes besides `api_token`, and nothing else does.
    pub mcp_token: Arc<Token>,
    /// Cancelled when the server stops serving, once its jobs had their
    /// end: long answers (event streams) end then, not when their jobs do.
    pub closing: CancellationToken,
}

impl AppState {
    /// State over a job manager, guarded by `api_token` (and `/mcp` by
    /// `mcp_token` too), whose long
    /// answers end when `closing` is cancelled.
    pub fn new(
        jobs: JobManager,
        api_token: Token,
        mcp_token: Token,
        closing: CancellationToken,
    ) -> Self {
        Self {
            jobs,
            api_token: Arc::new(api_token),
            mcp_token: Arc::new(mcp_token),
            closing,
        }
    }
}
