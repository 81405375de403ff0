//! What every user-API handler can reach.

use std::sync::Arc;

use crate::jobs::JobManager;
use crate::token::Token;

/// Shared state of the user API; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Creates, lists, cancels jobs; holds the store and the event log.
    pub jobs: JobManager,
    /// The token every protected request must present.
    pub api_token: Arc<Token>,
}

impl AppState {
    /// State over a job manager, guarded by `api_token`.
    pub fn new(jobs: JobManager, api_token: Token) -> Self {
        Self {
            jobs,
            api_token: Arc::new(api_token),
        }
    }
}
