//! The arguments of the sandbox commands: `sandbox create|ls|rm`, `exec`, `cp`.

use clap::{Args, Subcommand};

use super::RunArgs;

/// `corral sandbox …`.
#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Start a sandbox (the job flags apply; its commands come with `corral exec`); prints its id
    Create(Box<SandboxCreateArgs>),
    /// List sandboxes, newest first
    Ls(SandboxLsArgs),
    /// End a sandbox: its container and files are removed
    Rm(SandboxRmArgs),
    /// Stop a sandbox: its files are kept (sealed), its container and processes removed
    Stop(SandboxRmArgs),
    /// Start a stopped sandbox: a new container with its files back
    Start(SandboxRmArgs),
    /// Make a new sandbox with a sandbox's settings and a copy of its files; prints its id
    Fork(SandboxRmArgs),
    /// Freeze a sandbox's processes (they keep their state; execs wait for resume)
    Pause(SandboxRmArgs),
    /// Thaw a paused sandbox's processes
    Resume(SandboxRmArgs),
}

/// `corral sandbox create`.
#[derive(Debug, Args)]
pub struct SandboxCreateArgs {
    /// Hard maximum life: 2h, 30m, or seconds [default: 2h]
    #[arg(long)]
    pub ttl: Option<String>,
    #[command(flatten)]
    pub job: RunArgs,
}

/// `corral sandbox ls`.
#[derive(Debug, Args)]
pub struct SandboxLsArgs {
    /// At most this many
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// `corral sandbox rm`.
#[derive(Debug, Args)]
pub struct SandboxRmArgs {
    /// The sandbox's id
    pub id: String,
}

/// `corral exec ID -- CMD…`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The sandbox's id
    pub id: String,
    /// Working directory [default: /workspace]
    #[arg(long)]
    pub cwd: Option<String>,
    /// A variable for the command, NAME=VALUE (repeatable)
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// Kill the command after this long: 1m, 30s, or seconds [default: 10m]
    #[arg(long)]
    pub timeout: Option<String>,
    /// Show the command's bytes untouched (only when stdout is not a terminal)
    #[arg(long)]
    pub raw: bool,
    /// The command and its arguments, after `--`
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// `corral cp SRC DST`, one of them `ID:PATH`.
#[derive(Debug, Args)]
pub struct CpArgs {
    /// A local path, or ID:PATH in a sandbox
    pub source: String,
    /// A local path, or ID:PATH in a sandbox
    pub destination: String,
}
