//! `corral jobs`: a table of jobs, or JSON.

use std::process::ExitCode;

use crate::cli::{GlobalArgs, JobsArgs};
use crate::client::ApiClient;
use crate::commands::describe_command;
use crate::output;

/// Widest command shown in the table.
const COMMAND_WIDTH: usize = 40;

pub async fn run(global: &GlobalArgs, args: &JobsArgs) -> anyhow::Result<ExitCode> {
    let client = ApiClient::from_args(global)?;
    let page = client
        .jobs(args.state.as_deref(), args.before.as_deref(), args.limit)
        .await?;
    let jobs = page.jobs;
    if args.json {
        output::json(&jobs);
        return Ok(ExitCode::SUCCESS);
    }
    output::line(&format!(
        "{:<18} {:<10} {:<5} {:<20} COMMAND",
        "ID", "STATE", "EXIT", "CREATED"
    ));
    for job in &jobs {
        let command = job
            .command
            .as_ref()
            .map(describe_command)
            .unwrap_or_default();
        // Made visible before it is cut, so the cut counts what is shown.
        let command: String = output::visible_line(&command)
            .chars()
            .take(COMMAND_WIDTH)
            .collect();
        let created = job
            .created_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let created: String = created.chars().take(19).collect();
        let exit = job
            .exit_code
            .map_or_else(|| "-".into(), |code| code.to_string());
        output::line(&format!(
            "{:<18} {:<10} {:<5} {:<20} {command}",
            output::visible_line(&job.id),
            job.state.as_str(),
            exit,
            created
        ));
    }
    if let Some(next) = page.next {
        output::note(&format!("older jobs: corral jobs --before {next}"));
    }
    Ok(ExitCode::SUCCESS)
}
