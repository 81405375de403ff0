//! The argument definitions of `corral`. Every flag has its doc comment; the
//! environment variable beside a flag is read only when the flag is absent.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use corral_proto::env_vars;

use crate::telemetry::LogFormat;

mod job_args;
mod sandbox_args;
mod server_args;

pub use job_args::{
    AgentArgs, ApplyArgs, CancelArgs, DiffArgs, JobsArgs, LogsArgs, PromptArgs, RunArgs, ShowArgs,
};
pub use sandbox_args::{CpArgs, ExecArgs, SandboxCommand, SandboxCreateArgs};
pub use server_args::{
    ConfigArgs, DoctorArgs, ImageBuildArgs, ImageCommand, McpArgs, SecretCommand, ServeArgs,
    VerifyArgs,
};

/// corral runs AI-agent jobs and plain commands in locked-down Docker
/// containers, streams what they do, and keeps secrets out of them.
#[derive(Debug, Parser)]
#[command(name = "corral", version)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
#[expect(
    clippy::doc_markdown,
    reason = "clap prints these comments as they are: backticks or <> around a variable or a URL would show"
)]
pub struct GlobalArgs {
    /// Data directory (database, API token, job sockets) [default: $XDG_DATA_HOME/corral, else ~/.local/share/corral]
    #[arg(long, global = true, env = env_vars::CORRAL_DATA_DIR)]
    pub data_dir: Option<PathBuf>,
    /// URL of the corral server [default: from the data directory, else http://127.0.0.1:7316]
    #[arg(long, global = true, env = env_vars::CORRAL_URL)]
    pub server: Option<String>,
    /// User API token [default: read from <data-dir>/api-token]; prefer the environment to the flag
    #[arg(long, global = true, env = env_vars::CORRAL_TOKEN, hide_env_values = true)]
    pub token: Option<String>,
}

/// The server's log options: only `serve` writes a log worth shaping.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Log line format on stderr
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Log each span's time when it closes, to see where a job's start spends it (at the info log level or more)
    #[arg(long, env = env_vars::CORRAL_TRACE_SPANS)]
    pub trace_spans: bool,
}

/// `corral serve`: its settings, and how it logs.
#[derive(Debug, Args)]
pub struct ServeCommand {
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the orchestrator: user API, job manager, Docker runtime
    Serve(ServeCommand),
    /// Run a job and stream its events; exits with the job's exit code
    Run(Box<RunArgs>),
    /// List jobs, newest first
    Jobs(JobsArgs),
    /// Show one job
    Show(ShowArgs),
    /// Print a job's events
    Logs(LogsArgs),
    /// Cancel a queued or running job
    Cancel(CancelArgs),
    /// End an interactive job once its current turn is done: it succeeds (cancel stops it at once)
    End(CancelArgs),
    /// Send a follow-up prompt to an --interactive job
    Prompt(PromptArgs),
    /// Show what a --branch job changed
    Diff(DiffArgs),
    /// Apply a --branch job's change onto your current branch (all or nothing)
    Apply(ApplyArgs),
    /// Drop a --branch job's branch or patch
    Discard(CancelArgs),
    /// Long-lived sandboxes: create, list, remove (run commands in one with `corral exec`)
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Run a command in a sandbox, streaming its output; exits with its exit code
    Exec(ExecArgs),
    /// Copy files and directories into or out of a sandbox (ID:PATH on one side)
    Cp(CpArgs),
    /// Build images offline
    #[command(subcommand)]
    Image(ImageCommand),
    /// Store, list and remove secrets (values are write-only)
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Check that Docker, the image, the worker, the data directory and the server are ready
    Doctor(DoctorArgs),
    /// Prove the sandbox on this host: a probe job checks each promise; non-zero if one fails
    Verify(VerifyArgs),
    /// Serve corral's job tools to an MCP client over stdio (claude mcp add corral -- corral mcp); tool calls grant no secret, open no egress and bind no directory unless allowed here
    Mcp(McpArgs),
    /// Show the settings `corral serve` would use (file, environment, flags), keys hidden
    Config(ConfigArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// The log options: the server's own, or a client's quiet text lines.
    pub fn log(&self) -> (LogFormat, bool, bool) {
        match self {
            Self::Serve(command) => (command.log.log_format, true, command.log.trace_spans),
            _ => (LogFormat::Text, false, false),
        }
    }
}
