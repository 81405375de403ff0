//! One file per subcommand; this one only dispatches.

mod cancel;
mod config;
mod cp;
mod diff;
mod doctor;
mod exec;
mod flag_values;
mod image;
mod jobs;
mod logs;
mod mcp;
mod run;
mod sandbox;
mod secret;
mod serve;
mod show;
mod verify;

use std::process::ExitCode;

pub use flag_values::describe_error;

use crate::cli::{Cli, Command, ImageCommand};

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let global = &cli.global;
    match cli.command {
        Command::Serve(command) => serve::run(global, command.serve).await,
        Command::Run(args) => run::run(global, *args).await,
        Command::Jobs(args) => jobs::run(global, &args).await,
        Command::Show(args) => show::run(global, &args).await,
        Command::Logs(args) => logs::run(global, &args).await,
        Command::Cancel(args) => cancel::run(global, &args).await,
        Command::End(args) => cancel::end(global, &args).await,
        Command::Prompt(args) => cancel::prompt(global, &args).await,
        Command::Diff(args) => diff::run(global, &args).await,
        Command::Apply(args) => diff::apply(global, &args).await,
        Command::Discard(args) => diff::discard(global, &args).await,
        Command::Sandbox(command) => sandbox::run(global, command).await,
        Command::Exec(args) => exec::run(global, args).await,
        Command::Cp(args) => cp::run(global, &args).await,
        Command::Image(ImageCommand::Build(args)) => image::build(&args).await,
        Command::Secret(command) => secret::run(global, command).await,
        Command::Doctor(args) => doctor::run(global, args).await,
        Command::Verify(args) => verify::run(global, &args).await,
        Command::Mcp(args) => mcp::run(global, args).await,
        Command::Config(args) => config::run(global, args),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "corral", &mut script);
            crate::output::own_text(&String::from_utf8_lossy(&script));
            Ok(ExitCode::SUCCESS)
        }
    }
}
