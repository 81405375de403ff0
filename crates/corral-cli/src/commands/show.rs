//! `corral show ID`.

use std::process::ExitCode;

use crate::cli::{GlobalArgs, ShowArgs};
use crate::client::api_client;
use crate::output;

pub async fn run(global: &GlobalArgs, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let client = api_client(global)?;
    let id = client.resolve_id(&args.id).await?;
    let job = client.job(&id).await?;
    if args.json {
        output::json(&job);
    } else {
        output::job_details(&job);
    }
    Ok(ExitCode::SUCCESS)
}
