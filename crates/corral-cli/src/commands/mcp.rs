//! `corral mcp`: corral's job tools for MCP clients over stdio, each a call
//! to a server's user API (see `corral_client::mcp`).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use corral_client::mcp::{CorralTools, JobsBackend};
use rmcp::ServiceExt;

use crate::cli::GlobalArgs;
use crate::client::api_client;

/// Serves the tools on stdin/stdout until the client closes them.
pub async fn run(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let api: Arc<dyn JobsBackend> = Arc::new(api_client(global)?);
    let service = CorralTools::new(api)
        .serve(rmcp::transport::stdio())
        .await
        .context("cannot start the MCP server")?;
    service.waiting().await.context("the MCP session failed")?;
    Ok(ExitCode::SUCCESS)
}
