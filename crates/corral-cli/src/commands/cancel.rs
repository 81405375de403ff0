//! `corral cancel ID`, `corral end ID` and `corral prompt ID TEXT`: acting
//! on a live job.

use std::process::ExitCode;

use crate::cli::{CancelArgs, GlobalArgs, PromptArgs};
use crate::client::api_client;
use crate::output;

pub async fn run(global: &GlobalArgs, args: &CancelArgs) -> anyhow::Result<ExitCode> {
    let client = api_client(global)?;
    let id = client.resolve_id(&args.id).await?;
    let job = client.cancel(&id).await?;
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

/// Ends an interactive job after its current turn.
pub async fn end(global: &GlobalArgs, args: &CancelArgs) -> anyhow::Result<ExitCode> {
    let client = api_client(global)?;
    let id = client.resolve_id(&args.id).await?;
    client.end(&id).await?;
    output::line(&format!("{id} ending"));
    output::note(&format!(
        "it finishes once its current turn is done (corral logs -f {id})"
    ));
    Ok(ExitCode::SUCCESS)
}

/// Queues a follow-up prompt for an interactive job.
pub async fn prompt(global: &GlobalArgs, args: &PromptArgs) -> anyhow::Result<ExitCode> {
    let client = api_client(global)?;
    let id = client.resolve_id(&args.id).await?;
    let prompt = client.prompt(&id, &args.text.join(" ")).await?;
    match &prompt.continued_in {
        Some(next) => {
            output::note(&format!(
                "{id} has ended; its Claude session continues in job {next} (corral logs -f {next})"
            ));
            output::line(next);
        }
        None => output::line(&format!("{id} prompt {} queued", prompt.seq)),
    }
    Ok(ExitCode::SUCCESS)
}
