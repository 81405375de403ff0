//! `corral`: the command line for corral. Every command but `serve` and
//! `image build` talks to the orchestrator's user API over HTTP; `serve`
//! calls `corral_orchestrator::serve`.
//!
//! It must never print a token, and never print anywhere but through
//! `output`.
//!
//! # Layout
//! - `cli`: the argument definitions
//! - `commands`: one file per subcommand
//! - `client`: a `corral-client` API client found from the global flags
//! - `output`: everything written to the terminal
//! - `telemetry`: tracing setup

mod cli;
mod client;
mod commands;
mod output;
mod telemetry;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let (log_format, serving, trace_spans) = cli.command.log();
    telemetry::init(log_format, serving, trace_spans);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            output::error(&format!("cannot start the async runtime: {error}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            output::error(&commands::describe_error(&error));
            ExitCode::FAILURE
        }
    }
}
