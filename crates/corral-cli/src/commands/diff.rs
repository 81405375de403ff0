//! `corral diff|apply|discard ID`: review a --branch job's change.

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::cli::{ApplyArgs, CancelArgs, DiffArgs, GlobalArgs};
use crate::client::api_client;
use crate::output;

pub async fn run(global: &GlobalArgs, args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let mode = output::JobOutput::from_raw_flag(args.raw)?;
    let client = api_client(global)?;
    let id = client.resolve_id(&args.id).await?;
    let diff = client.diff(&id).await?;
    if args.json {
        output::json(&diff);
    } else if args.stat {
        for file in &diff.files {
            let count = |value: Option<u64>| {
                value.map_or_else(|| "-".to_owned(), |value| value.to_string())
            };
            output::line(&format!(
                "{:>6} {:>6}  {}",
                format!("+{}", count(file.added)),
                format!("-{}", count(file.removed)),
                output::visible_line(&file.path)
            ));
        }
        output::line(&format!("{} file(s) changed", diff.files.len()));
    } else {
        output::diff(&diff.patch, std::io::stdout().is_terminal(), mode);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn apply(global: &GlobalArgs, args: &ApplyArgs) -> anyhow::Result<ExitCode> {
    let client = api_client(global)?;
    let id = client.resolve_id(&args.id).await?;
    client.apply(&id, args.allow_secrets).await?;
    output::note(&format!("applied the changes of {id}"));
    Ok(ExitCode::SUCCESS)
}

pub async fn discard(global: &GlobalArgs, args: &CancelArgs) -> anyhow::Result<ExitCode> {
    let client = api_client(global)?;
    let id = client.resolve_id(&args.id).await?;
    let answer = client.discard(&id).await?;
    if answer["review"] == "applied" {
        output::note(&format!(
            "removed the review branch of {id}: its change was applied at {} and stays in your working tree",
            output::visible_line(answer["applied_at"].as_str().unwrap_or("an earlier time"))
        ));
    } else {
        output::note(&format!("discarded the changes of {id}"));
    }
    Ok(ExitCode::SUCCESS)
}
