//! `corral sandbox create|ls|rm`.

use std::process::ExitCode;

use corral_proto::sandbox::SandboxSpec;
use corral_proto::{DurationSpec, JobMode};

use crate::cli::{GlobalArgs, SandboxCommand, SandboxCreateArgs};
use crate::client::api_client;
use crate::output;

pub async fn run(global: &GlobalArgs, command: SandboxCommand) -> anyhow::Result<ExitCode> {
    let client = api_client(global)?;
    match command {
        SandboxCommand::Create(args) => {
            let spec = spec_from(*args)?;
            let sandbox = client.create_sandbox(&spec).await?;
            output::line(&sandbox.id);
        }
        SandboxCommand::Ls(args) => {
            let sandboxes = client.sandboxes(args.limit).await?;
            if args.json {
                output::json(&sandboxes);
                return Ok(ExitCode::SUCCESS);
            }
            output::line("ID                  STATE     EXECS  IMAGE");
            for sandbox in sandboxes {
                output::line(&output::visible_line(&format!(
                    "{:<19} {:<9} {:<6} {}",
                    sandbox.id,
                    sandbox.state.as_str(),
                    sandbox.execs_running,
                    sandbox.image
                )));
            }
        }
        SandboxCommand::Rm(args) => {
            let id = client.resolve_id(&args.id).await?;
            let sandbox = client.delete_sandbox(&id).await?;
            output::line(&format!("{} {}", sandbox.id, sandbox.state.as_str()));
        }
        SandboxCommand::Stop(args) => {
            let id = client.resolve_id(&args.id).await?;
            let sandbox = client.stop_sandbox(&id).await?;
            output::line(&format!("{} {}", sandbox.id, sandbox.state.as_str()));
        }
        SandboxCommand::Start(args) => {
            let id = client.resolve_id(&args.id).await?;
            let sandbox = client.start_sandbox(&id).await?;
            output::line(&format!("{} {}", sandbox.id, sandbox.state.as_str()));
        }
        SandboxCommand::Fork(args) => {
            let id = client.resolve_id(&args.id).await?;
            let sandbox = client.fork_sandbox(&id).await?;
            output::line(&sandbox.id);
        }
        SandboxCommand::Pause(args) => {
            let id = client.resolve_id(&args.id).await?;
            let sandbox = client.pause_sandbox(&id).await?;
            output::line(&format!("{} {}", sandbox.id, sandbox.state.as_str()));
        }
        SandboxCommand::Resume(args) => {
            let id = client.resolve_id(&args.id).await?;
            let sandbox = client.resume_sandbox(&id).await?;
            output::line(&format!("{} {}", sandbox.id, sandbox.state.as_str()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The job flags as a sandbox spec: `--ttl` (or `--timeout`) its life,
/// `--idle-timeout` its idle limit.
fn spec_from(args: SandboxCreateArgs) -> anyhow::Result<SandboxSpec> {
    let mut job = args.job;
    if job.mode != "exec" {
        anyhow::bail!("--mode: a sandbox has no mode (its commands come with `corral exec`)");
    }
    JobMode::Sandbox.as_str().clone_into(&mut job.mode);
    let mut spec = super::run::spec_from(&job)?;
    if let Some(ttl) = args.ttl {
        if spec.limits.timeout.is_some() {
            anyhow::bail!("--ttl: give --ttl or --timeout, not both");
        }
        spec.limits.timeout = Some(
            ttl.parse::<DurationSpec>()
                .map_err(|error| anyhow::anyhow!("--ttl: {error}"))?,
        );
    }
    Ok(SandboxSpec {
        image: spec.image,
        project: spec.project,
        limits: spec.limits,
        grants: spec.grants,
        isolation: spec.isolation,
        egress: spec.egress,
        llm: spec.llm,
        ttl: None,
        idle_timeout: None,
    })
}
