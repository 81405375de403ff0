//! `corral mcp`: corral's job tools for MCP clients over stdio, each a call
//! to a server's user API (see `corral_client::mcp`).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use corral_client::mcp::{CorralTools, JobsBackend, Policy};
use rmcp::ServiceExt;

use crate::cli::{GlobalArgs, McpArgs};
use crate::client::api_client;

/// Serves the tools on stdin/stdout until the client closes them.
pub async fn run(global: &GlobalArgs, args: McpArgs) -> anyhow::Result<ExitCode> {
    let api: Arc<dyn JobsBackend> = Arc::new(api_client(global)?);
    let policy = Policy {
        grants: args.allow_grant,
        injects: args.allow_inject,
        egress: args.allow_egress,
        projects: args.allow_project,
        bind: args.allow_bind,
    };
    let service = CorralTools::new(api, Arc::new(policy))
        .serve(rmcp::transport::stdio())
        .await
        .context("cannot start the MCP server")?;
    service.waiting().await.context("the MCP session failed")?;
    Ok(ExitCode::SUCCESS)
}
