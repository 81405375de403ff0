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
    let client = api_client(global)?;
    if !args.allow_project.is_empty() && !corral_client::local::is_local(client.base()) {
        anyhow::bail!(
            "--allow-project: the server is not on this host, and project paths are checked \
             here; run `corral mcp` on the server's host"
        );
    }
    let api: Arc<dyn JobsBackend> = Arc::new(client);
    let policy = Policy {
        grants: args.allow_grant,
        injects: args.allow_inject,
        egress: args.allow_egress,
        projects: args.allow_project,
        bind: args.allow_bind,
    };
    policy
        .check_injects()
        .map_err(|error| anyhow::anyhow!("--allow-inject: {error}"))?;
    let service = CorralTools::new(api, Arc::new(policy))
        .serve(rmcp::transport::stdio())
        .await
        .context("cannot start the MCP server")?;
    service.waiting().await.context("the MCP session failed")?;
    Ok(ExitCode::SUCCESS)
}
