//! The MCP job tools (`corral-client`'s) over this process's job manager,
//! and the streamable HTTP service mounted at `/mcp` on the user API
//! (behind its token). A project's directories are checked here a second
//! time, on the directory pinned for the job (see
//! [`JobManager::create_within`]).

use std::sync::Arc;

use corral_proto::sandbox::{ExecSpec, FileEntry, Sandbox, SandboxSpec};
use corral_proto::{Event, Job, JobSpec, Prompt};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::Value;

use crate::http::ApiError;
use crate::jobs::{
    Download, ExecOutcome, Incoming, JobError, JobManager, JobQuery, MAX_EVENTS_PAGE, MAX_JOBS_PAGE,
};
use corral_client::mcp::{CorralTools, JobsBackend, still_running};

/// The job manager as a backend.
pub struct LocalJobs(pub JobManager);

fn message(error: impl Into<ApiError>) -> String {
    error.into().to_string()
}

/// A listing's error, naming the argument at fault as every tool error does.
fn listing_message(error: JobError) -> String {
    match error {
        JobError::BadQuery { field, message } => format!("{field}: {message}"),
        other => message(other),
    }
}

#[async_trait::async_trait]
impl JobsBackend for LocalJobs {
    async fn create(&self, spec: Value) -> Result<Job, String> {
        let bytes = serde_json::to_vec(&spec).map_err(|error| error.to_string())?;
        let spec: JobSpec = crate::http::parse_json(&bytes).map_err(|error| error.to_string())?;
        let within = self.0.mcp_policy().resolved_projects();
        self.0
            .create_within(spec, Some(&within))
            .await
            .map_err(message)
    }

    async fn job(&self, id: &str) -> Result<Job, String> {
        self.0.get(id).await.map_err(message)
    }

    async fn jobs(&self, state: Option<String>, limit: u32) -> Result<Vec<Job>, String> {
        let query = JobQuery {
            state,
            limit: Some(limit.clamp(1, MAX_JOBS_PAGE)),
            ..JobQuery::default()
        };
        self.0
            .list(query)
            .await
            .map(|page| page.jobs)
            .map_err(listing_message)
    }

    async fn events(&self, id: &str, after: u64, limit: u32) -> Result<(Vec<Event>, bool), String> {
        self.0
            .events_page(id, after, Some(limit.clamp(1, MAX_EVENTS_PAGE)))
            .await
            .map(|page| (page.events, page.more))
            .map_err(listing_message)
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

    async fn create_sandbox(&self, spec: Value) -> Result<Sandbox, String> {
        let bytes = serde_json::to_vec(&spec).map_err(|error| error.to_string())?;
        let spec: SandboxSpec =
            crate::http::parse_json(&bytes).map_err(|error| error.to_string())?;
        let within = self.0.mcp_policy().resolved_projects();
        self.0
            .create_sandbox_within(spec, Some(&within))
            .await
            .map_err(message)
    }

    async fn exec(&self, id: &str, spec: ExecSpec, wait: u64) -> Result<Value, String> {
        Ok(
            match self.0.exec(id, spec, Some(wait)).await.map_err(message)? {
                ExecOutcome::Ended(result) => serde_json::to_value(result).unwrap_or_default(),
                ExecOutcome::Running(exec, after) => still_running(exec, after, wait),
            },
        )
    }

    async fn write_file(&self, id: &str, path: &str, bytes: Vec<u8>) -> Result<(), String> {
        let declared = Some(bytes.len() as u64);
        self.0
            .write_file(id, path, &Incoming::new(bytes.into()), declared, false)
            .await
            .map_err(message)
    }

    async fn read_file(&self, id: &str, path: &str) -> Result<Vec<u8>, String> {
        match self.0.read_file(id, path).await.map_err(message)? {
            Download::File(bytes) => Ok(bytes.to_bytes().to_vec()),
            Download::Tar(_) => Err(format!(
                "path: {path} is a directory: list it with sandbox_list_files"
            )),
        }
    }

    async fn list_files(&self, id: &str, path: &str) -> Result<Vec<FileEntry>, String> {
        self.0.list_files(id, path).await.map_err(message)
    }

    async fn stop_sandbox(&self, id: &str) -> Result<Sandbox, String> {
        self.0.stop_sandbox(id).await.map_err(message)
    }

    async fn delete_sandbox(&self, id: &str) -> Result<Sandbox, String> {
        self.0.delete_sandbox(id).await.map_err(message)
    }
}

/// The streamable HTTP MCP service over `jobs`, for `/mcp`.
pub fn service(jobs: JobManager) -> StreamableHttpService<CorralTools, LocalSessionManager> {
    let policy = Arc::clone(jobs.mcp_policy());
    let backend: Arc<dyn JobsBackend> = Arc::new(LocalJobs(jobs));
    StreamableHttpService::new(
        move || Ok(CorralTools::new(Arc::clone(&backend), Arc::clone(&policy))),
        Arc::default(),
        StreamableHttpServerConfig::default(),
    )
}
