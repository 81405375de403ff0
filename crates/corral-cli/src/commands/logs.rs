//! `corral logs ID [--follow] [--json|--raw]`.

use std::process::ExitCode;

use crate::cli::{GlobalArgs, LogsArgs};
use crate::client::api_client;
use crate::output;

pub async fn run(global: &GlobalArgs, args: &LogsArgs) -> anyhow::Result<ExitCode> {
    let mode = output::JobOutput::from_raw_flag(args.raw)?;
    let client = api_client(global)?;
    let mut events = output::Events::new(mode);
    let print = |event: &corral_proto::Event| {
        if args.json {
            output::json(event);
        } else {
            events.show(event);
        }
    };
    let id = client.resolve_id(&args.id).await?;
    if args.follow {
        client.follow(&id, 0, print).await?;
    } else {
        client.events(&id, print).await?;
    }
    Ok(ExitCode::SUCCESS)
}
