//! The MCP job tools (`corral-client`'s) over this process's job manager,
//! and the streamable HTTP service mounted at `/mcp` on the user API
//! (behind its token).

use std::sync::Arc;

use corral_proto::{Event, Job, JobSpec, JobState, Prompt};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::Value;

use crate::http::ApiError;
use crate::jobs::JobManager;
use corral_client::mcp::{CorralTools, JobsBackend};

/// Most events one page holds, as on the API.
const MAX_PAGE: u32 = 1000;

/// The job manager as a backend.
pub struct LocalJobs(pub JobManager);

fn message(error: impl Into<ApiError>) -> String {
    error.into().to_string()
}

#[async_trait::async_trait]
impl JobsBackend for LocalJobs {
    async fn create(&self, spec: Value) -> Result<Job, String> {
        let bytes = serde_json::to_vec(&spec).map_err(|error| error.to_string())?;
        let spec: JobSpec = crate::http::parse_json(&bytes).map_err(|error| error.to_string())?;
        self.0.create(spec).await.map_err(message)
    }

    async fn job(&self, id: &str) -> Result<Job, String> {
        self.0.get(id).await.map_err(message)
    }

    async fn jobs(&self, state: Option<String>, limit: u32) -> Result<Vec<Job>, String> {
        let state = match state {
            Some(name) => Some(
                JobState::parse(&name).ok_or_else(|| format!("state: unknown state `{name}`"))?,
            ),
            None => None,
        };
        self.0
            .store()
            .list_jobs(state, None, limit.clamp(1, MAX_PAGE))
            .await
            .map_err(message)
    }

    async fn events(&self, id: &str, after: u64, limit: u32) -> Result<Vec<Event>, String> {
        self.0.get(id).await.map_err(message)?;
        self.0
            .store()
            .events_after(id, after, limit.clamp(1, MAX_PAGE))
            .await
            .map_err(message)
    }

    async fn prompt(&self, id: &str, text: &str) -> Result<Prompt, String> {
        self.0.prompt(id, text).await.map_err(message)
    }

    async fn cancel(&self, id: &str) -> Result<Job, String> {
        self.0.cancel(id).await.map_err(message)
    }

    async fn end(&self, id: &str) -> Result<Job, String> {
        self.0.end(id).await.map_err(message)
    }
}

/// The streamable HTTP MCP service over `jobs`, for `/mcp`.
pub fn service(jobs: JobManager) -> StreamableHttpService<CorralTools, LocalSessionManager> {
    let backend: Arc<dyn JobsBackend> = Arc::new(LocalJobs(jobs));
    StreamableHttpService::new(
        move || Ok(CorralTools::new(Arc::clone(&backend))),
        Arc::default(),
        StreamableHttpServerConfig::default(),
    )
}
