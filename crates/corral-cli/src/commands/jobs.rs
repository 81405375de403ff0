//! `corral jobs`: a table of jobs, or JSON.

use std::process::ExitCode;

use crate::cli::{GlobalArgs, JobsArgs};
use crate::client::api_client;
use crate::output;

pub async fn run(global: &GlobalArgs, args: &JobsArgs) -> anyhow::Result<ExitCode> {
    let client = api_client(global)?;
    let page = client
        .jobs(args.state.as_deref(), args.before.as_deref(), args.limit)
        .await
        .map_err(|error| {
            super::flag_values::with_flag_value(error, |field| {
                super::flag_values::of_jobs(field, args)
            })
        })?;
    if args.json {
        // `{"jobs": [...], "next": "j-…" | null}`: the API's page, cursor kept.
        output::json(&page);
        return Ok(ExitCode::SUCCESS);
    }
    let lines = output::jobs_table(
        &page.jobs,
        output::table_width(),
        time::OffsetDateTime::now_utc(),
    );
    for line in lines {
        output::line(&line);
    }
    if let Some(next) = page.next {
        output::note(&format!("older jobs: corral jobs --before {next}"));
    }
    Ok(ExitCode::SUCCESS)
}
