//! `corral cancel ID`.

use std::process::ExitCode;

use crate::cli::{CancelArgs, GlobalArgs};
use crate::client::ApiClient;
use crate::output;

pub async fn run(global: &GlobalArgs, args: &CancelArgs) -> anyhow::Result<ExitCode> {
    let client = ApiClient::from_args(global)?;
    let job = client.cancel(&args.id).await?;
    output::line(&format!(
        "{} {}",
        job.id,
        if job.state.is_terminal() {
            job.state.as_str()
        } else {
            "cancelling"
        }
    ));
    Ok(ExitCode::SUCCESS)
}
