//! `corral serve`: flags and environment become a `Config`, then the
//! orchestrator runs until SIGINT/SIGTERM.

use std::process::ExitCode;

use anyhow::Context;
use corral_orchestrator::{Config, ConfigOverrides};

use crate::cli::{GlobalArgs, ServeArgs};

pub async fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(overrides(global, args)).context("invalid configuration")?;
    corral_orchestrator::serve(config)
        .await
        .context("the server stopped")?;
    Ok(ExitCode::SUCCESS)
}

/// What the serve flags (and their `CORRAL_*` variables) set.
pub fn overrides(global: &GlobalArgs, args: ServeArgs) -> ConfigOverrides {
    ConfigOverrides {
        data_dir: global.data_dir.clone(),
        config_file: args.config,
        listen: args.listen,
        worker_bin: args.worker_bin,
        image: args.image,
        max_concurrent_jobs: args.max_concurrent_jobs,
        oci_runtime: args.oci_runtime,
        llm: args.llm,
        egress_resolve: args.egress_resolve,
        egress_ca: args.egress_ca,
        pool_size: args.pool_size,
        no_verify: args.no_verify,
        docker_host: args.docker_host,
        mcp: corral_client::mcp::Policy {
            grants: args.mcp_allow_grant,
            injects: args.mcp_allow_inject,
            egress: args.mcp_allow_egress,
            projects: args.mcp_allow_project,
            bind: args.mcp_allow_bind,
        },
    }
}
